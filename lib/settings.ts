import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';

export type EnvName = 'dev' | 'prod';

export type BrokerDeploymentMode = 'SINGLE_INSTANCE' | 'CLUSTER_MULTI_AZ';

/** Everything that differs between a throwaway dev deployment and production. */
export interface Settings {
  env: EnvName;
  broker: { engineVersion: string; instanceType: string; deploymentMode: BrokerDeploymentMode };
  database: { instanceClass: string; allocatedStorageGb: number; multiAz: boolean; backupRetentionDays: number };
  /** ElastiCache Serverless ceilings: they bound the bill, not the capacity reserved. */
  cache: { maxDataGb: number; maxEcpuPerSecond: number; snapshotRetentionDays: number };
  natGateways: number;
  /** Deletion protection on data stores and RETAIN instead of DESTROY on removal. */
  protectData: boolean;
  logRetention: RetentionDays;
  logLevel: string;
  currency: string;
}

const PRESETS: Record<EnvName, Settings> = {
  dev: {
    env: 'dev',
    // RabbitMQ 4.2 runs only on mq.m7g; m7g.medium is Amazon MQ's test-sized instance.
    broker: { engineVersion: '4.2', instanceType: 'mq.m7g.medium', deploymentMode: 'SINGLE_INSTANCE' },
    database: { instanceClass: 't4g.micro', allocatedStorageGb: 20, multiAz: false, backupRetentionDays: 1 },
    cache: { maxDataGb: 1, maxEcpuPerSecond: 5000, snapshotRetentionDays: 0 },
    natGateways: 1,
    protectData: false,
    logRetention: RetentionDays.ONE_WEEK,
    logLevel: 'INFO',
    currency: 'USD',
  },
  prod: {
    env: 'prod',
    broker: { engineVersion: '4.2', instanceType: 'mq.m7g.large', deploymentMode: 'CLUSTER_MULTI_AZ' },
    database: { instanceClass: 't4g.medium', allocatedStorageGb: 50, multiAz: true, backupRetentionDays: 14 },
    cache: { maxDataGb: 10, maxEcpuPerSecond: 50000, snapshotRetentionDays: 7 },
    // One NAT per AZ so losing an AZ does not cut the other AZ's functions off AWS APIs.
    natGateways: 2,
    protectData: true,
    logRetention: RetentionDays.THREE_MONTHS,
    logLevel: 'INFO',
    currency: 'USD',
  },
};

/**
 * Reads `-c env=dev|prod` (default dev) and the broker overrides
 * `-c brokerEngineVersion=3.13 -c brokerInstanceType=mq.m7g.large -c brokerDeploymentMode=CLUSTER_MULTI_AZ`,
 * plus `-c logLevel=DEBUG` and `-c currency=EUR`.
 */
export function settingsFromContext(node: Node): Settings {
  const env = (node.tryGetContext('env') ?? 'dev') as string;
  if (env !== 'dev' && env !== 'prod') throw new Error(`context env must be dev or prod, got "${env}"`);
  const preset = PRESETS[env];
  const mode = node.tryGetContext('brokerDeploymentMode') as string | undefined;
  if (mode !== undefined && mode !== 'SINGLE_INSTANCE' && mode !== 'CLUSTER_MULTI_AZ') {
    throw new Error(`context brokerDeploymentMode must be SINGLE_INSTANCE or CLUSTER_MULTI_AZ, got "${mode}"`);
  }
  return {
    ...preset,
    logLevel: String(node.tryGetContext('logLevel') ?? preset.logLevel),
    currency: String(node.tryGetContext('currency') ?? preset.currency),
    broker: {
      engineVersion: String(node.tryGetContext('brokerEngineVersion') ?? preset.broker.engineVersion),
      instanceType: String(node.tryGetContext('brokerInstanceType') ?? preset.broker.instanceType),
      deploymentMode: mode ?? preset.broker.deploymentMode,
    },
  };
}
