import { describe, expect, it } from 'vitest';
import type { LiveEvent } from './events';
import { OverviewModel } from './overview';

const T0 = Date.parse('2030-01-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
let n = 0;
function ev(type: string, ms: number, orderId: string, data: Record<string, unknown> = {}): LiveEvent {
  n++;
  return { id: `id-${n}`, type, version: 1, occurredAt: iso(ms), source: 'order', correlationId: 'c', causationId: null, data: { orderId, orderVersion: 1, ...data } } as unknown as LiveEvent;
}
const stats = (asOf: number, inFlight: { id: string; createdAt: number; totalCents: number }[] = []) => ({
  asOf: iso(asOf),
  inFlight: { total: inFlight.length, orders: inFlight.map((o) => ({ ...o, createdAt: iso(o.createdAt) })) },
  perSecond: [{ at: iso(T0 - 3_000), placed: 4, confirmed: 3, failed: 1, cancelled: 0, revenueCents: 3_000, settle: { 20: 4 } }],
  perMinute: [{ at: iso(T0 - 60_000), placed: 10, confirmed: 8, failed: 2, cancelled: 0, revenueCents: 8_000, settle: { 20: 10 } }],
});

describe('overview figures', () => {
  it('starts from the server, then counts only events after its cut, including those that came before the answer', () => {
    const m = new OverviewModel();
    // Arrives before the answer: one event before the cut (the server counted it), one after.
    m.add([ev('order.created', T0 - 10, 'a', { totalCents: 500 }), ev('order.created', T0 + 10, 'b', { totalCents: 700 })]);
    m.seed(stats(T0, [{ id: 'a', createdAt: T0 - 10, totalCents: 500 }]));
    m.add([ev('order.updated', T0 + 200, 'a', { status: 'CONFIRMED', previousStatus: 'PENDING' })]);
    const s = m.snapshot(T0 + 1_000);
    expect(s.lastMinute).toMatchObject({ placed: 5, confirmed: 4, failed: 1, revenueCents: 3_500 });
    expect(s.lastHour).toMatchObject({ placed: 11, confirmed: 9, revenueCents: 8_500 });
    expect(s.inFlight).toBe(1); // b
    expect(s.lastMinute.successRate).toBeCloseTo(0.8);
  });

  it('times a settle from when the order was placed, for orders the server listed in flight', () => {
    const m = new OverviewModel();
    m.seed(stats(T0, [{ id: 'a', createdAt: T0 - 500, totalCents: 100 }]));
    m.add([ev('order.updated', T0 + 1_500, 'a', { status: 'FAILED', previousStatus: 'PENDING' })]);
    const s = m.snapshot(T0 + 2_000);
    const window = s.settle.count.findIndex((c, i) => c > 0 && s.settle.t[i]! * 1000 <= T0 + 1_500 && T0 + 1_500 < s.settle.t[i]! * 1000 + 10_000);
    expect(s.settle.p50[window]).toBeGreaterThan(1_700);
    expect(s.settle.p50[window]).toBeLessThan(2_300);
    expect(s.inFlight).toBe(0);
  });

  it('a new seed replaces the figures and recounts what came after its cut', () => {
    const m = new OverviewModel();
    m.seed(stats(T0));
    m.add([ev('order.created', T0 + 100, 'c')]);
    m.seed(stats(T0 + 50));
    expect(m.snapshot(T0 + 1_000).lastMinute.placed).toBe(5);
    m.seed(stats(T0 + 200));
    expect(m.snapshot(T0 + 1_000).lastMinute.placed).toBe(4);
  });

  it('keeps five minutes of per-second throughput for the chart', () => {
    const m = new OverviewModel();
    m.seed(stats(T0));
    const s = m.snapshot(T0 + 1_000);
    expect(s.throughput.t).toHaveLength(300);
    expect(s.settle.t).toHaveLength(30);
    expect(s.throughput.placed.reduce((a, b) => a + b, 0)).toBe(4);
  });
});
