import { Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as mq from 'aws-cdk-lib/aws-amazonmq';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { brokerUsers, type BrokerUserRole } from '../functions/identities';
import { replaceableName, subnetPlacement } from './names';
import type { Settings } from './settings';

export const AMQPS_PORT = 5671;
/** The management HTTP API, on the broker's web console endpoint. */
export const MANAGEMENT_PORT = 443;
/** The administrator: the deploy-time user. */
const BROKER_USER = 'eventflow';

/** Amazon MQ rejects , : = in passwords; the rest would need escaping in an amqps URL. */
const PASSWORD_EXCLUDES = ',:=\'"@/\\%?#[]{}<>|`^ ';

/**
 * RabbitMQ on Amazon MQ, private. Its one administrator (the user Amazon MQ creates with the
 * broker) is the deploy-time user: only the topology hook has its secret, and it creates every
 * other user (functions/identities.ts), each with a secret of its own, through the management API.
 */
export class Broker extends Construct {
  readonly broker: mq.CfnBroker;
  /** The broker's configuration: its resource limits (settings.broker.connectionMax). */
  readonly configuration: mq.CfnConfiguration;
  /** The administrator's JSON {username, password}: the shape both our config and Lambda's MQ event source read. */
  readonly secret: secretsmanager.Secret;
  /** Each broker user's {username, password}, by role: a function or an event source mapping gets only its own. */
  readonly userSecrets = new Map<BrokerUserRole, secretsmanager.Secret>();
  readonly securityGroup: ec2.SecurityGroup;
  /** amqps://b-….mq.<region>.amazonaws.com:5671 */
  readonly endpoint: string;
  /** https://b-….mq.<region>.amazonaws.com: the RabbitMQ management API (policies, queue statistics). */
  readonly managementEndpoint: string;
  readonly arn: string;
  /** The broker's name: the `Broker` dimension of its CloudWatch metrics. */
  readonly name: string;

  constructor(scope: Construct, id: string, props: { vpc: ec2.IVpc; settings: Settings }) {
    super(scope, id);
    const { vpc, settings } = props;
    this.secret = new secretsmanager.Secret(this, 'AdminSecret', {
      description: 'EventFlow RabbitMQ admin user',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: BROKER_USER }),
        generateStringKey: 'password',
        passwordLength: 32,
        excludeCharacters: PASSWORD_EXCLUDES,
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // No namespace on AWS: each deployment has a broker of its own.
    for (const user of brokerUsers('')) {
      this.userSecrets.set(
        user.role,
        new secretsmanager.Secret(this, `User-${user.role}`, {
          description: `EventFlow RabbitMQ user ${user.name}: ${user.purpose}`,
          generateSecretString: {
            secretStringTemplate: JSON.stringify({ username: user.name }),
            generateStringKey: 'password',
            passwordLength: 32,
            excludeCharacters: PASSWORD_EXCLUDES,
          },
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      );
    }
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'Amazon MQ broker and the ENIs of its Lambda event source mappings',
      // The mappings' ENIs call Lambda, STS and Secrets Manager through the NAT gateway.
      allowAllOutbound: true,
    });
    // The event source mappings' ENIs carry this group: they reach the broker through it.
    this.securityGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(AMQPS_PORT), 'MQ event source mappings');

    const selection = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    const single = settings.broker.deploymentMode === 'SINGLE_INSTANCE';
    const subnets = single ? selection.subnetIds.slice(0, 1) : selection.subnetIds;
    // AWS::AmazonMQ::Broker requires a name; it changes with the settings that replace the broker,
    // SubnetIds among them: the subnets by what replaces a subnet (its CIDR block and zone, the
    // zone as the template resolves it), so a new subnet layout gives the new broker a new name.
    const placement = subnetPlacement(this, single ? selection.subnets.slice(0, 1) : selection.subnets);
    this.name = replaceableName(`eventflow-${settings.env}`, {
      deploymentMode: settings.broker.deploymentMode,
      publiclyAccessible: false,
      engineType: 'RABBITMQ',
      subnets: placement,
    });
    // Amazon MQ for RabbitMQ 4 takes its resource limits from a broker configuration (Cuttlefish
    // format): the connection limit lib/capacity.ts checks the catalog against.
    this.configuration = new mq.CfnConfiguration(this, 'Configuration', {
      name: replaceableName(`eventflow-${settings.env}-limits`, { engineVersion: settings.broker.engineVersion }),
      engineType: 'RABBITMQ',
      engineVersion: settings.broker.engineVersion,
      data: Fn.base64(`connection_max = ${settings.broker.connectionMax}\n`),
      description: `EventFlow ${settings.env}: broker resource limits`,
    });
    this.broker = new mq.CfnBroker(this, 'Broker', {
      brokerName: this.name,
      engineType: 'RABBITMQ',
      engineVersion: settings.broker.engineVersion,
      // Required for RabbitMQ 3.13 and later: Amazon MQ applies patch versions itself.
      autoMinorVersionUpgrade: true,
      hostInstanceType: settings.broker.instanceType,
      deploymentMode: settings.broker.deploymentMode,
      publiclyAccessible: false,
      subnetIds: subnets,
      configuration: { id: this.configuration.attrId, revision: this.configuration.attrRevision },
      securityGroups: [this.securityGroup.securityGroupId],
      users: [
        {
          username: BROKER_USER,
          password: this.secret.secretValueFromJson('password').unsafeUnwrap(),
        },
      ],
      // Amazon MQ for RabbitMQ publishes these through its service-linked role.
      logs: { general: true },
      maintenanceWindowStartTime: { dayOfWeek: 'SUNDAY', timeOfDay: '03:00', timeZone: 'UTC' },
    });
    this.endpoint = Fn.select(0, this.broker.attrAmqpEndpoints);
    // The console shares the AMQP endpoint's host: amqps://host:5671 -> https://host
    this.managementEndpoint = `https:${Fn.select(1, Fn.split(':', this.endpoint))}`;
    this.arn = this.broker.attrArn;
    // Amazon MQ creates the general log group itself, named after the broker id: give it a retention.
    new logs.LogRetention(this, 'GeneralLogRetention', {
      logGroupName: `/aws/amazonmq/broker/${this.broker.attrId}/general`,
      retention: settings.logRetention,
      removalPolicy: settings.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }

  /** The secret of a broker user. */
  userSecret(role: BrokerUserRole): secretsmanager.Secret {
    const secret = this.userSecrets.get(role);
    if (!secret) throw new Error(`no broker user ${role}`);
    return secret;
  }
}
