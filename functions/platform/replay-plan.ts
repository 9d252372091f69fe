/**
 * Where a replay of a service's log to one queue goes: the queue's redrive exchange (direct, each
 * partition bound with its own name), the exchange the DLQ tools already send through, so the
 * replay needs no exchange or binding of its own (the operator's broker user may configure
 * nothing: functions/identities.ts). Each event goes to the partition of its order, as when it
 * was first published, as its original sender (the operator user may publish as another); the
 * queue's own bindings for that service's events (functions/subscriptions.ts) say which events it
 * receives at all, and the rest go nowhere.
 */
import type { ServiceName } from '../../shared/config';
import { brokerName } from '../../shared/config';
import { EVENT_TYPES, publisherOf } from '../../shared/events/types';
import type { EventType } from '../../shared/events/types';
import { EXCHANGES, redriveExchangeOf } from '../../shared/messaging/topology';
import type { ReplayRoute } from '../../shared/history/replay';
import { brokerUserOf } from '../identities';
import { QUEUES, deploymentLayout, partitionQueues, resolveTopology } from '../topology';
import type { QueueId } from '../topology';

export function replayRoute(service: ServiceName, queue: QueueId, namespace: string): ReplayRoute {
  const exchange = brokerName(EXCHANGES[service], namespace);
  const partitions = partitionQueues(queue, namespace, deploymentLayout());
  const patterns = resolveTopology(namespace, deploymentLayout())
    .bindings.filter((b) => b.exchange === exchange && partitions.includes(b.queue))
    .map((b) => b.routingKey);
  return { exchange: redriveExchangeOf(partitions[0]!), partitions, patterns, sender: brokerUserOf(service, namespace) };
}

/** The event types of a service that a queue receives (of `types`, when given). */
export function replayableTypes(service: ServiceName, queue: QueueId, types?: readonly EventType[]): EventType[] {
  const subs = QUEUES[queue].subscribes;
  return (types?.length ? types : EVENT_TYPES.filter((t) => publisherOf(t) === service)).filter(
    (t) => publisherOf(t) === service && (subs === 'all' || subs.some((s) => s === t || s.startsWith(`${t}.`))),
  );
}
