/**
 * Where a replay of a service's log to one queue goes: the queue's own bindings for that service's
 * events (functions/subscriptions.ts), bound instead to an exchange made for the replay, so each
 * event reaches that queue alone, in the partition of its order, exactly as when it was first
 * published, and events the queue does not receive go nowhere.
 */
import type { ServiceName } from '../../shared/config';
import { brokerName } from '../../shared/config';
import { EVENT_TYPES, publisherOf } from '../../shared/events/types';
import type { EventType } from '../../shared/events/types';
import { EXCHANGES } from '../../shared/messaging/topology';
import type { ReplayRoute } from '../../shared/history/replay';
import { QUEUES, deploymentLayout, resolveTopology } from '../topology';
import type { QueueId } from '../topology';

/** The exchange a replay publishes to (removed when it ends). */
export const replayExchange = (runId: string, namespace: string) => brokerName(`replay.${runId}`, namespace);

export function replayRoute(service: ServiceName, queue: QueueId, runId: string, namespace: string): ReplayRoute {
  const exchange = brokerName(EXCHANGES[service], namespace);
  const partitions = new Set(resolveTopology(namespace, deploymentLayout()).queues.map((q) => q.name));
  const bindings = resolveTopology(namespace, deploymentLayout())
    .bindings.filter((b) => b.exchange === exchange && partitions.has(b.queue) && b.queue.startsWith(brokerName(QUEUES[queue].name, namespace)))
    .map((b) => ({ queue: b.queue, pattern: b.routingKey }));
  return { exchange: replayExchange(runId, namespace), bindings };
}

/** The event types of a service that a queue receives (of `types`, when given). */
export function replayableTypes(service: ServiceName, queue: QueueId, types?: readonly EventType[]): EventType[] {
  const subs = QUEUES[queue].subscribes;
  return (types?.length ? types : EVENT_TYPES.filter((t) => publisherOf(t) === service)).filter(
    (t) => publisherOf(t) === service && (subs === 'all' || subs.some((s) => s === t || s.startsWith(`${t}.`))),
  );
}
