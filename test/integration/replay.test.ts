import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, closeTestClients, createProduct, db, partitionsOf, placeOrder, rabbit, waitFor, waitForStatus } from '../support/system';

/**
 * Replays of a service's log to one queue, through the operator API and the replay worker of the
 * suite's runtime: into a running consumer they change nothing (every consumer deduplicates by event
 * id); into a consumer whose database went back to an earlier snapshot they bring it up to date.
 */
afterAll(closeTestClients);

const started = new Date(Date.now() - 1_000).toISOString();
let product: { id: string };
const orders: string[] = [];

async function replay(body: Record<string, unknown>) {
  const res = await api('POST', '/history/replays', { from: started, to: new Date(Date.now() + 60_000).toISOString(), ratePerSecond: 500, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const id = res.body.run.id as string;
  const run = await waitFor(
    async () => {
      const r = (await api('GET', '/history/replays')).body.replays.find((x: { id: string }) => x.id === id);
      return r && (r.status === 'done' || r.status === 'failed') ? r : null;
    },
    'the replay to finish',
    60_000,
  );
  expect(run.status, run.error).toBe('done');
  return run;
}

/** Waits until every partition of a queue is empty and a little more (the batch in flight). */
async function drained(queue: 'payment' | 'inventory') {
  const { channel } = await rabbit();
  await waitFor(async () => {
    for (const q of partitionsOf(queue)) if ((await channel.checkQueue(q)).messageCount > 0) return false;
    return true;
  }, `${queue}_queue to drain`, 30_000);
  await new Promise((r) => setTimeout(r, 1_500));
}

async function inventoryState() {
  const p = (await db('inventory').query('SELECT stock, reserved FROM products WHERE id = $1', [product.id])).rows[0];
  const r = (await db('inventory').query('SELECT order_id, status, items FROM reservations WHERE order_id = ANY($1::uuid[]) ORDER BY order_id', [orders])).rows;
  return { product: p, reservations: r };
}

async function paymentState() {
  const payments = (await db('payment').query('SELECT order_id, status, amount_cents FROM payments WHERE order_id = ANY($1::uuid[]) ORDER BY order_id', [orders])).rows;
  const { rows } = await db('payment').query(
    'SELECT count(*)::int AS n FROM gateway.operations g JOIN payments p ON g.idempotency_key LIKE p.id::text || \'%\' WHERE p.order_id = ANY($1::uuid[])',
    [orders],
  );
  return { payments, gatewayOperations: rows[0].n };
}

beforeAll(async () => {
  product = await createProduct({ stock: 500 });
  for (let i = 0; i < 8; i++) {
    const res = await placeOrder([{ productId: product.id, quantity: 2 }], i % 4 === 3 ? 'tok_chargeDeclined' : 'tok_visa');
    orders.push(res.body.id);
  }
  for (const id of orders) await waitForStatus(id);
});

describe('replaying a log to one queue', () => {
  it('into running consumers changes nothing: no new charge, reservation or stock move', async () => {
    const before = { inventory: await inventoryState(), payment: await paymentState() };
    const inboxOf = async (service: 'payment' | 'inventory') =>
      (await db(service).query('SELECT count(*)::int AS n FROM inbox WHERE order_id = ANY($1::uuid[])', [orders])).rows[0].n as number;
    const inboxBefore = { payment: await inboxOf('payment'), inventory: await inboxOf('inventory') };
    const toPayment = await replay({ service: 'order', queue: 'payment_queue' });
    const toInventory = await replay({ service: 'order', queue: 'inventory_queue' });
    expect(toPayment.result.published).toBeGreaterThanOrEqual(orders.length);
    expect(toPayment.result.queues.every((q: string) => q.includes('payment_queue'))).toBe(true);
    expect(toInventory.result.published).toBeGreaterThanOrEqual(orders.length);
    await drained('payment');
    await drained('inventory');
    expect(await inventoryState()).toEqual(before.inventory);
    expect(await paymentState()).toEqual(before.payment);
    // Every replayed event was a duplicate: neither inbox took any of them in.
    expect(inboxBefore.payment).toBeGreaterThan(0);
    expect({ payment: await inboxOf('payment'), inventory: await inboxOf('inventory') }).toEqual(inboxBefore);
  });

  it('brings a consumer whose database went back to an earlier snapshot up to date', async () => {
    const current = await inventoryState();
    // Inventory's state and inbox as a backup from before these orders would have them.
    await db('inventory').query('DELETE FROM inbox WHERE order_id = ANY($1::uuid[])', [orders]);
    await db('inventory').query('DELETE FROM reservations WHERE order_id = ANY($1::uuid[])', [orders]);
    await db('inventory').query('UPDATE products SET stock = 500, reserved = 0 WHERE id = $1', [product.id]);
    expect(await inventoryState()).not.toEqual(current);
    // In causal order: what the orders asked for, then what payment answered.
    await replay({ service: 'order', queue: 'inventory_queue' });
    await drained('inventory');
    await replay({ service: 'payment', queue: 'inventory_queue' });
    await drained('inventory');
    // Stock and every reservation's outcome as before. A declined order's RELEASED reservation may
    // now list what it released: first time round the decline arrived before the order (the saga
    // runs both in parallel) and left a tombstone; the replay brings the order's log first.
    const after = await inventoryState();
    expect(after.product).toEqual(current.product);
    expect(after.reservations.map((r) => [r.order_id, r.status])).toEqual(current.reservations.map((r) => [r.order_id, r.status]));
    for (const [i, r] of after.reservations.entries()) if (r.status !== 'RELEASED') expect(r.items).toEqual(current.reservations[i].items);
  });

  it('refuses a replay the target queue cannot receive, and bad input', async () => {
    const none = await api('POST', '/history/replays', { service: 'payment', from: started, to: new Date().toISOString(), queue: 'payment_queue' });
    expect(none.status).toBe(422);
    const bad = await api('POST', '/history/replays', { service: 'order', from: 'yesterday', to: new Date().toISOString(), queue: 'payment_queue' });
    expect(bad.status).toBe(400);
  });
});
