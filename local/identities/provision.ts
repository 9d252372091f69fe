/**
 * Creates the local identities (functions/identities.ts) on this machine's servers, as the
 * administrators the local configuration names, in the deployment's namespace: the broker's users
 * and permissions (the management API where there is one, else rabbitmqctl), the Redis ACL users,
 * and a PostgreSQL role per service owning that service's database. Idempotent: run on every
 * start, it sets every password, permission and rule again. Each identity is then tried, so a user
 * that cannot log in or lacks its rights fails the start with a sentence naming it.
 *
 * On the shared servers of a development machine this touches only the namespace's own users:
 * Redis's default user, the broker's administrator and the `postgres` role are never changed.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { SERVICES, brokerAccess, databaseName, withDatabase } from '../../shared/config';
import type { Config, ServiceName } from '../../shared/config';
import { brokerAdmin } from '../../shared/messaging/broker-admin';
import { connectAmqp } from '../../shared/messaging/broker';
import { BrokerLoginRefused, explainBrokerRefusal } from '../../shared/messaging/identity';
import { brokerUsers, databaseRoleOf, redisAccessString, redisUsers } from '../../functions/identities';
import { localPassword, redisPasswordHash, scramVerifier } from './credentials';
import { brokerUrlOf, databaseUrlOf, redisUrlOf } from './urls';

/** A start that cannot go on: an identity that could not be created or cannot do its work. One sentence, no stack. */
export class IdentityError extends Error {
  override name = 'IdentityError';
}

/** How long to keep trying a broker login after the import: rabbitmqctl's import is asynchronous. */
const LOGIN_WAIT_MS = 20_000;

/** The broker's users and permissions, then a login as each. */
export async function provisionBrokerUsers(config: Config): Promise<string[]> {
  const users = brokerUsers(config.namespace);
  const admin = brokerAdmin(brokerAccess(config));
  await admin.putUsers(users.map((u) => ({ name: u.name, password: localPassword('broker', u.name), tags: u.tags, permissions: u.permissions })));
  await verifyBrokerUsers(config, LOGIN_WAIT_MS);
  return users.map((u) => u.name);
}

/**
 * Logs in as every broker user of the namespace. A wrong password, a user that is gone or one
 * without permissions on the vhost fails with one sentence naming the user (IdentityError), after
 * `waitMs` of trying (an import still being applied).
 */
export async function verifyBrokerUsers(config: Config, waitMs = 0): Promise<void> {
  await Promise.all(
    brokerUsers(config.namespace).map(async (u) => {
      const until = Date.now() + waitMs;
      for (;;) {
        try {
          await (await connectAmqp(brokerUrlOf(config, u.role))).close();
          return;
        } catch (err) {
          const explained = explainBrokerRefusal(err, u.name) ?? (err as Error);
          if (!(explained instanceof BrokerLoginRefused) || Date.now() > until) throw new IdentityError(explained.message, { cause: err });
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    }),
  );
}

/** `ACL SETUSER <name> reset <#hash> on ~keys -@all +commands`: this user's rules, and only this user's. */
export async function applyRedisUsers(admin: Redis, namespace: string): Promise<string[]> {
  const users = redisUsers(namespace);
  for (const u of users) {
    await admin.call('ACL', 'SETUSER', u.name, 'reset', redisPasswordHash(localPassword('redis', u.name)), ...redisAccessString(u).split(' '));
  }
  return users.map((u) => u.name);
}

const adminRedis = (config: Config) => new Redis(config.redis.url, { maxRetriesPerRequest: 2, connectTimeout: 3_000, lazyConnect: true });

/** The Redis users, then a PING as each. */
export async function provisionRedisUsers(config: Config): Promise<string[]> {
  const admin = adminRedis(config);
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    const names = await applyRedisUsers(admin, config.namespace);
    for (const u of redisUsers(config.namespace)) {
      const client = new Redis(redisUrlOf(config, u.role), { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.ping();
      } catch (err) {
        throw new IdentityError(`Redis user ${u.name} cannot log in and PING: ${(err as Error).message}`);
      } finally {
        client.disconnect();
      }
    }
    return names;
  } finally {
    admin.disconnect();
  }
}

/**
 * Keeps the Redis users in place while the runtime runs. ElastiCache keeps its RBAC users; a local
 * Redis keeps ACL users in memory only, so a restarted one (the fault run restarts it) has lost
 * them: an administrator connection sets them again each time it reconnects, and the functions'
 * clients, which retry their login, find them.
 */
export function keepRedisUsers(config: Config, log: (line: string) => void): { stop(): void } {
  const admin = new Redis(config.redis.url, { maxRetriesPerRequest: 2, connectTimeout: 3_000, retryStrategy: (n) => Math.min(200 * n, 2_000) });
  let first = true;
  admin.on('error', () => undefined);
  admin.on('ready', () => {
    if (first) return void (first = false);
    applyRedisUsers(admin, config.namespace).then(
      () => log('Redis came back: its ACL users are set again'),
      (err: Error) => log(`Redis came back, but its ACL users could not be set again: ${err.message}`),
    );
  });
  return { stop: () => admin.disconnect() };
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const ident = (name: string) => {
  if (!IDENTIFIER.test(name)) throw new Error(`"${name}" is not a plain PostgreSQL identifier`);
  return `"${name}"`;
};

/**
 * A service's role and database: the role logs in with its password (as a SCRAM verifier, so the
 * password never reaches the server or its log), owns the database, and no one else may connect
 * to it (CONNECT is taken from PUBLIC; superusers still can). A database created before it had an
 * owner of its own is handed over, with the tables and schemas its migrations made.
 */
async function provisionDatabase(config: Config, service: ServiceName): Promise<void> {
  const role = databaseRoleOf(service, config.namespace);
  const database = databaseName(service, config.namespace);
  const adminUrl = withDatabase(config.databaseUrls[service], 'postgres');
  const admin = new pg.Client({ connectionString: adminUrl, ssl: config.databaseTls ? { rejectUnauthorized: true } : undefined });
  await admin.connect();
  try {
    const verifier = scramVerifier(localPassword('postgres', role), role);
    const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD '${verifier}'`;
    if (!(await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount) {
      await admin.query(`CREATE ROLE ${ident(role)} ${attributes}`).catch((err: { code?: string }) => {
        if (err.code !== '42710') throw err; // created concurrently
      });
    }
    await admin.query(`ALTER ROLE ${ident(role)} ${attributes}`);
    const existing = await admin.query<{ owner: string }>('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [database]);
    if (existing.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${ident(database)} OWNER ${ident(role)}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err;
      });
    } else if (existing.rows[0]!.owner !== role) {
      await admin.query(`ALTER DATABASE ${ident(database)} OWNER TO ${ident(role)}`);
      await adopt(withDatabase(config.databaseUrls[service], database), role, config.databaseTls);
    }
    await admin.query(`REVOKE ALL ON DATABASE ${ident(database)} FROM PUBLIC`);
  } finally {
    await admin.end();
  }
}

/** Hands the schemas and tables of a database the administrator made to its service's role (sequences of a table follow it). */
async function adopt(url: string, role: string, tls: boolean): Promise<void> {
  const client = new pg.Client({ connectionString: url, ssl: tls ? { rejectUnauthorized: true } : undefined });
  await client.connect();
  try {
    const { rows: schemas } = await client.query<{ name: string }>(
      `SELECT nspname AS name FROM pg_namespace
        WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%' AND pg_get_userbyid(nspowner) <> $1`,
      [role],
    );
    for (const s of schemas) await client.query(`ALTER SCHEMA ${ident(s.name)} OWNER TO ${ident(role)}`);
    const { rows: tables } = await client.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('information_schema') AND n.nspname NOT LIKE 'pg\\_%' AND pg_get_userbyid(c.relowner) <> $1`,
      [role],
    );
    for (const t of tables) await client.query(`ALTER TABLE ${ident(t.schema)}.${ident(t.name)} OWNER TO ${ident(role)}`);
  } finally {
    await client.end();
  }
}

/** Every service's role and database, then a connection as each role to its database. */
export async function provisionDatabases(config: Config): Promise<string[]> {
  for (const service of SERVICES) {
    await provisionDatabase(config, service);
    const client = new pg.Client({ connectionString: databaseUrlOf(config, service), ssl: config.databaseTls ? { rejectUnauthorized: true } : undefined });
    try {
      await client.connect();
      await client.query('SELECT 1');
    } catch (err) {
      throw new IdentityError(`PostgreSQL role ${databaseRoleOf(service, config.namespace)} cannot connect to ${databaseName(service, config.namespace)}: ${(err as Error).message}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return SERVICES.map((s) => databaseRoleOf(s, config.namespace));
}

/** Removes a namespace's identities (its databases must be gone first): the tests clean up after themselves with it. */
export async function removeIdentities(config: Config): Promise<void> {
  await brokerAdmin(brokerAccess(config)).deleteUsers(brokerUsers(config.namespace).map((u) => u.name));
  const redis = adminRedis(config);
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.call('ACL', 'DELUSER', ...redisUsers(config.namespace).map((u) => u.name));
  } finally {
    redis.disconnect();
  }
  // Roles belong to a server, and each service may have a server of its own.
  for (const service of SERVICES) {
    const admin = new pg.Client({ connectionString: withDatabase(config.databaseUrls[service], 'postgres') });
    await admin.connect();
    try {
      await admin.query(`DROP ROLE IF EXISTS ${ident(databaseRoleOf(service, config.namespace))}`);
    } finally {
      await admin.end();
    }
  }
}
