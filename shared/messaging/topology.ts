import type { Channel, ChannelModel } from 'amqplib';
import { FUNCTIONS } from '../../functions/catalog';
import { brokerName, localBrokerAccess } from '../config';
import { LOCAL_ENV } from '../env';
import { PUBLISHERS, publisherOf } from '../events/types';
import type { EventType, Publisher } from '../events/types';
import { brokerAdmin, syncPolicies, type BrokerAccess } from './broker-admin';
import { brokerPolicies, parseBrokerVersion, policyPrefix } from './policies';
import { MAX_PARTITIONS, assertPartitionCount, bindingPattern, topicMatches } from './routing';

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
type Subscription = EventType | `${EventType}.${string}`;

interface QueueSpec {
  name: string;
  /** Event types (or type.detail) routed to this queue, or 'all' for every event of every exchange. */
  subscribes: readonly Subscription[] | 'all';
}

/** The service queues and what each receives. One consumer function per queue (see the function catalog). */
export const QUEUES = {
  order: {
    name: 'order_queue',
    subscribes: [
      'inventory.reserved',
      'inventory.reservation_failed',
      'inventory.released',
      // Stock moves on every reservation; the order service's catalog copy needs names and prices only.
      'inventory.updated.catalog',
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
    // Of the order's status changes, only shipping moves stock.
    subscribes: ['order.created', 'order.cancelled', 'order.updated.shipped', 'payment.failed'],
  },
  notification: { name: 'notification_queue', subscribes: 'all' },
} as const satisfies Record<string, QueueSpec>;

export type QueueId = keyof typeof QUEUES;
export const QUEUE_IDS = Object.keys(QUEUES) as QueueId[];

/** Deliveries after which RabbitMQ dead-letters a message that keeps failing its batch. */
export const DELIVERY_LIMIT = 5;

/** Partitions per queue. Each partition is a queue of its own with its own consumer (event source mapping). */
export type PartitionLayout = Record<QueueId, number>;

/** The catalog's partition counts: each queue consumer's trigger says how many. */
export function catalogLayout(): PartitionLayout {
  const layout = Object.fromEntries(QUEUE_IDS.map((id) => [id, 1])) as PartitionLayout;
  for (const spec of FUNCTIONS) if (spec.trigger.kind === 'queue') layout[spec.trigger.queue] = spec.trigger.partitions;
  for (const [id, n] of Object.entries(layout)) assertPartitionCount(n, id);
  return layout;
}

/**
 * The layout this deployment runs: the catalog's, overridden off Lambda by PARTITIONS, either one
 * count for every service queue ("4") or per queue ("order=2,inventory=4,payment=2,notification=1"),
 * for experiments (`npm run bench -- --env PARTITIONS=4`). The CDK app always deploys the catalog's.
 */
export function deploymentLayout(env: NodeJS.ProcessEnv = process.env): PartitionLayout {
  const layout = catalogLayout();
  const spec = env[LOCAL_ENV.partitions]?.trim();
  if (!spec) return layout;
  if (/^\d+$/.test(spec)) {
    for (const id of QUEUE_IDS) if (id !== 'notification') layout[id] = Number(spec);
  } else {
    for (const part of spec.split(',')) {
      const [id, n] = part.split('=').map((x) => x.trim());
      if (!QUEUE_IDS.includes(id as QueueId) || !n) throw new Error(`PARTITIONS: "${part}" is not <queue>=<count> with a queue among ${QUEUE_IDS.join(', ')}`);
      layout[id as QueueId] = Number(n);
    }
  }
  for (const [id, n] of Object.entries(layout)) assertPartitionCount(n, `PARTITIONS ${id}`);
  return layout;
}

/** The queue of each partition of a service queue: the base name alone for one partition, else `<base>.p<i>`. */
export function partitionQueues(id: QueueId, namespace = '', layout: PartitionLayout = catalogLayout()): string[] {
  const base = brokerName(QUEUES[id].name, namespace);
  const n = layout[id];
  return n === 1 ? [base] : Array.from({ length: n }, (_, i) => `${base}.p${i}`);
}

/** Every partition of a service queue dead-letters into one DLQ, named after the service queue. */
export function dlqOf(queue: string): string {
  return `${queue.replace(/\.p\d+$/, '')}.dlq`;
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

export interface Topology {
  exchanges: string[];
  queues: QueueDeclaration[];
  bindings: { queue: string; exchange: string; routingKey: string }[];
}

function parseSubscription(sub: Subscription): { type: EventType; detail?: string } {
  const [publisher, event, detail] = sub.split('.');
  return { type: `${publisher}.${event}` as EventType, detail };
}

/** The full broker topology, with names resolved in a namespace. Pure data: used locally and at deploy time. */
export function resolveTopology(namespace = '', layout: PartitionLayout = catalogLayout()): Topology {
  const exchangeOf = (p: Publisher) => brokerName(EXCHANGES[p], namespace);
  const topology: Topology = { exchanges: Object.values(EXCHANGES).map((e) => brokerName(e, namespace)), queues: [], bindings: [] };
  for (const id of QUEUE_IDS) {
    const spec: QueueSpec = QUEUES[id];
    const partitions = partitionQueues(id, namespace, layout);
    const dlq = dlqOf(partitions[0]!);
    partitions.forEach((name, index) => {
      topology.queues.push(workQueue(name));
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
function otherLayoutQueues(id: QueueId, namespace: string, current: string[]): { name: string; patterns: Topology['bindings'] }[] {
  const others: { name: string; patterns: Topology['bindings'] }[] = [];
  for (let n = 1; n <= MAX_PARTITIONS; n *= 2) {
    const layout = { ...catalogLayout(), [id]: n };
    const names = partitionQueues(id, namespace, layout).filter((q) => !current.includes(q));
    if (names.length === 0) continue;
    const bindings = resolveTopology(namespace, layout).bindings;
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
export async function declareTopology(
  connection: Pick<ChannelModel, 'createChannel'>,
  namespace = '',
  layout: PartitionLayout = catalogLayout(),
  access: BrokerAccess = localBrokerAccess(),
): Promise<Topology & { retired: string[]; stranded: { queue: string; messages: number }[] }> {
  const topology = resolveTopology(namespace, layout);
  const channel = await connection.createChannel();
  let version: string;
  try {
    version = String(channel.connection.serverProperties.version ?? '');
    for (const exchange of topology.exchanges) await channel.assertExchange(exchange, 'topic', { durable: true });
    for (const q of topology.queues) await assertQueue(channel, q);
    for (const b of topology.bindings) await channel.bindQueue(b.queue, b.exchange, b.routingKey);
  } finally {
    await channel.close().catch(() => undefined);
  }
  const retired: string[] = [];
  const stranded: { queue: string; messages: number }[] = [];
  for (const id of QUEUE_IDS) {
    for (const old of otherLayoutQueues(id, namespace, partitionQueues(id, namespace, layout))) {
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

/** Removes a namespace's topology and its policies, whatever its partition layout (tests clean up after themselves with it). */
export async function deleteTopology(
  connection: Pick<ChannelModel, 'createChannel'>,
  namespace: string,
  access: BrokerAccess = localBrokerAccess(),
): Promise<void> {
  const channel = await connection.createChannel();
  try {
    for (const id of QUEUE_IDS) {
      const names = new Set<string>();
      for (let n = 1; n <= MAX_PARTITIONS; n *= 2) for (const q of partitionQueues(id, namespace, { ...catalogLayout(), [id]: n })) names.add(q);
      names.add(dlqOf(brokerName(QUEUES[id].name, namespace)));
      for (const q of names) await channel.deleteQueue(q);
    }
    for (const exchange of resolveTopology(namespace).exchanges) await channel.deleteExchange(exchange);
  } finally {
    await channel.close().catch(() => undefined);
  }
  await syncPolicies(brokerAdmin(access), policyPrefix(namespace), []);
}
