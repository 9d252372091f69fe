import type { Channel } from 'amqplib';
import { brokerName, localBrokerAccess } from '../config';
import type { EventType, Publisher } from '../events/types';
import { brokerAdmin, syncPolicies, type BrokerAccess } from './broker-admin';
import { brokerPolicies, parseBrokerVersion, policyPrefix } from './policies';

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
  /** Fixed once the queue exists: only what can never change (its type). */
  arguments: Record<string, unknown>;
  /** Applied as a broker policy (shared/messaging/policies.ts), so a deploy can change it on a live queue. */
  policy: { kind: 'work'; deliveryLimit: number; deadLetterQueue: string } | { kind: 'dead-letter' };
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
      arguments: { 'x-queue-type': 'quorum' },
      policy: { kind: 'work', deliveryLimit: DELIVERY_LIMIT, deadLetterQueue: dlqOf(name) },
    });
    topology.queues.push({ name: dlqOf(name), arguments: { 'x-queue-type': 'quorum' }, policy: { kind: 'dead-letter' } });
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

/**
 * Declares exchanges, queues, DLQs, bindings and the namespace's broker policies (delivery limit,
 * dead-lettering), chosen for the broker's version as its AMQP connection reports it. Idempotent:
 * safe on every start and every deploy.
 */
export async function declareTopology(channel: Channel, namespace = '', access: BrokerAccess = localBrokerAccess()): Promise<Topology> {
  const topology = resolveTopology(namespace);
  const version = parseBrokerVersion(String(channel.connection.serverProperties.version ?? ''));
  // Policies first: a queue then never runs a moment without its delivery limit and dead-lettering.
  await syncPolicies(brokerAdmin(access), policyPrefix(namespace), brokerPolicies(topology, namespace, version));
  for (const exchange of topology.exchanges) await channel.assertExchange(exchange, 'topic', { durable: true });
  for (const q of topology.queues) {
    await channel.assertQueue(q.name, { durable: true, arguments: q.arguments }).catch((err: Error) => {
      throw /inequivalent arg 'x-(delivery-limit|dead-letter)/.test(err.message)
        ? new Error(
            `queue ${q.name} was declared by an earlier version with x-delivery-limit/x-dead-letter-* arguments, ` +
              'which now come from broker policies; once it is empty, delete it (rabbitmqctl delete_queue) and start again',
            { cause: err },
          )
        : err;
    });
  }
  for (const b of topology.bindings) await channel.bindQueue(b.queue, b.exchange, b.routingKey);
  return topology;
}

/** Removes a namespace's topology and its policies (tests clean up after themselves with it). */
export async function deleteTopology(channel: Channel, namespace: string, access: BrokerAccess = localBrokerAccess()): Promise<void> {
  const topology = resolveTopology(namespace);
  for (const q of topology.queues) await channel.deleteQueue(q.name);
  for (const exchange of topology.exchanges) await channel.deleteExchange(exchange);
  await syncPolicies(brokerAdmin(access), policyPrefix(namespace), []);
}
