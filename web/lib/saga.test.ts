import { describe, expect, it } from 'vitest';
import type { LiveEvent } from './events';
import { buildSwimlane, mergeEvents, paymentFromEvents, statusFromEvents } from './saga';

let n = 0;
function ev(type: string, source: string, ms: number, data: Record<string, unknown> = {}, causationId: string | null = null): LiveEvent {
  n++;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    type,
    version: 1,
    occurredAt: new Date(1_700_000_000_000 + ms).toISOString(),
    source,
    correlationId: 'c',
    causationId,
    data: { orderId: 'o', orderVersion: 1, ...data },
  } as unknown as LiveEvent;
}

const stepsOf = (lanes: ReturnType<typeof buildSwimlane>, kind?: string) =>
  lanes.steps.filter((s) => !kind || s.kind === kind).map((s) => `${s.lane}:${s.type}`);

describe('swimlane', () => {
  it('awaits every step of a placed order, one per lane', () => {
    const lanes = buildSwimlane('PENDING', [ev('order.created', 'order', 0)]);
    expect(stepsOf(lanes, 'pending')).toEqual(['order:order.updated', 'inventory:inventory.reserved', 'payment:payment.processed']);
    expect(lanes.columns).toBe(2);
  });

  it('draws a confirmed saga in time order with nothing awaited, and links effects to causes', () => {
    const created = ev('order.created', 'order', 0);
    const events = [
      created,
      ev('payment.initiated', 'payment', 7, {}, created.id),
      ev('inventory.reserved', 'inventory', 5, {}, created.id),
      ev('payment.processed', 'payment', 9, {}, created.id),
      ev('order.updated', 'order', 20, { status: 'CONFIRMED', previousStatus: 'PENDING', orderVersion: 2 }),
    ];
    const lanes = buildSwimlane('CONFIRMED', events);
    expect(stepsOf(lanes)).toEqual(['order:order.created', 'inventory:inventory.reserved', 'payment:payment.initiated', 'payment:payment.processed', 'order:order.updated']);
    expect(lanes.steps.map((s) => s.offsetMs)).toEqual([0, 5, 7, 9, 20]);
    expect(lanes.steps[1]!.causedBy).toBe(created.id);
    expect(stepsOf(lanes, 'pending')).toEqual([]);
  });

  it('marks compensations as reverse steps and awaits the ones still owed', () => {
    const base = [ev('order.created', 'order', 0), ev('inventory.reserved', 'inventory', 5), ev('payment.processed', 'payment', 9)];
    const cancelled = [...base, ev('order.cancelled', 'order', 50, { previousStatus: 'CONFIRMED', orderVersion: 3 })];
    expect(stepsOf(buildSwimlane('CANCELLED', cancelled), 'pending')).toEqual(['inventory:inventory.released', 'payment:payment.refunded']);
    const compensated = buildSwimlane('CANCELLED', [...cancelled, ev('inventory.released', 'inventory', 60), ev('payment.refunded', 'payment', 70)]);
    expect(stepsOf(compensated, 'compensation')).toEqual(['inventory:inventory.released', 'payment:payment.refunded']);
    expect(stepsOf(compensated, 'pending')).toEqual([]);
  });

  it('owes nothing for a side that never acted: a declined card leaves no refund, a failed reservation no release', () => {
    const declined = [ev('order.created', 'order', 0), ev('payment.failed', 'payment', 5), ev('order.updated', 'order', 6, { status: 'FAILED', previousStatus: 'PENDING' })];
    expect(stepsOf(buildSwimlane('FAILED', declined), 'pending')).toEqual([]);
    expect(buildSwimlane('FAILED', declined).steps.find((s) => s.type === 'payment.failed')!.kind).toBe('failure');
  });
});

describe('history order', () => {
  it("draws an order's own events by version and effects after causes, whatever the clocks said", () => {
    const created = ev('order.created', 'order', 0);
    const reserved = ev('inventory.reserved', 'inventory', 5, {}, created.id);
    const processed = ev('payment.processed', 'payment', 6, {}, created.id);
    // The confirmation came from a batch whose process stamped it late; the cancellation, made
    // after it in another process, reads an earlier time; the release answers the cancellation.
    const confirmed = ev('order.updated', 'order', 900, { status: 'CONFIRMED', previousStatus: 'PENDING', orderVersion: 2 }, processed.id);
    const cancelled = ev('order.cancelled', 'order', 400, { previousStatus: 'CONFIRMED', orderVersion: 3 });
    const released = ev('inventory.released', 'inventory', 390, { orderVersion: 3 }, cancelled.id);
    const lanes = buildSwimlane('CANCELLED', [released, cancelled, confirmed, processed, reserved, created]);
    expect(lanes.steps.filter((s) => s.event).map((s) => s.key)).toEqual([created.id, reserved.id, processed.id, confirmed.id, cancelled.id, released.id]);
    expect(lanes.steps.find((s) => s.key === cancelled.id)!.column).toBeGreaterThan(lanes.steps.find((s) => s.key === confirmed.id)!.column);
    expect(mergeEvents([cancelled, created], [confirmed]).map((e) => e.id)).toEqual([created.id, confirmed.id, cancelled.id]);
  });
});

describe('events and status', () => {
  it('merges HTTP history and live events by id, in time order', () => {
    const a = ev('order.created', 'order', 0);
    const b = ev('inventory.reserved', 'inventory', 5);
    expect(mergeEvents([b, a], [a]).map((e) => e.id)).toEqual([a.id, b.id]);
  });

  it('takes a status only from a newer order version', () => {
    const order = { status: 'PENDING' as const, version: 2, failureReason: null };
    expect(statusFromEvents(order, [ev('order.updated', 'order', 1, { status: 'CONFIRMED', previousStatus: 'PENDING', orderVersion: 2 })])).toBe(order);
    expect(statusFromEvents(order, [ev('order.updated', 'order', 1, { status: 'FAILED', previousStatus: 'PENDING', orderVersion: 3, reason: 'card declined' })])).toEqual({
      status: 'FAILED',
      version: 3,
      failureReason: 'card declined',
    });
    expect(statusFromEvents(order, [ev('order.cancelled', 'order', 1, { previousStatus: 'PENDING', orderVersion: 4, reason: 'too slow' })]).status).toBe('CANCELLED');
  });
});

describe('paymentFromEvents', () => {
  it('follows the payment through its events: charged, then refunded with the reason', () => {
    const events = [ev('order.created', 'order', 0), ev('payment.initiated', 'payment', 10, { amountCents: 1200, currency: 'USD' })];
    expect(paymentFromEvents(events)).toEqual({ status: 'CHARGING', amountCents: 1200, currency: 'USD', reason: null });
    events.push(ev('payment.processed', 'payment', 20, { amountCents: 1200, currency: 'USD' }));
    expect(paymentFromEvents(events)?.status).toBe('PROCESSED');
    events.push(ev('payment.refunded', 'payment', 30, { amountCents: 1200, reason: 'order cancelled' }));
    expect(paymentFromEvents(events)).toEqual({ status: 'REFUNDED', amountCents: 1200, currency: 'USD', reason: 'order cancelled' });
  });

  it('says declined with the reason, and nothing before the payment service acted', () => {
    expect(paymentFromEvents([ev('order.created', 'order', 0)])).toBeNull();
    expect(paymentFromEvents([ev('payment.failed', 'payment', 5, { amountCents: 500, reason: 'card declined' })])).toEqual({
      status: 'FAILED',
      amountCents: 500,
      currency: null,
      reason: 'card declined',
    });
  });
});
