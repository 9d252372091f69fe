import { describe, expect, it } from 'vitest';
import { priceOrder } from '../../functions/order/domain/pricing';
import { applyOutcome, deadlineReason } from '../../functions/order/domain/saga';
import type { SagaState } from '../../functions/order/domain/saga';
import { canCancel, canFulfil, nextFulfilmentStep } from '../../functions/order/domain/status';
import { ORDER_STATUSES } from '../../shared/events/types';

const pending: SagaState = { status: 'PENDING', stockReserved: false, paymentProcessed: false, failureReason: null };

describe('order saga join', () => {
  it('confirms only once both stock and payment succeeded, in either order', () => {
    const a = applyOutcome(pending, { kind: 'stock_reserved' });
    expect(a.transition).toBeNull();
    expect(applyOutcome(a.state, { kind: 'payment_processed' }).transition).toEqual({ from: 'PENDING', to: 'CONFIRMED', reason: null });

    const b = applyOutcome(pending, { kind: 'payment_processed' });
    expect(b.transition).toBeNull();
    expect(applyOutcome(b.state, { kind: 'stock_reserved' }).state.status).toBe('CONFIRMED');
  });

  it('fails on the first failure with its reason, whatever came before', () => {
    const reserved = applyOutcome(pending, { kind: 'stock_reserved' }).state;
    const failed = applyOutcome(reserved, { kind: 'payment_failed', reason: 'card declined' });
    expect(failed.transition).toEqual({ from: 'PENDING', to: 'FAILED', reason: 'card declined' });
    expect(failed.state.failureReason).toBe('card declined');
  });

  it('records late outcomes without moving a settled order', () => {
    const failed = applyOutcome(pending, { kind: 'stock_failed', reason: 'no stock' }).state;
    const late = applyOutcome(failed, { kind: 'payment_processed' });
    expect(late.transition).toBeNull();
    expect(late.state).toMatchObject({ status: 'FAILED', paymentProcessed: true, failureReason: 'no stock' });

    const cancelled = { ...pending, status: 'CANCELLED' as const };
    expect(applyOutcome(cancelled, { kind: 'stock_reserved' }).transition).toBeNull();
    expect(applyOutcome(cancelled, { kind: 'payment_failed', reason: 'x' }).state.status).toBe('CANCELLED');
  });

  it('does not confirm twice on a repeated outcome', () => {
    const confirmed = applyOutcome(applyOutcome(pending, { kind: 'stock_reserved' }).state, { kind: 'payment_processed' }).state;
    expect(applyOutcome(confirmed, { kind: 'payment_processed' }).transition).toBeNull();
  });
});

describe('saga deadline', () => {
  it('names the steps that never answered', () => {
    expect(deadlineReason({ stockReserved: false, paymentProcessed: false }, 300)).toBe('timed out: no stock reservation and payment within 300 s');
    expect(deadlineReason({ stockReserved: true, paymentProcessed: false }, 300)).toBe('timed out: no payment within 300 s');
    expect(deadlineReason({ stockReserved: false, paymentProcessed: true }, 60)).toBe('timed out: no stock reservation within 60 s');
  });
});

describe('order status machine', () => {
  it('moves a confirmed order through fulfilment one step at a time', () => {
    expect(canFulfil('CONFIRMED', 'PROCESSING')).toBe(true);
    expect(canFulfil('PROCESSING', 'SHIPPED')).toBe(true);
    expect(canFulfil('SHIPPED', 'DELIVERED')).toBe(true);
    expect(canFulfil('CONFIRMED', 'SHIPPED')).toBe(false);
    expect(canFulfil('PENDING', 'PROCESSING')).toBe(false);
    expect(canFulfil('DELIVERED', 'PROCESSING')).toBe(false);
    expect(nextFulfilmentStep('DELIVERED')).toBeUndefined();
  });

  it('refuses every other move', () => {
    const allowed = new Set(['CONFIRMED>PROCESSING', 'PROCESSING>SHIPPED', 'SHIPPED>DELIVERED']);
    for (const from of ORDER_STATUSES) {
      for (const to of ORDER_STATUSES) expect(canFulfil(from, to)).toBe(allowed.has(`${from}>${to}`));
    }
  });

  it('allows cancelling only before shipping', () => {
    expect(ORDER_STATUSES.filter(canCancel)).toEqual(['PENDING', 'CONFIRMED', 'PROCESSING']);
  });
});

describe('order pricing', () => {
  const catalog = new Map([
    ['a', { id: 'a', name: 'Apple', priceCents: 120 }],
    ['b', { id: 'b', name: 'Bread', priceCents: 349 }],
  ]);

  it('prices lines from the catalog and totals them in cents', () => {
    const r = priceOrder([{ productId: 'a', quantity: 3 }, { productId: 'b', quantity: 2 }], catalog);
    expect(r).toEqual({
      ok: true,
      totalCents: 1058,
      items: [
        { productId: 'a', name: 'Apple', quantity: 3, unitPriceCents: 120, lineTotalCents: 360 },
        { productId: 'b', name: 'Bread', quantity: 2, unitPriceCents: 349, lineTotalCents: 698 },
      ],
    });
  });

  it('names every line whose product is unknown', () => {
    expect(priceOrder([{ productId: 'x', quantity: 1 }, { productId: 'a', quantity: 1 }, { productId: 'y', quantity: 1 }], catalog)).toEqual({
      ok: false,
      unknownLines: [0, 2],
    });
  });
});
