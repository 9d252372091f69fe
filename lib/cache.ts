import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { redisAccessString, redisUsers, type RedisRole } from '../functions/identities';
import { replaceableName } from './names';
import type { Settings } from './settings';

export const REDIS_PORT = 6379;

/**
 * ElastiCache Serverless for Redis: TLS in transit and encryption at rest are always on for
 * serverless caches, and it scales to zero load without nodes to size. Clients speak the cluster
 * protocol to it (REDIS_CLUSTER=true) and authenticate as an RBAC user whose password is in
 * Secrets Manager: a security group alone would let anything in it read every connection. One
 * user per use (functions/identities.ts: the HTTP functions' rate limits, the WebSocket API's
 * connections, the notification consumer's fan-out), each with the keys and commands of its use.
 */
export class Cache extends Construct {
  readonly securityGroup: ec2.SecurityGroup;
  /** JSON {username, password} of each RBAC user, by role: a function gets only its own. */
  readonly userSecrets = new Map<RedisRole, secretsmanager.Secret>();
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
    // No namespace on AWS: each deployment has a cache of its own.
    const users = redisUsers('').map((spec) => {
      const secret = new secretsmanager.Secret(this, `User-${spec.role}`, {
        description: `EventFlow ElastiCache RBAC user ${spec.name}: ${spec.purpose}`,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username: spec.name }),
          generateStringKey: 'password',
          passwordLength: 32,
          // Letters and digits only: ElastiCache refuses some punctuation in RBAC passwords.
          excludePunctuation: true,
        },
        removalPolicy: RemovalPolicy.DESTROY,
      });
      this.userSecrets.set(spec.role, secret);
      return new elasticache.CfnUser(this, `User-${spec.role}-rbac`, {
        engine: 'redis',
        userId: ids(spec.role),
        userName: spec.name,
        // Its keys and its commands only: the same rules the local runtime sets with ACL SETUSER.
        accessString: redisAccessString(spec),
        authenticationMode: { Type: 'password', Passwords: [secret.secretValueFromJson('password').unsafeUnwrap()] },
      });
    });
    const userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
      engine: 'redis',
      userGroupId: ids('users'),
      userIds: [disabledDefault.userId, ...users.map((u) => u.userId)],
    });
    userGroup.node.addDependency(disabledDefault, ...users);

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

  /** The secret of a Redis user. */
  userSecret(role: RedisRole): secretsmanager.Secret {
    const secret = this.userSecrets.get(role);
    if (!secret) throw new Error(`no Redis user ${role}`);
    return secret;
  }
}
