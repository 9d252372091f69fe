import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from '../../shared/events/envelope';
import { startIsolatedSystem } from '../support/isolated-system';
import type { IsolatedSystem } from '../support/isolated-system';

/**
 * Service queues split into four partitions each, on a runtime of its own: every order settles,
 * the operators' view shows each partition consumed, and a dead letter goes back to its partition.
 */
let sys: IsolatedSystem;
beforeAll(async () => {
  sys = await startIsolatedSystem({ PARTITIONS: '4' });
}, 120_000);
afterAll(() => sys.stop());

describe('partitioned queues', () => {
  it('settle every order, each order in one partition, every partition consumed', async () => {
    const queues = await sys.call('GET', '/queues');
    for (const name of ['order_queue', 'payment_queue', 'inventory_queue']) {
      const q = queues.body.queues.find((x: { name: string }) => x.name === name);
      expect(q.partitions.map((p: { name: string }) => p.name)).toEqual([0, 1, 2, 3].map((i) => `${name}.p${i}`));
      for (const p of q.partitions) expect(p.consumers).toBe(1);
    }

    const product = await sys.call('POST', '/products', { sku: `PT-${randomUUID().slice(0, 8)}`, name: 'Partitioned', priceCents: 500, stock: 10 });
    await sys.until(async () => (await sys.db('order').query('SELECT 1 FROM catalog_products WHERE id = $1', [product.body.id])).rowCount, 'the catalog copy');
    const orders = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        sys.call('POST', '/orders', { customerId: randomUUID(), items: [{ productId: product.body.id, quantity: 1 }], paymentToken: i % 4 === 3 ? 'tok_chargeDeclined' : 'tok_visa' }),
      ),
    );
    const ids = orders.map((o) => o.body.id as string);
    await sys.until(async () => {
      const { rows } = await sys.db('order').query(`SELECT count(*)::int AS n FROM orders WHERE id = ANY($1) AND status IN ('CONFIRMED', 'FAILED')`, [ids]);
      return rows[0].n === ids.length;
    }, 'every order to settle');
    // Ten units, twelve good cards: ten confirmed, the rest failed, nothing oversold, nothing left reserved by a failure.
    const { rows } = await sys.db('order').query(`SELECT status, count(*)::int AS n FROM orders WHERE id = ANY($1) GROUP BY status ORDER BY status`, [ids]);
    const confirmed = rows.find((r) => r.status === 'CONFIRMED')?.n ?? 0;
    expect(confirmed).toBeLessThanOrEqual(10);
    await sys.until(async () => (await sys.call('GET', `/products/${product.body.id}`)).body.reserved === confirmed, 'the stock of failed orders to be released');
  });

  it('redrives a dead letter to the partition of its order, where it takes effect', async () => {
    const product = await sys.call('POST', '/products', { sku: `PR-${randomUUID().slice(0, 8)}`, name: 'Redriven', priceCents: 500, stock: 5 });
    const orderId = randomUUID();
    const created = createEvent(
      'order.created',
      {
        orderId,
        orderVersion: 1,
        customerId: randomUUID(),
        items: [{ productId: product.body.id, name: 'Redriven', quantity: 2, unitPriceCents: 500, lineTotalCents: 1000 }],
        totalCents: 1000,
        currency: 'USD',
        paymentToken: 'tok_visa',
      },
      { correlationId: 'partition-redrive', causationId: null },
    );
    // As the inventory consumer parks an order service's event it could not apply then.
    await sys.park('inventory', JSON.stringify(created), { 'x-eventflow-reason': 'processing failed: the database was away' }, 'order');
    const redriven = await sys.call('POST', '/queues/inventory_queue/redrive');
    expect(redriven.body).toMatchObject({ moved: 1 });
    await sys.until(
      async () => (await sys.db('inventory').query(`SELECT 1 FROM reservations WHERE order_id = $1 AND status = 'ACTIVE'`, [orderId])).rowCount,
      'the redriven event to reserve stock',
    );
  });
});
