import type { Channel } from 'amqplib';
import { brokerName } from '../config';
import type { EventType, Publisher } from '../events/types';

/** Each publishing service owns one topic exchange; the routing key is the event type. */
export const EXCHANGES: Record<Publisher, string> = {
  order: 'order_exchange',
  payment: 'payment_exchange',
  inventory: 'inventory_exchange',
};

interface QueueSpec {
  name: string;
  /** Event types routed to this queue, or 'all' for every event of every exchange. */
  subscribes: readonly EventType[] | 'all';
}

/** The service queues and what each receives. One consumer function per queue (see the function catalog). */
export const QUEUES = {
  order: {
    name: 'order_queue',
    subscribes: [
      'inventory.reserved',
      'inventory.reservation_failed',
      'inventory.released',
      'inventory.updated',
      'payment.initiated',
      'payment.processed',
      'payment.failed',
      'payment.refunded',
    ],
  },
  payment: {
    name: 'payment_queue',
    subscribes: ['order.created', 'order.cancelled', 'inventory.reservation_failed'],
  },
  inventory: {
    name: 'inventory_queue',
    subscribes: ['order.created', 'order.cancelled', 'order.updated', 'payment.failed'],
  },
  notification: { name: 'notification_queue', subscribes: 'all' },
} as const satisfies Record<string, QueueSpec>;

export type QueueId = keyof typeof QUEUES;

/** Deliveries after which RabbitMQ dead-letters a message that keeps failing its batch. */
export const DELIVERY_LIMIT = 5;

export function dlqOf(queue: string): string {
  return `${queue}.dlq`;
}

export interface QueueDeclaration {
  name: string;
  arguments: Record<string, unknown>;
}

export interface Topology {
  exchanges: string[];
  queues: QueueDeclaration[];
  bindings: { queue: string; exchange: string; routingKey: string }[];
}

/** The full broker topology, with names resolved in a namespace. Pure data: used locally and at deploy time. */
export function resolveTopology(namespace = ''): Topology {
  const exchangeOf = (p: Publisher) => brokerName(EXCHANGES[p], namespace);
  const topology: Topology = { exchanges: Object.values(EXCHANGES).map((e) => brokerName(e, namespace)), queues: [], bindings: [] };
  for (const spec of Object.values(QUEUES) as QueueSpec[]) {
    const name = brokerName(spec.name, namespace);
    topology.queues.push({
      name,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': DELIVERY_LIMIT,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': dlqOf(name),
      },
    });
    topology.queues.push({ name: dlqOf(name), arguments: { 'x-queue-type': 'quorum' } });
    if (spec.subscribes === 'all') {
      for (const p of Object.keys(EXCHANGES) as Publisher[]) {
        topology.bindings.push({ queue: name, exchange: exchangeOf(p), routingKey: '#' });
      }
    } else {
      for (const type of spec.subscribes) {
        const publisher = type.slice(0, type.indexOf('.')) as Publisher;
        topology.bindings.push({ queue: name, exchange: exchangeOf(publisher), routingKey: type });
      }
    }
  }
  return topology;
}

/** Declares exchanges, queues, DLQs and bindings. Idempotent: safe on every start and every deploy. */
export async function declareTopology(channel: Channel, namespace = ''): Promise<Topology> {
  const topology = resolveTopology(namespace);
  for (const exchange of topology.exchanges) await channel.assertExchange(exchange, 'topic', { durable: true });
  for (const q of topology.queues) await channel.assertQueue(q.name, { durable: true, arguments: q.arguments });
  for (const b of topology.bindings) await channel.bindQueue(b.queue, b.exchange, b.routingKey);
  return topology;
}

/** Removes a namespace's topology (tests clean up after themselves with it). */
export async function deleteTopology(channel: Channel, namespace: string): Promise<void> {
  const topology = resolveTopology(namespace);
  for (const q of topology.queues) await channel.deleteQueue(q.name);
  for (const exchange of topology.exchanges) await channel.deleteExchange(exchange);
}
