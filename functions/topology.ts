/**
 * EventFlow's broker topology, derived from the service queues (subscriptions.ts) and a partition
 * layout (how many queues each service queue is split into), with the kernel's machinery
 * (shared/messaging/topology.ts). The local runtime, the deploy-time topology function and the
 * CDK app all take it from here. The layout is a per-environment setting (lib/settings.ts): the
 * CDK app hands it to the functions in PARTITIONS; off Lambda PARTITIONS may override the dev one.
 */
import type { ChannelModel } from 'amqplib';
import { localBrokerAccess } from '../shared/config';
import { LOCAL_ENV, onLambda } from '../shared/env';
import type { BrokerAccess } from '../shared/messaging/broker-admin';
import { drainQueue } from '../shared/messaging/dlq';
import { assertPartitionCount } from '../shared/messaging/routing';
import { applyTopology, partitionNames, removeTopology, topologyOf } from '../shared/messaging/topology';
import type { PartitionLayout as Layout, Topology } from '../shared/messaging/topology';
import { QUEUES, QUEUE_IDS } from './subscriptions';
import type { QueueId } from './subscriptions';

export { QUEUES, QUEUE_IDS };
export type { QueueId };

/** Partitions per service queue. */
export type PartitionLayout = Layout<QueueId>;

/**
 * Partitions per service queue in dev, and so in the local runtime unless PARTITIONS says
 * otherwise: one consumer each is plenty for a test-sized deployment, and one event source mapping
 * per queue keeps dev's broker connections and ENIs few. Prod's count is in lib/settings.ts.
 */
export const DEFAULT_PARTITIONS = 1;

/**
 * The same count for every service queue but notification's, which stays at one: its consumer's
 * fan-out is ordered per connection, not per aggregate.
 */
export function uniformLayout(partitions: number): PartitionLayout {
  const layout = Object.fromEntries(QUEUE_IDS.map((id) => [id, id === 'notification' ? 1 : partitions])) as PartitionLayout;
  for (const [id, n] of Object.entries(layout)) assertPartitionCount(n, id);
  return layout;
}

/**
 * A layout from its text: one count for every service queue ("4", see uniformLayout) or per queue
 * ("order=2,inventory=4,payment=2,notification=1", the queues not named keep one partition).
 */
export function parseLayout(spec: string, what: string = LOCAL_ENV.partitions): PartitionLayout {
  const text = spec.trim();
  if (/^\d+$/.test(text)) return uniformLayout(Number(text));
  const layout = uniformLayout(1);
  for (const part of text.split(',')) {
    const [id, n] = part.split('=').map((x) => x.trim());
    if (!QUEUE_IDS.includes(id as QueueId) || !n) throw new Error(`${what}: "${part}" is not <queue>=<count> with a queue among ${QUEUE_IDS.join(', ')}`);
    layout[id as QueueId] = Number(n);
  }
  for (const [id, n] of Object.entries(layout)) assertPartitionCount(n, `${what} ${id}`);
  return layout;
}

/** The text parseLayout reads back: what the CDK app puts in PARTITIONS. */
export function formatLayout(layout: PartitionLayout): string {
  return QUEUE_IDS.map((id) => `${id}=${layout[id]}`).join(',');
}

/**
 * The layout this deployment runs: PARTITIONS when set (on Lambda the CDK app always sets it,
 * from the environment's settings, and a function without it fails at cold start), else the dev
 * preset. Off Lambda PARTITIONS is for experiments (`npm run bench -- --env PARTITIONS=4`).
 */
export function deploymentLayout(env: NodeJS.ProcessEnv = process.env): PartitionLayout {
  const spec = env[LOCAL_ENV.partitions]?.trim();
  if (spec) return parseLayout(spec);
  if (onLambda(env)) throw new Error(`${LOCAL_ENV.partitions} is not set: the CDK app sets it on every function that uses the broker`);
  return uniformLayout(DEFAULT_PARTITIONS);
}

/** The queue of each partition of a service queue: the base name alone for one partition, else `<base>.p<i>`. */
export function partitionQueues(id: QueueId, namespace = '', layout: PartitionLayout = deploymentLayout()): string[] {
  return partitionNames(QUEUES[id].name, layout[id], namespace);
}

/** EventFlow's full broker topology, with names resolved in a namespace. Pure data. */
export function resolveTopology(namespace = '', layout: PartitionLayout = deploymentLayout()): Topology {
  return topologyOf(QUEUES, layout, namespace);
}

/**
 * Declares EventFlow's topology and its policies on the broker, and upgrades an earlier one (see
 * applyTopology). `connection` is the deploy-time administrator's: only it may declare, bind and
 * delete. Messages waiting in queues of an earlier topology move over `mover`, a connection of the
 * DLQ tools' user (functions/identities.ts): it may read every partition of any layout and write
 * to the queues' redrive exchanges only, and, an impersonator, sends each message on as the
 * service that published it, so that the consumers' sender check holds for moved messages too.
 */
export async function declareTopology(
  connection: Pick<ChannelModel, 'createChannel'>,
  namespace = '',
  layout: PartitionLayout = deploymentLayout(),
  access: BrokerAccess = localBrokerAccess(),
  mover?: Pick<ChannelModel, 'createConfirmChannel'>,
) {
  if (!mover) return applyTopology(connection, QUEUES, layout, namespace, access);
  const channel = await mover.createConfirmChannel();
  try {
    return await applyTopology(connection, QUEUES, layout, namespace, access, (from, partitions) => drainQueue(channel, from, partitions));
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** Removes a namespace's topology and its policies, whatever its partition layout (tests clean up after themselves with it). */
export function deleteTopology(connection: Pick<ChannelModel, 'createChannel'>, namespace: string, access: BrokerAccess = localBrokerAccess()): Promise<void> {
  return removeTopology(connection, QUEUES, namespace, access);
}
