import { describe, expect, it } from 'vitest';
import {
  MINUTE,
  SECOND,
  addFact,
  addToSeries,
  bucketUpperMs,
  emptyTally,
  factOf,
  leavesPending,
  percentile,
  settleBucket,
  successRate,
  sumSeries,
} from '../../functions/order/domain/stats';
import type { Series } from '../../functions/order/domain/stats';

const at = (ms: number) => new Date(ms).toISOString();
const created = (ms: number) => ({ type: 'order.created', occurredAt: at(ms), data: { orderId: 'o' } });
const updated = (ms: number, status: string, previousStatus: string) => ({ type: 'order.updated', occurredAt: at(ms), data: { orderId: 'o', status, previousStatus } });
const cancelled = (ms: number, previousStatus: string) => ({ type: 'order.cancelled', occurredAt: at(ms), data: { orderId: 'o', previousStatus } });

describe('order facts', () => {
  const order = { createdAt: 1_000, totalCents: 4_500 };

  it('counts a placement, and the saga settling with its settle time and, when confirmed, its revenue', () => {
    expect(factOf(created(1_000), undefined)).toEqual({ kind: 'placed', at: 1_000 });
    expect(factOf(updated(1_250, 'CONFIRMED', 'PENDING'), order)).toEqual({ kind: 'confirmed', at: 1_250, settleMs: 250, revenueCents: 4_500 });
    expect(factOf(updated(1_400, 'FAILED', 'PENDING'), order)).toEqual({ kind: 'failed', at: 1_400, settleMs: 400, revenueCents: 0 });
    expect(factOf(cancelled(9_000, 'PENDING'), order)).toEqual({ kind: 'cancelled', at: 9_000, settleMs: 8_000, revenueCents: 0 });
  });

  it('counts a cancellation after confirmation without a settle time, and fulfilment moves not at all', () => {
    expect(factOf(cancelled(9_000, 'CONFIRMED'), order)).toEqual({ kind: 'cancelled', at: 9_000, settleMs: null, revenueCents: 0 });
    expect(factOf(updated(9_000, 'PROCESSING', 'CONFIRMED'), order)).toBeNull();
    expect(factOf({ type: 'payment.processed', occurredAt: at(2_000), data: {} }, order)).toBeNull();
  });

  it('knows which events end an order in flight', () => {
    expect(leavesPending(updated(1, 'CONFIRMED', 'PENDING'))).toBe(true);
    expect(leavesPending(cancelled(1, 'PENDING'))).toBe(true);
    expect(leavesPending(cancelled(1, 'CONFIRMED'))).toBe(false);
    expect(leavesPending(created(1))).toBe(false);
  });

  it('settles without a known order (placed before the window) but cannot time it', () => {
    expect(factOf(updated(1_250, 'CONFIRMED', 'PENDING'), undefined)).toEqual({ kind: 'confirmed', at: 1_250, settleMs: null, revenueCents: 0 });
  });
});

describe('settle-time histogram', () => {
  it('puts a time in the bucket whose bounds hold it', () => {
    for (const ms of [0.2, 1, 1.3, 9.99, 10, 57, 100, 999, 1_000, 12_345, 600_000]) {
      const b = settleBucket(ms);
      expect(ms, `bucket ${b}`).toBeLessThanOrEqual(bucketUpperMs(b));
      if (b > 0) expect(ms).toBeGreaterThan(bucketUpperMs(b - 1));
    }
    expect(bucketUpperMs(settleBucket(10_000_000))).toBe(Infinity);
  });

  it('gives percentiles within a bucket of the exact ones', () => {
    const times = Array.from({ length: 1000 }, (_, i) => 20 + i * 0.5); // 20 .. 519.5 ms
    const t = emptyTally();
    for (const ms of times) addFact(t, { kind: 'confirmed', at: 0, settleMs: ms, revenueCents: 0 });
    const exactP50 = times[499]!;
    const exactP95 = times[949]!;
    expect(Math.abs(percentile(t.settle, 0.5)! - exactP50) / exactP50).toBeLessThan(0.13);
    expect(Math.abs(percentile(t.settle, 0.95)! - exactP95) / exactP95).toBeLessThan(0.13);
    expect(percentile(emptyTally().settle, 0.5)).toBeNull();
  });
});

describe('series', () => {
  it('adds up buckets of a window, whatever the order facts arrive in', () => {
    const s: Series = new Map();
    addToSeries(s, SECOND, { kind: 'placed', at: 10_500 });
    addToSeries(s, SECOND, { kind: 'confirmed', at: 12_100, settleMs: 300, revenueCents: 900 });
    addToSeries(s, SECOND, { kind: 'placed', at: 10_100 });
    addToSeries(s, SECOND, { kind: 'failed', at: 13_000, settleMs: 800, revenueCents: 0 });
    const sum = sumSeries(s, 10_000, 13_000);
    expect(sum).toMatchObject({ placed: 2, confirmed: 1, failed: 0, revenueCents: 900 });
    expect(successRate(sumSeries(s, 0, MINUTE))).toBe(0.5);
    expect(successRate(emptyTally())).toBeNull();
  });
});
