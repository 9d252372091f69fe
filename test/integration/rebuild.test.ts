import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, api, as, closeTestClients, createProduct, db, placeOrder, waitFor, waitForStatus } from '../support/system';

/**
 * Projections rebuilt from the event logs through the operator API and the order service's history
 * worker (every 2 s in the suite's runtime), against the suite's real PostgreSQL: a projection
 * damaged by hand is found out and made whole, an intact one compares equal, and a rebuild racing
 * live orders loses none of them.
 */
afterAll(closeTestClients);

async function runToEnd(projection: string, mode: 'rebuild' | 'check') {
  const res = await api('POST', `/history/projections/${projection}/rebuild`, { mode });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const id = res.body.run.id as string;
  return waitFor(
    async () => {
      const list = await api('GET', '/history/projections');
      const p = list.body.projections.find((x: { name: string }) => x.name === projection);
      return p.last?.id === id ? p.last : null;
    },
    `the ${mode} of ${projection} to finish`,
    60_000,
  );
}

let products: { id: string; priceCents: number }[];
const orderIds: string[] = [];

beforeAll(async () => {
  products = [await createProduct({ stock: 1_000, priceCents: 1_250 }), await createProduct({ stock: 1_000, priceCents: 990 })];
  for (let i = 0; i < 12; i++) {
    const res = await placeOrder([{ productId: products[i % 2]!.id, quantity: 1 + (i % 3) }], i % 4 === 3 ? 'tok_chargeDeclined' : 'tok_visa');
    expect(res.status).toBe(201);
    orderIds.push(res.body.id);
  }
  for (const id of orderIds) await waitForStatus(id);
  await api('DELETE', `/orders/${orderIds[0]}`);
});

describe('rebuilding the orders table from the order log', () => {
  it('finds an intact table equal to the log (row counts, checksums, no difference)', async () => {
    const run = await runToEnd('orders', 'check');
    expect(run.status).toBe('done');
    expect(run.result).toMatchObject({ equal: true, differences: 0, swapped: false });
    const [orders, items] = run.result.tables;
    expect(orders.liveRows).toBe(orders.rebuiltRows);
    expect(orders.liveChecksum).toBe(orders.rebuiltChecksum);
    expect(items.liveChecksum).toBe(items.rebuiltChecksum);
    expect(orders.liveRows).toBeGreaterThanOrEqual(orderIds.length);
  });

  it('lists every difference of a damaged table, makes it whole again, and a check then finds it equal', async () => {
    const [gone, changed] = [orderIds[1]!, orderIds[2]!];
    const before = (await db('order').query('SELECT * FROM orders WHERE id = $1', [gone])).rows[0];
    const bogus = randomUUID();
    await db('order').query('DELETE FROM order_items WHERE order_id = $1', [gone]);
    await db('order').query('DELETE FROM orders WHERE id = $1', [gone]);
    await db('order').query(`UPDATE orders SET status = 'SHIPPED', total_cents = 1 WHERE id = $1`, [changed]);
    await db('order').query(`INSERT INTO orders (id, customer_id, status, total_cents, currency, payment_token) VALUES ($1, $1, 'CONFIRMED', 5, 'USD', 'tok_visa')`, [bogus]);

    const checked = await runToEnd('orders', 'check');
    const listed = checked.result.tables[0].listed.map((d: { key: string; kind: string }) => `${d.kind} ${d.key}`);
    expect(listed).toEqual(expect.arrayContaining([`missing ${gone}`, `different ${changed}`, `extra ${bogus}`]));
    expect(checked.result.tables[1].listed.filter((d: { key: string }) => d.key.startsWith(gone)).map((d: { kind: string }) => d.kind)).toContain('missing');
    // A check changes nothing.
    expect((await db('order').query('SELECT 1 FROM orders WHERE id = $1', [gone])).rowCount).toBe(0);

    const rebuilt = await runToEnd('orders', 'rebuild');
    expect(rebuilt.result).toMatchObject({ equal: false, swapped: true });
    const back = (await db('order').query('SELECT * FROM orders WHERE id = $1', [gone])).rows[0];
    expect(back).toEqual(before);
    expect((await db('order').query('SELECT 1 FROM order_items WHERE order_id = $1', [gone])).rowCount).toBeGreaterThan(0);
    expect((await db('order').query('SELECT 1 FROM orders WHERE id = $1', [bogus])).rowCount).toBe(0);
    expect((await api('GET', `/orders/${changed}`)).body.status).not.toBe('SHIPPED');
    expect((await runToEnd('orders', 'check')).result).toMatchObject({ equal: true, differences: 0 });
  });

  it('refuses a second run of a projection while one is active', async () => {
    const first = await api('POST', '/history/projections/orders/rebuild', { mode: 'check' });
    const second = await api('POST', '/history/projections/orders/rebuild', { mode: 'rebuild' });
    expect(first.status).toBe(202);
    expect(second.status).toBe(409);
    expect(second.headers.get('content-type')).toContain('application/problem+json');
    expect(second.body.detail).toMatch(/another run of orders/);
    await waitFor(async () => (await api('GET', '/history/projections')).body.projections.find((p: { name: string }) => p.name === 'orders').active === null, 'the check to end', 60_000);
  });

  it('loses no order placed while a rebuild runs', async () => {
    const placing = (async () => {
      const ids: string[] = [];
      for (let i = 0; i < 15; i++) ids.push((await placeOrder([{ productId: products[0]!.id, quantity: 1 }])).body.id);
      return ids;
    })();
    const run = await runToEnd('orders', 'rebuild');
    const racing = await placing;
    expect(run.status).toBe('done');
    for (const id of racing) await waitForStatus(id);
    for (const id of racing) expect((await db('order').query('SELECT 1 FROM orders WHERE id = $1', [id])).rowCount).toBe(1);
    expect((await runToEnd('orders', 'check')).result).toMatchObject({ equal: true, differences: 0 });
  });

  it('resumes a run whose worker died (its lease ran out)', async () => {
    const id = randomUUID();
    await db('order').query(
      `INSERT INTO history_runs (id, kind, subject, status, worker, lease_until, started_at) VALUES ($1, 'check', 'orders', 'running', gen_random_uuid(), now() - interval '1 second', now())`,
      [id],
    );
    const done = await waitFor(async () => {
      const r = (await db('order').query('SELECT status, result FROM history_runs WHERE id = $1', [id])).rows[0];
      return r.status === 'done' ? r : null;
    }, 'the worker to take the run over', 60_000);
    expect(done.result).toMatchObject({ equal: true });
  });
});

describe('rebuilding the catalog copy from the inventory log', () => {
  it('restores a product the copy lost and a price it got wrong', async () => {
    const [lost, wrong] = products;
    await db('order').query('DELETE FROM catalog_products WHERE id = $1', [lost!.id]);
    await db('order').query('UPDATE catalog_products SET price_cents = 1 WHERE id = $1', [wrong!.id]);
    const run = await runToEnd('catalog', 'rebuild');
    expect(run.result.tables[0].listed.map((d: { key: string; kind: string }) => `${d.kind} ${d.key}`)).toEqual(expect.arrayContaining([`missing ${lost!.id}`, `different ${wrong!.id}`]));
    const { rows } = await db('order').query('SELECT id, price_cents FROM catalog_products WHERE id = ANY($1::uuid[]) ORDER BY price_cents', [[lost!.id, wrong!.id]]);
    expect(rows.map((r) => r.price_cents).sort()).toEqual([lost!.priceCents, wrong!.priceCents].sort());
    expect((await runToEnd('catalog', 'check')).result).toMatchObject({ equal: true });
  });
});

describe("the overview's figures", () => {
  it('computed from the log alone agree with GET /stats/orders, and only a check is offered', async () => {
    const run = await runToEnd('overview', 'check');
    expect(run.result).toMatchObject({ equal: true, differences: 0 });
    const refused = await api('POST', '/history/projections/overview/rebuild', { mode: 'rebuild' });
    expect(refused.status).toBe(422);
  });

  it('is for operators only', async () => {
    expect((await api('POST', '/history/projections/orders/rebuild', {}, await as(ALICE))).status).toBe(403);
  });
});
