import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIsolatedSystem } from '../support/isolated-system';
import type { IsolatedSystem } from '../support/isolated-system';
import { paymentIdFor } from '../../functions/payment/domain/gateway';

/**
 * The saga's deadline, on a runtime of its own with a 4 s deadline swept every second: an order
 * whose payment cannot happen (its database is away) is cancelled with the reason, its stock is
 * released at once, and the charge that goes through once the database is back is refunded; and
 * no order is cancelled before its deadline by the database's clock, whatever clock stamped it.
 */
let sys: IsolatedSystem;
beforeAll(async () => {
  sys = await startIsolatedSystem({ ORDER_DEADLINE_SECONDS: '4', SCHEDULE_SECONDS: '1' });
}, 120_000);
afterAll(() => sys.stop());

describe('an order that cannot complete', () => {
  it('is cancelled at its deadline and everything it took is given back', async () => {
    const product = await sys.call('POST', '/products', { sku: `DL-${randomUUID().slice(0, 8)}`, name: 'Deadline', priceCents: 900, stock: 5 });
    await sys.until(async () => (await sys.db('order').query('SELECT 1 FROM catalog_products WHERE id = $1', [product.body.id])).rowCount, 'the catalog copy');
    // One order through every service first, so that no cold start eats into the short deadline.
    const warm = await sys.call('POST', '/orders', { customerId: randomUUID(), items: [{ productId: product.body.id, quantity: 1 }], paymentToken: 'tok_visa' });
    await sys.until(async () => (await sys.call('GET', `/orders/${warm.body.id}`)).body.status !== 'PENDING', 'a first order to settle');
    await sys.until(async () => (await sys.call('GET', `/products/${product.body.id}`)).body.reserved <= 1, 'its stock to settle');
    const reservedBefore = (await sys.call('GET', `/products/${product.body.id}`)).body.reserved as number;

    await sys.takeDatabaseAway('payment');
    const order = await sys.call('POST', '/orders', { customerId: randomUUID(), items: [{ productId: product.body.id, quantity: 3 }], paymentToken: 'tok_visa' });
    expect(order.status).toBe(201);

    const cancelled = await sys.until(async () => {
      const o = (await sys.call('GET', `/orders/${order.body.id}`)).body;
      return o.status === 'CANCELLED' && o;
    }, 'the deadline to cancel the order');
    expect(cancelled.failureReason).toBe('timed out: no payment within 4 s');
    await sys.until(async () => (await sys.call('GET', `/products/${product.body.id}`)).body.reserved === reservedBefore, 'the stock to be released');

    await sys.bringDatabaseBack('payment');
    // The payment service now sees order.created, then order.cancelled: in one batch it charges
    // nothing (the order is known to have ended); in two it charges, then refunds.
    const outcome = await sys.until(async () => {
      const { rows } = await sys.db('payment').query(
        `SELECT (SELECT status FROM payments WHERE order_id = $1) AS payment, EXISTS (SELECT 1 FROM payment_blocks WHERE order_id = $1) AS blocked`,
        [order.body.id],
      );
      return (rows[0].payment === 'REFUNDED' || (rows[0].blocked && rows[0].payment === null)) && rows[0];
    }, 'the payment service to charge nothing, or to refund the late charge');
    // Either way the gateway holds no charge that was not given back.
    const { rows: ledger } = await sys.db('payment').query(
      `SELECT kind FROM gateway.operations WHERE idempotency_key IN ($1, 'refund:' || $1) AND succeeded ORDER BY kind`,
      [paymentIdFor(order.body.id)],
    );
    expect(ledger.map((r) => r.kind)).toEqual(outcome.payment === 'REFUNDED' ? ['charge', 'refund'] : []);
    const timeline = (await sys.call('GET', `/orders/${order.body.id}/events`)).body.items as { type: string; correlationId: string }[];
    expect(timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['order.created', 'inventory.reserved', 'order.cancelled', 'inventory.released']));
    expect(new Set(timeline.map((e) => e.correlationId)).size).toBe(1);
    expect((await sys.call('GET', `/orders/${order.body.id}`)).body.status).toBe('CANCELLED');
  });

  it('counts an order\'s age by the database clock: one stamped by a clock 10 minutes behind is not cancelled early', async () => {
    const product = await sys.call('POST', '/products', { sku: `DLS-${randomUUID().slice(0, 8)}`, name: 'Skewed', priceCents: 400, stock: 5 });
    await sys.until(async () => (await sys.db('order').query('SELECT 1 FROM catalog_products WHERE id = $1', [product.body.id])).rowCount, 'the catalog copy');
    await sys.takeDatabaseAway('payment');
    try {
      const order = await sys.call('POST', '/orders', { customerId: randomUUID(), items: [{ productId: product.body.id, quantity: 1 }], paymentToken: 'tok_visa' });
      expect(order.status).toBe(201);
      // As an order API whose clock ran 10 minutes behind would have stamped it (its event's time).
      await sys.db('order').query(`UPDATE orders SET created_at = created_at - interval '10 minutes' WHERE id = $1`, [order.body.id]);
      await sys.until(async () => (await sys.call('GET', `/orders/${order.body.id}`)).body.status === 'CANCELLED', 'the deadline to cancel the order');
      // From its order.created to its cancellation, by the database's clock: at least the deadline.
      const { rows } = await sys.db('order').query<{ seconds: number }>(
        `SELECT extract(epoch FROM max(created_at) FILTER (WHERE type = 'order.cancelled') - min(created_at) FILTER (WHERE type = 'order.created'))::float8 AS seconds
           FROM outbox WHERE order_id = $1`,
        [order.body.id],
      );
      expect(rows[0]!.seconds).toBeGreaterThanOrEqual(4);
    } finally {
      await sys.bringDatabaseBack('payment');
    }
  });
});

