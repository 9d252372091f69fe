/**
 * What an upgrade of the broker topology must do beyond declaring the new one, decided from what
 * the broker holds. Pure: applyTopology (topology.ts) reads the broker and carries the plan out.
 *
 * - A queue of a service that the new topology no longer has (the unpartitioned `order_queue` of
 *   an earlier release, partition p3 when four become two) is retired: its bindings go, its waiting
 *   messages move to the partitions that own them now, and it is deleted once seen empty and unused.
 * - A partition the new topology keeps but whose share of the orders changed (two partitions become
 *   four: p1 held the buckets 1xxx and now owns 01xx) loses its old bindings, and its waiting
 *   messages are sorted again: each to the partition that owns it now.
 * - Any other binding of the namespace's exchanges to these queues that the new topology does not
 *   have (an earlier release bound the bare event type) goes.
 */
import type { QueueBinding } from './broker-admin';
import type { Topology } from './topology';

export interface UpgradeMove {
  /** The queue whose waiting messages move. */
  from: string;
  /** The service queue's partitions now: each message goes to the one that owns its order. */
  partitions: string[];
  /** A queue the new topology no longer has: deleted once empty and unused. */
  retire: boolean;
}

export interface UpgradePlan {
  unbind: QueueBinding[];
  moves: UpgradeMove[];
}

/** A service queue: its partitions now, and every name its partitions have had in any layout. */
export interface ServiceQueueNames {
  partitions: string[];
  everyLayout: string[];
}

const keyOf = (b: QueueBinding) => `${b.exchange}\u0000${b.queue}\u0000${b.routingKey}`;

/**
 * The plan: `existingQueues`, which of the service queues' names of any layout exist on the broker;
 * `bindings`, the broker's bindings (any namespace: only these queues' are considered).
 */
export function planUpgrade(
  topology: Topology,
  services: readonly ServiceQueueNames[],
  existingQueues: ReadonlySet<string>,
  bindings: readonly QueueBinding[],
): UpgradePlan {
  const wanted = new Set(topology.bindings.map(keyOf));
  // Only bindings from this namespace's own exchanges: the default exchange's are implicit, and another namespace's are not ours.
  const exchanges = new Set(topology.exchanges.map((e) => e.name));
  const topicExchanges = new Set(topology.exchanges.filter((e) => e.type === 'topic').map((e) => e.name));
  const plan: UpgradePlan = { unbind: [], moves: [] };
  for (const { partitions, everyLayout } of services) {
    const retired = [...new Set(everyLayout)].filter((q) => !partitions.includes(q) && existingQueues.has(q));
    const ours = new Set([...partitions, ...retired]);
    const stale = bindings.filter((b) => ours.has(b.queue) && exchanges.has(b.exchange) && !wanted.has(keyOf(b)));
    plan.unbind.push(...stale);
    // A kept partition holds another share of the orders only if there are several now and it was
    // bound to the events of another share; with one partition, every message is its own.
    if (partitions.length > 1) {
      for (const q of partitions) {
        if (stale.some((b) => b.queue === q && topicExchanges.has(b.exchange))) plan.moves.push({ from: q, partitions, retire: false });
      }
    }
    for (const q of retired) plan.moves.push({ from: q, partitions, retire: true });
  }
  return plan;
}
