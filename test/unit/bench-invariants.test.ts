import { describe, expect, it } from 'vitest';
import { checkInvariants, checkTimeline, describeViolations } from '../../bench/invariants';
import type { Snapshot } from '../../bench/invariants';

const P1 = 'p1';
const P2 = 'p2';

/** A consistent world: one order confirmed, one failed (card declined, stock released), one cancelled after its charge (refunded). */
function healthy(): Snapshot {
  return {
    orders: [
      { id: 'o1', status: 'CONFIRMED' },
      { id: 'o2', status: 'FAILED' },
      { id: 'o3', status: 'CANCELLED' },
    ],
    payments: [
      { orderId: 'o1', status: 'PROCESSED' },
      { orderId: 'o2', status: 'FAILED' },
      { orderId: 'o3', status: 'REFUNDED' },
    ],
    reservations: [
      { orderId: 'o1', status: 'ACTIVE', items: [{ productId: P1, quantity: 2 }, { productId: P2, quantity: 1 }] },
      { orderId: 'o2', status: 'RELEASED', items: [{ productId: P1, quantity: 5 }] },
      { orderId: 'o3', status: 'RELEASED', items: [] },
    ],
    products: [
      { id: P1, stock: 100, reserved: 2, available: 98 },
      { id: P2, stock: 10, reserved: 1, available: 9 },
    ],
  };
}

const expectations = (snapshot: Snapshot) => ({
  acceptedOrderIds: snapshot.orders.map((o) => o.id),
  initialStock: new Map([
    [P1, 100],
    [P2, 10],
  ]),
});

const rulesBroken = (snapshot: Snapshot, expect = expectations(snapshot)) => [...new Set(checkInvariants(snapshot, expect).map((v) => v.rule))].sort();

describe('bench invariants', () => {
  it('hold on a consistent snapshot', () => {
    const s = healthy();
    expect(checkInvariants(s, expectations(s))).toEqual([]);
  });

  it('catch an accepted order that never settled, or that the database lost', () => {
    const s = healthy();
    s.orders[0]!.status = 'PENDING';
    expect(rulesBroken(s)).toContain('every order settled');
    const lost = healthy();
    expect(rulesBroken(lost, { ...expectations(lost), acceptedOrderIds: ['o1', 'o2', 'o3', 'o4'] })).toEqual(['accepted order exists']);
  });

  it('catch stock that does not add up', () => {
    const s = healthy();
    s.products[0] = { id: P1, stock: 99, reserved: 2, available: 97 }; // a unit vanished
    expect(rulesBroken(s)).toEqual(['initial stock = stock + shipped']);

    const leaked = healthy();
    leaked.products[0] = { id: P1, stock: 100, reserved: 7, available: 93 }; // the released reservation still counted
    expect(rulesBroken(leaked)).toEqual(['reserved = sum of ACTIVE reservations']);

    const wrongAvailable = healthy();
    wrongAvailable.products[1]!.available = 10;
    expect(rulesBroken(wrongAvailable)).toEqual(['stock - reserved = available']);
  });

  it('count shipped units: stock + shipped = initial', () => {
    const s = healthy();
    s.orders[0]!.status = 'SHIPPED';
    s.reservations[0]!.status = 'COMMITTED';
    s.products = [
      { id: P1, stock: 98, reserved: 0, available: 98 },
      { id: P2, stock: 9, reserved: 0, available: 9 },
    ];
    expect(checkInvariants(s, expectations(s))).toEqual([]);
  });

  it('catch a double charge, an orphan payment, a refund on a confirmed order and an unrefunded failure', () => {
    const twice = healthy();
    twice.payments.push({ orderId: 'o1', status: 'REFUNDED' });
    expect(rulesBroken(twice)).toContain('at most one processed payment per order');

    const orphan = healthy();
    orphan.payments.push({ orderId: 'o9', status: 'PROCESSED' });
    expect(rulesBroken(orphan)).toEqual(['payment has an order']);

    const refundedConfirmed = healthy();
    refundedConfirmed.payments[0]!.status = 'REFUNDED';
    expect(rulesBroken(refundedConfirmed)).toEqual(['CONFIRMED order holds one PROCESSED payment', 'refund only for FAILED or CANCELLED orders']);

    const kept = healthy();
    kept.payments[2]!.status = 'PROCESSED';
    expect(rulesBroken(kept)).toEqual(['FAILED or CANCELLED orders are refunded']);
  });

  it('catch a confirmed order without its reservation, and a cancelled one still holding stock', () => {
    const noReservation = healthy();
    noReservation.reservations.shift();
    noReservation.products = [
      { id: P1, stock: 100, reserved: 0, available: 100 },
      { id: P2, stock: 10, reserved: 0, available: 10 },
    ];
    expect(rulesBroken(noReservation)).toEqual(['CONFIRMED order holds one ACTIVE reservation']);

    const holding = healthy();
    holding.reservations[2] = { orderId: 'o3', status: 'ACTIVE', items: [{ productId: P2, quantity: 1 }] };
    holding.products[1] = { id: P2, stock: 10, reserved: 2, available: 8 };
    expect(rulesBroken(holding)).toEqual(['FAILED or CANCELLED order holds no stock']);
  });

  it('describe what broke, by rule, with examples', () => {
    const s = healthy();
    s.orders[0]!.status = 'PENDING';
    s.orders[1]!.status = 'PENDING';
    expect(describeViolations(checkInvariants(s, expectations(s)))).toContain('every order settled: 2 broken, e.g. o1 (status PENDING); o2 (status PENDING)');
  });
});

describe('bench invariants: timelines', () => {
  const own = (type: string, orderVersion: number, data: Record<string, unknown> = {}) => ({ type, source: 'order' as const, data: { orderId: 'o1', orderVersion, ...data } });
  const other = (type: string) => ({ type, source: 'payment' as const, data: { orderId: 'o1', orderVersion: 1 } });
  const created = own('order.created', 1);
  const confirmed = own('order.updated', 2, { status: 'CONFIRMED', previousStatus: 'PENDING' });
  const cancelled = own('order.cancelled', 3, { previousStatus: 'CONFIRMED' });
  const rules = (vs: { rule: string }[]) => vs.map((v) => v.rule);

  it('hold when the timeline tells every status change in order and ends in the status', () => {
    expect(checkTimeline({ id: 'o1', status: 'CANCELLED', version: 3 }, [created, other('payment.processed'), confirmed, cancelled])).toEqual([]);
    expect(checkTimeline({ id: 'o1', status: 'PENDING' }, [created])).toEqual([]);
  });

  it("catch a cancellation told before the confirmation it cancelled: the timeline ends at CONFIRMED, the order is CANCELLED", () => {
    expect(rules(checkTimeline({ id: 'o1', status: 'CANCELLED', version: 3 }, [created, cancelled, confirmed]))).toEqual([
      'timeline holds every order version in order',
      'timeline previousStatus is the status before it',
      'timeline holds every order version in order',
      'timeline previousStatus is the status before it',
      'timeline holds every order version in order',
      "timeline ends in the order's status",
    ]);
  });

  it('catch a missing status change and an empty timeline', () => {
    expect(rules(checkTimeline({ id: 'o1', status: 'CANCELLED', version: 3 }, [created, cancelled]))).toEqual([
      'timeline holds every order version in order',
      'timeline previousStatus is the status before it',
    ]);
    expect(rules(checkTimeline({ id: 'o1', status: 'CONFIRMED', version: 2 }, [created]))).toEqual(['timeline holds every order version in order', "timeline ends in the order's status"]);
    expect(rules(checkTimeline({ id: 'o1', status: 'PENDING' }, []))).toEqual(["timeline ends in the order's status"]);
  });
});
