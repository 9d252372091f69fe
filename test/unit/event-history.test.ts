import { describe, expect, it } from 'vitest';
import { compareOccurredAt, inHistoryOrder, instantOf } from '../../shared/events/history';
import type { HistoryEvent } from '../../shared/events/history';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
let n = 0;
/** An event `ms` after T0 (fractions of a millisecond kept), about order `o` at `version`. */
function ev(source: string, ms: number, data: Record<string, unknown> = {}, causationId: string | null = null, name = `${source}-${++n}`): HistoryEvent & { name: string } {
  const whole = Math.floor(ms);
  const micros = String(Math.round((ms - whole) * 1000)).padStart(3, '0');
  return { name, id: name, source, occurredAt: new Date(T0 + whole).toISOString().replace('Z', `${micros}Z`), causationId, data };
}
const names = (events: { name: string }[]) => events.map((e) => e.name);

describe('instantOf', () => {
  it('keeps the microseconds that Date.parse drops, and compares times of any precision', () => {
    expect(instantOf('2030-01-01T00:00:00.123456Z') - instantOf('2030-01-01T00:00:00.123Z')).toBe(456);
    expect(instantOf('2030-01-01T00:00:00.1234Z') - instantOf('2030-01-01T00:00:00.123Z')).toBe(400);
    expect(instantOf('2030-01-01T00:00:01Z') - instantOf('2030-01-01T00:00:00Z')).toBe(1_000_000);
    // As strings, '.123Z' sorts after '.1234Z'; as times it is before.
    expect('2030-01-01T00:00:00.123Z' > '2030-01-01T00:00:00.1234Z').toBe(true);
    expect(compareOccurredAt('2030-01-01T00:00:00.123Z', '2030-01-01T00:00:00.1234Z')).toBeLessThan(0);
  });
});

describe('inHistoryOrder', () => {
  it("orders an order's own events by version, whatever their times say", () => {
    // A consumer's batch stamped CONFIRMED late; an HTTP command in another process cancelled at an earlier time.
    const created = ev('order', 0, { orderId: 'o', orderVersion: 1 });
    const confirmed = ev('order', 900, { orderId: 'o', orderVersion: 2, status: 'CONFIRMED' });
    const cancelled = ev('order', 500, { orderId: 'o', orderVersion: 3 });
    expect(names(inHistoryOrder([cancelled, confirmed, created]))).toEqual(names([created, confirmed, cancelled]));
  });

  it('puts an effect after its cause, and an event of another service after the order version it names', () => {
    const created = ev('order', 10, { orderId: 'o', orderVersion: 1 });
    const reserved = ev('inventory', 5, { orderId: 'o', orderVersion: 1 }, created.id);
    const cancelled = ev('order', 20, { orderId: 'o', orderVersion: 2 });
    // Caused by nothing in the set (its cause was not kept), but it names version 2.
    const released = ev('inventory', 15, { orderId: 'o', orderVersion: 2 }, 'elsewhere');
    const refunded = ev('payment', 1, {}, released.id);
    expect(names(inHistoryOrder([refunded, released, reserved, cancelled, created]))).toEqual(names([created, reserved, cancelled, released, refunded]));
  });

  it('orders by time where no rule applies, to the microsecond, then as given', () => {
    const a = ev('payment', 3.002, { orderId: 'o', orderVersion: 1 });
    const b = ev('inventory', 3.001, { orderId: 'o', orderVersion: 1 });
    const c = ev('inventory', 3.001, { orderId: 'p', orderVersion: 1 });
    expect(names(inHistoryOrder([a, b, c]))).toEqual(names([b, c, a]));
    expect(names(inHistoryOrder([a, c, b]))).toEqual(names([c, b, a]));
  });

  it('keeps several orders apart: each is ordered by its own versions only', () => {
    const o1 = ev('order', 50, { orderId: 'o1', orderVersion: 2 });
    const p1 = ev('order', 10, { orderId: 'o2', orderVersion: 2 });
    const o0 = ev('order', 60, { orderId: 'o1', orderVersion: 1 });
    const p0 = ev('order', 20, { orderId: 'o2', orderVersion: 1 });
    const out = names(inHistoryOrder([o1, p1, o0, p0]));
    expect(out.indexOf(o0.name)).toBeLessThan(out.indexOf(o1.name));
    expect(out.indexOf(p0.name)).toBeLessThan(out.indexOf(p1.name));
    expect(out).toHaveLength(4);
  });

  it('loses nothing when the rules contradict each other (not EventFlow data): time settles it', () => {
    const a = ev('order', 1, { orderId: 'o', orderVersion: 2 }, undefined, 'a');
    const b = ev('order', 2, { orderId: 'o', orderVersion: 1 }, 'a', 'b');
    // b is a's cause by id and before it by version: a cycle.
    const cyclic = { ...a, causationId: 'b' };
    const out = inHistoryOrder([cyclic, b, ev('payment', 0)]);
    expect(out).toHaveLength(3);
    expect(new Set(out.map((e) => e.id)).size).toBe(3);
  });

  it('returns a new array and leaves its input alone', () => {
    const input = [ev('order', 2, { orderId: 'o', orderVersion: 2 }), ev('order', 1, { orderId: 'o', orderVersion: 1 })];
    const copy = [...input];
    expect(inHistoryOrder(input)).not.toBe(input);
    expect(input).toEqual(copy);
  });
});
