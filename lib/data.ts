import { Duration, Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { databaseName, SERVICES, type ServiceName } from '../shared/config';
import type { FunctionSpec } from '../functions/catalog';
import { PROXY_MAX_CONNECTIONS_PERCENT, proxyBorrowTimeoutSeconds } from './capacity';
import { replaceableName, subnetPlacement } from './names';
import type { Settings } from './settings';

export interface ServiceDatabase {
  instance: rds.DatabaseInstance;
  /** RDS Proxy in front of the instance (prod); functions connect through it when present. */
  proxy?: rds.DatabaseProxy;
}

/**
 * One PostgreSQL instance per service: services never share a database. With settings.databaseProxy,
 * an RDS Proxy in front of each (TLS required): Lambda environments borrow its pooled connections
 * instead of each keeping its own, so a burst of environments cannot exhaust the instance.
 */
export class Databases extends Construct {
  readonly services: Record<ServiceName, ServiceDatabase>;

  constructor(scope: Construct, id: string, props: { vpc: ec2.IVpc; settings: Settings; specs: FunctionSpec[] }) {
    super(scope, id);
    const { vpc, settings } = props;
    const removalPolicy = settings.protectData ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY;
    const entries = SERVICES.map((service) => {
      // No instance identifier or secret name of our own: CloudFormation names them, so a change
      // that replaces an instance can create the new one next to the old, and a dev stack destroyed
      // and deployed again does not collide with its secret still scheduled for deletion.
      const instance = new rds.DatabaseInstance(this, `${service}Db`, {
        engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
        instanceType: new ec2.InstanceType(settings.database.instanceClass),
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        // The secret gets host, port and dbname attached: the JSON shared/config.ts reads.
        credentials: rds.Credentials.fromGeneratedSecret('eventflow'),
        databaseName: databaseName(service),
        allocatedStorage: settings.database.allocatedStorageGb,
        maxAllocatedStorage: settings.database.allocatedStorageGb * 4,
        storageType: rds.StorageType.GP3,
        storageEncrypted: true,
        multiAz: settings.database.multiAz,
        backupRetention: Duration.days(settings.database.backupRetentionDays),
        deletionProtection: settings.protectData,
        removalPolicy,
        autoMinorVersionUpgrade: true,
        cloudwatchLogsExports: ['postgresql'],
        enablePerformanceInsights: false,
        // Each instance's security group starts closed; the functions that use it are let in one by one.
        securityGroups: [
          new ec2.SecurityGroup(this, `${service}DbSecurityGroup`, {
            vpc,
            description: `PostgreSQL of the ${service} service`,
            allowAllOutbound: false,
          }),
        ],
      });
      // RDS creates the log group, named after the instance, when it starts exporting: give it a retention.
      new logs.LogRetention(this, `${service}DbLogRetention`, {
        logGroupName: Fn.join('', ['/aws/rds/instance/', instance.instanceIdentifier, '/postgresql']),
        retention: settings.logRetention,
        removalPolicy: settings.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      const proxySubnets = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
      const proxy = settings.databaseProxy
        ? instance.addProxy(`${service}Proxy`, {
            // DBProxyName is required and VpcSubnetIds replaces the proxy: the name changes with
            // the subnets, so a replacement never collides with the proxy it replaces.
            dbProxyName: replaceableName(`eventflow-${settings.env}-${service}`, { engineFamily: 'POSTGRESQL', subnets: subnetPlacement(this, proxySubnets.subnets) }),
            secrets: [instance.secret!],
            vpc,
            // With egress: the proxy reads its secret from Secrets Manager.
            vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
            requireTLS: true,
            // What the proxy may take of max_connections: the rest is for the migrations (which
            // connect directly) and an operator's session.
            maxConnectionsPercent: PROXY_MAX_CONNECTIONS_PERCENT,
            // A function waiting for a pooled connection gives up before its own timeout does, so it
            // answers (or retries its batch) instead of being killed mid-wait.
            borrowTimeout: Duration.seconds(proxyBorrowTimeoutSeconds(props.specs)),
            securityGroups: [
              new ec2.SecurityGroup(this, `${service}ProxySecurityGroup`, {
                vpc,
                description: `RDS Proxy of the ${service} service`,
                allowAllOutbound: true,
              }),
            ],
          })
        : undefined;
      if (proxy) instance.connections.allowDefaultPortFrom(proxy, 'RDS Proxy');
      // The master password lives only in this secret: where the instance leaves a snapshot on
      // removal (prod), the secret stays with it, or a restore would start with a password reset.
      if (settings.protectData) instance.secret!.applyRemovalPolicy(RemovalPolicy.RETAIN);
      return [service, { instance, proxy }] as const;
    });
    this.services = Object.fromEntries(entries) as Record<ServiceName, ServiceDatabase>;
  }

  /** The instances alone (alarms, nag acknowledgements). */
  get instances(): rds.DatabaseInstance[] {
    return Object.values(this.services).map((s) => s.instance);
  }
}
