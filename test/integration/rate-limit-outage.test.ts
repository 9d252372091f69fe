import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/private-stack';

// This file's process reaches "Redis" at a port where none runs, as in an outage.
process.env.REDIS_URL = `redis://127.0.0.1:${await freePort()}`;
const { closeRedis } = await import('../../shared/redis');
const { createRateLimiter } = await import('../../shared/http/rate-limiter');
const { createLogger } = await import('../../shared/logger');

afterAll(closeRedis);

describe('rate limits while Redis is away', () => {
  it('let requests through (fail open) and log why, instead of failing them', async () => {
    const warnings: string[] = [];
    // The function's own logger, with its warnings also noted here.
    const logger = createLogger('order');
    const warn = logger.warn.bind(logger);
    logger.warn = ((message: string, ...rest: never[]) => {
      warnings.push(message);
      warn(message, ...rest);
    }) as typeof logger.warn;
    const check = createRateLimiter({ requests: { perSecond: 0.001, burst: 1 }, orders: { perSecond: 0.001, burst: 1 } }, logger);
    // Far past the limit: had the limiter counted, the second would be refused.
    for (let i = 0; i < 5; i++) await expect(check({ routeKey: 'POST /orders', sourceIp: '10.1.1.1' })).resolves.toBeUndefined();
    // Logged once, not once per request.
    expect(warnings).toEqual([expect.stringMatching(/rate limit not checked/)]);
  });
});
