import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';

export type EnvName = 'dev' | 'prod';

export type BrokerDeploymentMode = 'SINGLE_INSTANCE' | 'CLUSTER_MULTI_AZ';

/** Everything that differs between a throwaway dev deployment and production. */
export interface Settings {
  env: EnvName;
  broker: { engineVersion: string; instanceType: string; deploymentMode: BrokerDeploymentMode };
  database: {
    instanceClass: string;
    allocatedStorageGb: number;
    multiAz: boolean;
    backupRetentionDays: number;
    /** The instance's max_connections (RDS: DBInstanceClassMemory / 9531392), for the connections alarm. */
    maxConnections: number;
  };
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
    broker: { engineVersion: '4.2', instanceType: 'mq.m7g.medium', deploymentMode: 'SINGLE_INSTANCE' },
    database: { instanceClass: 't4g.micro', allocatedStorageGb: 20, multiAz: false, backupRetentionDays: 1, maxConnections: 112 },
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
    broker: { engineVersion: '4.2', instanceType: 'mq.m7g.large', deploymentMode: 'CLUSTER_MULTI_AZ' },
    database: { instanceClass: 't4g.medium', allocatedStorageGb: 50, multiAz: true, backupRetentionDays: 14, maxConnections: 450 },
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

/**
 * Reads `-c env=dev|prod` (default dev) and the broker overrides
 * `-c brokerEngineVersion=3.13 -c brokerInstanceType=mq.m7g.large -c brokerDeploymentMode=CLUSTER_MULTI_AZ`,
 * plus `-c logLevel=DEBUG`, `-c currency=EUR`, `-c databaseProxy=true|false` and
 * `-c alarmEmail=ops@example.com`.
 */
export function settingsFromContext(node: Node): Settings {
  const env = (node.tryGetContext('env') ?? 'dev') as string;
  if (env !== 'dev' && env !== 'prod') throw new Error(`context env must be dev or prod, got "${env}"`);
  const preset = PRESETS[env];
  const mode = node.tryGetContext('brokerDeploymentMode') as string | undefined;
  if (mode !== undefined && mode !== 'SINGLE_INSTANCE' && mode !== 'CLUSTER_MULTI_AZ') {
    throw new Error(`context brokerDeploymentMode must be SINGLE_INSTANCE or CLUSTER_MULTI_AZ, got "${mode}"`);
  }
  const proxy = node.tryGetContext('databaseProxy') as string | boolean | undefined;
  const email = node.tryGetContext('alarmEmail') as string | undefined;
  return {
    ...preset,
    databaseProxy: proxy === undefined ? preset.databaseProxy : proxy === true || proxy === 'true',
    alarmEmail: email || undefined,
    logLevel: String(node.tryGetContext('logLevel') ?? preset.logLevel),
    currency: String(node.tryGetContext('currency') ?? preset.currency),
    broker: {
      engineVersion: String(node.tryGetContext('brokerEngineVersion') ?? preset.broker.engineVersion),
      instanceType: String(node.tryGetContext('brokerInstanceType') ?? preset.broker.instanceType),
      deploymentMode: mode ?? preset.broker.deploymentMode,
    },
  };
}
