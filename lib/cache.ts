import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { replaceableName } from './names';
import type { Settings } from './settings';

export const REDIS_PORT = 6379;
const CACHE_USER = 'eventflow';

/**
 * ElastiCache Serverless for Redis: TLS in transit and encryption at rest are always on for
 * serverless caches, and it scales to zero load without nodes to size. Clients speak the cluster
 * protocol to it (REDIS_CLUSTER=true) and authenticate as an RBAC user whose password is in
 * Secrets Manager: a security group alone would let anything in it read every connection.
 */
export class Cache extends Construct {
  readonly securityGroup: ec2.SecurityGroup;
  /** JSON {username, password} of the cache's one application user. */
  readonly secret: secretsmanager.Secret;
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
    this.secret = new secretsmanager.Secret(this, 'UserSecret', {
      description: 'EventFlow ElastiCache RBAC user',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: CACHE_USER }),
        generateStringKey: 'password',
        passwordLength: 32,
        // Letters and digits only: ElastiCache refuses some punctuation in RBAC passwords.
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // User and group ids are names that must be unique in the account and region.
    const ids = (what: string) => replaceableName(`eventflow-${settings.env}-${what}`, { engine: 'redis' });
    // A user group must hold a user named "default"; this one is switched off, so nobody gets in
    // without the application user's password (ElastiCache's own "default" user has full access).
    const disabledDefault = new elasticache.CfnUser(this, 'DefaultUser', {
      engine: 'redis',
      userId: ids('off'),
      userName: 'default',
      accessString: 'off ~* -@all',
      noPasswordRequired: true,
    });
    const appUser = new elasticache.CfnUser(this, 'AppUser', {
      engine: 'redis',
      userId: ids('app'),
      userName: CACHE_USER,
      // The cache holds only EventFlow's data; ElastiCache Serverless blocks administrative commands itself.
      accessString: 'on ~* &* +@all',
      authenticationMode: { Type: 'password', Passwords: [this.secret.secretValueFromJson('password').unsafeUnwrap()] },
    });
    const userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
      engine: 'redis',
      userGroupId: ids('users'),
      userIds: [disabledDefault.userId, appUser.userId],
    });
    userGroup.node.addDependency(disabledDefault, appUser);

    const cache = new elasticache.CfnServerlessCache(this, 'Cache', {
      // AWS::ElastiCache::ServerlessCache requires a name.
      serverlessCacheName: replaceableName(`eventflow-${settings.env}`, { engine: 'redis', majorEngineVersion: '7' }),
      engine: 'redis',
      majorEngineVersion: '7',
      userGroupId: userGroup.ref,
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
