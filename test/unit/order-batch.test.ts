import { describe, expect, it } from 'vitest';
import { decideOutcomes, newestPerProduct } from '../../functions/order/domain/saga';
import type { StoredSaga } from '../../functions/order/domain/saga';

const saga = (id: string, over: Partial<StoredSaga> = {}): StoredSaga => ({
  id,
  status: 'PENDING',
  stockReserved: false,
  paymentProcessed: false,
  failureReason: null,
  version: 1,
  ...over,
});

describe('a batch of saga outcomes', () => {
  it('joins both outcomes of an order arriving in one batch into one confirmation', () => {
    const d = decideOutcomes(new Map([['o1', saga('o1')]]), [
      { orderId: 'o1', outcome: { kind: 'stock_reserved' } },
      { orderId: 'o1', outcome: { kind: 'payment_processed' } },
    ]);
    expect(d.transitions).toEqual([{ cause: 1, orderId: 'o1', orderVersion: 2, transition: { from: 'PENDING', to: 'CONFIRMED', reason: null } }]);
    expect(d.updates).toEqual([{ ...saga('o1'), status: 'CONFIRMED', stockReserved: true, paymentProcessed: true, version: 2, statusChanged: true }]);
  });

  it('fails on the first failure, records the late success without moving the order', () => {
    const d = decideOutcomes(new Map([['o1', saga('o1')]]), [
      { orderId: 'o1', outcome: { kind: 'payment_failed', reason: 'card declined' } },
      { orderId: 'o1', outcome: { kind: 'stock_reserved' } },
    ]);
    expect(d.transitions.map((t) => t.transition.to)).toEqual(['FAILED']);
    expect(d.updates[0]).toMatchObject({ status: 'FAILED', stockReserved: true, failureReason: 'card declined', version: 2 });
    expect(d.ignored).toEqual([{ cause: 1, why: 'late stock_reserved for a FAILED order, recorded' }]);
  });

  it('leaves a settled order untouched by a repeated outcome (its updatedAt does not move)', () => {
    const confirmed = saga('o1', { status: 'CONFIRMED', stockReserved: true, paymentProcessed: true, version: 2 });
    const d = decideOutcomes(new Map([['o1', confirmed]]), [{ orderId: 'o1', outcome: { kind: 'payment_processed' } }]);
    expect(d.updates).toEqual([]);
    expect(d.transitions).toEqual([]);
  });

  it('marks a late outcome that changes only bookkeeping as no status change', () => {
    const cancelled = saga('o1', { status: 'CANCELLED', version: 2 });
    const d = decideOutcomes(new Map([['o1', cancelled]]), [{ orderId: 'o1', outcome: { kind: 'payment_processed' } }]);
    expect(d.updates).toEqual([{ ...cancelled, paymentProcessed: true, statusChanged: false }]);
  });

  it('ignores an outcome for an order it does not know', () => {
    expect(decideOutcomes(new Map(), [{ orderId: 'x', outcome: { kind: 'stock_reserved' } }]).ignored).toEqual([{ cause: 0, why: 'outcome for an unknown order' }]);
  });

  it('keeps the newest catalog update per product', () => {
    const u = (productId: string, productVersion: number) => ({ productId, productVersion });
    expect(newestPerProduct([u('a', 2), u('b', 1), u('a', 5), u('a', 3)])).toEqual([u('a', 5), u('b', 1)]);
  });
});
