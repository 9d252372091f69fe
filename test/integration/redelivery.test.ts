import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createEvent } from '../../shared/events/envelope';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { inspectDlq, redriveDlq } from '../../shared/messaging/dlq';
import { routingKeyFor, routingKeyOf } from '../../shared/messaging/routing';
import { dlqOf } from '../../shared/messaging/topology';
import { brokerUserOf } from '../../functions/identities';
import {
  api,
  closeTestClients,
  createProduct,
  db,
  paymentsOf,
  placeOrder,
  product,
  parkRaw,
  publishEnvelope,
  publishRaw,
  rabbitAs,
  system,
  partitionsOf,
  queueName,
  rabbit,
  reservationOf,
  timeline,
  waitFor,
  waitForStatus,
} from '../support/system';

afterAll(closeTestClients);

/** Every event any service published about an order, from the three outboxes. */
async function publishedEvents(orderId: string): Promise<AnyEnvelope[]> {
  const all = await Promise.all(
    (['order', 'payment', 'inventory'] as const).map(async (s) =>
      (await db(s).query('SELECT envelope FROM outbox WHERE order_id = $1 ORDER BY seq', [orderId])).rows.map((r) => r.envelope),
    ),
  );
  return all.flat();
}

/** An order.created as the order service would publish it, for an order it never stored. */
function orderCreated(orderId: string, productId: string, quantity: number) {
  return createEvent(
    'order.created',
    {
      orderId,
      orderVersion: 1,
      customerId: randomUUID(),
      items: [{ productId, name: 'Test product', quantity, unitPriceCents: 1000, lineTotalCents: 1000 * quantity }],
      totalCents: 1000 * quantity,
      currency: 'USD',
      paymentToken: 'tok_visa',
    },
    { correlationId: `synthetic-${orderId}`, causationId: null },
  );
}

/** Places an order and waits for it: once it is confirmed, everything published before it has been consumed. */
async function drain() {
  const p = await createProduct({ stock: 1 });
  const res = await placeOrder([{ productId: p.id, quantity: 1 }]);
  await waitForStatus(res.body.id, ['CONFIRMED']);
}

/** How many events about the order each service (order, payment, inventory) has taken in. */
async function inboxCounts(orderId: string) {
  return Promise.all(
    (['order', 'payment', 'inventory'] as const).map(
      async (s) => (await db(s).query('SELECT count(*)::int AS n FROM inbox WHERE order_id = $1', [orderId])).rows[0].n as number,
    ),
  );
}

describe('redelivery and disorder', () => {
  it('lets no event take effect twice, however often it is delivered', async () => {
    const p = await createProduct({ stock: 5 });
    const res = await placeOrder([{ productId: p.id, quantity: 2 }]);
    const id = res.body.id;
    await waitForStatus(id, ['CONFIRMED']);
    await waitFor(async () => (await timeline(id)).length === 5, 'the timeline to be complete');
    const events = await publishedEvents(id);
    expect(events.map((e) => e.type).sort()).toEqual(
      ['inventory.reserved', 'order.created', 'order.updated', 'payment.initiated', 'payment.processed'].sort(),
    );
    const before = { product: await product(p.id), timeline: await timeline(id), order: (await api('GET', `/orders/${id}`)).body };

    // The whole history again, twice, as a broker redelivering after a lost ack would.
    for (let i = 0; i < 2; i++) for (const e of events) await publishEnvelope(e);
    await drain();

    expect(await product(p.id)).toEqual(before.product);
    expect(await paymentsOf(id)).toEqual([{ status: 'PROCESSED', amount_cents: res.body.totalCents }]);
    expect(await timeline(id)).toEqual(before.timeline);
    expect((await api('GET', `/orders/${id}`)).body).toEqual(before.order);
    expect(await publishedEvents(id)).toHaveLength(events.length);
  });

  it('copes with a cancellation that arrives before the order it cancels', async () => {
    const p = await createProduct({ stock: 3 });
    const orderId = randomUUID();
    const created = orderCreated(orderId, p.id, 2);
    const cancelled = createEvent(
      'order.cancelled',
      { orderId, orderVersion: 2, previousStatus: 'PENDING', reason: 'changed mind' },
      { correlationId: created.correlationId, causationId: null },
    );
    await publishEnvelope(cancelled);
    await publishEnvelope(created);
    await drain();

    expect(await reservationOf(orderId)).toMatchObject({ status: 'RELEASED', items: [] });
    expect(await product(p.id)).toMatchObject({ reserved: 0, available: 3 });
    expect(await paymentsOf(orderId)).toEqual([]);
    const block = await db('payment').query('SELECT reason FROM payment_blocks WHERE order_id = $1', [orderId]);
    expect(block.rows).toEqual([{ reason: 'order cancelled' }]);
  });

  it('parks malformed messages in the DLQ with the reason and carries on', async () => {
    const { channel } = await rabbit();
    const dlq = dlqOf(queueName('inventory'));
    await channel.purgeQueue(dlq);
    await publishRaw('order', routingKeyFor('order.created', randomUUID()), 'this is not JSON');
    await publishRaw('order', routingKeyFor('order.created', randomUUID()), JSON.stringify({ ...createEvent('order.cancelled', { orderId: randomUUID(), orderVersion: 1, previousStatus: 'PENDING', reason: null }, { correlationId: 'x', causationId: null }), type: 'order.teleported' }));
    const bad = createEvent('order.cancelled', { orderId: randomUUID(), orderVersion: 1, previousStatus: 'PENDING', reason: null }, { correlationId: 'x', causationId: null });
    await publishRaw('order', routingKeyOf(bad), JSON.stringify({ ...bad, data: { ...bad.data, orderVersion: -4 } }));

    // The system keeps working around them.
    await drain();

    const parked = await waitFor(async () => {
      const got = [];
      for (let m = await channel.get(dlq, { noAck: false }); m; m = await channel.get(dlq, { noAck: false })) got.push(m);
      for (const m of got) channel.nack(m, false, true);
      return got.length >= 3 && got;
    }, 'three parked messages');
    const reasons = parked.map((m) => String(m.properties.headers?.['x-eventflow-reason']));
    expect(reasons.some((r) => /not valid JSON/.test(r))).toBe(true);
    expect(reasons.some((r) => /unknown event type "order.teleported"/.test(r))).toBe(true);
    expect(reasons.some((r) => /invalid order.cancelled data/.test(r))).toBe(true);
    expect(parked.map((m) => m.content.toString())).toContain('this is not JSON');
    await channel.purgeQueue(dlq);
  });

  it('publishes what a crash left in the outbox, through the scheduled relay', async () => {
    const orderId = randomUUID();
    // A committed event whose publish never happened (the process died right after COMMIT).
    const stranded = createEvent('order.cancelled', { orderId, orderVersion: 2, previousStatus: 'PENDING', reason: 'relay test' }, { correlationId: 'relay', causationId: null });
    await db('order').query(
      `WITH e AS (INSERT INTO outbox (event_id, type, order_id, envelope) VALUES ($1, $2, $3, $4) RETURNING seq)
       INSERT INTO outbox_pending (seq) SELECT seq FROM e`,
      [stranded.id, stranded.type, orderId, JSON.stringify(stranded)],
    );
    await waitFor(
      async () => (await db('order').query('SELECT 1 FROM outbox_pending p JOIN outbox o USING (seq) WHERE o.event_id = $1', [stranded.id])).rowCount === 0,
      'the relay to publish the stranded event',
    );
    // and it was delivered: inventory acted on it (a tombstone for an order it never saw)
    await waitFor(async () => (await reservationOf(orderId))?.status === 'RELEASED', 'inventory to receive it');
  });

  it('records each delivered event once in every inbox', async () => {
    const p = await createProduct({ stock: 2 });
    const res = await placeOrder([{ productId: p.id, quantity: 1 }]);
    await waitForStatus(res.body.id, ['CONFIRMED']);
    await waitFor(async () => (await timeline(res.body.id)).length === 5, 'the timeline to be complete');
    const before = await inboxCounts(res.body.id);
    // order: reserved, initiated, processed; payment: created; inventory: created (of the order's
    // status changes only SHIPPED reaches inventory)
    expect(before).toEqual([3, 1, 1]);
    for (const e of await publishedEvents(res.body.id)) await publishEnvelope(e);
    await drain();
    expect(await inboxCounts(res.body.id)).toEqual(before);
  });

  it('redrives a dead-lettered event back onto its queue, where it takes effect', async () => {
    const { channel } = await rabbit();
    const queue = queueName('inventory');
    await channel.purgeQueue(dlqOf(queue));
    const p = await createProduct({ stock: 4 });
    const orderId = randomUUID();
    const created = orderCreated(orderId, p.id, 3);
    // As the inventory consumer parks an event from the order service that it could not apply then.
    await parkRaw('inventory', JSON.stringify(created), { 'x-eventflow-reason': 'processing failed: the database was away' }, 'order');
    const seen = await inspectDlq(channel, queue);
    expect(seen.reasons.get('processing failed: the database was away')).toBeGreaterThanOrEqual(1);
    // Looking returned it to the DLQ (a redrive moves what is ready when it starts).
    await waitFor(async () => (await channel.checkQueue(dlqOf(queue))).messageCount === 1, 'the message to be back in the DLQ');

    // As the DLQ tools do it: their own user, sending it back as the order service that published it.
    const { channel: operator } = await rabbitAs('operator');
    expect(await redriveDlq(operator, partitionsOf('inventory'), brokerUserOf('inventory', system().namespace))).toBe(1);
    await waitFor(async () => (await reservationOf(orderId))?.status === 'ACTIVE', 'the redriven event to reserve stock');
    expect(await product(p.id)).toMatchObject({ reserved: 3, available: 1 });
  });

  it('redrives only what the DLQ held, and a message that fails again is parked with its new reason', async () => {
    const { channel } = await rabbit();
    const queue = queueName('inventory');
    const dlq = dlqOf(queue);
    await channel.purgeQueue(dlq);
    // An event no handler can ever apply (PostgreSQL refuses the NUL in the reason inventory stores).
    const poison = createEvent(
      'payment.failed',
      { orderId: randomUUID(), orderVersion: 1, paymentId: randomUUID(), amountCents: 1, reason: 'nul \u0000' },
      { correlationId: 'redrive', causationId: null },
    );
    await parkRaw('inventory', JSON.stringify(poison), { 'x-eventflow-reason': 'an earlier reason' }, 'payment');

    // It fails again and is parked again while the redrive runs; the redrive does not chase it.
    const { channel: operator } = await rabbitAs('operator');
    expect(await redriveDlq(operator, partitionsOf('inventory'), brokerUserOf('inventory', system().namespace))).toBe(1);
    const parked = await waitFor(async () => {
      const m = await channel.get(dlq);
      if (m) channel.ack(m);
      return m;
    }, 'the poison to be parked again');
    const headers = parked.properties.headers!;
    expect(String(headers['x-eventflow-reason'])).toMatch(/processing failed/);
    expect(String(headers['x-eventflow-reason'])).not.toBe('an earlier reason');
  });

  it('parks a message its handler can never apply and applies the ones around it', async () => {
    const { channel } = await rabbit();
    const dlq = dlqOf(queueName('inventory'));
    const cause = { correlationId: 'isolation', causationId: null };
    const before = randomUUID();
    const poisoned = randomUUID();
    const after = randomUUID();
    const cancel = (orderId: string, reason: string) =>
      createEvent('order.cancelled', { orderId, orderVersion: 2, previousStatus: 'PENDING', reason }, cause);
    // Valid by schema, but PostgreSQL refuses to store a NUL character, and inventory stores a
    // failed payment's reason with the release: this one fails in the handler.
    const bad = createEvent(
      'payment.failed',
      { orderId: poisoned, orderVersion: 1, paymentId: randomUUID(), amountCents: 100, reason: 'nul \u0000 inside' },
      cause,
    );
    for (const e of [cancel(before, 'fine'), bad, cancel(after, 'fine')]) await publishRaw(e.source, routingKeyOf(e), JSON.stringify(e));

    for (const id of [before, after]) await waitFor(async () => (await reservationOf(id))?.status === 'RELEASED', `the good event for ${id}`);
    const parked = await waitFor(async () => {
      for (let m = await channel.get(dlq, { noAck: false }); m; m = await channel.get(dlq, { noAck: false })) {
        if (m.content.toString().includes(poisoned)) {
          channel.ack(m);
          return m;
        }
        channel.nack(m, false, true);
      }
      return null;
    }, 'the poisoned event in the DLQ');
    expect(String(parked.properties.headers?.['x-eventflow-reason'])).toMatch(/processing failed/);
    expect(await reservationOf(poisoned)).toBeUndefined();
  });
});
