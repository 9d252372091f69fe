import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evolveCatalogCopy } from '../../functions/order/domain/catalog-copy';
import { evolveOrder, foldOrder } from '../../functions/order/domain/order-record';
import type { OrderRecord } from '../../functions/order/domain/order-record';
import { decideOutcomes, outcomeOf } from '../../functions/order/domain/saga';
import type { StoredSaga } from '../../functions/order/domain/saga';
import { createEvent } from '../../shared/events/envelope';
import type { AnyEnvelope } from '../../shared/events/envelope';
import type { EventData, EventType } from '../../shared/events/types';

const cause = { correlationId: 'c-1', causationId: null };
const ev = <T extends EventType>(type: T, data: EventData<T>) => createEvent(type, data, cause) as AnyEnvelope;

const orderId = randomUUID();
const created = ev('order.created', {
  orderId,
  orderVersion: 1,
  customerId: randomUUID(),
  items: [{ productId: randomUUID(), name: 'Mug', quantity: 2, unitPriceCents: 500, lineTotalCents: 1000 }],
  totalCents: 1000,
  currency: 'USD',
  paymentToken: 'tok_visa',
});
const reserved = ev('inventory.reserved', { orderId, orderVersion: 1, items: [{ productId: randomUUID(), quantity: 2 }] });
const charged = ev('payment.processed', { orderId, orderVersion: 1, paymentId: randomUUID(), amountCents: 1000, currency: 'USD' });
const declined = ev('payment.failed', { orderId, orderVersion: 1, paymentId: randomUUID(), amountCents: 1000, reason: 'card declined' });

describe('the orders table as a fold of the order events', () => {
  it('makes the record from order.created, with its time and correlation', () => {
    const r = evolveOrder(null, created)!;
    expect(r).toMatchObject({ id: orderId, status: 'PENDING', version: 1, totalCents: 1000, paymentToken: 'tok_visa', createdAt: created.occurredAt, updatedAt: created.occurredAt, correlationId: 'c-1' });
  });

  it('moves status, version, reason and time with order.updated and order.cancelled, and ignores a stale or repeated one', () => {
    const failed = ev('order.updated', { orderId, orderVersion: 2, status: 'FAILED', previousStatus: 'PENDING', reason: 'card declined' });
    const r = foldOrder([created, reserved, failed])!;
    expect(r).toMatchObject({ status: 'FAILED', failureReason: 'card declined', version: 2, updatedAt: failed.occurredAt, stockReserved: true, paymentProcessed: false });
    expect(foldOrder([created, reserved, failed, failed])).toEqual(r);
    const cancelled = ev('order.cancelled', { orderId, orderVersion: 2, previousStatus: 'PENDING', reason: 'cancelled by request' });
    expect(foldOrder([created, cancelled])).toMatchObject({ status: 'CANCELLED', failureReason: 'cancelled by request', version: 2 });
  });

  it('says what the saga decides, whatever order the outcomes come in (the live path and a rebuild agree)', () => {
    const outcomes = [reserved, charged, declined];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...outcomes), { minLength: 1, maxLength: 6 }), (arrived) => {
        // Live: the saga decides in batches of one, and writes what it decided.
        let saga: StoredSaga = { id: orderId, status: 'PENDING', stockReserved: false, paymentProcessed: false, failureReason: null, version: 1 };
        const log: AnyEnvelope[] = [created];
        for (const e of arrived) {
          log.push(e);
          const d = decideOutcomes(new Map([[orderId, saga]]), [outcomeOf(e)!]);
          if (d.updates[0]) saga = { ...d.updates[0] };
          for (const t of d.transitions) {
            log.push(ev('order.updated', { orderId, orderVersion: t.orderVersion, status: t.transition.to, previousStatus: t.transition.from, reason: t.transition.reason }));
          }
        }
        const folded = foldOrder(log) as OrderRecord;
        expect({ status: folded.status, version: folded.version, failureReason: folded.failureReason, stockReserved: folded.stockReserved, paymentProcessed: folded.paymentProcessed }).toEqual({
          status: saga.status,
          version: saga.version,
          failureReason: saga.failureReason,
          stockReserved: saga.stockReserved,
          paymentProcessed: saga.paymentProcessed,
        });
      }),
    );
  });
});

describe('the catalog copy as a fold of inventory.updated', () => {
  const productId = randomUUID();
  const snapshot = (productVersion: number, changed: ('created' | 'price' | 'stock')[], priceCents = 500) =>
    ev('inventory.updated', { productId, productVersion, sku: 'MUG', name: 'Mug', priceCents, currency: 'USD', stock: 5, reserved: 0, available: 5, lowStockThreshold: 0, changed });

  it('keeps the newest catalog change and ignores stock moves and older versions', () => {
    const first = snapshot(1, ['created']);
    const stock = snapshot(2, ['stock']);
    const price = snapshot(3, ['price'], 700);
    const copy = [first, stock, price, first].reduce(evolveCatalogCopy, null);
    expect(copy).toEqual({ id: productId, sku: 'MUG', name: 'Mug', priceCents: 700, currency: 'USD', productVersion: 3, updatedAt: price.occurredAt });
    expect(evolveCatalogCopy(null, stock)).toBeNull();
  });
});
