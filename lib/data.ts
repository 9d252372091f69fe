import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { databaseName, SERVICES, type ServiceName } from '../shared/config';
import type { Settings } from './settings';

/** One PostgreSQL instance per service: services never share a database. */
export class Databases extends Construct {
  readonly instances: Record<ServiceName, rds.DatabaseInstance>;

  constructor(scope: Construct, id: string, props: { vpc: ec2.IVpc; settings: Settings }) {
    super(scope, id);
    const { vpc, settings } = props;
    const removalPolicy = settings.protectData ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY;
    const entries = SERVICES.map((service) => {
      const instanceIdentifier = `eventflow-${settings.env}-${service}`;
      // Created here rather than by RDS so that it has a retention and goes away with the stack.
      const logGroup = new logs.LogGroup(this, `${service}DbLogs`, {
        logGroupName: `/aws/rds/instance/${instanceIdentifier}/postgresql`,
        retention: settings.logRetention,
        removalPolicy: settings.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      const instance = new rds.DatabaseInstance(this, `${service}Db`, {
        instanceIdentifier,
        engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
        instanceType: new ec2.InstanceType(settings.database.instanceClass),
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        // The secret gets host, port and dbname attached: the JSON shared/config.ts reads.
        credentials: rds.Credentials.fromGeneratedSecret('eventflow', {
          secretName: `eventflow-${settings.env}/${service}-db`,
        }),
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
      instance.node.addDependency(logGroup);
      return [service, instance] as const;
    });
    this.instances = Object.fromEntries(entries) as Record<ServiceName, rds.DatabaseInstance>;
  }
}
