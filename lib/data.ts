import { Duration, Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { databaseName, SERVICES, type ServiceName } from '../shared/config';
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

  constructor(scope: Construct, id: string, props: { vpc: ec2.IVpc; settings: Settings }) {
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
      const proxy = settings.databaseProxy
        ? instance.addProxy(`${service}Proxy`, {
            secrets: [instance.secret!],
            vpc,
            // With egress: the proxy reads its secret from Secrets Manager.
            vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
            requireTLS: true,
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
      return [service, { instance, proxy }] as const;
    });
    this.services = Object.fromEntries(entries) as Record<ServiceName, ServiceDatabase>;
  }

  /** The instances alone (alarms, nag acknowledgements). */
  get instances(): rds.DatabaseInstance[] {
    return Object.values(this.services).map((s) => s.instance);
  }
}
