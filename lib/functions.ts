import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import path from 'node:path';
import type { FunctionSpec } from '../functions/catalog';
import type { ServiceName } from '../shared/config';
import { AMQPS_PORT, type Broker } from './broker';
import { ESM_BANNER, EXTERNAL_MODULES, MIGRATION_DIRS, NODE_TARGET, REPO_ROOT } from './bundling';
import { REDIS_PORT, type Cache } from './cache';
import type { Settings } from './settings';

const DB_SECRET_ENV: Record<ServiceName, string> = {
  order: 'ORDER_DB_SECRET_ARN',
  payment: 'PAYMENT_DB_SECRET_ARN',
  inventory: 'INVENTORY_DB_SECRET_ARN',
};

/** Where the migrate function finds its .sql files: the root of its bundle. */
const LAMBDA_TASK_ROOT = '/var/task';

export interface CatalogFunctionsProps {
  specs: FunctionSpec[];
  settings: Settings;
  vpc: ec2.IVpc;
  databases: Record<ServiceName, rds.DatabaseInstance>;
  broker: Broker;
  cache: Cache;
}

/**
 * One Lambda per catalog entry, each given exactly what its `uses` names: the secrets, the
 * security-group openings and the configuration, nothing else.
 */
export class CatalogFunctions extends Construct {
  readonly functions = new Map<string, NodejsFunction>();
  private readonly specs: FunctionSpec[];

  constructor(scope: Construct, id: string, props: CatalogFunctionsProps) {
    super(scope, id);
    this.specs = props.specs;
    for (const spec of props.specs) {
      if (this.functions.has(spec.id)) throw new Error(`catalog names ${spec.id} twice`);
      this.functions.set(spec.id, this.create(spec, props));
    }
  }

  get(id: string): NodejsFunction {
    const fn = this.functions.get(id);
    if (!fn) throw new Error(`no function ${id}`);
    return fn;
  }

  /** Tells the functions that post to WebSocket connections where to, and lets them. */
  connectWebSocket(callbackUrl: string, grant: (fn: NodejsFunction) => void): void {
    for (const spec of this.specs.filter((s) => s.uses.websocketCallback)) {
      const fn = this.get(spec.id);
      fn.addEnvironment('WEBSOCKET_CALLBACK_URL', callbackUrl);
      grant(fn);
    }
  }

  private create(spec: FunctionSpec, props: CatalogFunctionsProps): NodejsFunction {
    const { settings, vpc, databases, broker, cache } = props;
    const logGroup = new logs.LogGroup(this, `${spec.id}-logs`, {
      retention: settings.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const migrations = spec.trigger.kind === 'deploy' && spec.trigger.purpose === 'migrations';
    const fn = new NodejsFunction(this, spec.id, {
      functionName: `eventflow-${settings.env}-${spec.id}`,
      description: `EventFlow ${spec.id} (${spec.trigger.kind})`,
      entry: path.join(REPO_ROOT, spec.entry),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      logGroup,
      // Every function reaches something private (PostgreSQL, RabbitMQ or Redis), so all run in the VPC.
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      bundling: {
        format: OutputFormat.ESM,
        target: NODE_TARGET,
        mainFields: ['module', 'main'],
        banner: ESM_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        externalModules: EXTERNAL_MODULES,
        commandHooks: migrations ? copyMigrations : undefined,
      },
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        LOG_LEVEL: settings.logLevel,
        EVENTFLOW_CURRENCY: settings.currency,
        DB_POOL_MAX: String(spec.dbPoolMax),
        ...(migrations ? { MIGRATIONS_ROOT: LAMBDA_TASK_ROOT } : {}),
      },
    });

    if (spec.uses.databases.length > 0) {
      fn.addEnvironment('DATABASE_TLS', 'true');
      // Node 20+ Lambda runtimes no longer load the Amazon CA bundle (which includes the RDS CAs)
      // by default; only the functions that talk to RDS pay its cold-start cost.
      fn.addEnvironment('NODE_EXTRA_CA_CERTS', '/var/runtime/ca-cert.pem');
    }
    for (const service of spec.uses.databases) {
      const db = databases[service];
      fn.addEnvironment(DB_SECRET_ENV[service], db.secret!.secretArn);
      db.secret!.grantRead(fn);
      db.connections.allowDefaultPortFrom(fn, spec.id);
    }
    if (spec.uses.broker) {
      fn.addEnvironment('RABBITMQ_SECRET_ARN', broker.secret.secretArn);
      fn.addEnvironment('RABBITMQ_ENDPOINT', broker.endpoint);
      broker.secret.grantRead(fn);
      broker.securityGroup.connections.allowFrom(fn, ec2.Port.tcp(AMQPS_PORT), spec.id);
    }
    if (spec.uses.redis) {
      fn.addEnvironment('REDIS_URL', cache.url);
      fn.addEnvironment('REDIS_CLUSTER', 'true');
      cache.securityGroup.connections.allowFrom(fn, ec2.Port.tcp(REDIS_PORT), spec.id);
    }
    return fn;
  }
}

/** Copies the migration folders into the migrate bundle, keeping their paths from the repository root. */
const copyMigrations = {
  beforeBundling: (): string[] => [],
  beforeInstall: (): string[] => [],
  afterBundling: (inputDir: string, outputDir: string): string[] =>
    MIGRATION_DIRS.flatMap((dir) => [
      `mkdir -p "${path.posix.join(outputDir, dir)}"`,
      `cp "${path.posix.join(inputDir, dir)}"/*.sql "${path.posix.join(outputDir, dir)}/"`,
    ]),
};
