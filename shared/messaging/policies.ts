/**
 * The broker policies a namespace's queues need, derived from its topology. Pure data: the code
 * that applies them is shared/messaging/broker-admin.ts.
 *
 * Delivery limits and dead-lettering live in policies, not in queue arguments, because arguments
 * are fixed when a queue is first declared (a new value fails the declaration with
 * PRECONDITION_FAILED) while a policy can change on a live broker.
 */
import type { Topology } from './topology';

export interface BrokerVersion {
  major: number;
  minor: number;
  patch: number;
}

export interface BrokerPolicy {
  name: string;
  /** Anchored regular expression matching exactly this namespace's queues it is for. */
  pattern: string;
  applyTo: 'queues' | 'quorum_queues';
  priority: number;
  definition: Record<string, string | number>;
}

/**
 * Only the highest-priority policy applies to a queue. Amazon MQ's own default policies use
 * priority 0 (single instance) and 1 (cluster); ours must win on our queues.
 */
export const POLICY_PRIORITY = 10;

/**
 * Names of a namespace's policies start with this. The empty namespace is "_", which no
 * namespace can be (they start with a letter), so one namespace's prefix never matches another's.
 */
export function policyPrefix(namespace: string): string {
  return `eventflow.${namespace || '_'}.`;
}

/** "3.10.8", "4.2.1", "4.2" (an engine version as Amazon MQ names it). */
export function parseBrokerVersion(version: string): BrokerVersion {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!m) throw new Error(`cannot read a RabbitMQ version from "${version}"`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

const atLeast = (v: BrokerVersion, major: number, minor: number) => v.major > major || (v.major === major && v.minor >= minor);

/**
 * What a broker version accepts, read in rabbitmq-server's source:
 * - `delivery-limit` policy values: 3.10 to 3.13 accept integers >= 0 only
 *   (deps/rabbit/src/rabbit_policies.erl, validate_policy0); from 4.0 any integer, and a negative
 *   one means no limit (rabbit_fifo.erl init: a negative delivery_limit becomes undefined).
 *   4.0 also made 20 the default limit of every quorum queue (rabbit_quorum_queue.erl,
 *   DEFAULT_DELIVERY_LIMIT); 3.x quorum queues have none unless one is set.
 * - `apply-to: quorum_queues` exists from 3.12 (rabbit_policy.erl, apply_to_validation);
 *   Amazon MQ asks for it on quorum-queue policies. Before 3.12 only `queues`.
 */
export function brokerFeatures(version: BrokerVersion) {
  return {
    unlimitedDeliveryLimit: version.major >= 4,
    quorumQueuesApplyTo: atLeast(version, 3, 12),
  };
}

const escape = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = (names: string[]) => (names.length === 1 ? `^${escape(names[0]!)}$` : `^(?:${names.map(escape).join('|')})$`);

/**
 * The policies of one namespace on a broker of the given version:
 * - each work queue gets its own: its delivery limit, then dead-lettering to its DLQ through the
 *   default exchange, `at-least-once` (the broker keeps the message until the DLQ has confirmed
 *   it; RabbitMQ requires `overflow: reject-publish` for that, else it falls back to at-most-once);
 * - all dead-letter queues share one: `overflow: reject-publish`, so a length limit from an
 *   operator policy makes dead-lettering wait instead of dropping the oldest parked messages, and,
 *   where the broker has a default delivery limit (4.x), no limit at all, so that looking at a
 *   DLQ (get, then return) never drops what it holds.
 */
export function brokerPolicies(topology: Topology, namespace: string, version: BrokerVersion): BrokerPolicy[] {
  const features = brokerFeatures(version);
  const prefix = policyPrefix(namespace);
  const applyTo = features.quorumQueuesApplyTo ? 'quorum_queues' : 'queues';
  const policies: BrokerPolicy[] = [];
  const deadLetterQueues: string[] = [];
  for (const queue of topology.queues) {
    const p = queue.policy;
    if (p.kind === 'dead-letter') {
      deadLetterQueues.push(queue.name);
      continue;
    }
    policies.push({
      name: `${prefix}${queue.name}`,
      pattern: exactly([queue.name]),
      applyTo,
      priority: POLICY_PRIORITY,
      definition: {
        'delivery-limit': p.deliveryLimit,
        'dead-letter-exchange': '',
        'dead-letter-routing-key': p.deadLetterQueue,
        'dead-letter-strategy': 'at-least-once',
        overflow: 'reject-publish',
      },
    });
  }
  if (deadLetterQueues.length > 0) {
    policies.push({
      name: `${prefix}dead-letter-queues`,
      pattern: exactly(deadLetterQueues),
      applyTo,
      priority: POLICY_PRIORITY,
      definition: {
        overflow: 'reject-publish',
        ...(features.unlimitedDeliveryLimit ? { 'delivery-limit': -1 } : {}),
      },
    });
  }
  return policies;
}
