import { randomUUID } from 'node:crypto';
import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { paymentIdFor } from '../../functions/payment/domain/gateway';
import { toRmqEvent } from '../../local/mq-event-source';
import { createEvent, decodeEvent } from '../../shared/events/envelope';
import { instantOf } from '../../shared/events/history';
import { partitionFor } from '../../shared/messaging/dlq';
import { TransientError, isInfrastructureError, isTransient } from '../../shared/messaging/errors';
import { RmqEventSchema, decodeHeader, parseQueueKey } from '../../shared/messaging/rmq-event';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { assertPartitionCount, routingKeyOf, topicMatches } from '../../shared/messaging/routing';
import { EXCHANGES, dlqOf, queuesReached } from '../../shared/messaging/topology';
import { partitionQueues, resolveTopology } from '../../functions/topology';
import type { Topology } from '../../shared/messaging/topology';

const orderId = randomUUID();
const sample = () =>
  createEvent(
    'order.cancelled',
    { orderId, orderVersion: 2, previousStatus: 'PENDING', reason: null },
    { correlationId: 'c-1', causationId: null },
  );

describe('event decoding', () => {
  it('accepts a valid event', () => {
    const e = sample();
    expect(decodeEvent(JSON.stringify(e))).toEqual({ ok: true, event: e });
  });

  it.each([
    ['not JSON', '{nope', /not valid JSON/],
    ['no envelope', '{"hello":1}', /invalid envelope/],
    ['unknown type', JSON.stringify({ ...sample(), type: 'order.exploded' }), /unknown event type "order.exploded"/],
    ['wrong source', JSON.stringify({ ...sample(), source: 'payment' }), /cannot come from payment/],
    ['bad data', JSON.stringify({ ...sample(), data: { orderId: 'x' } }), /invalid order.cancelled data/],
    ['future version', JSON.stringify({ ...sample(), version: 2 }), /unsupported version/],
  ])('refuses %s with a reason', (_, raw, reason) => {
    const r = decodeEvent(raw);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });

  it('stamps events with the wall clock to the microsecond, never ahead of it, however many come at once', () => {
    // A large batch emitted faster than the clock ticks: each time is within the millisecond the
    // clock read when the event was made, and times never go backwards within the process.
    let previous = 0;
    for (let i = 0; i < 5_000; i++) {
      const before = Date.now();
      const at = sample().occurredAt;
      const after = Date.now();
      expect(at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      const micros = instantOf(at);
      if (micros < before * 1000 || micros >= (after + 1) * 1000 || micros < previous) {
        expect({ at, before, after, previous }).toBe('within the clock');
      }
      previous = micros;
    }
  });
});

describe('aws:rmq event shape', () => {
  it('renders AMQP messages as the Amazon MQ event source does', () => {
    const body = Buffer.from(JSON.stringify(sample()));
    const msg = {
      content: body,
      fields: { deliveryTag: 1, redelivered: true, exchange: 'x', routingKey: 'order.cancelled', consumerTag: 't' },
      properties: {
        contentType: 'application/json',
        headers: { causationId: 'abc', attempt: 3 },
        messageId: 'm-1',
        timestamp: 1_000,
        deliveryMode: 2,
      },
    } as unknown as ConsumeMessage;
    const event = toRmqEvent('order_queue', [msg]);
    expect(RmqEventSchema.parse(event)).toBeTruthy();
    expect(event.eventSource).toBe('aws:rmq');
    const [m] = event.rmqMessagesByQueue['order_queue::/']!;
    expect(Buffer.from(m!.data, 'base64').equals(body)).toBe(true);
    expect(m!.redelivered).toBe(true);
    expect(m!.basicProperties.headers).toEqual({ causationId: { bytes: [97, 98, 99] }, attempt: 3 });
    expect(decodeHeader((m!.basicProperties.headers as Record<string, unknown>).causationId)).toBe('abc');
    expect(m!.basicProperties.timestamp).toBe('Jan 1, 1970, 12:16:40 AM');
    expect(m!.basicProperties.replyTo).toBeNull();
    expect(m!.basicProperties.bodySize).toBe(body.length);
  });

  it('splits the queue key on its last ::', () => {
    expect(parseQueueKey('order_queue::/')).toEqual({ queue: 'order_queue', vhost: '/' });
    expect(parseQueueKey('a::b::prod')).toEqual({ queue: 'a::b', vhost: 'prod' });
  });
});

describe('topology', () => {
  // One partition per queue: what a queue receives; partitions have a test of their own below.
  const t = resolveTopology('ns1', { order: 1, payment: 1, inventory: 1, notification: 1 });

  it('gives every queue a delivery limit and a dead-letter queue of its own', () => {
    const main = t.queues.filter((q) => !q.name.endsWith('.dlq'));
    expect(main.map((q) => q.name).sort()).toEqual(['ns1.inventory_queue', 'ns1.notification_queue', 'ns1.order_queue', 'ns1.payment_queue']);
    for (const q of main) {
      // Only the queue type is a queue argument; the rest is a broker policy that can change later.
      expect(q.arguments).toEqual({ 'x-queue-type': 'quorum' });
      expect(q.policy).toMatchObject({ kind: 'work', deadLetterQueue: `${q.name}.dlq` });
      expect(q.policy.kind === 'work' && q.policy.deliveryLimit).toBeGreaterThan(0);
      expect(t.queues.some((d) => d.name === `${q.name}.dlq`)).toBe(true);
    }
  });

  const reached = (topology: Topology, event: AnyEnvelope) =>
    queuesReached(topology, `ns1.${EXCHANGES[event.source]}`, routingKeyOf(event)).sort();
  const id = randomUUID();
  const cause = { correlationId: 'c', causationId: null };
  const created = createEvent(
    'order.created',
    { orderId: id, orderVersion: 1, customerId: id, items: [{ productId: id, name: 'n', quantity: 1, unitPriceCents: 1, lineTotalCents: 1 }], totalCents: 1, currency: 'USD', paymentToken: 'tok_visa' },
    cause,
  ) as AnyEnvelope;
  const updated = (status: 'CONFIRMED' | 'SHIPPED') =>
    createEvent('order.updated', { orderId: id, orderVersion: 2, status, previousStatus: 'PENDING', reason: null }, cause) as AnyEnvelope;
  const product = (changed: ('stock' | 'reserved' | 'price')[]) =>
    createEvent(
      'inventory.updated',
      { productId: id, productVersion: 2, sku: 's', name: 'n', priceCents: 1, currency: 'USD', stock: 1, reserved: 0, available: 1, lowStockThreshold: 0, changed },
      cause,
    ) as AnyEnvelope;

  it('routes each event to the queues that act on it, and every event to the notification queue', () => {
    expect(reached(t, created)).toEqual(['ns1.inventory_queue', 'ns1.notification_queue', 'ns1.payment_queue']);
    // of an order's status changes, only shipping moves stock
    expect(reached(t, updated('CONFIRMED'))).toEqual(['ns1.notification_queue']);
    expect(reached(t, updated('SHIPPED'))).toEqual(['ns1.inventory_queue', 'ns1.notification_queue']);
    // the order service's catalog copy needs names and prices, not stock
    expect(reached(t, product(['reserved']))).toEqual(['ns1.notification_queue']);
    expect(reached(t, product(['price', 'stock']))).toEqual(['ns1.notification_queue', 'ns1.order_queue']);
  });

  it('puts every event about an order in the same partition of each queue, whatever the partition count', () => {
    for (const n of [2, 4, 8, 16]) {
      const layout = { order: n, payment: n, inventory: n, notification: n };
      const topology = resolveTopology('ns1', layout);
      const orders = Array.from({ length: 200 }, () => randomUUID());
      const partitionOf = new Map<string, string>();
      for (const orderId of orders) {
        const events = [
          { ...created, data: { ...created.data, orderId } },
          { ...updated('SHIPPED'), data: { ...updated('SHIPPED').data, orderId } },
        ] as AnyEnvelope[];
        const queues = events.flatMap((e) => reached(topology, e)).filter((q) => q.startsWith('ns1.inventory_queue'));
        expect(new Set(queues).size).toBe(1); // one partition for both events
        partitionOf.set(orderId, queues[0]!);
      }
      // and the orders spread over every partition
      expect(new Set(partitionOf.values()).size).toBe(n);
      expect(partitionQueues('inventory', 'ns1', layout)).toEqual(Array.from({ length: n }, (_, i) => `ns1.inventory_queue.p${i}`));
      expect(dlqOf('ns1.inventory_queue.p3')).toBe('ns1.inventory_queue.dlq');
    }
  });

  it('matches topic patterns as RabbitMQ does', () => {
    expect(topicMatches('#', 'a.b')).toBe(true);
    expect(topicMatches('a.*.c.#', 'a.b.c')).toBe(true);
    expect(topicMatches('a.*.c.#', 'a.b.c.1.0')).toBe(true);
    expect(topicMatches('a.*.c.1.#', 'a.b.c.0.1')).toBe(false);
    expect(topicMatches('a.*', 'a.b.c')).toBe(false);
  });

  it('refuses a partition count that is not a power of two up to 16', () => {
    expect(() => assertPartitionCount(3, 'x')).toThrow(/power of two/);
    expect(() => assertPartitionCount(32, 'x')).toThrow(/power of two/);
    expect(() => assertPartitionCount(8, 'x')).not.toThrow();
  });
});

describe('failure classification', () => {
  it('retries only what waiting can fix', () => {
    expect(isTransient(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { code: '57P01' }))).toBe(true);
    expect(isTransient(new Error('Connection terminated unexpectedly'))).toBe(true);
    // pg's query_timeout: the database answered nothing (a cut network), not a poison message.
    expect(isTransient(new Error('Query read timeout'))).toBe(true);
    expect(isInfrastructureError(new Error('Query read timeout'))).toBe(true);
    expect(isTransient(Object.assign(new Error('dup'), { code: '23505' }))).toBe(false);
    expect(isTransient(new TypeError('cannot read properties of undefined'))).toBe(false);
  });

  it('tells a dependency that is unavailable as a whole from contention, which a consumer waits out in place', () => {
    const sql = (code: string) => Object.assign(new Error(code), { code });
    // Read-only (a failover), disk full, shutting down, unreachable: no message is at fault.
    for (const e of [sql('25006'), sql('53100'), sql('57P01'), sql('08006'), sql('ECONNREFUSED'), new Error('Connection terminated unexpectedly'), new TransientError('no publisher confirm')]) {
      expect(isInfrastructureError(e), e.message).toBe(true);
    }
    // Contention between transactions, and what is no failure of a dependency at all.
    for (const e of [sql('40001'), sql('40P01'), sql('55P03'), sql('57014'), sql('23505'), new TypeError('x')]) expect(isInfrastructureError(e), e.message).toBe(false);
  });
});

describe('payment ids', () => {
  it('follow from the order id, so a retried charge reuses its idempotency key', () => {
    expect(paymentIdFor(orderId)).toBe(paymentIdFor(orderId));
    expect(paymentIdFor(orderId)).not.toBe(paymentIdFor(randomUUID()));
    expect(paymentIdFor(orderId)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('dead letters back to their partition', () => {
  it('sends each message to the partition its order is routed to, and what is no event back where it came from', () => {
    const layout = { order: 4, payment: 4, inventory: 4, notification: 1 };
    const partitions = partitionQueues('inventory', 'ns1', layout);
    const topology = resolveTopology('ns1', layout);
    for (let i = 0; i < 50; i++) {
      const e = createEvent('order.cancelled', { orderId: randomUUID(), orderVersion: 2, previousStatus: 'PENDING', reason: null }, { correlationId: 'c', causationId: null }) as AnyEnvelope;
      const routed = queuesReached(topology, 'ns1.order_exchange', routingKeyOf(e)).filter((q) => q.startsWith('ns1.inventory_queue'));
      expect([partitionFor(Buffer.from(JSON.stringify(e)), {}, partitions)]).toEqual(routed);
    }
    expect(partitionFor(Buffer.from('not json'), { 'x-eventflow-queue': partitions[2] }, partitions)).toBe(partitions[2]);
    expect(partitionFor(Buffer.from('not json'), { 'x-eventflow-queue': 'ns1.inventory_queue.p9' }, partitions)).toBe(partitions[0]);
  });
});
