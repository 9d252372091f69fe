import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../shared/config';
import { LEASE_SECONDS } from '../../shared/history/runs';
import { finishRedisRun, historyRunKeys, recordRedisProgress, requestRedisRun, takeRedisRun } from '../../shared/history/redis-runs';

/**
 * The run records kept in Redis (the notification service's recent-event log) against a real
 * Redis: a worker's lease expires by Redis's clock, so no worker, whatever its own clock says,
 * takes a run whose lease holds; one whose lease ran out is taken, and its first worker learns so.
 * A namespace of its own, removed afterwards.
 */
const redis = new Redis(process.env.REDIS_URL ?? DEFAULTS.redisUrl);
const namespace = `runs${randomUUID().slice(0, 8)}`;
const keys = historyRunKeys(namespace);

afterAll(async () => {
  const found = await redis.keys(keys.all);
  if (found.length) await redis.del(...found);
  await redis.quit();
});

describe('run leases in Redis', () => {
  it('hold by Redis\'s clock: a running run is not taken while its lease key lives, whatever the taker\'s clock, and is once it is gone', async () => {
    const subject = `recent-events-${randomUUID().slice(0, 6)}`;
    const first = await requestRedisRun(redis, namespace, { kind: 'rebuild', subject, take: true });
    expect(first.status).toBe('running');
    const ttl = await redis.pttl(keys.lease(first.id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(LEASE_SECONDS * 1000);

    // A taker whose clock runs an hour ahead: the lease is Redis's to end, not its.
    const realNow = Date.now;
    Date.now = () => realNow() + 3_600_000;
    try {
      expect(await takeRedisRun(redis, namespace, subject)).toBeNull();
    } finally {
      Date.now = realNow;
    }
    // Progress renews the lease.
    await redis.pexpire(keys.lease(first.id), 50);
    expect(await recordRedisProgress(redis, namespace, first, { doneEvents: 10, totalEvents: 100 })).toBe(true);
    expect(await redis.pttl(keys.lease(first.id))).toBeGreaterThan(1_000);

    // The first worker went quiet and its lease ran out: another takes the run, and the first learns it lost it.
    await redis.del(keys.lease(first.id));
    const second = await takeRedisRun(redis, namespace, subject);
    expect(second?.id).toBe(first.id);
    expect(second?.worker).not.toBe(first.worker);
    expect(await recordRedisProgress(redis, namespace, first, { doneEvents: 20, totalEvents: 100 })).toBe(false);
    await finishRedisRun(redis, namespace, second!, { result: { rebuilt: 1 } });
    expect(await redis.exists(keys.lease(first.id))).toBe(0);
    expect(JSON.parse((await redis.get(keys.run(first.id)))!)).not.toHaveProperty('leaseUntil');
  });
});
