/**
 * Broker topology machinery: exchanges, partitioned quorum queues, their DLQs and bindings, resolved
 * from a description of the queues (what each receives) and a partition layout, and declared on a
 * broker. Which queues EventFlow has is the function catalog's business (functions/topology.ts).
 */
import type { Channel, ChannelModel } from 'amqplib';
import { brokerName } from '../config';
import { PUBLISHERS, publisherOf } from '../events/types';
import type { EventType, Publisher } from '../events/types';
import { brokerAdmin, syncPolicies, type BrokerAccess } from './broker-admin';
import { brokerPolicies, parseBrokerVersion, policyPrefix } from './policies';
import { MAX_PARTITIONS, bindingPattern, topicMatches } from './routing';

/** Each publishing service owns one topic exchange; the routing key is the event type. */
export const EXCHANGES: Record<Publisher, string> = {
  order: 'order_exchange',
  payment: 'payment_exchange',
  inventory: 'inventory_exchange',
};

/**
 * What a queue receives: an event type, optionally narrowed to one routing detail (see routing.ts),
 * written `type` or `type.detail`.
 */
export type Subscription = EventType | `${EventType}.${string}`;

export interface QueueSpec {
  name: string;
  /** Event types (or type.detail) routed to this queue, or 'all' for every event of every exchange. */
  subscribes: readonly Subscription[] | 'all';
}

/** Queues by id. */
export type QueueSpecs = Record<string, QueueSpec>;

/** Deliveries after which RabbitMQ dead-letters a message that keeps failing its batch. */
export const DELIVERY_LIMIT = 5;

/** Partitions per queue id. Each partition is a queue of its own with its own consumer (event source mapping). */
export type PartitionLayout<Q extends string = string> = Record<Q, number>;

/** The queue of each of n partitions of a queue: the base name alone for one partition, else `<base>.p<i>`. */
export function partitionNames(base: string, n: number, namespace = ''): string[] {
  const name = brokerName(base, namespace);
  return n === 1 ? [name] : Array.from({ length: n }, (_, i) => `${name}.p${i}`);
}

/** The service queue a partition belongs to (a queue of one partition is its own). */
const serviceQueueOf = (queue: string) => queue.replace(/\.p\d+$/, '');

/** Every partition of a service queue dead-letters into one DLQ, named after the service queue. */
export function dlqOf(queue: string): string {
  return `${serviceQueueOf(queue)}.dlq`;
}

/**
 * The exchange a service queue's consumer parks poison messages through (fanout into its DLQ).
 * Parking goes through an exchange of its own, not the default exchange, because a permission to
 * write to the default exchange (amq.default) is a permission to write to every queue of the vhost.
 */
export function parkExchangeOf(queue: string): string {
  return `${serviceQueueOf(queue)}.park`;
}

/**
 * The exchange operators send a DLQ's messages back to work through (direct, each partition bound
 * with its own name as the routing key): like parking, so that the DLQ tools can write to this
 * service queue's partitions and to nothing else.
 */
export function redriveExchangeOf(queue: string): string {
  return `${serviceQueueOf(queue)}.redrive`;
}

export interface QueueDeclaration {
  name: string;
  /** Fixed once the queue exists: only what can never change (its type). */
  arguments: Record<string, unknown>;
  /** Applied as a broker policy (shared/messaging/policies.ts), so a deploy can change it on a live queue. */
  policy: { kind: 'work'; deliveryLimit: number; deadLetterQueue: string } | { kind: 'dead-letter' };
}

/** A partition queue: delivery limit and dead-lettering into its service's DLQ, by policy. */
const workQueue = (name: string): QueueDeclaration => ({
  name,
  arguments: { 'x-queue-type': 'quorum' },
  policy: { kind: 'work', deliveryLimit: DELIVERY_LIMIT, deadLetterQueue: dlqOf(name) },
});

export interface ExchangeDeclaration {
  name: string;
  type: 'topic' | 'fanout' | 'direct';
}

export interface Topology {
  exchanges: ExchangeDeclaration[];
  queues: QueueDeclaration[];
  bindings: { queue: string; exchange: string; routingKey: string }[];
}

function parseSubscription(sub: Subscription): { type: EventType; detail?: string } {
  const [publisher, event, detail] = sub.split('.');
  return { type: `${publisher}.${event}` as EventType, detail };
}

/** The full broker topology of these queues, with names resolved in a namespace. Pure data: used locally and at deploy time. */
export function topologyOf(queues: QueueSpecs, layout: PartitionLayout, namespace = ''): Topology {
  const exchangeOf = (p: Publisher) => brokerName(EXCHANGES[p], namespace);
  const topology: Topology = { exchanges: Object.values(EXCHANGES).map((e) => ({ name: brokerName(e, namespace), type: 'topic' })), queues: [], bindings: [] };
  for (const [id, spec] of Object.entries(queues)) {
    const partitions = partitionNames(spec.name, layout[id] ?? 1, namespace);
    const dlq = dlqOf(partitions[0]!);
    const park = parkExchangeOf(partitions[0]!);
    const redrive = redriveExchangeOf(partitions[0]!);
    topology.exchanges.push({ name: park, type: 'fanout' }, { name: redrive, type: 'direct' });
    topology.bindings.push({ queue: dlq, exchange: park, routingKey: '' });
    partitions.forEach((name, index) => {
      topology.queues.push(workQueue(name));
      topology.bindings.push({ queue: name, exchange: redrive, routingKey: name });
      const subs =
        spec.subscribes === 'all'
          ? PUBLISHERS.map((p) => ({ exchange: exchangeOf(p), sub: { type: '*' } }))
          : spec.subscribes.map((s) => {
              const sub = parseSubscription(s);
              return { exchange: exchangeOf(publisherOf(sub.type)), sub };
            });
      for (const { exchange, sub } of subs) {
        topology.bindings.push({ queue: name, exchange, routingKey: bindingPattern(sub, index, partitions.length) });
      }
    });
    topology.queues.push({ name: dlq, arguments: { 'x-queue-type': 'quorum' }, policy: { kind: 'dead-letter' } });
  }
  return topology;
}

/** The queues an event published with this routing key reaches (for tests and delivery counts). */
export function queuesReached(topology: Topology, exchange: string, routingKey: string): string[] {
  return [...new Set(topology.bindings.filter((b) => b.exchange === exchange && topicMatches(b.routingKey, routingKey)).map((b) => b.queue))];
}

/** Every layout a queue could have had: for retiring the partitions of another layout. */
function otherLayoutQueues(queues: QueueSpecs, id: string, layout: PartitionLayout, namespace: string): { name: string; patterns: Topology['bindings'] }[] {
  const current = partitionNames(queues[id]!.name, layout[id] ?? 1, namespace);
  const others: { name: string; patterns: Topology['bindings'] }[] = [];
  for (let n = 1; n <= MAX_PARTITIONS; n *= 2) {
    const names = partitionNames(queues[id]!.name, n, namespace).filter((q) => !current.includes(q));
    if (names.length === 0) continue;
    const bindings = topologyOf({ [id]: queues[id]! }, { [id]: n }, namespace).bindings;
    for (const name of names) others.push({ name, patterns: bindings.filter((b) => b.queue === name) });
  }
  return others;
}

/**
 * Declares exchanges, queues, DLQs, bindings and the namespace's broker policies (delivery limit,
 * dead-lettering; see policies.ts), chosen for the broker's version as its AMQP connection reports
 * it. Idempotent: safe on every start and every deploy.
 * Partitions of another layout (the partition count changed) stop receiving events: their bindings
 * go, and the queue goes too once empty; one still holding messages is kept and reported, for its
 * messages to be moved (`npm run dlq -- drain <queue>`), and keeps its policy meanwhile.
 */
export async function applyTopology(
  connection: Pick<ChannelModel, 'createChannel'>,
  queues: QueueSpecs,
  layout: PartitionLayout,
  namespace: string,
  access: BrokerAccess,
): Promise<Topology & { retired: string[]; stranded: { queue: string; messages: number }[] }> {
  const topology = topologyOf(queues, layout, namespace);
  const channel = await connection.createChannel();
  let version: string;
  try {
    version = String(channel.connection.serverProperties.version ?? '');
    for (const exchange of topology.exchanges) await channel.assertExchange(exchange.name, exchange.type, { durable: true });
    for (const q of topology.queues) await assertQueue(channel, q);
    for (const b of topology.bindings) await channel.bindQueue(b.queue, b.exchange, b.routingKey);
  } finally {
    await channel.close().catch(() => undefined);
  }
  const retired: string[] = [];
  const stranded: { queue: string; messages: number }[] = [];
  for (const id of Object.keys(queues)) {
    for (const old of otherLayoutQueues(queues, id, layout, namespace)) {
      const messages = await existingQueueDepth(connection, old.name);
      if (messages === null) continue;
      const ch = await connection.createChannel();
      try {
        for (const b of old.patterns) await ch.unbindQueue(b.queue, b.exchange, b.routingKey);
        if (messages === 0) {
          await ch.deleteQueue(old.name, { ifEmpty: true });
          retired.push(old.name);
        } else {
          stranded.push({ queue: old.name, messages });
        }
      } finally {
        await ch.close().catch(() => undefined);
      }
    }
  }
  // Consumers start only once this returns (the local runtime; on AWS the event source mappings
  // depend on the deploy-time resource that runs it), so no queue is read before its policy holds.
  const governed = { ...topology, queues: [...topology.queues, ...stranded.map((s) => workQueue(s.queue))] };
  await syncPolicies(brokerAdmin(access), policyPrefix(namespace), brokerPolicies(governed, namespace, parseBrokerVersion(version)));
  return { ...topology, retired, stranded };
}

async function assertQueue(channel: Channel, q: QueueDeclaration): Promise<void> {
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

/** A queue's depth, or null if it does not exist (a passive declare of a missing queue closes its channel). */
async function existingQueueDepth(connection: Pick<ChannelModel, 'createChannel'>, queue: string): Promise<number | null> {
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

/** Removes these queues' topology in a namespace and its policies, whatever its partition layout (tests clean up after themselves with it). */
export async function removeTopology(
  connection: Pick<ChannelModel, 'createChannel'>,
  queues: QueueSpecs,
  namespace: string,
  access: BrokerAccess,
): Promise<void> {
  const channel = await connection.createChannel();
  try {
    for (const spec of Object.values(queues)) {
      const names = new Set<string>();
      for (let n = 1; n <= MAX_PARTITIONS; n *= 2) for (const q of partitionNames(spec.name, n, namespace)) names.add(q);
      names.add(dlqOf(brokerName(spec.name, namespace)));
      for (const q of names) await channel.deleteQueue(q);
      await channel.deleteExchange(parkExchangeOf(brokerName(spec.name, namespace)));
      await channel.deleteExchange(redriveExchangeOf(brokerName(spec.name, namespace)));
    }
    for (const exchange of Object.values(EXCHANGES)) await channel.deleteExchange(brokerName(exchange, namespace));
  } finally {
    await channel.close().catch(() => undefined);
  }
  await syncPolicies(brokerAdmin(access), policyPrefix(namespace), []);
}
