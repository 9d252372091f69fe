import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIsolatedSystem } from '../support/isolated-system';
import type { IsolatedSystem } from '../support/isolated-system';

/**
 * The payment database read-only (a replica after a failover, a database switched read-only for a
 * full disk) for longer than a consumer's usual in-place retries, on a runtime of its own: /health
 * names the read-only database, the payment batch waits in place instead of going back to its
 * queue (each return counts toward the delivery limit, past which good messages land in the DLQ),
 * and once the database takes writes the order settles, its payment taken once.
 */
let sys: IsolatedSystem;
beforeAll(async () => {
  sys = await startIsolatedSystem();
}, 120_000);
afterAll(() => sys.stop());

/** Lines of the runtime's log that match. */
const logged = (pattern: RegExp) => readFileSync(sys.logFile, 'utf8').split('\n').filter((l) => pattern.test(l));

describe('a read-only database', () => {
  it('is named by /health, and its consumer waits it out without returning the batch', async () => {
    const product = await sys.call('POST', '/products', { sku: `RO-${randomUUID().slice(0, 8)}`, name: 'Read-only', priceCents: 400, stock: 3 });
    expect(product.status).toBe(201);
    await sys.until(async () => (await sys.db('order').query('SELECT 1 FROM catalog_products WHERE id = $1', [product.body.id])).rowCount, 'the catalog copy');

    await sys.setReadOnly('payment', true);
    // Answers are cached for up to 5 s per environment: asked again until the read-only one shows.
    const health = await sys.until(async () => {
      const h = await sys.call('GET', '/health');
      return h.body.checks?.postgres?.payment?.status === 'down' && h;
    }, '/health to name the read-only database');
    expect(health.status).toBe(503);
    expect(health.body.status).toBe('down');
    expect(health.body.checks.postgres.payment.error).toMatch(/^read-only/);
    expect(health.body.checks.postgres.order).toEqual({ status: 'up' });

    const order = await sys.call('POST', '/orders', { customerId: randomUUID(), items: [{ productId: product.body.id, quantity: 1 }], paymentToken: 'tok_visa' });
    expect(order.status).toBe(201);
    await sys.until(async () => logged(/waiting in place rather than returning it/).some((l) => l.includes('25006') || l.includes('read-only')), 'the payment consumer to wait in place', 60_000);
    // Longer than the in-place retries a transient failure gets (10 s), after which the batch used to go back.
    await new Promise((r) => setTimeout(r, 15_000));
    expect((await sys.call('GET', `/orders/${order.body.id}`)).body.status).toBe('PENDING');

    await sys.setReadOnly('payment', false);
    const settled = await sys.until(async () => {
      const o = (await sys.call('GET', `/orders/${order.body.id}`)).body;
      return o.status !== 'PENDING' && o;
    }, 'the order to settle once the database takes writes', 60_000);
    expect(settled.status).toBe('CONFIRMED');
    expect((await sys.db('payment').query('SELECT status FROM payments WHERE order_id = $1', [order.body.id])).rows).toEqual([{ status: 'PROCESSED' }]);
    // Never returned to its queue, so nothing counted toward its delivery limit; nothing parked.
    expect(logged(/payment-consumer .*failed and is requeued/)).toEqual([]);
    expect(await sys.dlqDepth('payment')).toBe(0);
    await sys.until(async () => (await sys.call('GET', '/health')).body.status === 'ok', '/health to say ok again');
  }, 240_000);
});
