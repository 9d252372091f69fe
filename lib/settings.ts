import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { DEFAULT_PARTITIONS, parseLayout, uniformLayout, type PartitionLayout } from '../functions/topology';
import { rdsMaxConnections } from './capacity';

export type EnvName = 'dev' | 'prod';

export type BrokerDeploymentMode = 'SINGLE_INSTANCE' | 'CLUSTER_MULTI_AZ';

/** Everything that differs between a throwaway dev deployment and production. */
export interface Settings {
  env: EnvName;
  broker: {
    engineVersion: string;
    instanceType: string;
    deploymentMode: BrokerDeploymentMode;
    /**
     * RabbitMQ's connection_max per node, set with a broker configuration (Amazon MQ for RabbitMQ
     * 4.2 enforces a per-instance-type default otherwise). lib/capacity.ts checks that the
     * catalog at full concurrency fits it with headroom.
     */
    connectionMax: number;
  };
  database: {
    instanceClass: string;
    allocatedStorageGb: number;
    multiAz: boolean;
    backupRetentionDays: number;
    /**
     * The instance's max_connections as RDS's default formula gives it (lib/capacity.ts, with a
     * margin for the memory RDS keeps for itself): the connections alarm and the proxy's share.
     */
    maxConnections: number;
  };
  /**
   * Partitions per service queue (order, payment, inventory; notification keeps one): one event
   * source mapping each, so one batch in flight each. The topology, the mappings and the
   * functions' PARTITIONS all follow it.
   */
  partitions: PartitionLayout;
  /**
   * Lambda reserved concurrency from the catalog's maxConcurrency. Lambda keeps 100 of the
   * account's concurrency unreserved, and new accounts have a reduced quota, so a reservation can
   * fail the function's creation: `npm run preflight` says whether the account allows it.
   * `-c reservedConcurrency=true|false` overrides the preset.
   */
  reservedConcurrency: boolean;
  /** ElastiCache Serverless ceilings: they bound the bill, not the capacity reserved. */
  cache: { maxDataGb: number; maxEcpuPerSecond: number; snapshotRetentionDays: number };
  natGateways: number;
  /**
   * RDS Proxy in front of each database: Lambda environments borrow pooled connections instead
   * of each holding its own. Without it (dev), the catalog's maxConcurrency caps the
   * functions that would otherwise exhaust a small instance's connections.
   */
  databaseProxy: boolean;
  /** Deletion protection on data stores and RETAIN instead of DESTROY on removal. */
  protectData: boolean;
  /** Where alarm notifications go besides the SNS topic (an e-mail address), from `-c alarmEmail=…`. */
  alarmEmail?: string;
  logRetention: RetentionDays;
  logLevel: string;
  currency: string;
}

const PRESETS: Record<EnvName, Settings> = {
  dev: {
    env: 'dev',
    // RabbitMQ 4.2 runs only on mq.m7g; m7g.medium is Amazon MQ's test-sized instance.
    // 300: the most Amazon MQ allows a medium node (its default is 100).
    broker: { engineVersion: '4.2', instanceType: 'mq.m7g.medium', deploymentMode: 'SINGLE_INSTANCE', connectionMax: 300 },
    database: { instanceClass: 't4g.micro', allocatedStorageGb: 20, multiAz: false, backupRetentionDays: 1, maxConnections: rdsMaxConnections('t4g.micro') },
    partitions: uniformLayout(DEFAULT_PARTITIONS),
    // Off: a new account's concurrency quota cannot hold the reservation (see reservedConcurrency).
    reservedConcurrency: false,
    cache: { maxDataGb: 1, maxEcpuPerSecond: 5000, snapshotRetentionDays: 0 },
    natGateways: 1,
    databaseProxy: false,
    protectData: false,
    logRetention: RetentionDays.ONE_WEEK,
    logLevel: 'INFO',
    currency: 'USD',
  },
  prod: {
    env: 'prod',
    // Amazon MQ's default for a large node.
    broker: { engineVersion: '4.2', instanceType: 'mq.m7g.large', deploymentMode: 'CLUSTER_MULTI_AZ', connectionMax: 500 },
    database: { instanceClass: 't4g.medium', allocatedStorageGb: 50, multiAz: true, backupRetentionDays: 14, maxConnections: rdsMaxConnections('t4g.medium') },
    // Two: BENCHMARKS.md's arithmetic gives about 600 orders/s per partition at the catalog's
    // 512 MB, so two carry the benchmark's 100 orders/s with room for a backlog to drain.
    partitions: uniformLayout(2),
    // The APIs' caps hold: they bound the broker's connections (lib/capacity.ts) and keep a
    // public route from taking the account's whole pool.
    reservedConcurrency: true,
    cache: { maxDataGb: 10, maxEcpuPerSecond: 50000, snapshotRetentionDays: 7 },
    // One NAT per AZ so losing an AZ does not cut the other AZ's functions off AWS APIs.
    natGateways: 2,
    databaseProxy: true,
    protectData: true,
    logRetention: RetentionDays.THREE_MONTHS,
    logLevel: 'INFO',
    currency: 'USD',
  },
};

/** The preset of an environment, before any context override. */
export function presetOf(env: EnvName): Settings {
  return PRESETS[env];
}

const flag = (value: unknown, fallback: boolean) => (value === undefined ? fallback : value === true || value === 'true');

/**
 * Reads `-c env=dev|prod` (default dev) and the broker overrides
 * `-c brokerEngineVersion=3.13 -c brokerInstanceType=mq.m7g.large -c brokerDeploymentMode=CLUSTER_MULTI_AZ`,
 * plus `-c logLevel=DEBUG`, `-c currency=EUR`, `-c databaseProxy=true|false`,
 * `-c reservedConcurrency=true|false`, `-c partitions=4` and `-c alarmEmail=ops@example.com`.
 */
export function settingsFromContext(node: Node): Settings {
  const env = (node.tryGetContext('env') ?? 'dev') as string;
  if (env !== 'dev' && env !== 'prod') throw new Error(`context env must be dev or prod, got "${env}"`);
  const preset = PRESETS[env];
  const mode = node.tryGetContext('brokerDeploymentMode') as string | undefined;
  if (mode !== undefined && mode !== 'SINGLE_INSTANCE' && mode !== 'CLUSTER_MULTI_AZ') {
    throw new Error(`context brokerDeploymentMode must be SINGLE_INSTANCE or CLUSTER_MULTI_AZ, got "${mode}"`);
  }
  const email = node.tryGetContext('alarmEmail') as string | undefined;
  const partitions = node.tryGetContext('partitions') as string | number | undefined;
  return {
    ...preset,
    databaseProxy: flag(node.tryGetContext('databaseProxy'), preset.databaseProxy),
    reservedConcurrency: flag(node.tryGetContext('reservedConcurrency'), preset.reservedConcurrency),
    partitions: partitions === undefined ? preset.partitions : parseLayout(String(partitions), 'context partitions'),
    alarmEmail: email || undefined,
    logLevel: String(node.tryGetContext('logLevel') ?? preset.logLevel),
    currency: String(node.tryGetContext('currency') ?? preset.currency),
    broker: {
      engineVersion: String(node.tryGetContext('brokerEngineVersion') ?? preset.broker.engineVersion),
      instanceType: String(node.tryGetContext('brokerInstanceType') ?? preset.broker.instanceType),
      deploymentMode: mode ?? preset.broker.deploymentMode,
      connectionMax: preset.broker.connectionMax,
    },
  };
}
