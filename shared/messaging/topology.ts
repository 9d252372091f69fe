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
import { planUpgrade } from './upgrade';

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

/** Every name a service queue's partitions have had in any layout (1, 2, 4 … MAX_PARTITIONS). */
function everyLayoutName(base: string, namespace: string): string[] {
  const names = new Set<string>();
  for (let n = 1; n <= MAX_PARTITIONS; n *= 2) for (const q of partitionNames(base, n, namespace)) names.add(q);
  return [...names];
}

/**
 * Moves the messages waiting in `from` (those there when it starts) to `partitions`, each to the
 * partition that owns it, each leaving `from` only once its copy is confirmed; returns how many.
 * Given by the caller, who knows which broker user may do it (shared/messaging/dlq.ts drainQueue).
 */
export type MessageMover = (from: string, partitions: string[]) => Promise<number>;

export interface AppliedTopology extends Topology {
  /** Queues of an earlier topology, emptied and deleted. */
  retired: string[];
  /** Messages moved, by the queue they came from. */
  moved: { queue: string; messages: number }[];
  /** Queues of an earlier topology left in place: still holding messages, or still consumed (an old consumer may yet return some). */
  stranded: { queue: string; messages: number; consumers: number }[];
}

/**
 * Declares exchanges, queues, DLQs, bindings and the namespace's broker policies (delivery limit,
 * dead-lettering; see policies.ts), chosen for the broker's version as its AMQP connection reports
 * it, and upgrades what an earlier topology left (upgrade.ts): queues it no longer has and
 * partitions whose share of the orders changed have their waiting messages moved to the partitions
 * that own them now (by `move`), their old bindings removed, and a queue it no longer has is deleted
 * once verified empty and unused. Moving runs twice, before and after the old bindings go, for what
 * they routed meanwhile; a crash part-way leaves the old bindings or the old queue, so the next run
 * finishes the work. Without `move`, nothing is moved and a queue holding messages is stranded.
 * Idempotent: safe on every start and every deploy.
 */
export async function applyTopology(
  connection: Pick<ChannelModel, 'createChannel'>,
  queues: QueueSpecs,
  layout: PartitionLayout,
  namespace: string,
  access: BrokerAccess,
  move?: MessageMover,
): Promise<AppliedTopology> {
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
  const admin = brokerAdmin(access);
  const services = Object.entries(queues).map(([id, spec]) => ({
    partitions: partitionNames(spec.name, layout[id] ?? 1, namespace),
    everyLayout: everyLayoutName(spec.name, namespace),
  }));
  const existing = new Set<string>();
  for (const { partitions, everyLayout } of services) {
    for (const q of everyLayout) if (!partitions.includes(q) && (await queueState(connection, q))) existing.add(q);
  }
  const plan = planUpgrade(topology, services, existing, await admin.listBindings());

  const moved = new Map<string, number>();
  const moveAll = async () => {
    if (!move) return;
    for (const m of plan.moves) {
      const n = await move(m.from, m.partitions);
      if (n) moved.set(m.from, (moved.get(m.from) ?? 0) + n);
    }
  };
  await moveAll();
  if (plan.unbind.length) {
    const ch = await connection.createChannel();
    try {
      for (const b of plan.unbind) await ch.unbindQueue(b.queue, b.exchange, b.routingKey);
    } finally {
      await ch.close().catch(() => undefined);
    }
  }
  await moveAll();

  const retired: string[] = [];
  const stranded: AppliedTopology['stranded'] = [];
  for (const m of plan.moves.filter((x) => x.retire)) {
    const state = await queueState(connection, m.from);
    if (!state) continue;
    if (state.messages === 0 && state.consumers === 0) {
      // Quorum queues refuse queue.delete with if-empty (540 NOT_IMPLEMENTED, on 3.10 and 4.x alike:
      // docs/decisions.md), so emptiness is verified just before instead; with its bindings gone and
      // no consumer, nothing can put a message back into it meanwhile.
      const ch = await connection.createChannel();
      try {
        await ch.deleteQueue(m.from);
      } finally {
        await ch.close().catch(() => undefined);
      }
      retired.push(m.from);
    } else {
      stranded.push({ queue: m.from, ...state });
    }
  }
  // Consumers start only once this returns (the local runtime; on AWS the event source mappings
  // depend on the deploy-time resource that runs it), so no queue is read before its policy holds.
  const governed = { ...topology, queues: [...topology.queues, ...stranded.map((s) => workQueue(s.queue))] };
  await syncPolicies(admin, policyPrefix(namespace), brokerPolicies(governed, namespace, parseBrokerVersion(version)));
  return { ...topology, retired, stranded, moved: [...moved].map(([queue, messages]) => ({ queue, messages })) };
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

/** A queue's ready messages and consumers, or null if it does not exist (a passive declare of a missing queue closes its channel). */
async function queueState(connection: Pick<ChannelModel, 'createChannel'>, queue: string): Promise<{ messages: number; consumers: number } | null> {
  const ch = await connection.createChannel();
  ch.on('error', () => undefined);
  try {
    const { messageCount, consumerCount } = await ch.checkQueue(queue);
    return { messages: messageCount, consumers: consumerCount };
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
