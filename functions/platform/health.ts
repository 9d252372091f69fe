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
 * GET /health, per dependency: `ok` (200) when every service database, RabbitMQ and Redis answer;
 * `degraded` (200) when only Redis is missing (orders still flow, live pushes and resumes wait);
 * `down` (503) when a database or the broker is missing (orders cannot be taken or settled).
 */
async function health() {
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
  return { status: status === 'down' ? 503 : 200, body: { status, checks: { postgres, rabbitmq, redis } } };
}

export const handler = createRouteApi({ logger, routes: { [ROUTES.health]: health } });
