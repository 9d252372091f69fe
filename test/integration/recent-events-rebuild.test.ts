import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationKeys } from '../../functions/notification/redis-keys';
import { getRedis, closeRedis } from '../../shared/redis';
import { api, closeTestClients, createProduct, placeOrder, system, waitFor, waitForStatus } from '../support/system';

/**
 * The notification service's recent-event log in the suite's real Redis, rebuilt from the three
 * services' event logs by the notification-history worker (every 2 s here).
 */
let keys: ReturnType<typeof notificationKeys>;
let product: { id: string };

beforeAll(async () => {
  process.env.EVENTFLOW_NAMESPACE = system().namespace;
  keys = notificationKeys(system().namespace);
  product = await createProduct({ stock: 100 });
});
afterAll(async () => {
  await closeRedis();
  await closeTestClients();
});

const streamIds = async () => (await (await getRedis()).xrange(keys.recentEvents, '-', '+')).map(([, f]) => f[f.indexOf('id') + 1]!);

async function runToEnd(mode: 'rebuild' | 'check') {
  const res = await api('POST', '/history/projections/recent-events/rebuild', { mode });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const id = res.body.run.id as string;
  return waitFor(async () => {
    const p = (await api('GET', '/history/projections')).body.projections.find((x: { name: string }) => x.name === 'recent-events');
    return p.last?.id === id ? p.last : null;
  }, `the ${mode} of recent-events`, 60_000);
}

async function orderEventIds(orderId: string) {
  return ((await api('GET', `/orders/${orderId}/events`)).body.items as { id: string }[]).map((e) => e.id);
}

describe('rebuilding the recent-event log', () => {
  it('finds lost and foreign entries, restores them and the order owners, and a check then finds the log equal', async () => {
    const orderId = (await placeOrder([{ productId: product.id, quantity: 1 }])).body.id;
    await waitForStatus(orderId);
    const ids = await orderEventIds(orderId);
    await waitFor(async () => (await streamIds()).filter((id) => ids.includes(id)).length === ids.length, 'the order in the log', 15_000);
    const redis = await getRedis();
    const entries = await redis.xrange(keys.recentEvents, '-', '+');
    const mine = entries.filter(([, f]) => ids.includes(f[f.indexOf('id') + 1]!)).map(([sid]) => sid);
    await redis.xdel(keys.recentEvents, ...mine);
    await redis.del(keys.orderOwner(orderId));
    // Forged among the order's own events (no log holds it).
    const bogus = { id: '00000000-0000-4000-8000-000000000000', type: 'order.updated', occurredAt: new Date(Date.now() - 1_000).toISOString(), data: {} };
    await redis.xadd(keys.recentEvents, '*', 'id', bogus.id, 'event', JSON.stringify(bogus));
    // A check leaves the last 15 s (events still on their way to the consumer): let these age past it.
    await new Promise((r) => setTimeout(r, 15_500));

    const checked = await runToEnd('check');
    const listed = checked.result.listed.map((d: { figure: string }) => d.figure);
    for (const id of ids) expect(listed).toContain(`missing ${id}`);
    expect(listed).toContain(`extra ${bogus.id}`);
    expect((await streamIds()).includes(ids[0]!)).toBe(false);

    const rebuilt = await runToEnd('rebuild');
    expect(rebuilt.result).toMatchObject({ swapped: true });
    const after = await streamIds();
    for (const id of ids) expect(after).toContain(id);
    expect(after).not.toContain(bogus.id);
    expect(await redis.get(keys.orderOwner(orderId))).toBeTruthy();
    expect((await runToEnd('check')).result).toMatchObject({ equal: true, differences: 0 });
  });

  it('brings back a log that is gone altogether, and loses no event published while it runs', async () => {
    const redis = await getRedis();
    await redis.del(keys.recentEvents);
    const placing = (async () => {
      const out: string[] = [];
      for (let i = 0; i < 6; i++) out.push((await placeOrder([{ productId: product.id, quantity: 1 }])).body.id);
      return out;
    })();
    const run = await runToEnd('rebuild');
    expect(run.status).toBe('done');
    const racing = await placing;
    for (const id of racing) await waitForStatus(id);
    await waitFor(async () => {
      const inLog = await streamIds();
      for (const orderId of racing) for (const id of await orderEventIds(orderId)) if (!inLog.includes(id)) return false;
      return true;
    }, 'every event of the orders placed during the rebuild in the log', 20_000);
  });
});
