/**
 * A publish the broker refuses at run time (a permission taken from a service's user): the order is
 * still taken, since it committed with its event in the outbox; nothing goes out, the outbox keeps
 * the event with the reason, the refusal is logged once rather than with every request, and the
 * event goes out once the permission is back. On a runtime of its own: its order service's user
 * loses a permission for a while.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localBrokerAccess } from '../../shared/config';
import { brokerAdmin } from '../../shared/messaging/broker-admin';
import { NOTHING, brokerUsers } from '../../functions/identities';
import { localPassword } from '../../local/identities/credentials';
import { startIsolatedSystem } from '../support/isolated-system';
import type { IsolatedSystem } from '../support/isolated-system';

let sys: IsolatedSystem;
beforeAll(async () => {
  sys = await startIsolatedSystem();
});
afterAll(() => sys?.stop());

/** The order service's broker user with its write permission as given (its own, or nothing). */
async function setOrderWrite(write: 'own' | 'none') {
  const user = brokerUsers(sys.namespace).find((u) => u.role === 'order')!;
  await brokerAdmin(localBrokerAccess()).putUsers([
    { name: user.name, password: localPassword('broker', user.name), tags: user.tags, permissions: { ...user.permissions, write: write === 'own' ? user.permissions.write : NOTHING } },
  ]);
}

describe('a publish the broker refuses', () => {
  it('keeps the events in the outbox with the reason, logs it once, and sends them once the broker lets it', async () => {
    const product = await sys.call('POST', '/products', { sku: `RF-${randomUUID().slice(0, 8)}`, name: 'Refused', priceCents: 300, stock: 5 });
    expect(product.status).toBe(201);
    await sys.until(async () => (await sys.db('order').query('SELECT 1 FROM catalog_products WHERE id = $1', [product.body.id])).rowCount, 'the catalog copy');

    // Taken before the order service first connects: its first publish meets the refusal (RabbitMQ
    // caches a channel's permission checks, so a live channel would not notice at once).
    await setOrderWrite('none');
    const orders: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await sys.call('POST', '/orders', { customerId: randomUUID(), items: [{ productId: product.body.id, quantity: 1 }], paymentToken: 'tok_visa' });
      expect(res.status).toBe(201); // stored with its event: the order is taken
      orders.push(res.body.id as string);
    }
    const pending = await sys.until(async () => {
      const { rows } = await sys.db('order').query<{ last_error: string | null }>(
        `SELECT p.last_error FROM outbox_pending p JOIN outbox o USING (seq) WHERE o.order_id = ANY($1::uuid[]) AND o.type = 'order.created'`,
        [orders],
      );
      return rows.length === 2 && rows.every((r) => r.last_error) && rows;
    }, 'both events kept in the outbox, with the reason');
    for (const row of pending) expect(row.last_error).toMatch(/^broker user eventflow-\w+-order lacks the write permission on exchange \w+\.order_exchange/);
    expect(await sys.db('inventory').query('SELECT 1 FROM reservations WHERE order_id = ANY($1::uuid[])', [orders])).toMatchObject({ rowCount: 0 });

    // Said once by the function that took the orders, not once per order.
    const said = readFileSync(sys.logFile, 'utf8').split('\n').filter((l) => l.includes('the broker refused to publish'));
    expect(said.filter((l) => l.includes('"order-api"'))).toHaveLength(1);
    expect(said[0]).toMatch(/lacks the write permission on exchange/);

    await setOrderWrite('own');
    for (const id of orders) {
      await sys.until(async () => ['CONFIRMED'].includes((await sys.call('GET', `/orders/${id}`)).body.status), `order ${id} to settle once its event went out`, 60_000);
    }
  });
});
