import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';

// Keys of this file's own namespace, on the real Redis.
process.env.EVENTFLOW_NAMESPACE = `rl${randomBytes(4).toString('hex')}`;
const { closeRedis, getRedis } = await import('../../shared/redis');
const { createRateLimiter } = await import('../../shared/http/rate-limiter');
const { rateLimitPrefix } = await import('../../shared/http/rate-limits');
const { createLogger } = await import('../../shared/logger');

afterAll(async () => {
  const redis = await getRedis();
  const keys = await redis.keys(`${rateLimitPrefix(process.env.EVENTFLOW_NAMESPACE!)}*`);
  if (keys.length) await redis.del(...keys);
  await closeRedis();
});

const outcome = (p: Promise<void>) =>
  p.then(
    () => 'allowed',
    (err: { status?: number; headers?: Record<string, string> }) => `${err.status} retry-after ${err.headers?.['retry-after']}`,
  );

describe('the rate limit script, on Redis', () => {
  // One token per 10 s: nothing refills while a test runs, however slow the machine.
  const check = createRateLimiter({ requests: { perSecond: 0.1, burst: 5 }, orders: { perSecond: 0.1, burst: 2 } }, createLogger('order'));

  it('lets exactly the burst through when many environments ask at once (the check is atomic)', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, () => outcome(check({ routeKey: 'GET /orders', sourceIp: '10.0.0.1' }))));
    expect(results.filter((r) => r === 'allowed')).toHaveLength(5);
    // Refused with a 429 and the wait for the next token: at most 10 s.
    const refused = results.filter((r) => r !== 'allowed');
    expect(refused).toHaveLength(35);
    for (const r of refused) expect(r).toMatch(/^429 retry-after (10|[1-9])$/);
  });

  it('keeps a bucket per principal and per limit', async () => {
    const orders = await Promise.all(Array.from({ length: 4 }, () => outcome(check({ routeKey: 'POST /orders', sourceIp: '10.0.0.2' }))));
    expect(orders.filter((r) => r === 'allowed')).toHaveLength(2);
    // The same address's other limit, and a signed-in subject from the same address, are untouched.
    await expect(check({ routeKey: 'GET /products', sourceIp: '10.0.0.2' })).resolves.toBeUndefined();
    await expect(check({ routeKey: 'POST /orders', sourceIp: '10.0.0.2', sub: 'someone' })).resolves.toBeUndefined();
  });

  it('expires a bucket once it would be full again, so idle principals leave nothing behind', async () => {
    await check({ routeKey: 'GET /orders', sourceIp: '10.0.0.3' });
    const redis = await getRedis();
    const ttl = await redis.pttl(`${rateLimitPrefix(process.env.EVENTFLOW_NAMESPACE!)}requests:ip:10.0.0.3`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10_000);
  });
});
