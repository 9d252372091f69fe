import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideOutcomes } from '../../functions/order/domain/saga';
import type { Outcome, StoredSaga } from '../../functions/order/domain/saga';
import { canCancel, nextFulfilmentStep } from '../../functions/order/domain/status';
import { causedBy, createEvent } from '../../shared/events/envelope';
import type { AnyEnvelope, Cause } from '../../shared/events/envelope';
import { inHistoryOrder, instantOf } from '../../shared/events/history';
import type { EventData, EventType, OrderStatus } from '../../shared/events/types';

/**
 * Orders moved by consumer batches and HTTP commands interleaved at random, each step run by a
 * process of its own whose clock is off by up to half a second either way (as Lambda hosts' clocks
 * are, or a process that stamped a large batch ahead of time): every order's timeline, put in
 * history order from any storage order, tells the order's status changes in the order they
 * happened. Decisions are the services' own (domain/saga.ts, domain/status.ts).
 */

const ORDERS = 3;
const PROCESSES = 4;
const OUTCOMES = ['stock_reserved', 'stock_failed', 'payment_processed', 'payment_failed'] as const;

type Step =
  | { kind: 'place'; order: number; proc: number }
  | { kind: 'batch'; proc: number; by: number; items: { order: number; outcome: (typeof OUTCOMES)[number] }[] }
  | { kind: 'cancel'; order: number; proc: number }
  | { kind: 'fulfil'; order: number; proc: number }
  | { kind: 'deadline'; proc: number }
  | { kind: 'compensate'; order: number; proc: number };

const order = fc.integer({ min: 0, max: ORDERS - 1 });
const proc = fc.integer({ min: 0, max: PROCESSES - 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('place' as const), order, proc }),
  fc.record({
    kind: fc.constant('batch' as const),
    proc,
    by: proc,
    items: fc.array(fc.record({ order, outcome: fc.constantFrom(...OUTCOMES) }), { minLength: 1, maxLength: 6 }),
  }),
  fc.record({ kind: fc.constant('cancel' as const), order, proc }),
  fc.record({ kind: fc.constant('fulfil' as const), order, proc }),
  fc.record({ kind: fc.constant('deadline' as const), proc }),
  fc.record({ kind: fc.constant('compensate' as const), order, proc }),
);

const scenario = fc.record({
  skewsMs: fc.array(fc.integer({ min: -500, max: 500 }), { minLength: PROCESSES, maxLength: PROCESSES }),
  steps: fc.array(fc.tuple(step, fc.integer({ min: 0, max: 40_000 })), { minLength: 1, maxLength: 40 }),
  storage: fc.constantFrom('by time' as const, 'reversed' as const, 'as emitted' as const),
});

interface Model {
  saga: StoredSaga;
  created: AnyEnvelope;
  /** The order's last own event: what a compensation reacts to. */
  last: AnyEnvelope;
}

function run({ skewsMs, steps }: { skewsMs: number[]; steps: [Step, number][] }) {
  let now = Date.parse('2030-01-01T00:00:00.000Z') * 1000; // microseconds
  const events = new Map<number, AnyEnvelope[]>();
  const orders = new Map<number, Model>();
  const orderIds = Array.from({ length: ORDERS }, (_, i) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`);
  const stamp = (p: number) => {
    const micros = now + skewsMs[p]! * 1000;
    const ms = Math.floor(micros / 1000);
    return `${new Date(ms).toISOString().slice(0, -1)}${String(micros - ms * 1000).padStart(3, '0')}Z`;
  };
  const emit = <T extends EventType>(o: number, p: number, type: T, data: EventData<T>, cause: Cause): AnyEnvelope => {
    const e = { ...createEvent(type, data, cause), occurredAt: stamp(p) } as AnyEnvelope;
    events.set(o, [...(events.get(o) ?? []), e]);
    now += 1; // the next step is a microsecond later in real time, at least
    return e;
  };
  const http: Cause = { correlationId: 'c', causationId: null };
  const ownEvent = (o: number, e: AnyEnvelope) => (orders.get(o)!.last = e);

  for (const [s, gapMicros] of steps) {
    now += gapMicros;
    if (s.kind === 'place') {
      if (orders.has(s.order)) continue;
      const created = emit(s.order, s.proc, 'order.created', {
        orderId: orderIds[s.order]!, orderVersion: 1, customerId: orderIds[0]!, totalCents: 100, currency: 'USD', paymentToken: 'tok_visa',
        items: [{ productId: orderIds[0]!, name: 'p', quantity: 1, unitPriceCents: 100, lineTotalCents: 100 }],
      }, http);
      orders.set(s.order, { saga: { id: orderIds[s.order]!, status: 'PENDING', stockReserved: false, paymentProcessed: false, failureReason: null, version: 1 }, created, last: created });
    } else if (s.kind === 'batch') {
      // Inventory's and payment's answers to order.created, stamped by their process, then the order consumer's batch.
      const items = s.items.filter((i) => orders.has(i.order));
      const outcomes = items.map((i) => {
        const m = orders.get(i.order)!;
        const orderId = m.saga.id;
        const data = { orderId, orderVersion: 1 };
        const e =
          i.outcome === 'stock_reserved' ? emit(i.order, s.by, 'inventory.reserved', { ...data, items: [{ productId: orderId, quantity: 1 }] }, causedBy(m.created))
          : i.outcome === 'stock_failed' ? emit(i.order, s.by, 'inventory.reservation_failed', { ...data, reason: 'short', shortages: [] }, causedBy(m.created))
          : i.outcome === 'payment_processed' ? emit(i.order, s.by, 'payment.processed', { ...data, paymentId: orderId, amountCents: 100, currency: 'USD' }, causedBy(m.created))
          : emit(i.order, s.by, 'payment.failed', { ...data, paymentId: orderId, amountCents: 100, reason: 'declined' }, causedBy(m.created));
        const outcome: Outcome = i.outcome === 'stock_failed' || i.outcome === 'payment_failed' ? { kind: i.outcome, reason: 'no' } : { kind: i.outcome };
        return { order: i.order, event: e, orderId, outcome };
      });
      const decision = decideOutcomes(new Map([...orders.values()].map((m) => [m.saga.id, m.saga])), outcomes);
      for (const u of decision.updates) {
        const o = orderIds.indexOf(u.id);
        const { statusChanged: _, ...saga } = u;
        orders.get(o)!.saga = saga;
      }
      for (const t of decision.transitions) {
        const o = orderIds.indexOf(t.orderId);
        ownEvent(o, emit(o, s.proc, 'order.updated', { orderId: t.orderId, orderVersion: t.orderVersion, status: t.transition.to, previousStatus: t.transition.from, reason: t.transition.reason }, causedBy(outcomes[t.cause]!.event)));
      }
    } else if (s.kind === 'cancel' || s.kind === 'deadline') {
      const targets = s.kind === 'cancel' ? [s.order] : [...orders.keys()].filter((o) => orders.get(o)!.saga.status === 'PENDING');
      for (const o of targets) {
        const m = orders.get(o);
        if (!m || !canCancel(m.saga.status)) continue;
        const previousStatus = m.saga.status;
        m.saga = { ...m.saga, status: 'CANCELLED', version: m.saga.version + 1 };
        ownEvent(o, emit(o, s.proc, 'order.cancelled', { orderId: m.saga.id, orderVersion: m.saga.version, previousStatus, reason: 'r' }, http));
      }
    } else if (s.kind === 'fulfil') {
      const m = orders.get(s.order);
      const next = m && nextFulfilmentStep(m.saga.status);
      if (!m || !next) continue;
      const previousStatus = m.saga.status;
      m.saga = { ...m.saga, status: next, version: m.saga.version + 1 };
      ownEvent(s.order, emit(s.order, s.proc, 'order.updated', { orderId: m.saga.id, orderVersion: m.saga.version, status: next, previousStatus, reason: null }, http));
    } else {
      // Inventory releases on the order's latest end, naming the version it learned of.
      const m = orders.get(s.order);
      if (!m || (m.saga.status !== 'CANCELLED' && m.saga.status !== 'FAILED')) continue;
      const d = m.last.data as { orderVersion: number };
      emit(s.order, s.proc, 'inventory.released', { orderId: m.saga.id, orderVersion: d.orderVersion, items: [], reason: 'r' }, causedBy(m.last));
    }
  }
  return { events, orders };
}

/** What a timeline says, event by event: the status after each of the order's own events. */
function replay(timeline: AnyEnvelope[]): { status: OrderStatus; problems: string[] } {
  let status: OrderStatus | null = null;
  let version = 0;
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const e of timeline) {
    if (e.causationId && timeline.some((c) => c.id === e.causationId) && !seen.has(e.causationId)) problems.push(`${e.type} before its cause`);
    seen.add(e.id);
    if (e.source !== 'order') continue;
    const d = e.data as { orderVersion: number; previousStatus?: OrderStatus; status?: OrderStatus };
    if (d.orderVersion <= version) problems.push(`version ${d.orderVersion} after ${version}`);
    version = d.orderVersion;
    if (e.type === 'order.created') {
      if (status !== null) problems.push('order.created not first');
      status = 'PENDING';
      continue;
    }
    if (d.previousStatus !== status) problems.push(`${e.type} says previousStatus ${d.previousStatus} after ${status}`);
    status = e.type === 'order.cancelled' ? 'CANCELLED' : d.status!;
  }
  return { status: status!, problems };
}

describe('timelines over interleaved consumer batches and HTTP commands', () => {
  it("end in each order's status, and every previousStatus is the status before it", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { events, orders } = run(s);
        for (const [o, m] of orders) {
          const stored = events.get(o)!;
          const input =
            s.storage === 'by time' ? [...stored].sort((a, b) => instantOf(a.occurredAt) - instantOf(b.occurredAt))
            : s.storage === 'reversed' ? [...stored].reverse()
            : stored;
          const timeline = inHistoryOrder(input);
          expect(timeline).toHaveLength(stored.length);
          const told = replay(timeline);
          expect(told.problems).toEqual([]);
          expect(told.status).toBe(m.saga.status);
        }
      }),
      { numRuns: 400 },
    );
  });
});
