/**
 * EventFlow's broker topology, derived from the service queues (subscriptions.ts) and the
 * partition counts of their consumers in the function catalog, with the kernel's machinery
 * (shared/messaging/topology.ts). The local runtime, the deploy-time topology function and the
 * CDK app all take it from here.
 */
import type { ChannelModel } from 'amqplib';
import { localBrokerAccess } from '../shared/config';
import { LOCAL_ENV } from '../shared/env';
import type { BrokerAccess } from '../shared/messaging/broker-admin';
import { drainQueue } from '../shared/messaging/dlq';
import { assertPartitionCount } from '../shared/messaging/routing';
import { applyTopology, partitionNames, removeTopology, topologyOf } from '../shared/messaging/topology';
import type { PartitionLayout as Layout, Topology } from '../shared/messaging/topology';
import { FUNCTIONS } from './catalog';
import { QUEUES, QUEUE_IDS } from './subscriptions';
import type { QueueId } from './subscriptions';

export { QUEUES, QUEUE_IDS };
export type { QueueId };

/** Partitions per service queue. */
export type PartitionLayout = Layout<QueueId>;

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
  return partitionNames(QUEUES[id].name, layout[id], namespace);
}

/** EventFlow's full broker topology, with names resolved in a namespace. Pure data. */
export function resolveTopology(namespace = '', layout: PartitionLayout = catalogLayout()): Topology {
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
  layout: PartitionLayout = catalogLayout(),
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
