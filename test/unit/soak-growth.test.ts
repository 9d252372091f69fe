import { describe, expect, it } from 'vitest';
import { findGrowth } from '../../bench/soak/growth';
import type { SoakPoint } from '../../bench/soak/growth';

/** A run of n points, with memory and database sizes given as functions of the point's index. */
function run(n: number, rss: (i: number) => number, db: (i: number) => number, redis: (i: number) => number = () => 5): SoakPoint[] {
  return Array.from({ length: n }, (_, i) => ({
    t: (i + 1) * 30,
    offeredPerSec: 60,
    acceptedPerSec: 60,
    settledPerSec: 60,
    settleP99Ms: 200,
    settledTotal: (i + 1) * 1_800,
    rssMiB: { 'environments: order-api': rss(i), postgres: 300 },
    databaseMiB: { order: db(i) },
    redisMiB: redis(i),
    queues: { order: 0 },
  }));
}

describe('soak: what levels off', () => {
  it('passes memory that rises while warming up and then holds, and a database growing at a steady cost per order', () => {
    const points = run(12, (i) => Math.min(400, 100 + i * 60), (i) => 10 + i * 5);
    expect(findGrowth(points)).toEqual([]);
  });

  it('finds memory that keeps rising, and a database or Redis that gets dearer per order', () => {
    const points = run(12, (i) => 100 + i * 40, (i) => 10 + i * i * 2, (i) => 5 + i * i * 3);
    expect(findGrowth(points).map((f) => f.series)).toEqual(['memory environments: order-api', 'redis used memory', 'database order']);
  });

  it('passes Redis growing at a steady cost per order (keys that expire after hours)', () => {
    expect(findGrowth(run(12, () => 300, (i) => 10 + i * 5, (i) => 5 + i * 10))).toEqual([]);
  });

  it("finds a function whose largest environment's heap keeps rising, and passes one that levels off", () => {
    const points = run(12, () => 300, (i) => 10 + i * 5).map((p, i) => ({ ...p, heapMiB: { 'order-api': 30 + i * 8, 'payment-consumer': Math.min(60, 20 + i * 10) } }));
    expect(findGrowth(points).map((f) => f.series)).toEqual(['heap order-api']);
  });

  it('says nothing about a run too short to tell', () => {
    expect(findGrowth(run(5, (i) => 100 * i, (i) => i * i))).toEqual([]);
  });

  it('leaves the Redis server and the load generator to be read, not judged: their memory follows data by design', () => {
    const points = run(12, () => 300, (i) => 10 + i * 5).map((p, i) => ({ ...p, rssMiB: { ...p.rssMiB, redis: 10 + i * 40, 'load generator': 50 + i * 40 } }));
    expect(findGrowth(points)).toEqual([]);
  });
});
