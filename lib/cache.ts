import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import { Construct } from 'constructs';
import type { Settings } from './settings';

export const REDIS_PORT = 6379;

/**
 * ElastiCache Serverless for Redis: TLS in transit and encryption at rest are always on for
 * serverless caches, and it scales to zero load without nodes to size. Clients speak the cluster
 * protocol to it (REDIS_CLUSTER=true).
 */
export class Cache extends Construct {
  readonly securityGroup: ec2.SecurityGroup;
  /** rediss://host:port */
  readonly url: string;

  constructor(scope: Construct, id: string, props: { vpc: ec2.IVpc; settings: Settings }) {
    super(scope, id);
    const { vpc, settings } = props;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'ElastiCache Serverless (Redis) of EventFlow',
      allowAllOutbound: false,
    });
    const cache = new elasticache.CfnServerlessCache(this, 'Cache', {
      serverlessCacheName: `eventflow-${settings.env}`,
      engine: 'redis',
      majorEngineVersion: '7',
      subnetIds: vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds,
      securityGroupIds: [this.securityGroup.securityGroupId],
      cacheUsageLimits: {
        dataStorage: { maximum: settings.cache.maxDataGb, unit: 'GB' },
        ecpuPerSecond: { maximum: settings.cache.maxEcpuPerSecond },
      },
      snapshotRetentionLimit: settings.cache.snapshotRetentionDays,
    });
    // Redis is never the system of record here (PostgreSQL is), so it does not outlive the stack.
    cache.applyRemovalPolicy(RemovalPolicy.DESTROY);
    this.url = `rediss://${cache.attrEndpointAddress}:${cache.attrEndpointPort}`;
  }
}
