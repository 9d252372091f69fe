import { ROUTES } from '../catalog';
import { SERVICES } from '../../shared/config';
import { getPool } from '../../shared/db/pool';
import { createRouteApi } from '../http-api';
import { createLogger } from '../../shared/logger';
import { getBroker } from '../../shared/messaging/broker';
import { getRedis } from '../../shared/redis';

const logger = createLogger('platform');
const TIMEOUT_MS = 2_000;

type Check = { status: 'up' } | { status: 'down'; error: string };

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
 * `down` (503) when a database or the broker is missing (orders cannot be taken or settled).
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
    Promise.all(SERVICES.map(async (s) => [s, await probe(async () => (await getPool(s)).query('SELECT 1'))] as const)),
    probe(async () => {
      const { channel } = await getBroker();
      await channel.checkExchange('amq.topic');
    }),
    probe(async () => (await getRedis()).ping()),
  ]);
  const postgres = Object.fromEntries(databases);
  const core = databases.every(([, c]) => c.status === 'up') && rabbitmq.status === 'up';
  const status = !core ? 'down' : redis.status === 'up' ? 'ok' : 'degraded';
  return { status: status === 'down' ? 503 : 200, body: { status, checkedAt: new Date().toISOString(), checks: { postgres, rabbitmq, redis } } };
}

export const handler = createRouteApi({ logger, routes: { [ROUTES.health]: health } });
