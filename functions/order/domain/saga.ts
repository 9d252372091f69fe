import type { AnyEnvelope } from '../../../shared/events/envelope';
import type { OrderStatus } from '../../../shared/events/types';

/** What the order service knows of the two parallel steps of its saga. */
export interface SagaState {
  status: OrderStatus;
  stockReserved: boolean;
  paymentProcessed: boolean;
  failureReason: string | null;
}

export type Outcome =
  | { kind: 'stock_reserved' }
  | { kind: 'stock_failed'; reason: string }
  | { kind: 'payment_processed' }
  | { kind: 'payment_failed'; reason: string };

export interface Transition {
  from: OrderStatus;
  to: OrderStatus;
  reason: string | null;
}

/**
 * Joins the outcomes of reservation and payment, whatever order they arrive in.
 * A PENDING order is CONFIRMED once both succeeded and FAILED as soon as either fails;
 * an outcome for an order already past PENDING is recorded but moves nothing
 * (the other services compensate on their own: see the saga in the README).
 */
export function applyOutcome(state: SagaState, outcome: Outcome): { state: SagaState; transition: Transition | null } {
  const next: SagaState = { ...state };
  if (outcome.kind === 'stock_reserved') next.stockReserved = true;
  if (outcome.kind === 'payment_processed') next.paymentProcessed = true;
  if (state.status !== 'PENDING') return { state: next, transition: null };

  if (outcome.kind === 'stock_failed' || outcome.kind === 'payment_failed') {
    next.status = 'FAILED';
    next.failureReason = outcome.reason;
    return { state: next, transition: { from: 'PENDING', to: 'FAILED', reason: outcome.reason } };
  }
  if (next.stockReserved && next.paymentProcessed) {
    next.status = 'CONFIRMED';
    return { state: next, transition: { from: 'PENDING', to: 'CONFIRMED', reason: null } };
  }
  return { state: next, transition: null };
}

/** Why a PENDING order ran out of time: which of its two steps never answered. */
export function deadlineReason(state: Pick<SagaState, 'stockReserved' | 'paymentProcessed'>, deadlineSeconds: number): string {
  const missing = [!state.stockReserved && 'stock reservation', !state.paymentProcessed && 'payment'].filter(Boolean).join(' and ');
  return `timed out: no ${missing} within ${deadlineSeconds} s`;
}

/** What an incoming event tells the order saga, if anything. */
export function outcomeOf(event: AnyEnvelope): { orderId: string; outcome: Outcome } | null {
  switch (event.type) {
    case 'inventory.reserved':
      return { orderId: event.data.orderId, outcome: { kind: 'stock_reserved' } };
    case 'inventory.reservation_failed':
      return { orderId: event.data.orderId, outcome: { kind: 'stock_failed', reason: event.data.reason } };
    case 'payment.processed':
      return { orderId: event.data.orderId, outcome: { kind: 'payment_processed' } };
    case 'payment.failed':
      return { orderId: event.data.orderId, outcome: { kind: 'payment_failed', reason: event.data.reason } };
    default:
      return null;
  }
}

export interface StoredSaga extends SagaState {
  id: string;
  version: number;
}

export interface SagaBatchDecision {
  /** Orders whose saga state changed, as they end the batch; statusChanged bumps version and updatedAt. */
  updates: (StoredSaga & { statusChanged: boolean })[];
  /** Status changes, each with the index of the outcome that caused it and the order's new version. */
  transitions: { cause: number; orderId: string; orderVersion: number; transition: Transition }[];
  /** Outcomes that moved nothing: for an unknown order, or late for a settled one. */
  ignored: { cause: number; why: string }[];
}

/** Feeds a batch of outcomes, in order, into the sagas of their (locked) orders. */
export function decideOutcomes(orders: ReadonlyMap<string, StoredSaga>, outcomes: { orderId: string; outcome: Outcome }[]): SagaBatchDecision {
  const current = new Map(orders);
  const changed = new Map<string, boolean>(); // order -> status changed
  const transitions: SagaBatchDecision['transitions'] = [];
  const ignored: SagaBatchDecision['ignored'] = [];
  outcomes.forEach(({ orderId, outcome }, i) => {
    const order = current.get(orderId);
    if (!order) return ignored.push({ cause: i, why: 'outcome for an unknown order' });
    const { state, transition } = applyOutcome(order, outcome);
    const same = state.status === order.status && state.stockReserved === order.stockReserved && state.paymentProcessed === order.paymentProcessed && state.failureReason === order.failureReason;
    if (same) return ignored.push({ cause: i, why: `repeated ${outcome.kind}` });
    const version = order.version + (transition ? 1 : 0);
    current.set(orderId, { ...state, id: orderId, version });
    changed.set(orderId, (changed.get(orderId) ?? false) || transition !== null);
    if (transition) transitions.push({ cause: i, orderId, orderVersion: version, transition });
    else if (order.status !== 'PENDING') ignored.push({ cause: i, why: `late ${outcome.kind} for a ${order.status} order, recorded` });
  });
  return { updates: [...changed].map(([id, statusChanged]) => ({ ...current.get(id)!, statusChanged })), transitions, ignored };
}

/** Of several catalog updates, the newest per product (a batch may carry more than one). */
export function newestPerProduct<T extends { productId: string; productVersion: number }>(updates: T[]): T[] {
  const newest = new Map<string, T>();
  for (const u of updates) if ((newest.get(u.productId)?.productVersion ?? 0) < u.productVersion) newest.set(u.productId, u);
  return [...newest.values()];
}
