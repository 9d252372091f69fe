import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIsolatedSystem } from '../support/isolated-system';
import type { IsolatedSystem } from '../support/isolated-system';

/**
 * The saga's deadline, on a runtime of its own with a 2 s deadline swept every second: an order
 * whose payment cannot happen (its database is away) is cancelled with the reason, its stock is
 * released at once, and the charge that goes through once the database is back is refunded.
 */
let sys: IsolatedSystem;
beforeAll(async () => {
  sys = await startIsolatedSystem({ ORDER_DEADLINE_SECONDS: '2', SCHEDULE_SECONDS: '1' });
}, 120_000);
afterAll(() => sys.stop());

describe('an order that cannot complete', () => {
  it('is cancelled at its deadline and everything it took is given back', async () => {
    const product = await sys.call('POST', '/products', { sku: `DL-${randomUUID().slice(0, 8)}`, name: 'Deadline', priceCents: 900, stock: 5 });
    await sys.until(async () => (await sys.db('order').query('SELECT 1 FROM catalog_products WHERE id = $1', [product.body.id])).rowCount, 'the catalog copy');

    await sys.takeDatabaseAway('payment');
    const order = await sys.call('POST', '/orders', { customerId: randomUUID(), items: [{ productId: product.body.id, quantity: 3 }], paymentToken: 'tok_visa' });
    expect(order.status).toBe(201);

    const cancelled = await sys.until(async () => {
      const o = (await sys.call('GET', `/orders/${order.body.id}`)).body;
      return o.status === 'CANCELLED' && o;
    }, 'the deadline to cancel the order');
    expect(cancelled.failureReason).toBe('timed out: no payment within 2 s');
    await sys.until(async () => (await sys.call('GET', `/products/${product.body.id}`)).body.reserved === 0, 'the stock to be released');

    await sys.bringDatabaseBack('payment');
    // The payment service now sees order.created, then order.cancelled: charged, then refunded.
    await sys.until(
      async () => (await sys.db('payment').query(`SELECT 1 FROM payments WHERE order_id = $1 AND status = 'REFUNDED'`, [order.body.id])).rowCount,
      'the late charge to be refunded',
    );
    const timeline = (await sys.call('GET', `/orders/${order.body.id}/events`)).body.items as { type: string; correlationId: string }[];
    expect(timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['order.created', 'inventory.reserved', 'order.cancelled', 'inventory.released']));
    expect(new Set(timeline.map((e) => e.correlationId)).size).toBe(1);
    expect((await sys.call('GET', `/orders/${order.body.id}`)).body.status).toBe('CANCELLED');
  });
});
