import { afterAll, describe, expect, it } from 'vitest';
import { closeTestClients, createProduct, db, expectSettled, placeOrder, product, waitForStatus } from '../support/system';

afterAll(closeTestClients);

describe('concurrent orders for scarce stock', () => {
  it('never reserves more than there is: 50 orders for 10 units', async () => {
    const p = await createProduct({ stock: 10 });
    const responses = await Promise.all(Array.from({ length: 50 }, () => placeOrder([{ productId: p.id, quantity: 1 }])));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(201));

    const orders = await Promise.all(responses.map((r) => waitForStatus(r.body.id, ['CONFIRMED', 'FAILED'], 30_000)));
    const confirmed = orders.filter((o) => o.status === 'CONFIRMED');
    expect(confirmed).toHaveLength(10);
    expect(orders.filter((o) => o.status === 'FAILED')).toHaveLength(40);
    for (const o of orders) await expectSettled(o.id);

    expect(await product(p.id)).toMatchObject({ stock: 10, reserved: 10, available: 0 });
    const { rows } = await db('inventory').query(
      `SELECT COALESCE(SUM((item->>'quantity')::int), 0)::int AS units
         FROM reservations, jsonb_array_elements(items) AS item
        WHERE status = 'ACTIVE' AND item->>'productId' = $1`,
      [p.id],
    );
    expect(rows[0].units).toBe(10);
  });
});
