import pg from 'pg';
import { DEFAULTS, brokerName, databaseName, withDatabase } from '../../shared/config';
import type { ServiceName } from '../../shared/config';
import { connectAmqp } from '../../shared/messaging/broker';
import { dlqOf, parkExchangeOf } from '../../shared/messaging/topology';
import { brokerUserOf } from '../../functions/identities';
import type { BrokerUserRole } from '../../functions/identities';
import { brokerUrlOf } from '../../local/identities/urls';
import { QUEUES } from '../../functions/topology';
import type { QueueId } from '../../functions/topology';
import { PATIENT_HTTP_ENV, startRuntimeProcess } from './runtime-process';
import { waitFor } from './wait';
import { OPERATOR, bearer, tokenFor } from './auth';

/**
 * A runtime of a test file's own, for tests that disturb it (take a database away, shorten its
 * deadlines) and so must not share the suite's runtime. Same helpers as test/support/system.ts,
 * bound to this runtime; HTTP requests wait for an environment as in the suite's (PATIENT_HTTP_ENV).
 */
export async function startIsolatedSystem(env: Record<string, string> = {}) {
  const runtime = await startRuntimeProcess({ env: { ...PATIENT_HTTP_ENV, ...env } });
  const { namespace, httpUrl, issuerUrl, logFile } = runtime.system;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl });
  await admin.connect();
  const pools = new Map<ServiceName, pg.Pool>();
  const dbName = (s: ServiceName) => databaseName(s, namespace);

  return {
    namespace,
    httpUrl,
    issuerUrl,
    /** What the runtime and its functions logged (JSON lines), for tests that check what was said. */
    logFile,
    /** A request as the operator. */
    async call(method: string, path: string, body?: unknown) {
      const auth = bearer(await tokenFor(issuerUrl, OPERATOR));
      const res = await fetch(`${httpUrl}${path}`, {
        method,
        headers: body ? { 'content-type': 'application/json', ...auth } : auth,
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as any };
    },
    db(service: ServiceName): pg.Pool {
      let p = pools.get(service);
      if (!p) {
        pools.set(service, (p = new pg.Pool({ connectionString: withDatabase(process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl, dbName(service)), max: 2 })));
        // An idle client ended by takeDatabaseAway or setReadOnly: the pool drops it and opens
        // another for the next query; unheard, the error would end the test run.
        p.on('error', () => undefined);
      }
      return p;
    },
    /** The service's database refuses connections and drops the ones it had, as in an outage. */
    async takeDatabaseAway(service: ServiceName) {
      await admin.query(`ALTER DATABASE "${dbName(service)}" ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [dbName(service)]);
    },
    async bringDatabaseBack(service: ServiceName) {
      await admin.query(`ALTER DATABASE "${dbName(service)}" ALLOW_CONNECTIONS true`);
    },
    /**
     * The service's database takes no writes (every transaction read-only, as on a replica after a
     * failover or a database switched read-only for a full disk), or takes them again; its sessions
     * are ended so that every connection from then on is so.
     */
    async setReadOnly(service: ServiceName, readOnly: boolean) {
      await admin.query(`ALTER DATABASE "${dbName(service)}" ${readOnly ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only'}`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [dbName(service)]);
    },
    /** Publishes raw bytes as one of the runtime's broker users (functions/identities.ts), with its user-id. */
    async publishAs(role: BrokerUserRole, exchange: string, routingKey: string, body: Buffer | string, headers: Record<string, unknown> = {}) {
      const connection = await connectAmqp(brokerUrlOf({ rabbitmqUrl: process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl, namespace }, role));
      try {
        const channel = await connection.createConfirmChannel();
        channel.publish(exchange, routingKey, Buffer.isBuffer(body) ? body : Buffer.from(body), { persistent: true, userId: brokerUserOf(role, namespace), headers });
        await channel.waitForConfirms();
      } finally {
        await connection.close();
      }
    },
    /** Puts a message in a service queue's DLQ as its consumer parks one, with the original sender beside it. */
    async park(queue: QueueId, body: Buffer | string, headers: Record<string, unknown>, sender?: BrokerUserRole) {
      const exchange = parkExchangeOf(brokerName(QUEUES[queue].name, namespace));
      await this.publishAs(queue, exchange, '', body, { ...headers, 'x-eventflow-sender': sender ? brokerUserOf(sender, namespace) : '' });
    },
    async dlqDepth(queue: QueueId): Promise<number> {
      const connection = await connectAmqp(process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl);
      try {
        return (await (await connection.createChannel()).checkQueue(dlqOf(brokerName(QUEUES[queue].name, namespace)))).messageCount;
      } finally {
        await connection.close();
      }
    },
    until: <T>(probe: () => Promise<T | null | undefined | false>, what: string, ms = 30_000) => waitFor(probe, what, ms),
    async stop() {
      for (const s of ['order', 'payment', 'inventory'] as const) {
        await admin.query(`ALTER DATABASE "${dbName(s)}" ALLOW_CONNECTIONS true`).catch(() => undefined);
        await admin.query(`ALTER DATABASE "${dbName(s)}" RESET default_transaction_read_only`).catch(() => undefined);
      }
      await Promise.all([...pools.values()].map((p) => p.end()));
      await admin.end();
      await runtime.stop();
    },
  };
}

export type IsolatedSystem = Awaited<ReturnType<typeof startIsolatedSystem>>;
