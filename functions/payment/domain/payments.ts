import type { AnyEnvelope, Cause } from '../../../shared/events/envelope';
import type { EventData } from '../../../shared/events/types';
import type { ChargeResult } from './gateway';
import { paymentIdFor } from './gateway';

/**
 * CHARGING and REFUNDING are intents: recorded and committed before the gateway is called, so no
 * money moves without a record; the outcome is written once the gateway has answered.
 */
export type PaymentStatus = 'CHARGING' | 'PROCESSED' | 'FAILED' | 'REFUNDING' | 'REFUNDED' | 'VOIDED';

export interface Payment {
  id: string;
  orderId: string;
  amountCents: number;
  currency: string;
  status: PaymentStatus;
  token: string | null;
  orderVersion: number;
  cause: Cause;
  failureReason: string | null;
  chargeReference: string | null;
  refundReference: string | null;
  /** Set once the order ended: what is or will be charged must be given back. */
  refund: { reason: string; orderVersion: number; cause: Cause } | null;
}

export type PaymentCommand =
  | { kind: 'charge'; orderId: string; orderVersion: number; amountCents: number; currency: string; token: string }
  | { kind: 'refund'; orderId: string; orderVersion: number; reason: string };

export function commandOf(event: AnyEnvelope): PaymentCommand | null {
  switch (event.type) {
    case 'order.created':
      return {
        kind: 'charge',
        orderId: event.data.orderId,
        orderVersion: event.data.orderVersion,
        amountCents: event.data.totalCents,
        currency: event.data.currency,
        token: event.data.paymentToken,
      };
    case 'order.cancelled':
      return { kind: 'refund', orderId: event.data.orderId, orderVersion: event.data.orderVersion, reason: 'order cancelled' };
    case 'inventory.reservation_failed':
      return { kind: 'refund', orderId: event.data.orderId, orderVersion: event.data.orderVersion, reason: `stock could not be reserved: ${event.data.reason}` };
    default:
      return null;
  }
}

export interface IntentDecision {
  /** Payments to write: new intents, and refunds asked of existing payments. */
  payments: Payment[];
  /** Orders that ended before any payment: never charge them. */
  blocks: { orderId: string; reason: string }[];
  initiated: { cause: number; data: EventData<'payment.initiated'> }[];
  skipped: { cause: number; why: string }[];
}

/**
 * Turns a batch's commands into intents, in order, given each order's payment and block as they
 * stand. A charge is never taken for an order already known to have ended: blocked before, or
 * ended in this very batch. A refund of a payment not taken yet blocks it; of one in flight or
 * processed, it marks it to be refunded.
 */
export function decideIntents(
  commands: { command: PaymentCommand; cause: Cause }[],
  paymentsBefore: ReadonlyMap<string, Payment>,
  blockedBefore: ReadonlySet<string>,
): IntentDecision {
  const payments = new Map(paymentsBefore);
  const blocked = new Set(blockedBefore);
  const changed = new Set<string>();
  const decision: IntentDecision = { payments: [], blocks: [], initiated: [], skipped: [] };
  const endedInBatch = new Set(commands.filter((c) => c.command.kind === 'refund').map((c) => c.command.orderId));

  commands.forEach(({ command: c, cause }, i) => {
    const payment = payments.get(c.orderId);
    if (c.kind === 'charge') {
      if (blocked.has(c.orderId)) return decision.skipped.push({ cause: i, why: 'order ended before its payment; not charging' });
      if (endedInBatch.has(c.orderId)) return decision.skipped.push({ cause: i, why: 'order ended in the same batch; not charging' });
      if (payment) return decision.skipped.push({ cause: i, why: `order already has a ${payment.status} payment` });
      const p: Payment = {
        id: paymentIdFor(c.orderId),
        orderId: c.orderId,
        amountCents: c.amountCents,
        currency: c.currency,
        status: 'CHARGING',
        token: c.token,
        orderVersion: c.orderVersion,
        cause,
        failureReason: null,
        chargeReference: null,
        refundReference: null,
        refund: null,
      };
      payments.set(c.orderId, p);
      changed.add(c.orderId);
      decision.initiated.push({ cause: i, data: { orderId: c.orderId, orderVersion: c.orderVersion, paymentId: p.id, amountCents: p.amountCents, currency: p.currency } });
      return;
    }
    if (!payment) {
      if (!blocked.has(c.orderId)) {
        blocked.add(c.orderId);
        decision.blocks.push({ orderId: c.orderId, reason: c.reason });
      }
      return;
    }
    if (payment.refund || !(payment.status === 'CHARGING' || payment.status === 'PROCESSED')) {
      return decision.skipped.push({ cause: i, why: `payment is ${payment.status}${payment.refund ? ', refund already asked' : ''}` });
    }
    payments.set(c.orderId, {
      ...payment,
      status: payment.status === 'PROCESSED' ? 'REFUNDING' : 'CHARGING',
      refund: { reason: c.reason, orderVersion: c.orderVersion, cause },
    });
    changed.add(c.orderId);
  });
  decision.payments = [...changed].map((id) => payments.get(id)!);
  return decision;
}

/** What the gateway must be asked to settle an intent. */
export type GatewayStep = 'charge' | 'lookup' | 'refund';

export function gatewayStepOf(p: Payment): GatewayStep | null {
  if (p.status === 'CHARGING') return p.refund ? 'lookup' : 'charge';
  if (p.status === 'REFUNDING') return 'refund';
  return null;
}

export interface GatewayAnswers {
  /** The charge's outcome: from a charge call, or from a lookup (null: the gateway never saw it). */
  charge?: ChargeResult | null;
  /** The refund's reference, when one was made. */
  refundReference?: string;
}

export type PaymentEvent =
  | { type: 'payment.processed'; data: EventData<'payment.processed'>; cause: Cause }
  | { type: 'payment.failed'; data: EventData<'payment.failed'>; cause: Cause }
  | { type: 'payment.refunded'; data: EventData<'payment.refunded'>; cause: Cause };

/**
 * An intent as the gateway's answers settle it, with the events that say so. Needs a refund
 * first (`needsRefund`) when a charge turned out taken for an order that has since ended.
 */
export function settle(p: Payment, answers: GatewayAnswers): { payment: Payment; events: PaymentEvent[]; needsRefund: boolean } {
  const base = { orderId: p.orderId, paymentId: p.id, amountCents: p.amountCents };
  const processed: PaymentEvent = { type: 'payment.processed', data: { ...base, orderVersion: p.orderVersion, currency: p.currency }, cause: p.cause };
  if (p.status === 'CHARGING') {
    const charge = answers.charge;
    if (charge === undefined) throw new Error(`payment ${p.id}: the gateway was not asked about its charge`);
    if (charge === null) {
      // Never reached the gateway, and the order has ended: nothing to take, nothing to give back.
      return { payment: { ...p, status: 'VOIDED' }, events: [], needsRefund: false };
    }
    if (!charge.ok) {
      return {
        payment: { ...p, status: 'FAILED', failureReason: charge.reason },
        events: [{ type: 'payment.failed', data: { ...base, orderVersion: p.orderVersion, reason: `payment declined: ${charge.reason}` }, cause: p.cause }],
        needsRefund: false,
      };
    }
    const charged: Payment = { ...p, status: 'PROCESSED', chargeReference: charge.reference };
    if (!p.refund) return { payment: charged, events: [processed], needsRefund: false };
    if (answers.refundReference === undefined) return { payment: charged, events: [processed], needsRefund: true };
    return { payment: { ...charged, status: 'REFUNDED', refundReference: answers.refundReference }, events: [processed, refunded(p)], needsRefund: false };
  }
  if (p.status === 'REFUNDING') {
    if (answers.refundReference === undefined) throw new Error(`payment ${p.id}: the gateway was not asked for its refund`);
    return { payment: { ...p, status: 'REFUNDED', refundReference: answers.refundReference }, events: [refunded(p)], needsRefund: false };
  }
  return { payment: p, events: [], needsRefund: false };
}

function refunded(p: Payment): PaymentEvent {
  const r = p.refund!;
  return { type: 'payment.refunded', data: { orderId: p.orderId, orderVersion: r.orderVersion, paymentId: p.id, amountCents: p.amountCents, reason: r.reason }, cause: r.cause };
}
