import { connectAmqp } from '../shared/messaging/broker';
import { SERVICES, brokerAccess } from '../shared/config';
import type { Config } from '../shared/config';
import { migrateService } from '../shared/db/migrate';
import { isTransient } from '../shared/messaging/errors';
import { declareTopology, deploymentLayout } from '../functions/topology';
import { IdentityError, provisionBrokerUsers, provisionDatabases, provisionRedisUsers } from './identities/provision';
import { brokerUrlOf, databaseUrlOf } from './identities/urls';

/** A start that cannot go on: its message is one line naming what failed and what to do. */
export class StartError extends Error {
  override name = 'StartError';
}

/**
 * The identities of every function (local/identities/), the databases and schemas of every
 * service (each migrated as the role that owns it), then the broker topology (as the broker's
 * administrator, the only user that may declare it). Idempotent; run on every start. A dependency
 * still starting up ("the database system is starting up", a broker not accepting connections
 * yet) is waited for, with backoff, saying so; an identity that cannot do its work is not.
 */
export async function prepare(config: Config, log: (line: string) => void): Promise<void> {
  for (let attempt = 1, pause = 500; ; attempt++, pause = Math.min(pause * 2, 5_000)) {
    try {
      return await prepareOnce(config, log);
    } catch (err) {
      if (err instanceof IdentityError || err instanceof StartError || (!isTransient(err) && !isStartingUp(err))) throw err;
      log(`preparing databases and broker: ${(err as Error).message}; retrying in ${pause / 1000} s`);
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

/** Where a URL points, without its credentials (for messages). */
const whereOf = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol.startsWith('amqp') ? (u.protocol === 'amqps:' ? 5671 : 5672) : 5432)}`;
};

/**
 * Runs one step of the preparation. A failure that waiting may cure (a dependency still starting,
 * unreachable for now) goes up as it is, for prepare to retry; any other becomes a StartError
 * saying which step failed, why, and what to do. The broker closing a channel or the connection
 * with a code of 400 and up (access refused, not implemented, precondition failed) is not cured by
 * waiting, though amqplib's "Connection closed" reads like an outage.
 */
export async function step<T>(what: string, todo: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof IdentityError || err instanceof StartError) throw err;
    const message = (err as Error)?.message ?? String(err);
    const refusedByBroker = /closed(?: by server)?: [4-5]\d\d\b/i.test(message);
    if (!refusedByBroker && (isTransient(err) || isStartingUp(err))) throw err;
    throw new StartError(`${what} failed: ${message.split('\n')[0]}; ${todo}`, { cause: err });
  }
}

/** Errors while connecting that mean "not yet" rather than "never". */
function isStartingUp(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === 'ECONNREFUSED' || /starting up|ECONNREFUSED|ECONNRESET|socket hang up|Socket closed/i.test(e.message ?? '');
}

async function prepareOnce(config: Config, log: (line: string) => void): Promise<void> {
  const postgres = whereOf(config.databaseUrls.order);
  const roles = await step(`creating the databases and roles (PostgreSQL at ${postgres})`, 'check that PostgreSQL runs and that DATABASE_URL names a user that may create databases and roles, then start again', () =>
    provisionDatabases(config),
  );
  for (const service of SERVICES) {
    const applied = await step(`migrating the ${service} database (PostgreSQL at ${whereOf(databaseUrlOf(config, service))})`, 'migrations run in a transaction each, so the database is as the last one left it: fix the cause named here and start again', () =>
      migrateService(service, databaseUrlOf(config, service), { tls: config.databaseTls }),
    );
    if (applied.length) log(`${service}: applied migrations ${applied.join(', ')}`);
  }
  const brokerUsers = await provisionBrokerUsers(config);
  const redisUsers = await provisionRedisUsers(config);
  log(`identities: broker users ${brokerUsers.join(', ')}; Redis users ${redisUsers.join(', ')}; database roles ${roles.join(', ')}`);
  const broker = whereOf(config.rabbitmqUrl);
  await step(`declaring and upgrading the broker topology (RabbitMQ at ${broker})`, 'no queue holding messages was deleted; fix the cause named here and start again, which resumes the upgrade', async () => {
    const connection = await connectAmqp(config.rabbitmqUrl);
    // The DLQ tools' user moves the messages of an earlier topology's queues (declareTopology).
    const mover = await connectAmqp(brokerUrlOf(config, 'operator')).catch(async (err) => {
      await connection.close().catch(() => undefined);
      throw err;
    });
    try {
      const topology = await declareTopology(connection, config.namespace, deploymentLayout(), brokerAccess(config), mover);
      log(`broker topology: ${topology.exchanges.length} exchanges, ${topology.queues.length} queues, ${topology.bindings.length} bindings`);
      for (const { queue, messages } of topology.moved) log(`upgrade: moved ${messages} waiting message(s) from ${queue} to the partitions that own them now`);
      if (topology.retired.length) log(`upgrade: deleted the queues of an earlier topology, each verified empty: ${topology.retired.join(', ')}`);
      for (const { queue, messages, consumers } of topology.stranded) {
        log(
          `WARNING: ${queue} belongs to an earlier topology and was kept: ${messages} message(s) waiting, ${consumers} consumer(s); ` +
            'stop whatever still consumes it (an earlier release still running) and start again to move the rest and delete it',
        );
      }
    } finally {
      await mover.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
    }
  });
}
