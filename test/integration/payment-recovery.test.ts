import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentIdFor } from '../../functions/payment/domain/gateway';
import { startIsolatedSystem } from '../support/isolated-system';
import type { IsolatedSystem } from '../support/isolated-system';

/**
 * No money moves without a record, whatever the payment database does around a charge: on a
 * runtime of its own, a trigger makes PostgreSQL refuse payment writes with "disk full" (53100, a
 * temporary condition) at the worst moments, then lets them through again.
 */
let sys: IsolatedSystem;
beforeAll(async () => {
  sys = await startIsolatedSystem({ SCHEDULE_SECONDS: '1', PAYMENT_SETTLE_AFTER_SECONDS: '2' });
}, 120_000);
afterAll(() => sys.stop());

/** Makes the payment database refuse `op` on payments (as a full disk would) until healed. */
async function breakPayments(op: 'INSERT' | 'UPDATE') {
  await sys.db('payment').query(`
    CREATE OR REPLACE FUNCTION refuse_payment_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100'; END $$;
    DROP TRIGGER IF EXISTS refuse_payment_write ON payments;
    CREATE TRIGGER refuse_payment_write BEFORE ${op} ON payments FOR EACH ROW EXECUTE FUNCTION refuse_payment_write();`);
}
const heal = () => sys.db('payment').query('DROP TRIGGER IF EXISTS refuse_payment_write ON payments');

async function gatewayOperations(orderId: string) {
  const { rows } = await sys.db('payment').query(
    `SELECT kind, succeeded FROM gateway.operations WHERE idempotency_key IN ($1, 'refund:' || $1) ORDER BY kind`,
    [paymentIdFor(orderId)],
  );
  return rows as { kind: string; succeeded: boolean }[];
}
const paymentOf = async (orderId: string) =>
  (await sys.db('payment').query('SELECT status FROM payments WHERE order_id = $1', [orderId])).rows[0]?.status as string | undefined;

async function product(stock = 10) {
  const p = await sys.call('POST', '/products', { sku: `PR-${randomUUID().slice(0, 8)}`, name: 'Recovery', priceCents: 1200, stock });
  await sys.until(async () => (await sys.db('order').query('SELECT 1 FROM catalog_products WHERE id = $1', [p.body.id])).rowCount, 'the catalog copy');
  return p.body.id as string;
}
const order = async (productId: string) =>
  (await sys.call('POST', '/orders', { customerId: randomUUID(), items: [{ productId, quantity: 1 }], paymentToken: 'tok_visa' })).body.id as string;

describe('payments when the payment database refuses writes', () => {
  afterAll(heal);

  it('charges nothing while the intent cannot be recorded, then charges once', async () => {
    const p = await product();
    await breakPayments('INSERT');
    const id = await order(p);
    await sys.until(async () => (await sys.db('inventory').query(`SELECT 1 FROM reservations WHERE order_id = $1`, [id])).rowCount, 'inventory to reserve');
    await new Promise((r) => setTimeout(r, 1_500)); // the payment batch fails and is retried meanwhile
    expect(await gatewayOperations(id)).toEqual([]);
    await heal();
    await sys.until(async () => (await paymentOf(id)) === 'PROCESSED', 'the payment once the database takes writes again');
    expect(await gatewayOperations(id)).toEqual([{ kind: 'charge', succeeded: true }]);
    expect(await sys.dlqDepth('payment')).toBe(0); // "disk full" is temporary: redelivered, never parked
  });

  it('records a charge the gateway took while its outcome could not be written, and never charges twice', async () => {
    const p = await product();
    await breakPayments('UPDATE');
    const id = await order(p);
    // The intent is on record, the gateway has charged, the outcome cannot be written.
    await sys.until(async () => (await paymentOf(id)) === 'CHARGING' && (await gatewayOperations(id)).length === 1, 'the charge to be taken');
    await new Promise((r) => setTimeout(r, 3_000)); // retries, and the reconciler, meet the same refusal
    expect(await paymentOf(id)).toBe('CHARGING');
    await heal();
    await sys.until(async () => (await paymentOf(id)) === 'PROCESSED', 'the outcome to be recorded');
    await sys.until(async () => (await sys.call('GET', `/orders/${id}`)).body.status === 'CONFIRMED', 'the order to be confirmed');
    expect(await gatewayOperations(id)).toEqual([{ kind: 'charge', succeeded: true }]);
  });

  it('refunds a charge whose order was cancelled while its outcome was unknown', async () => {
    const p = await product();
    await breakPayments('UPDATE');
    const id = await order(p);
    await sys.until(async () => (await gatewayOperations(id)).length === 1, 'the charge to be taken');
    const cancel = await sys.call('DELETE', `/orders/${id}`);
    expect(cancel.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_000));
    await heal();
    await sys.until(async () => (await paymentOf(id)) === 'REFUNDED', 'the charge to be refunded');
    expect(await gatewayOperations(id)).toEqual([
      { kind: 'charge', succeeded: true },
      { kind: 'refund', succeeded: true },
    ]);
  });
});
