/**
 * What the fault run checks beyond the saga's invariants (bench/invariants.ts), as pure functions
 * of what it reads after each fault's drain:
 * - the order history (the order service's outbox keeps every event): no order left FAILED or
 *   CANCELLED once there, none confirmed twice;
 * - the card gateway's books against the payment records: no charge without a payment, no refund
 *   without a charge, and the records agree with what the gateway did;
 * - the DLQs: they hold the malformed messages the run sent, each in every DLQ of a queue it
 *   reached, and nothing else; the broker applies the queues' policies;
 * - (from bench/invariants.ts, read in run.ts) every order's timeline tells its status changes in
 *   order and ends in its status;
 * and which column of the table each broken rule counts in (lost, duplicated, or neither).
 */
import type { BrokerPolicy } from '../../shared/messaging/policies';
import type { Violation } from '../invariants';

export interface StatusChange {
  orderId: string;
  previous: string;
  status: string;
}

const TERMINAL = new Set(['FAILED', 'CANCELLED']);

/** In commit order. A FAILED or CANCELLED order never changes again; an order is confirmed at most once. */
export function checkStatusHistory(changes: StatusChange[]): Violation[] {
  const out: Violation[] = [];
  const confirmed = new Map<string, number>();
  for (const c of changes) {
    if (TERMINAL.has(c.previous)) {
      out.push({ rule: 'a terminal status never changes', subject: c.orderId, detail: `${c.previous} → ${c.status}` });
    }
    if (c.status === 'CONFIRMED') confirmed.set(c.orderId, (confirmed.get(c.orderId) ?? 0) + 1);
  }
  for (const [orderId, n] of confirmed) if (n > 1) out.push({ rule: 'an order is confirmed once', subject: orderId, detail: `confirmed ${n} times` });
  return out;
}

export interface GatewayOperation {
  key: string;
  kind: 'charge' | 'refund';
  succeeded: boolean;
}
export interface PaymentRecord {
  id: string;
  orderId: string;
  status: string;
}

/**
 * The gateway keys a charge by its payment's id and a refund by `refund:<payment id>`
 * (functions/payment/domain/gateway.ts). Every successful charge has its payment record, which says
 * PROCESSED or REFUNDED; every refund follows a successful charge, and its payment says REFUNDED;
 * a payment that says PROCESSED or REFUNDED was charged.
 */
export function checkGatewayBooks(operations: GatewayOperation[], payments: PaymentRecord[], refundKeyOf: (paymentId: string) => string): Violation[] {
  const out: Violation[] = [];
  const byId = new Map(payments.map((p) => [p.id, p]));
  const ops = new Map(operations.map((o) => [o.key, o]));
  const refundOf = new Map(payments.map((p) => [refundKeyOf(p.id), p]));
  for (const o of operations) {
    if (!o.succeeded) continue;
    if (o.kind === 'charge') {
      const p = byId.get(o.key);
      if (!p) out.push({ rule: 'every charge has its payment', subject: o.key, detail: 'the gateway charged, no payment records it' });
      else if (p.status !== 'PROCESSED' && p.status !== 'REFUNDED') {
        out.push({ rule: 'payments agree with the gateway', subject: p.orderId, detail: `charged, but the payment is ${p.status}` });
      }
    } else {
      const p = refundOf.get(o.key);
      const charge = p ? ops.get(p.id) : undefined;
      if (!p || !charge?.succeeded) out.push({ rule: 'every refund follows a charge', subject: p?.orderId ?? o.key, detail: 'refunded without a successful charge' });
      else if (p.status !== 'REFUNDED') out.push({ rule: 'payments agree with the gateway', subject: p.orderId, detail: `refunded, but the payment is ${p.status}` });
    }
  }
  for (const p of payments) {
    const charged = ops.get(p.id)?.succeeded === true;
    if ((p.status === 'PROCESSED' || p.status === 'REFUNDED') && !charged) {
      out.push({ rule: 'payments agree with the gateway', subject: p.orderId, detail: `${p.status}, but the gateway holds no successful charge` });
    }
    if (p.status === 'REFUNDED' && ops.get(refundKeyOf(p.id))?.succeeded !== true) {
      out.push({ rule: 'payments agree with the gateway', subject: p.orderId, detail: 'REFUNDED, but the gateway holds no refund' });
    }
  }
  return out;
}

export interface ReservationRecord {
  orderId: string;
}

/** At most one reservation per order (the table's key says so today; the run checks what it holds). */
export function checkReservationsOnce(reservations: ReservationRecord[]): Violation[] {
  const n = new Map<string, number>();
  for (const r of reservations) n.set(r.orderId, (n.get(r.orderId) ?? 0) + 1);
  return [...n].filter(([, k]) => k > 1).map(([orderId, k]) => ({ rule: 'at most one reservation per order', subject: orderId, detail: `${k} reservations` }));
}

/** An order cancelled at its deadline, and how long after its creation, both by the database's clock. */
export interface DeadlineCancellation {
  orderId: string;
  seconds: number;
}

/** No order is cancelled at its deadline before the deadline has passed, whatever the functions' clocks say. */
export function checkDeadlines(cancelled: DeadlineCancellation[], deadlineSeconds: number): Violation[] {
  return cancelled
    .filter((c) => c.seconds < deadlineSeconds)
    .map((c) => ({ rule: 'no order is cancelled before its deadline', subject: c.orderId, detail: `cancelled ${c.seconds.toFixed(1)} s after creation; the deadline is ${deadlineSeconds} s` }));
}

/** One message found in a DLQ: which DLQ, and the malformed message it carries, if it is one of the run's. */
export interface ParkedMessage {
  dlq: string;
  /** The run's mark in the body, or null for anything else. */
  mark: string | null;
  reason: string;
}

/** A malformed message the run sent, and the DLQs it must end in (those of every queue it reached). */
export interface SentMalformed {
  mark: string;
  dlqs: string[];
}

/** Every malformed message is parked in the DLQ of each queue it reached; nothing else is in a DLQ. */
export function checkDeadLetters(parked: ParkedMessage[], sent: SentMalformed[]): Violation[] {
  const out: Violation[] = [];
  const found = new Set(parked.filter((p) => p.mark).map((p) => `${p.dlq} ${p.mark}`));
  const expected = new Set(sent.flatMap((s) => s.dlqs.map((d) => `${d} ${s.mark}`)));
  for (const p of parked) {
    if (!p.mark || !expected.has(`${p.dlq} ${p.mark}`)) {
      out.push({ rule: 'a DLQ holds only the malformed messages', subject: p.dlq, detail: p.reason });
    }
  }
  for (const s of sent) {
    for (const d of s.dlqs) if (!found.has(`${d} ${s.mark}`)) out.push({ rule: 'a malformed message is parked', subject: s.mark, detail: `not in ${d}` });
  }
  return out;
}

export type Column = 'lost' | 'duplicated' | 'other';

/**
 * Which column a broken rule counts in. Lost: an accepted order not settled, stock or money not
 * conserved (a FAILED or CANCELLED order still charged, a payment record without its charge).
 * Duplicated: an effect taken twice (two charges, two reservations, a refund without a charge, a
 * terminal status changed).
 */
export function columnOf(rule: string): Column {
  if (
    [
      'at most one processed payment per order',
      'at most one reservation per order',
      'every refund follows a charge',
      'every charge has its payment',
      'refund only for FAILED or CANCELLED orders',
      'a terminal status never changes',
      'an order is confirmed once',
    ].includes(rule)
  ) {
    return 'duplicated';
  }
  const other = ['a DLQ', 'a malformed', 'health', 'the broker', 'timeline', 'token expiry', 'no order is cancelled before', 'reads go on', 'a full disk', 'overload'];
  if (other.some((prefix) => rule.startsWith(prefix))) return 'other';
  return 'lost';
}

export function tally(violations: Violation[]): Record<Column, number> {
  const t: Record<Column, number> = { lost: 0, duplicated: 0, other: 0 };
  for (const v of violations) t[columnOf(v.rule)]++;
  return t;
}

/**
 * The broker applies the namespace's policies (delivery limit, dead-lettering; shared/messaging/policies.ts)
 * exactly as wanted: without them a poison message is redelivered forever and a DLQ may drop what it holds.
 */
export function checkPolicies(wanted: BrokerPolicy[], applied: BrokerPolicy[]): Violation[] {
  const out: Violation[] = [];
  const sorted = (d: BrokerPolicy['definition']) => JSON.stringify(Object.entries(d).sort(([a], [b]) => a.localeCompare(b)));
  for (const w of wanted) {
    const a = applied.find((p) => p.name === w.name);
    if (!a) out.push({ rule: 'the broker applies the queues\' policies', subject: w.name, detail: 'missing' });
    else if (a.pattern !== w.pattern || a.applyTo !== w.applyTo || a.priority !== w.priority || sorted(a.definition) !== sorted(w.definition)) {
      out.push({ rule: 'the broker applies the queues\' policies', subject: w.name, detail: `applied ${JSON.stringify(a)}` });
    }
  }
  return out;
}
