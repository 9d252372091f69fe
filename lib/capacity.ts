/**
 * What an environment asks of its account and its broker, computed from the function catalog and
 * the environment's settings: pure arithmetic, shared by the CDK app, its tests and
 * `npm run preflight`.
 */
import type { FunctionSpec } from '../functions/catalog';
import type { PartitionLayout } from '../functions/topology';

/** RDS's default for PostgreSQL: max_connections = LEAST({DBInstanceClassMemory/9531392}, 5000). */
const BYTES_PER_CONNECTION = 9_531_392;
const RDS_CONNECTION_CEILING = 5_000;
/**
 * DBInstanceClassMemory is the instance's memory less what the operating system and RDS keep,
 * which the documentation does not quantify: instances measured report 8–12 % below nominal at
 * 2–4 GiB, more on smaller ones. A fifth off the nominal memory stays at or below the real value.
 */
const USABLE_MEMORY_SHARE = 0.8;

/** Nominal memory (GiB) of the instance classes the presets use, and their neighbours. */
const INSTANCE_MEMORY_GIB: Record<string, number> = {
  't4g.micro': 1,
  't4g.small': 2,
  't4g.medium': 4,
  't4g.large': 8,
  'm7g.large': 8,
  'r7g.large': 16,
};

/** The max_connections RDS gives an instance class by default, from its usable memory. */
export function rdsMaxConnections(instanceClass: string): number {
  const gib = INSTANCE_MEMORY_GIB[instanceClass];
  if (gib === undefined) throw new Error(`no memory size known for instance class ${instanceClass}: add it to lib/capacity.ts`);
  return Math.min(Math.floor((gib * 1024 ** 3 * USABLE_MEMORY_SHARE) / BYTES_PER_CONNECTION), RDS_CONNECTION_CEILING);
}

/**
 * How many environments of a function can run at once: a queue consumer's partitions (one batch
 * in flight per mapping), one for a scheduled run or a deploy hook, the catalog's cap for the rest
 * (undefined: bounded only by the account).
 */
export function fullConcurrency(spec: FunctionSpec, partitions: PartitionLayout): number | undefined {
  const t = spec.trigger;
  if (t.kind === 'queue') return partitions[t.queue];
  if (t.kind === 'schedule' || t.kind === 'deploy') return 1;
  return spec.maxConcurrency;
}

/** The concurrency an environment reserves: the catalog's caps, when the environment reserves at all. */
export function reservedConcurrency(specs: FunctionSpec[], reserve: boolean): number {
  return reserve ? specs.reduce((sum, s) => sum + (s.maxConcurrency ?? 0), 0) : 0;
}

/** The event source mappings an environment has: one per partition of each consumed queue. */
export function mappingCount(specs: FunctionSpec[], partitions: PartitionLayout): number {
  return specs.reduce((n, s) => n + (s.trigger.kind === 'queue' ? partitions[s.trigger.queue] : 0), 0);
}

export interface BrokerConnections {
  /** AMQP connections the functions open at full concurrency: one per environment (shared/messaging/broker.ts). */
  functions: number;
  /** The event source mappings' pollers: at least one connection each. */
  mappings: number;
  total: number;
  /** Functions using the broker with no concurrency cap: the count is a floor, not a ceiling. */
  uncapped: string[];
}

export function brokerConnections(specs: FunctionSpec[], partitions: PartitionLayout): BrokerConnections {
  let functions = 0;
  const uncapped: string[] = [];
  for (const spec of specs.filter((s) => s.uses.broker)) {
    const n = fullConcurrency(spec, partitions);
    if (n === undefined) uncapped.push(spec.id);
    else functions += n;
  }
  const mappings = mappingCount(specs, partitions);
  return { functions, mappings, total: functions + mappings, uncapped };
}

/**
 * Room kept under the broker's connection limit: environments Lambda recycles keep their
 * connections until the heartbeat closes them, so for a while an environment can count twice.
 */
export const BROKER_CONNECTION_HEADROOM = 2;

/** Whether the connections fit one node's limit with the headroom (a cluster's three nodes share them; one must be able to take them all). */
export function brokerConnectionsFit(connections: BrokerConnections, connectionMax: number): boolean {
  return connections.uncapped.length === 0 && connections.total * BROKER_CONNECTION_HEADROOM <= connectionMax;
}

/** RDS Proxy's share of max_connections: the rest stays for the migrations (direct) and an operator. */
export const PROXY_MAX_CONNECTIONS_PERCENT = 90;

/**
 * RDS Proxy's borrow timeout (its default is 120 s): half the shortest timeout of a function that
 * goes through a proxy, so a wait for a pooled connection ends while the function can still answer.
 */
export function proxyBorrowTimeoutSeconds(specs: FunctionSpec[]): number {
  const proxied = specs.filter((s) => s.uses.databases.length > 0 && !(s.trigger.kind === 'deploy' && s.trigger.purpose === 'migrations'));
  return Math.max(1, Math.floor(Math.min(...proxied.map((s) => s.timeoutSeconds)) / 2));
}
