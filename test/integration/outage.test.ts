import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIsolatedSystem } from '../support/isolated-system';
import type { IsolatedSystem } from '../support/isolated-system';

/**
 * A database outage in the middle of the saga, on a runtime of its own (taking a database away
 * would disturb the other test files): the consumer waits for it (in place, or by redelivery),
 * nothing is parked, and once the database is back the order completes with its payment taken once.
 */
let sys: IsolatedSystem;
beforeAll(async () => {
  sys = await startIsolatedSystem();
}, 120_000);
afterAll(() => sys.stop());

describe('a database outage mid-saga', () => {
  it('holds the events until the database is back, then takes effect once', async () => {
    const product = await sys.call('POST', '/products', { sku: `OUT-${randomUUID().slice(0, 8)}`, name: 'Outage', priceCents: 700, stock: 3 });
    expect(product.status).toBe(201);
    await sys.until(async () => (await sys.db('order').query('SELECT 1 FROM catalog_products WHERE id = $1', [product.body.id])).rowCount, 'the catalog copy');

    await sys.takeDatabaseAway('payment');
    const order = await sys.call('POST', '/orders', { customerId: randomUUID(), items: [{ productId: product.body.id, quantity: 2 }], paymentToken: 'tok_visa' });
    expect(order.status).toBe(201);
    await sys.until(
      async () => (await sys.db('inventory').query(`SELECT 1 FROM reservations WHERE order_id = $1 AND status = 'ACTIVE'`, [order.body.id])).rowCount,
      'inventory, which is up, to reserve',
    );
    const health = await sys.call('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body.checks.postgres.payment.status).toBe('down');
    await new Promise((r) => setTimeout(r, 1_500)); // a few failed deliveries of the payment batch
    expect((await sys.call('GET', `/orders/${order.body.id}`)).body.status).toBe('PENDING');

    await sys.bringDatabaseBack('payment');
    const settled = await sys.until(async () => {
      const o = (await sys.call('GET', `/orders/${order.body.id}`)).body;
      return o.status !== 'PENDING' && o;
    }, 'the order to settle after the outage');
    expect(settled.status).toBe('CONFIRMED');
    expect((await sys.db('payment').query('SELECT status FROM payments WHERE order_id = $1', [order.body.id])).rows).toEqual([{ status: 'PROCESSED' }]);
    expect(await sys.dlqDepth('payment')).toBe(0); // redelivered, not parked
  });
});
