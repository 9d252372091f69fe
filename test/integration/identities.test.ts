/**
 * Least privilege between services, against the real broker, Redis and PostgreSQL: each identity
 * of functions/identities.ts may do its work and is refused the rest. The broker's refusals are
 * tried in a namespace of their own (its topology and users, no consumers); the forged events and
 * the Redis and database refusals on the suite's runtime, whose functions run as these identities.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { ChannelModel, GetMessage } from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerName, databaseName, localBrokerAccess, resolveConfig } from '../../shared/config';
import type { Config } from '../../shared/config';
import { createEvent } from '../../shared/events/envelope';
import { connectAmqp } from '../../shared/messaging/broker';
import { redriveDlq } from '../../shared/messaging/dlq';
import { BrokerLoginRefused, explainBrokerRefusal } from '../../shared/messaging/identity';
import { routingKeyFor, routingKeyOf } from '../../shared/messaging/routing';
import { DELIVERY_LIMIT, EXCHANGES, dlqOf } from '../../shared/messaging/topology';
import { brokerUserOf, databaseRoleOf, redisUsers } from '../../functions/identities';
import type { BrokerUserRole, RedisRole } from '../../functions/identities';
import { declareTopology, deleteTopology, partitionQueues } from '../../functions/topology';
import { IdentityError, provisionBrokerUsers, removeIdentities, verifyBrokerUsers } from '../../local/identities/provision';
import { brokerAdmin } from '../../shared/messaging/broker-admin';
import { brokerUrlOf, databaseUrlOf, redisUrlOf } from '../../local/identities/urls';
import { withCredentials } from '../../local/identities/credentials';
import { freshNamespace } from '../support/runtime-process';
import { waitFor } from '../support/wait';
import { closeTestClients, db, publishRaw, queueName, rabbit, rabbitAs, system } from '../support/system';

afterAll(closeTestClients);

/** What the broker says when it closes a channel on an operation (its channel error), or null when it allows it. */
async function refusal(connection: ChannelModel, operation: (channel: Awaited<ReturnType<ChannelModel['createConfirmChannel']>>) => Promise<unknown>): Promise<string | null> {
  const channel = await connection.createConfirmChannel();
  let closedWith = '';
  channel.on('error', (err: Error) => (closedWith = err.message));
  try {
    await operation(channel);
    await channel.close();
    return null;
  } catch (err) {
    await waitFor(async () => closedWith !== '' || null, 'the channel error', 5_000).catch(() => undefined);
    return closedWith || (err as Error).message;
  }
}

describe('broker users, in a namespace of their own', () => {
  let config: Config;
  let admin: ChannelModel;
  const as = new Map<BrokerUserRole, ChannelModel>();
  const connectAs = async (role: BrokerUserRole) => {
    const c = as.get(role) ?? (await connectAmqp(brokerUrlOf(config, role)));
    c.on('error', () => undefined);
    as.set(role, c);
    return c;
  };

  beforeAll(async () => {
    config = await resolveConfig({ ...process.env, EVENTFLOW_NAMESPACE: freshNamespace('idn') });
    admin = await connectAmqp(config.rabbitmqUrl);
    await declareTopology(admin, config.namespace);
    await provisionBrokerUsers(config);
  });

  afterAll(async () => {
    for (const c of as.values()) await c.close().catch(() => undefined);
    await deleteTopology(admin, config.namespace).catch(() => undefined);
    await admin.close();
    await removeIdentities(config);
  });

  const name = (base: string) => brokerName(base, config.namespace);

  it("with payment's credentials: publishing to order_exchange, consuming inventory_queue.p0, declaring or deleting a queue are refused", async () => {
    const payment = await connectAs('payment');
    const published = await refusal(payment, async (ch) => {
      ch.publish(name(EXCHANGES.order), 'order.created.new.0.0.0.0', Buffer.from('{}'), { userId: brokerUserOf('payment', config.namespace) });
      await ch.waitForConfirms();
    });
    expect(published).toMatch(/ACCESS_REFUSED - access to exchange '.*order_exchange' in vhost '\/' refused for user 'eventflow-idn.*-payment'/);
    // What the publisher logs: the user and the permission it lacks.
    expect(explainBrokerRefusal(new Error(published!), 'x', 'write')?.message).toMatch(/broker user eventflow-idn\w+-payment lacks the write permission on exchange .*order_exchange/);

    const p0 = partitionQueues('inventory', config.namespace)[0]!;
    expect(p0).toMatch(/inventory_queue\.p0$/);
    expect(await refusal(payment, (ch) => ch.consume(p0, () => undefined))).toMatch(/ACCESS_REFUSED - access to queue '.*inventory_queue\.p0'/);
    // Nor may payment's event source user read another service's queue.
    expect(await refusal(await connectAs('payment-source'), (ch) => ch.get(p0))).toMatch(/ACCESS_REFUSED - access to queue '.*inventory_queue\.p0'/);

    expect(await refusal(payment, (ch) => ch.assertQueue(name('payment_queue.extra'), { durable: true }))).toMatch(/ACCESS_REFUSED - access to queue/);
    expect(await refusal(payment, (ch) => ch.deleteQueue(partitionQueues('payment', config.namespace)[0]!))).toMatch(/ACCESS_REFUSED - access to queue/);
    expect(await refusal(payment, (ch) => ch.assertExchange(name('payment_exchange.extra'), 'topic'))).toMatch(/ACCESS_REFUSED - access to exchange/);

    // What it may do: publish its own events, with its own user-id and no other.
    expect(
      await refusal(payment, async (ch) => {
        ch.publish(name(EXCHANGES.payment), 'payment.processed.new.0.0.0.0', Buffer.from('{}'), { userId: brokerUserOf('payment', config.namespace) });
        await ch.waitForConfirms();
      }),
    ).toBeNull();
    expect(
      await refusal(payment, async (ch) => {
        ch.publish(name(EXCHANGES.payment), 'payment.processed.new.0.0.0.0', Buffer.from('{}'), { userId: brokerUserOf('order', config.namespace) });
        await ch.waitForConfirms();
      }),
    ).toMatch(/PRECONDITION_FAILED - user_id property set to 'eventflow-idn\w+-order' but authenticated user was 'eventflow-idn\w+-payment'/);
  });

  it('lets each event source user consume its own partitions only, and nobody but the administrator configure', async () => {
    const [p0, p1] = partitionQueues('payment', config.namespace);
    const source = await connectAs('payment-source');
    expect(await refusal(source, (ch) => ch.get(p0!))).toBeNull();
    expect(await refusal(source, (ch) => ch.get(p1!))).toBeNull();
    expect(await refusal(source, (ch) => ch.get(dlqOf(p0!)))).toMatch(/ACCESS_REFUSED/);
    expect(
      await refusal(source, async (ch) => {
        ch.publish(name(EXCHANGES.payment), 'payment.processed.new.0.0.0.0', Buffer.from('{}'));
        await ch.waitForConfirms();
      }),
    ).toMatch(/ACCESS_REFUSED - access to exchange/);
    for (const role of ['order', 'notification', 'operator', 'monitor', 'order-source'] as const) {
      expect(await refusal(await connectAs(role), (ch) => ch.assertQueue(name(`${role}.scratch`))), role).toMatch(/ACCESS_REFUSED/);
    }
    // The monitor only looks (a passive check needs no permission), and reads nothing.
    const monitor = await connectAs('monitor');
    expect(await refusal(monitor, (ch) => ch.checkQueue(p0!))).toBeNull();
    expect(await refusal(monitor, (ch) => ch.get(p0!))).toMatch(/ACCESS_REFUSED/);
  });

  it('keeps the sender of a message the broker dead-lettered, and the DLQ tools send it back as that sender, into the queue only', async () => {
    const [p0] = partitionQueues('payment', config.namespace);
    const created = createEvent(
      'order.created',
      { orderId: randomUUID(), orderVersion: 1, customerId: randomUUID(), items: [{ productId: randomUUID(), name: 'n', quantity: 1, unitPriceCents: 1, lineTotalCents: 1 }], totalCents: 1, currency: 'USD', paymentToken: 'tok_visa' },
      { correlationId: 'dead-letter', causationId: null },
    );
    const order = await connectAs('order');
    const ch = await order.createConfirmChannel();
    // Bucket 0: lands in partition 0 of the payment queue.
    const key = routingKeyOf(created).replace(/(\.\d){4}$/, '.0.0.0.0');
    ch.publish(name(EXCHANGES.order), key, Buffer.from(JSON.stringify(created)), { persistent: true, messageId: created.id, userId: brokerUserOf('order', config.namespace) });
    await ch.waitForConfirms();
    await ch.close();

    // A batch that keeps failing: taken and returned until the delivery limit dead-letters it.
    const adminCh = await admin.createConfirmChannel();
    for (let n = 0, m: GetMessage | false = await waitFor(() => adminCh.get(p0!), 'the published event'); m; m = await adminCh.get(p0!)) {
      adminCh.nack(m, false, true);
      if (++n > DELIVERY_LIMIT + 5) throw new Error('the delivery limit did not apply');
    }
    const dead = await waitFor(() => adminCh.get(dlqOf(p0!)), 'the event in the DLQ');
    expect(dead.properties.userId).toBe(brokerUserOf('order', config.namespace));
    adminCh.nack(dead, false, true);
    await waitFor(async () => (await adminCh.checkQueue(dlqOf(p0!))).messageCount === 1, 'the event back in the DLQ');

    const operator = await (await connectAs('operator')).createConfirmChannel();
    expect(await redriveDlq(operator, partitionQueues('payment', config.namespace), brokerUserOf('payment', config.namespace))).toBe(1);
    // Back in the partition of its order (whichever that is), through the redrive exchange.
    const back = await waitFor(async () => {
      for (const q of partitionQueues('payment', config.namespace)) {
        const m = await adminCh.get(q);
        if (m) return m;
      }
      return null;
    }, 'the redriven event in its partition');
    expect(back.properties.userId).toBe(brokerUserOf('order', config.namespace));
    expect(JSON.parse(back.content.toString()).id).toBe(created.id);
    adminCh.ack(back);
    await adminCh.close();

    // The operator may write nowhere else: not onto a service's exchange, not into a DLQ.
    const operatorConnection = await connectAs('operator');
    expect(
      await refusal(operatorConnection, async (c) => {
        c.publish(name(EXCHANGES.order), key, Buffer.from('{}'), { userId: brokerUserOf('order', config.namespace) });
        await c.waitForConfirms();
      }),
    ).toMatch(/ACCESS_REFUSED - access to exchange/);
    expect(
      await refusal(operatorConnection, async (c) => {
        c.publish(name('payment_queue.park'), '', Buffer.from('{}'));
        await c.waitForConfirms();
      }),
    ).toMatch(/ACCESS_REFUSED - access to exchange/);
  });

  it('fails a start whose user was revoked or has no permissions with a sentence naming the user', async () => {
    const user = brokerUserOf('inventory-source', config.namespace);
    const access = brokerAdmin(localBrokerAccess());
    await access.deleteUsers([user]);
    await expect(verifyBrokerUsers(config)).rejects.toThrow(new RegExp(`^broker user ${user} was refused at login: wrong password, or the user does not exist`));
    await provisionBrokerUsers(config);
    // Its permissions on the vhost taken away, as an administrator might.
    if (config.rabbitmqManagementUrl) {
      const url = new URL(config.rabbitmqManagementUrl);
      const auth = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
      await fetch(`${url.origin}/api/permissions/%2F/${user}`, { method: 'DELETE', headers: { authorization: `Basic ${auth}` } });
    } else {
      await promisify(execFile)('rabbitmqctl', ['clear_permissions', '-q', '-p', '/', user]);
    }
    const failure = await verifyBrokerUsers(config).catch((err: Error) => err);
    expect(failure).toBeInstanceOf(IdentityError);
    expect((failure as Error).message).toBe(`broker user ${user} has no permissions on the virtual host (or it does not exist)`);
    await provisionBrokerUsers(config);
  });

  it('refuses a wrong password with an error that names the user', async () => {
    const url = withCredentials(config.rabbitmqUrl, brokerUserOf('order', config.namespace), 'not-the-password');
    const err = await connectAmqp(url).then(
      (c) => c.close().then(() => null),
      (e: unknown) => e,
    );
    const explained = explainBrokerRefusal(err, brokerUserOf('order', config.namespace));
    expect(explained).toBeInstanceOf(BrokerLoginRefused);
    expect(explained!.message).toMatch(/^broker user eventflow-idn\w+-order was refused at login: wrong password, or the user does not exist/);
  });
});

describe('events whose sender the broker vouches for', () => {
  it('parks an event whose sender does not own its type, with the reason, and never applies it', async () => {
    const { channel } = await rabbit();
    const dlq = dlqOf(queueName('order'));
    // The payment service's user sends an inventory.reserved, routed as a payment event into the order queue.
    const forged = createEvent('inventory.reserved', { orderId: randomUUID(), orderVersion: 1, items: [{ productId: randomUUID(), quantity: 1 }] }, { correlationId: 'forged', causationId: null });
    await publishRaw('payment', routingKeyFor('payment.processed', forged.data.orderId), JSON.stringify(forged));
    // And the inventory service's user claims a payment was processed.
    const claimed = createEvent('payment.processed', { orderId: forged.data.orderId, orderVersion: 1, paymentId: randomUUID(), amountCents: 1, currency: 'USD' }, { correlationId: 'forged', causationId: null });
    await publishRaw('inventory', routingKeyFor('inventory.reserved', claimed.data.orderId), JSON.stringify(claimed));

    const reasons = await waitFor(async () => {
      const got = [];
      for (let m = await channel.get(dlq); m; m = await channel.get(dlq)) got.push(m);
      for (const m of got) channel.nack(m, false, true);
      const ours = got.filter((m) => [forged.id, claimed.id].includes(JSON.parse(m.content.toString()).id));
      return ours.length === 2 && ours.map((m) => String(m.properties.headers?.['x-eventflow-reason']));
    }, 'both forged events in the order queue\'s DLQ');
    const ns = system().namespace;
    expect(reasons).toContain(`inventory.reserved was sent by ${brokerUserOf('payment', ns)}; only ${brokerUserOf('inventory', ns)} may publish it`);
    expect(reasons).toContain(`payment.processed was sent by ${brokerUserOf('inventory', ns)}; only ${brokerUserOf('payment', ns)} may publish it`);
    const inbox = await db('order').query('SELECT 1 FROM inbox WHERE event_id = ANY($1::uuid[])', [[forged.id, claimed.id]]);
    expect(inbox.rowCount).toBe(0);
    // Cleaned up: other tests count what this DLQ holds.
    for (let m = await channel.get(dlq); m; m = await channel.get(dlq)) {
      if ([forged.id, claimed.id].includes(JSON.parse(m.content.toString()).id)) channel.ack(m);
      else channel.nack(m, false, true);
    }
  });

  it('parks an event published without a user-id (nothing vouches for it)', async () => {
    const { channel } = await rabbit();
    const dlq = dlqOf(queueName('inventory'));
    const cancelled = createEvent('order.cancelled', { orderId: randomUUID(), orderVersion: 2, previousStatus: 'PENDING', reason: null }, { correlationId: 'anonymous', causationId: null });
    // The administrator can publish without a user-id; no function can.
    channel.publish(brokerName(EXCHANGES.order, system().namespace), routingKeyOf(cancelled), Buffer.from(JSON.stringify(cancelled)), { persistent: true });
    await channel.waitForConfirms();
    const parked = await waitFor(async () => {
      let found = null;
      for (let m = await channel.get(dlq); m; m = await channel.get(dlq)) {
        if (JSON.parse(m.content.toString()).id === cancelled.id) {
          channel.ack(m);
          found = m;
        } else channel.nack(m, false, true);
      }
      return found;
    }, 'the anonymous event in the DLQ');
    expect(String(parked.properties.headers?.['x-eventflow-reason'])).toBe(`order.cancelled carries no user-id, so nothing vouches for its sender; only ${brokerUserOf('order', system().namespace)} may publish it`);
  });

  it('has the service users publish only with their own user-id', async () => {
    const { connection } = await rabbitAs('inventory');
    connection.on('error', () => undefined);
    expect(
      await refusal(connection, async (ch) => {
        ch.publish(brokerName(EXCHANGES.inventory, system().namespace), 'inventory.updated.catalog.0.0.0.0', Buffer.from('{}'), { userId: brokerUserOf('payment', system().namespace) });
        await ch.waitForConfirms();
      }),
    ).toMatch(/PRECONDITION_FAILED - user_id property set to/);
  });
});

describe('Redis users', () => {
  const clients: Redis[] = [];
  const as = async (role: RedisRole) => {
    const where = { redis: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', cluster: false }, namespace: system().namespace };
    const client = new Redis(redisUrlOf(where, role), { maxRetriesPerRequest: 0, enableReadyCheck: false, lazyConnect: true });
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  };
  afterAll(() => clients.forEach((c) => c.disconnect()));
  const user = (role: RedisRole) => redisUsers(system().namespace).find((u) => u.role === role)!;

  it("refuses each user the other uses' keys and FLUSHALL", async () => {
    const ns = system().namespace;
    const notificationKey = user('websocket').keys[0]!;
    const rateLimitKey = `${user('rate-limits').keys[0]!.slice(0, -1)}probe`;
    const httpUser = await as('rate-limits');
    const wsUser = await as('websocket');
    // Commands each may run, on keys that are not theirs.
    await expect(httpUser.get(notificationKey)).rejects.toThrow(/NOPERM .*keys/);
    await expect(wsUser.smembers(rateLimitKey)).rejects.toThrow(/NOPERM .*keys/);
    await expect(wsUser.hget(`notification:{someone-else}:connections`, 'x')).rejects.toThrow(/NOPERM .*keys/);
    // And on their own keys, what they are for.
    expect(await httpUser.get(rateLimitKey)).toBeNull();
    expect(await wsUser.hget(notificationKey, `probe-${ns}`)).toBeNull();

    // FLUSHALL would empty the shared Redis if it got through: checked dry (as the administrator) before it is tried.
    const admin = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      for (const role of ['rate-limits', 'websocket', 'notifications'] as const) {
        expect(String(await admin.call('ACL', 'DRYRUN', user(role).name, 'FLUSHALL')), role).toMatch(/no permissions to run the 'flushall' command/);
      }
    } finally {
      admin.disconnect();
    }
    await expect(httpUser.flushall()).rejects.toThrow(/NOPERM .*'flushall'/);
    await expect(wsUser.flushall()).rejects.toThrow(/NOPERM .*'flushall'/);
    await expect((await as('notifications')).flushall()).rejects.toThrow(/NOPERM .*'flushall'/);
  });

  it('refuses a wrong password', async () => {
    const client = new Redis(withCredentials(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', user('websocket').name, 'not-the-password'), {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    const errors: string[] = [];
    client.on('error', (err: Error) => errors.push(err.message));
    await expect(client.connect()).rejects.toThrow();
    expect(errors.join('\n')).toMatch(/WRONGPASS invalid username-password pair/);
    client.disconnect();
  });
});

describe('database roles', () => {
  it("owns its service's database and cannot connect to the others", async () => {
    const ns = system().namespace;
    const where = await resolveConfig({ ...process.env, EVENTFLOW_NAMESPACE: ns });
    const owners = await db('order').query<{ datname: string; owner: string }>(
      'SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = ANY($1)',
      [(['order', 'payment', 'inventory'] as const).map((s) => databaseName(s, ns))],
    );
    for (const row of owners.rows) expect(row.owner).toBe(databaseRoleOf(row.datname.replace(`${ns}_`, '').replace('_db', '') as 'order', ns));

    const asOrder = (database: string) => new pg.Client({ connectionString: databaseUrlOf(where, 'order').replace(`/${databaseName('order', ns)}`, `/${database}`) });
    const own = asOrder(databaseName('order', ns));
    await own.connect();
    expect((await own.query('SELECT current_user AS u')).rows[0].u).toBe(databaseRoleOf('order', ns));
    // Its tables are its own: it ran the migrations.
    expect((await own.query("SELECT tableowner FROM pg_tables WHERE tablename = 'outbox'")).rows[0].tableowner).toBe(databaseRoleOf('order', ns));
    await own.end();
    for (const other of ['payment', 'inventory'] as const) {
      const client = asOrder(databaseName(other, ns));
      await expect(client.connect()).rejects.toThrow(/permission denied for database/);
      await client.end().catch(() => undefined);
    }
  });
});
