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
