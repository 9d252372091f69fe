import { Arn, ArnFormat, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import path from 'node:path';
import type { FunctionSpec } from '../functions/catalog';
import { formatLayout } from '../functions/topology';
import { LAMBDA_ENV as E, encodeUses } from '../shared/env';
import { AMQPS_PORT, MANAGEMENT_PORT, type Broker } from './broker';
import { ESM_BANNER, EXTERNAL_MODULES, MIGRATION_DIRS, NODE_TARGET, REPO_ROOT } from './bundling';
import { REDIS_PORT, type Cache } from './cache';
import type { Databases } from './data';
import type { Settings } from './settings';

const POSTGRES_PORT = 5432;

/** Where the migrate function finds its .sql files: the root of its bundle. */
const LAMBDA_TASK_ROOT = '/var/task';

export interface CatalogFunctionsProps {
  specs: FunctionSpec[];
  settings: Settings;
  vpc: ec2.IVpc;
  databases: Databases;
  broker: Broker;
  cache: Cache;
}

/**
 * One Lambda per catalog entry, each given exactly what its `uses` names: the secrets, the
 * security-group openings and the configuration (the variables of shared/env.ts), nothing else.
 */
export class CatalogFunctions extends Construct {
  readonly functions = new Map<string, NodejsFunction>();
  /** The security group of each reach (what a function may connect to), shared by the functions with that reach. */
  readonly reachGroups = new Map<string, ec2.SecurityGroup>();
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

  specOf(id: string): FunctionSpec {
    const spec = this.specs.find((s) => s.id === id);
    if (!spec) throw new Error(`no function ${id}`);
    return spec;
  }

  /** Tells the functions that post to WebSocket connections where to, and lets them. */
  connectWebSocket(callbackUrl: string, grant: (fn: NodejsFunction) => void): void {
    for (const spec of this.specs.filter((s) => s.uses.websocketCallback)) {
      const fn = this.get(spec.id);
      fn.addEnvironment(E.websocketCallbackUrl, callbackUrl);
      grant(fn);
    }
  }

  /** Tells the functions that verify access tokens themselves (the WebSocket authorizer) whose tokens to accept. */
  connectAuth(auth: { issuer: string; audience: string }): void {
    for (const spec of this.specs.filter((s) => s.uses.auth)) {
      const fn = this.get(spec.id);
      fn.addEnvironment(E.authIssuer, auth.issuer);
      fn.addEnvironment(E.authAudience, auth.audience);
    }
  }

  /** Tells the functions that export the event logs' older months where to, and lets them write there (objects only). */
  connectArchive(bucket: s3.IBucket): void {
    for (const spec of this.specs.filter((s) => s.uses.archive)) {
      const fn = this.get(spec.id);
      fn.addEnvironment(E.eventLogArchiveBucket, bucket.bucketName);
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects('event-log/*')] }));
    }
  }

  /** Tells the functions that watch the event source mappings which ones, and lets them read exactly those. */
  connectEventSources(mappings: Map<string, lambda.EventSourceMapping>): void {
    for (const spec of this.specs.filter((s) => s.uses.eventSources)) {
      const fn = this.get(spec.id);
      const entries = [...mappings.entries()];
      fn.addEnvironment(E.eventSourceMappings, Fn.join(',', entries.map(([id, esm]) => `${id}=${esm.eventSourceMappingId}`)));
      if (entries.length === 0) continue;
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['lambda:GetEventSourceMapping'],
          resources: entries.map(([, esm]) =>
            Arn.format({ service: 'lambda', resource: 'event-source-mapping', resourceName: esm.eventSourceMappingId, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, Stack.of(this)),
          ),
        }),
      );
    }
  }

  private create(spec: FunctionSpec, props: CatalogFunctionsProps): NodejsFunction {
    const { settings, vpc, databases, broker, cache } = props;
    const { uses } = spec;
    const logGroup = new logs.LogGroup(this, `${spec.id}-logs`, {
      retention: settings.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const migrations = isMigrations(spec);
    // No function name of our own: CloudFormation's, so a replaced function never collides with
    // its predecessor. The catalog id travels in EVENTFLOW_FUNCTION instead.
    const fn = new NodejsFunction(this, spec.id, {
      description: `EventFlow ${spec.id} (${spec.trigger.kind})`,
      entry: path.join(REPO_ROOT, spec.entry),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      // The catalog's cap, where the environment reserves (settings.reservedConcurrency): it bounds
      // the database and broker connections a burst can open.
      reservedConcurrentExecutions: settings.reservedConcurrency ? spec.maxConcurrency : undefined,
      // Every function reaches something private (PostgreSQL, RabbitMQ or Redis), so all run in the VPC.
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.reachGroup(spec, props)],
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
        [E.functionId]: spec.id,
        [E.functionUses]: encodeUses(spec.uses),
        [E.serviceName]: spec.service,
        [E.logLevel]: settings.logLevel,
        [E.currency]: settings.currency,
        ...(migrations ? { [E.migrationsRoot]: LAMBDA_TASK_ROOT } : {}),
      },
    });

    if (uses.databases.length > 0) {
      fn.addEnvironment(E.databaseTls, 'true');
      fn.addEnvironment(E.dbPoolMax, String(spec.dbPoolMax));
      // RDS Proxy pins a session that prepares a statement to one database connection for good,
      // which undoes its multiplexing: through the proxy, statements go unnamed (parsed every time).
      const proxied = !migrations && uses.databases.some((service) => databases.services[service].proxy);
      fn.addEnvironment(E.dbPreparedStatements, String(!proxied));
      // Node 20+ Lambda runtimes no longer load the Amazon CA bundle (which includes the RDS CAs)
      // by default; only the functions that talk to RDS pay its cold-start cost.
      fn.addEnvironment('NODE_EXTRA_CA_CERTS', '/var/runtime/ca-cert.pem');
    }
    for (const service of uses.databases) {
      const { instance, proxy } = databases.services[service];
      fn.addEnvironment(E.dbSecretArn[service], instance.secret!.secretArn);
      instance.secret!.grantRead(fn);
      // Not the migrations: see reachGroup.
      if (proxy && !migrations) fn.addEnvironment(E.dbHost[service], proxy.endpoint);
    }
    if (uses.broker || uses.brokerManagement) {
      // Its own broker user's secret and no other; the administrator's only for the deploy-time hook.
      const role = spec.identity.broker;
      if (!role) throw new Error(`${spec.id} uses the broker but the catalog names no broker identity for it`);
      const secret = role === 'deploy' ? broker.secret : broker.userSecret(role);
      fn.addEnvironment(E.rabbitmqSecretArn, secret.secretArn);
      fn.addEnvironment(E.rabbitmqEndpoint, broker.endpoint);
      // The environment's partition layout: which queues the topology, the DLQ tools and the watch name.
      fn.addEnvironment(E.partitions, formatLayout(settings.partitions));
      secret.grantRead(fn);
    }
    if (uses.brokerUsers) {
      // The hook that creates the broker's users sets their passwords: it reads every user's secret.
      const secrets = [...broker.userSecrets.values()];
      fn.addEnvironment(E.rabbitmqUserSecrets, Stack.of(this).toJsonString(Object.fromEntries([...broker.userSecrets].map(([role, secret]) => [role, secret.secretArn]))));
      for (const secret of secrets) secret.grantRead(fn);
    }
    if (uses.brokerManagement) {
      fn.addEnvironment(E.rabbitmqManagementEndpoint, broker.managementEndpoint);
    }
    if (uses.redis) {
      // Its own Redis user's secret (functions/identities.ts says which keys and commands it may use).
      const role = spec.identity.redis;
      if (!role) throw new Error(`${spec.id} uses Redis but the catalog names no Redis identity for it`);
      const secret = cache.userSecret(role);
      fn.addEnvironment(E.redisUrl, cache.url);
      fn.addEnvironment(E.redisCluster, 'true');
      fn.addEnvironment(E.redisSecretArn, secret.secretArn);
      secret.grantRead(fn);
    }
    return fn;
  }

  /**
   * The security group for what a function reaches: the same group for every function with the
   * same reach, so each data port is opened once per reach instead of once per function (a group
   * and its rules per function took the prod stack past CloudFormation's 500 resources). A
   * function still reaches nothing it does not use: a group is shared only by equals.
   */
  private reachGroup(spec: FunctionSpec, props: CatalogFunctionsProps): ec2.SecurityGroup {
    const { vpc, databases, broker, cache } = props;
    const { uses } = spec;
    const migrations = isMigrations(spec);
    const openings: { name: string; open: (sg: ec2.SecurityGroup, why: string) => void }[] = [];
    for (const service of uses.databases) {
      const { instance, proxy } = databases.services[service];
      // The migrations hold a session-level advisory lock, which pins a proxy connection for the
      // whole run; they go to the instance itself.
      if (proxy && !migrations) openings.push({ name: `${service}-proxy`, open: (sg, why) => proxy.connections.allowFrom(sg, ec2.Port.tcp(POSTGRES_PORT), why) });
      else openings.push({ name: `${service}-db`, open: (sg, why) => instance.connections.allowDefaultPortFrom(sg, why) });
    }
    if (uses.broker || uses.brokerManagement) openings.push({ name: 'broker', open: (sg, why) => broker.securityGroup.connections.allowFrom(sg, ec2.Port.tcp(AMQPS_PORT), why) });
    if (uses.brokerManagement) openings.push({ name: 'broker-management', open: (sg, why) => broker.securityGroup.connections.allowFrom(sg, ec2.Port.tcp(MANAGEMENT_PORT), `${why} (management API)`) });
    if (uses.redis) openings.push({ name: 'cache', open: (sg, why) => cache.securityGroup.connections.allowFrom(sg, ec2.Port.tcp(REDIS_PORT), why) });
    const reach = openings.map((o) => o.name).join('+') || 'nothing';
    const existing = this.reachGroups.get(reach);
    if (existing) return existing;
    const sg = new ec2.SecurityGroup(this, `reach-${reach}`, { vpc, description: `EventFlow functions that reach ${reach}`, allowAllOutbound: true });
    for (const o of openings) o.open(sg, `functions that reach ${reach}`);
    this.reachGroups.set(reach, sg);
    return sg;
  }
}

const isMigrations = (spec: FunctionSpec) => spec.trigger.kind === 'deploy' && spec.trigger.purpose === 'migrations';

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
