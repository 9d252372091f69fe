import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ChannelModel } from 'amqplib';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS, brokerName, databaseName, withDatabase } from '../../shared/config';
import { createEvent } from '../../shared/events/envelope';
import { connectAmqp } from '../../shared/messaging/broker';
import { bucketOf, partitionOfBucket, routingKeyOf } from '../../shared/messaging/routing';
import { EXCHANGES, dlqOf } from '../../shared/messaging/topology';
import { brokerUserOf } from '../../functions/identities';
import { declareTopology, deleteTopology, partitionQueues } from '../../functions/topology';
import type { PartitionLayout } from '../../functions/topology';
import { brokerUrlOf } from '../../local/identities/urls';
import { provisionBrokerUsers } from '../../local/identities/provision';
import { resolveConfig } from '../../shared/config';
import { OPERATOR, bearer, tokenFor } from '../support/auth';
import { dropNamespace, freshNamespace, startRuntimeProcess } from '../support/runtime-process';
import { waitFor } from '../support/wait';

/**
 * Upgrades over an earlier topology with messages waiting in it: the earlier release's unpartitioned
 * queues, and partition counts that change. Nothing is dropped, each message ends in the partition
 * that owns its order, the old queues go, and the runtime processes every waiting event once.
 */
const RABBITMQ_URL = process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** An order.created as the order service publishes it. */
function orderCreated(orderId: string, productId: string = randomUUID()) {
  return createEvent(
    'order.created',
    {
      orderId,
      orderVersion: 1,
      customerId: randomUUID(),
      items: [{ productId, name: 'Upgraded', quantity: 2, unitPriceCents: 500, lineTotalCents: 1000 }],
      totalCents: 1000,
      currency: 'USD',
      paymentToken: 'tok_visa',
    },
    { correlationId: 'upgrade', causationId: null },
  );
}

const layoutOf = (n: number): PartitionLayout => ({ order: n, payment: n, inventory: n, notification: 1 });

async function queueDepth(connection: ChannelModel, queue: string): Promise<number | null> {
  const ch = await connection.createChannel();
  ch.on('error', () => undefined);
  try {
    return (await ch.checkQueue(queue)).messageCount;
  } catch {
    return null;
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/** Every message waiting in a queue, taken off it (no consumers run in these tests). */
async function takeAll(connection: ChannelModel, queue: string): Promise<string[]> {
  const ch = await connection.createChannel();
  const keys: string[] = [];
  for (let m = await ch.get(queue); m; m = await ch.get(queue)) {
    keys.push(m.properties.messageId as string);
    ch.ack(m);
  }
  await ch.close();
  return keys;
}

describe('topology upgrade', () => {
  it('moves waiting messages to the partitions that own them through 1 → 2 → 4 → 2 partitions, then deletes the old queues', async () => {
    const namespace = freshNamespace('upg');
    const config = await resolveConfig({ ...process.env, EVENTFLOW_NAMESPACE: namespace });
    await provisionBrokerUsers(config);
    const admin = await connectAmqp(RABBITMQ_URL);
    const mover = await connectAmqp(brokerUrlOf(config, 'operator'));
    const publisher = await connectAmqp(brokerUrlOf(config, 'order'));
    cleanups.push(async () => {
      await deleteTopology(admin, namespace);
      await Promise.all([admin.close(), mover.close(), publisher.close()]);
      await dropNamespace(namespace);
    });
    const channel = await publisher.createConfirmChannel();
    const keys = new Map<string, string>(); // messageId → partition key
    const publish = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const orderId = randomUUID();
        const event = orderCreated(orderId);
        keys.set(event.id, orderId);
        channel.publish(brokerName(EXCHANGES.order, namespace), routingKeyOf(event), Buffer.from(JSON.stringify(event)), {
          persistent: true,
          messageId: event.id,
          userId: brokerUserOf('order', namespace),
        });
      }
      await channel.waitForConfirms();
    };

    // The earlier release: one queue per service, bound (as it bound them) to the bare event type too.
    await declareTopology(admin, namespace, layoutOf(1), undefined, mover);
    const payment = brokerName('payment_queue', namespace);
    const legacy = await admin.createChannel();
    await legacy.bindQueue(payment, brokerName(EXCHANGES.order, namespace), 'order.created');
    await legacy.close();
    await publish(40);
    expect(await queueDepth(admin, payment)).toBe(40);

    for (const n of [2, 4, 2]) {
      const upgraded = await declareTopology(admin, namespace, layoutOf(n), undefined, mover);
      expect(upgraded.stranded).toEqual([]);
      await publish(8); // routed by the new bindings only
      const partitions = partitionQueues('payment', namespace, layoutOf(n));
      // Every message once, in the partition of its order; the old queues gone.
      const seen: string[] = [];
      for (const [index, queue] of partitions.entries()) {
        const ids = await takeAll(admin, queue);
        for (const id of ids) expect(partitionOfBucket(bucketOf(keys.get(id)!), n), `${id} in ${queue}`).toBe(index);
        seen.push(...ids);
      }
      expect(seen.sort()).toEqual([...keys.keys()].sort());
      for (const old of partitionQueues('payment', namespace, layoutOf(n === 4 ? 2 : 1)).filter((q) => !partitions.includes(q))) {
        expect(await queueDepth(admin, old), old).toBeNull();
      }
      if (n === 2) expect(await queueDepth(admin, payment)).toBeNull();
      expect(await queueDepth(admin, dlqOf(payment))).toBe(0);
      // Put them back for the next step, where the layout changes again.
      keys.clear();
      await publish(40);
    }
  }, 180_000);

  it("processes once every event waiting in the earlier release's unpartitioned queues", async () => {
    const namespace = freshNamespace('upr');
    cleanups.push(() => dropNamespace(namespace));
    // The earlier release's layout (one queue per service, the earlier names), with a product.
    const before = await startRuntimeProcess({ namespace, env: { PARTITIONS: '1' } });
    const token = bearer(await tokenFor(before.system.issuerUrl, OPERATOR));
    const res = await fetch(`${before.system.httpUrl}/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...token },
      body: JSON.stringify({ sku: `UP-${randomUUID().slice(0, 8)}`, name: 'Upgraded', priceCents: 500, stock: 1000 }),
    });
    const product = (await res.json()) as { id: string };
    const inventory = new pg.Pool({ connectionString: withDatabase(process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl, databaseName('inventory', namespace)), max: 1 });
    const payments = new pg.Pool({ connectionString: withDatabase(process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl, databaseName('payment', namespace)), max: 1 });
    // Stopping the runtime drops its databases WITH (FORCE), which ends these pools' idle sessions
    // (FATAL 57P01) before the pools themselves are ended: expected, and not to go unhandled.
    for (const pool of [inventory, payments]) pool.on('error', () => undefined);
    cleanups.push(() => Promise.all([inventory.end(), payments.end()]).then(() => undefined));
    await before.kill();

    // Orders placed while it was down: their events wait in the earlier queues.
    const config = await resolveConfig({ ...process.env, EVENTFLOW_NAMESPACE: namespace });
    const publisher = await connectAmqp(brokerUrlOf(config, 'order'));
    const channel = await publisher.createConfirmChannel();
    const orders: string[] = [];
    for (let i = 0; i < 30; i++) {
      const orderId = randomUUID();
      orders.push(orderId);
      const event = orderCreated(orderId, product.id);
      channel.publish(brokerName(EXCHANGES.order, namespace), routingKeyOf(event), Buffer.from(JSON.stringify(event)), {
        persistent: true,
        messageId: event.id,
        contentType: 'application/json',
        userId: brokerUserOf('order', namespace),
      });
    }
    await channel.waitForConfirms();
    await publisher.close();
    const admin = await connectAmqp(RABBITMQ_URL);
    cleanups.push(() => admin.close());
    expect(await queueDepth(admin, brokerName('inventory_queue', namespace))).toBe(30);

    // The upgrade: the catalog's layout.
    const after = await startRuntimeProcess({ namespace });
    cleanups.push(() => after.stop());
    await waitFor(async () => {
      const { rows } = await inventory.query('SELECT count(*)::int AS n FROM reservations WHERE order_id = ANY($1)', [orders]);
      return rows[0].n === orders.length;
    }, 'every waiting order.created to reserve stock', 60_000);
    await waitFor(async () => {
      const { rows } = await payments.query('SELECT count(*)::int AS n FROM payments WHERE order_id = ANY($1)', [orders]);
      return rows[0].n === orders.length;
    }, 'every waiting order.created to start a payment', 60_000);
    // Once each: one inbox entry per event, stock reserved for each order once.
    const { rows: inbox } = await inventory.query(`SELECT count(*)::int AS n FROM inbox WHERE order_id = ANY($1) AND type = 'order.created'`, [orders]);
    expect(inbox[0].n).toBe(orders.length);
    for (const name of ['order_queue', 'payment_queue', 'inventory_queue']) {
      expect(await queueDepth(admin, brokerName(name, namespace)), name).toBeNull();
      expect(await queueDepth(admin, dlqOf(brokerName(name, namespace))), `${name}.dlq`).toBe(0);
    }
    expect(readFileSync(after.system.logFile, 'utf8')).toMatch(/upgrade: moved 30 waiting message\(s\) from \S*inventory_queue/);
  }, 300_000);
});
