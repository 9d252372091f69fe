import { ROUTES } from '../catalog';
import { SERVICES } from '../../shared/config';
import { getPool } from '../../shared/db/pool';
import { createRouteApi } from '../http-api';
import { createLogger } from '../../shared/logger';
import { getConfig } from '../../shared/config';
import { brokerBlocked, getBroker } from '../../shared/messaging/broker';
import { ManagementApi } from '../../shared/messaging/broker-admin';
import { getRedis } from '../../shared/redis';

const logger = createLogger('platform');
const TIMEOUT_MS = 2_000;

type Check = { status: 'up' } | { status: 'down'; error: string };

/**
 * A dependency that answers but cannot take writes: a read-only database (a replica after a
 * failover, or one switched read-only for a full disk), a broker blocking publishers (a memory or
 * disk alarm). Orders can be neither taken nor settled, so it counts as down, under its own name.
 */
class CannotWrite extends Error {}

async function probe(fn: () => Promise<unknown>): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      }),
    ]);
    return { status: 'up' };
  } catch (err) {
    return { status: 'down', error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How long an environment answers from its last check. The route is public: without this every
 * request would open three database connections, a broker channel and a Redis round trip, so
 * anyone could load them through it. With it, and the route's own throttle at the edge
 * (functions/catalog.ts), each environment checks at most once per this long.
 */
export const HEALTH_CACHE_MS = 5_000;

let last: { at: number; answer: Promise<{ status: number; body: object }> } | undefined;

/**
 * GET /health, per dependency: `ok` (200) when every service database, RabbitMQ and Redis answer;
 * `degraded` (200) when only Redis is missing (orders still flow, live pushes and resumes wait);
 * `down` (503) when a database or the broker is missing or cannot take writes (a read-only
 * database, a broker blocking publishers), named in its check: orders cannot be taken or settled.
 * `checkedAt` says when: an answer may be up to HEALTH_CACHE_MS old (Cache-Control says so too).
 */
async function health() {
  const now = Date.now();
  if (!last || now - last.at >= HEALTH_CACHE_MS) last = { at: now, answer: check() };
  const { at, answer } = last;
  const { status, body } = await answer;
  const maxAge = Math.max(0, Math.floor((at + HEALTH_CACHE_MS - Date.now()) / 1000));
  return { status, body, headers: { 'cache-control': `public, max-age=${maxAge}` } };
}

async function check() {
  const [databases, rabbitmq, redis] = await Promise.all([
    Promise.all(SERVICES.map(async (s) => [s, await probe(() => probeDatabase(s))] as const)),
    probe(probeBroker),
    probe(async () => (await getRedis()).ping()),
  ]);
  const postgres = Object.fromEntries(databases);
  const core = databases.every(([, c]) => c.status === 'up') && rabbitmq.status === 'up';
  const status = !core ? 'down' : redis.status === 'up' ? 'ok' : 'degraded';
  return { status: status === 'down' ? 503 : 200, body: { status, checkedAt: new Date().toISOString(), checks: { postgres, rabbitmq, redis } } };
}

/** A session's transactions are read-only when the server is a standby or the database defaults so. */
async function probeDatabase(service: (typeof SERVICES)[number]): Promise<void> {
  const { rows } = await (await getPool(service)).query<{ standby: boolean; readOnly: string }>(
    `SELECT pg_is_in_recovery() AS standby, current_setting('default_transaction_read_only') AS "readOnly"`,
  );
  const row = rows[0];
  if (row?.standby) throw new CannotWrite('read-only: the server is a standby (in recovery)');
  if (row?.readOnly === 'on') throw new CannotWrite('read-only: default_transaction_read_only is on');
}

/**
 * The broker answers, and does not block publishers. This function never publishes, so the broker
 * never blocks its own connection: the alarms come from the management API when it is configured,
 * and from this environment's connection's `blocked` notification otherwise.
 */
async function probeBroker(): Promise<void> {
  const { channel } = await getBroker();
  await channel.checkExchange('amq.topic');
  const blocked = brokerBlocked();
  if (blocked) throw new CannotWrite(`blocked: the broker blocks publishers (${blocked})`);
  const { rabbitmqManagementUrl } = await getConfig();
  if (!rabbitmqManagementUrl) return;
  // Best effort, within half the probe's bound: the management API being away or slow blocks
  // nobody, so it never makes the broker down.
  let timer: NodeJS.Timeout | undefined;
  const nodes = await Promise.race([
    new ManagementApi(rabbitmqManagementUrl, '/').listNodes(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS / 2} ms`)), TIMEOUT_MS / 2);
    }),
  ])
    .catch((err: Error) => {
      logger.warn('broker alarms not read from the management API', { error: err.message });
      return [];
    })
    .finally(() => clearTimeout(timer));
  const alarmed = nodes.filter((n) => n.inAlarm);
  if (alarmed.length > 0) throw new CannotWrite(`blocked: ${alarmed.map((n) => `${n.alarms.join(' and ')} alarm on ${n.name}`).join(', ')}; the broker blocks publishers`);
}

export const handler = createRouteApi({ logger, routes: { [ROUTES.health]: health } });
