import type { CfnResource } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, HTTP_API_CORS } from '../../functions/catalog';
import { LAMBDA_ENV, decodeUses, requiredOnLambda } from '../../shared/env';
import { formatLayout, partitionQueues } from '../../functions/topology';
import { settingsFromContext } from '../../lib/settings';
import { ofType, refTarget, synthesize, type Synthesized } from './support';

let dev: Synthesized;
let prod: Synthesized;
const fnLogicalId = (s: Synthesized, id: string) =>
  s.backend.getLogicalId(s.backend.functions.get(id).node.defaultChild as CfnResource);

beforeAll(() => {
  dev = synthesize({ env: 'dev' });
  prod = synthesize({ env: 'prod' });
});

describe('catalog parity', () => {
  it('leaves room under CloudFormation\'s 500 resources a stack in both environments', () => {
    // A synth past 500 fails outright; this says how close the next function may take it (each
    // catalog function costs about ten: function, role, policy, log group, permission, trigger, alarms).
    for (const s of [dev, prod]) expect(Object.keys(s.resources).length, s.backend.stackName).toBeLessThanOrEqual(470);
  });

  it('deploys one Lambda per catalog entry and no other function but CDK helpers', () => {
    const lambdas = ofType(dev.resources, 'AWS::Lambda::Function');
    const catalogId = (r: (typeof lambdas)[number][1]) => r.Properties?.Environment?.Variables?.EVENTFLOW_FUNCTION as string | undefined;
    expect(lambdas.map(([, r]) => catalogId(r)).filter(Boolean).sort()).toEqual(FUNCTIONS.map((f) => f.id).sort());
    // No fixed names: CloudFormation names every function, so a replacement never collides.
    for (const [, r] of lambdas) expect(r.Properties?.FunctionName).toBeUndefined();
    const helpers = lambdas.filter(([, r]) => !catalogId(r)).map(([, r]) => r.Metadata?.['aws:cdk:path'] as string);
    const helper =
      /-provider\/framework-onEvent\/Resource$|\/EsmCleanup\/(onEvent|isComplete|Provider\/framework-(onEvent|isComplete|onTimeout))\/Resource$|\/LogRetention[0-9a-f]+\/Resource$|\/Custom::(VpcRestrictDefaultSG|S3AutoDeleteObjects)CustomResourceProvider\/Handler$/;
    for (const p of helpers) expect(p).toMatch(helper);
    // The deploy hooks' providers, the mapping clean-up (two handlers, three provider functions),
    // LogRetention, the handler that empties the VPC's default security group (feature flag), and
    // the one that empties the dashboard's bucket on removal.
    expect(helpers).toHaveLength(FUNCTIONS.filter((f) => f.trigger.kind === 'deploy').length + 5 + 1 + 1 + 1);
    const webLambdas = ofType(dev.webTemplate.toJSON().Resources, 'AWS::Lambda::Function');
    for (const [, r] of webLambdas) expect(r.Metadata?.['aws:cdk:path']).toMatch(/Custom::CDKBucketDeployment/);
  });

  it('builds every function for Node.js 22 on arm64 with the catalog memory and timeout', () => {
    for (const spec of FUNCTIONS) {
      const r = dev.resources[fnLogicalId(dev, spec.id)]!;
      expect(r.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: spec.memoryMb,
        Timeout: spec.timeoutSeconds,
        Handler: 'index.handler',
      });
      expect(r.Properties!.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(r.Properties!.VpcConfig).toBeDefined();
    }
  });

  it('wires every catalog entry to exactly one trigger', () => {
    const triggered = new Map<string, string[]>();
    const mark = (logicalId: string | undefined, how: string) => {
      const spec = FUNCTIONS.find((f) => fnLogicalId(dev, f.id) === logicalId);
      expect(spec, `${how} targets a function outside the catalog`).toBeDefined();
      triggered.set(spec!.id, [...(triggered.get(spec!.id) ?? []), how]);
    };
    const integrations = dev.resources;
    for (const [, route] of ofType(dev.resources, 'AWS::ApiGatewayV2::Route')) {
      const integrationId = (route.Properties!.Target['Fn::Join'][1] as unknown[]).map(refTarget).find(Boolean)!;
      const uri = integrations[integrationId]!.Properties!.IntegrationUri;
      const fn = refTarget(uri) ?? (uri['Fn::Join'][1] as unknown[]).map(refTarget).find(Boolean);
      mark(fn, `route ${route.Properties!.RouteKey}`);
    }
    for (const [, esm] of ofType(dev.resources, 'AWS::Lambda::EventSourceMapping')) {
      const target = refTarget(esm.Properties!.FunctionName)!;
      mark(dev.resources[target]!.Type === 'AWS::Lambda::Alias' ? refTarget(dev.resources[target]!.Properties!.FunctionName) : target, 'mapping');
    }
    for (const [, authorizer] of ofType(dev.resources, 'AWS::ApiGatewayV2::Authorizer')) {
      const uri = authorizer.Properties!.AuthorizerUri;
      if (authorizer.Properties!.AuthorizerType === 'REQUEST') mark((uri['Fn::Join'][1] as unknown[]).map(refTarget).find(Boolean), 'authorizer');
    }
    for (const [, rule] of ofType(dev.resources, 'AWS::Events::Rule')) mark(refTarget(rule.Properties!.Targets[0].Arn), 'schedule');
    const cleanup = [dev.backend.esmCleanup.onEvent, dev.backend.esmCleanup.isComplete].map((f) => dev.backend.getLogicalId(f.node.defaultChild as CfnResource));
    for (const [, fn] of ofType(dev.resources, 'AWS::Lambda::Function')) {
      const user = fn.Properties!.Environment?.Variables?.USER_ON_EVENT_FUNCTION_ARN;
      // The mapping clean-up's provider fronts infrastructure handlers, not catalog functions.
      if (user && !cleanup.includes(refTarget(user)!)) mark(refTarget(user), 'custom resource');
    }
    for (const spec of FUNCTIONS) {
      const kinds = new Set((triggered.get(spec.id) ?? []).map((h) => h.split(' ')[0]));
      expect(kinds.size, `${spec.id}: ${triggered.get(spec.id)}`).toBe(1);
    }
  });

  it("puts the catalog's Lambda authorizer on $connect, reading the token from ?token=", () => {
    const authorizers = ofType(dev.resources, 'AWS::ApiGatewayV2::Authorizer').filter(([, a]) => a.Properties!.AuthorizerType === 'REQUEST');
    expect(authorizers.length).toBe(1);
    const [authorizerId, authorizer] = authorizers[0]!;
    expect(authorizer.Properties!.IdentitySource).toEqual(['route.request.querystring.token']);
    const connect = ofType(dev.resources, 'AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties!.RouteKey === '$connect')!;
    expect(connect[1].Properties!.AuthorizationType).toBe('CUSTOM');
    expect(connect[1].Properties!.AuthorizerId).toEqual({ Ref: authorizerId });
  });

  it('serves exactly the catalog routes, each from its function', () => {
    const http = FUNCTIONS.flatMap((f) => (f.trigger.kind === 'http' ? f.trigger.routes : []));
    const ws = FUNCTIONS.flatMap((f) => (f.trigger.kind === 'websocket' ? f.trigger.routes : []));
    const keys = ofType(dev.resources, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties!.RouteKey as string);
    expect(keys.sort()).toEqual([...http, ...ws].sort());
    expect([...dev.backend.apis.routes.entries()].sort()).toEqual(
      FUNCTIONS.flatMap((f) => (f.trigger.kind === 'http' || f.trigger.kind === 'websocket' ? f.trigger.routes.map((r) => [r, f.id]) : [])).sort(),
    );
  });

  it('gives each partition of each queue consumer an Amazon MQ mapping through an alias of its own, with its queue and batch settings, after the topology', () => {
    for (const s of [dev, prod]) {
      const layout = settingsFromContext(s.app.node).partitions;
      const topology = s.backend.getLogicalId(s.backend.hooks.byPurpose.get('topology')!.node.defaultChild as CfnResource);
      const migrations = s.backend.getLogicalId(s.backend.hooks.byPurpose.get('migrations')!.node.defaultChild as CfnResource);
      const consumers = FUNCTIONS.filter((f) => f.trigger.kind === 'queue');
      const mappings = ofType(s.resources, 'AWS::Lambda::EventSourceMapping');
      expect(mappings).toHaveLength(consumers.reduce((n, f) => n + (f.trigger.kind === 'queue' ? layout[f.trigger.queue] : 0), 0));
      // Every mapping names a different function: an alias (on $LATEST) per partition, the function itself for a queue of one.
      const res = s.resources;
      const targets = mappings.map(([, r]) => refTarget(r.Properties!.FunctionName)!);
      expect(new Set(targets).size).toBe(mappings.length);
      const functionOf = (target: string) => (res[target]!.Type === 'AWS::Lambda::Alias' ? refTarget(res[target]!.Properties!.FunctionName)! : target);
      for (const spec of consumers) {
        if (spec.trigger.kind !== 'queue') continue;
        const own = mappings.filter(([, r]) => functionOf(refTarget(r.Properties!.FunctionName)!) === fnLogicalId(s, spec.id));
        expect(own.map(([, r]) => r.Properties!.Queues).sort()).toEqual(partitionQueues(spec.trigger.queue, '', layout).map((q) => [q]).sort());
        const invoked = own.map(([, r]) => res[refTarget(r.Properties!.FunctionName)!]!);
        if (layout[spec.trigger.queue] === 1) expect(invoked.map((r) => r.Type)).toEqual(['AWS::Lambda::Function']);
        else {
          expect(invoked.map((r) => r.Type)).toEqual(own.map(() => 'AWS::Lambda::Alias'));
          expect(invoked.map((r) => [r.Properties!.Name, r.Properties!.FunctionVersion]).sort()).toEqual(own.map((_, i) => [`p${i}`, '$LATEST']));
        }
        for (const [, esm] of own) {
          expect(esm.Properties).toMatchObject({
            BatchSize: spec.trigger.batchSize,
            MaximumBatchingWindowInSeconds: spec.trigger.batchWindowSeconds,
            // The queue's own event source user, never the administrator (test/cdk/identities.test.ts).
            SourceAccessConfigurations: [{ Type: 'BASIC_AUTH', URI: s.backend.resolve(s.backend.broker.userSecret(`${spec.trigger.queue}-source`).secretArn) }],
            EventSourceArn: { 'Fn::GetAtt': [s.backend.getLogicalId(s.backend.broker.broker), 'Arn'] },
          });
          expect(esm.DependsOn).toEqual(expect.arrayContaining([topology, migrations]));
        }
      }
    }
  });

  it('partitions per environment: one per service queue in dev, two in prod, notification one; every broker user is told which', () => {
    expect(settingsFromContext(dev.app.node).partitions).toEqual({ order: 1, payment: 1, inventory: 1, notification: 1 });
    expect(settingsFromContext(prod.app.node).partitions).toEqual({ order: 2, payment: 2, inventory: 2, notification: 1 });
    const four = synthesize({ env: 'dev', partitions: '4' });
    expect(ofType(four.resources, 'AWS::Lambda::EventSourceMapping')).toHaveLength(4 * 3 + 1);
    for (const s of [dev, prod]) {
      const layout = formatLayout(settingsFromContext(s.app.node).partitions);
      for (const spec of FUNCTIONS.filter((f) => f.uses.broker || f.uses.brokerManagement)) {
        expect(s.resources[fnLogicalId(s, spec.id)]!.Properties!.Environment.Variables[LAMBDA_ENV.partitions], spec.id).toBe(layout);
      }
    }
  });

  it('runs the outbox relays on their schedule', () => {
    for (const spec of FUNCTIONS) {
      if (spec.trigger.kind !== 'schedule') continue;
      dev.backendTemplate.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: spec.trigger.everyMinutes === 1 ? 'rate(1 minute)' : `rate(${spec.trigger.everyMinutes} minutes)`,
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnLogicalId(dev, spec.id), 'Arn'] } })],
      });
    }
  });
});

describe('least privilege', () => {
  const env = (id: string) => dev.resources[fnLogicalId(dev, id)]!.Properties!.Environment.Variables as Record<string, unknown>;

  it('hands each function only the configuration its `uses` names', () => {
    const listed = new Set(Object.values(LAMBDA_ENV).flatMap((v) => (typeof v === 'string' ? [v] : Object.values(v))));
    for (const spec of FUNCTIONS) {
      const vars = env(spec.id);
      // Everything shared/config.ts needs on Lambda is there (else the cold start fails by design)...
      for (const name of requiredOnLambda(spec.uses)) expect(vars[name], `${spec.id} ${name}`).toBeDefined();
      // ...and every variable is one the list in shared/env.ts names, or Node's own.
      expect(Object.keys(vars).filter((k) => !listed.has(k) && k !== 'NODE_OPTIONS' && k !== 'NODE_EXTRA_CA_CERTS'), spec.id).toEqual([]);
      expect(vars.EVENTFLOW_FUNCTION).toBe(spec.id);
      // What the kernel learns a function may reach, without importing the catalog.
      expect(decodeUses(String(vars.EVENTFLOW_FUNCTION_USES))).toEqual(spec.uses);
      expect(vars.POWERTOOLS_SERVICE_NAME).toBe(spec.service);
      if (spec.uses.databases.length > 0) expect(vars.DB_POOL_MAX, spec.id).toBe(String(spec.dbPoolMax));
      for (const service of ['order', 'payment', 'inventory'] as const) {
        expect(`${service.toUpperCase()}_DB_SECRET_ARN` in vars, `${spec.id} ${service}`).toBe(spec.uses.databases.includes(service));
      }
      expect('RABBITMQ_SECRET_ARN' in vars, spec.id).toBe(spec.uses.broker || Boolean(spec.uses.brokerManagement));
      expect('RABBITMQ_ENDPOINT' in vars, spec.id).toBe(spec.uses.broker || Boolean(spec.uses.brokerManagement));
      expect('RABBITMQ_MANAGEMENT_ENDPOINT' in vars, spec.id).toBe(Boolean(spec.uses.brokerManagement));
      expect('REDIS_URL' in vars, spec.id).toBe(spec.uses.redis);
      expect('REDIS_SECRET_ARN' in vars, spec.id).toBe(spec.uses.redis);
      expect('EVENTFLOW_EVENT_SOURCE_MAPPINGS' in vars, spec.id).toBe(Boolean(spec.uses.eventSources));
      expect('WEBSOCKET_CALLBACK_URL' in vars, spec.id).toBe(Boolean(spec.uses.websocketCallback));
      expect(vars.DATABASE_TLS === 'true', spec.id).toBe(spec.uses.databases.length > 0);
      if (spec.uses.redis) expect(vars.REDIS_CLUSTER).toBe('true');
      if (spec.uses.databases.length > 0) expect(vars.NODE_EXTRA_CA_CERTS).toBe('/var/runtime/ca-cert.pem');
    }
    expect(env('platform-migrate').MIGRATIONS_ROOT).toBe('/var/task');
  });

  it('prepares statements only where a function reaches PostgreSQL directly, never through RDS Proxy', () => {
    const varsIn = (s: Synthesized, id: string) => s.resources[fnLogicalId(s, id)]!.Properties!.Environment.Variables as Record<string, unknown>;
    const users = FUNCTIONS.filter((f) => f.uses.databases.length > 0);
    const migrations = (f: (typeof FUNCTIONS)[number]) => f.trigger.kind === 'deploy' && f.trigger.purpose === 'migrations';
    const proxies = (s: Synthesized) => Object.values(s.backend.databases.services).filter((d) => d.proxy).length;
    expect([proxies(dev), proxies(prod)]).toEqual([0, 3]);
    for (const spec of users) {
      expect(varsIn(dev, spec.id).DB_PREPARED_STATEMENTS, `dev ${spec.id}`).toBe('true');
      // The migrations bypass the proxy (their advisory lock would pin it anyway).
      const viaProxy = !migrations(spec) && spec.uses.databases.every((s) => varsIn(prod, spec.id)[LAMBDA_ENV.dbHost[s]] !== undefined);
      expect(varsIn(prod, spec.id).DB_PREPARED_STATEMENTS, `prod ${spec.id}`).toBe(viaProxy ? 'false' : 'true');
      if (!migrations(spec)) expect(viaProxy, `prod ${spec.id} goes through the proxy`).toBe(true);
    }
    for (const spec of FUNCTIONS.filter((f) => f.uses.databases.length === 0)) {
      expect('DB_PREPARED_STATEMENTS' in varsIn(prod, spec.id), spec.id).toBe(false);
    }
  });

  it.each(['dev', 'prod'])('opens each data port only to the functions that use it (%s)', (env) => {
    const s = env === 'dev' ? dev : prod;
    const idOf = (c: { node: { defaultChild?: unknown } }) => s.backend.getLogicalId(c.node.defaultChild as CfnResource);
    const sgOf = (id: string) => idOf(s.backend.functions.get(id).connections.securityGroups[0]!);
    // Database rules take their port from the instance endpoint (a token), so only the group is matched there.
    const ingressSources = (sgConstruct: { node: { defaultChild?: unknown } }, port?: number) => {
      const target = idOf(sgConstruct);
      return ofType(s.resources, 'AWS::EC2::SecurityGroupIngress')
        .filter(([, r]) => refTarget(r.Properties!.GroupId) === target && (port === undefined || r.Properties!.FromPort === port))
        .map(([, r]) => refTarget(r.Properties!.SourceSecurityGroupId))
        .sort();
    };
    // Functions share a group only when they reach the same things: a group opened for one is opened for all of them.
    const groups = (ids: string[]) => [...new Set(ids)].sort();
    for (const [service, { instance, proxy }] of Object.entries(s.backend.databases.services)) {
      const users = FUNCTIONS.filter((f) => f.uses.databases.includes(service as 'order'));
      const direct = users.filter((f) => !proxy || (f.trigger.kind === 'deploy' && f.trigger.purpose === 'migrations'));
      // With a proxy, only the proxy and the migrations (their advisory lock would pin it) reach the instance.
      const instanceSources = groups([...direct.map((f) => sgOf(f.id)), ...(proxy ? [idOf(proxy.connections.securityGroups[0]!)] : [])]);
      expect(ingressSources(instance.connections.securityGroups[0]!), `${env} ${service} instance`).toEqual(instanceSources);
      if (proxy) {
        const viaProxy = groups(users.filter((f) => !direct.includes(f)).map((f) => sgOf(f.id)));
        expect(ingressSources(proxy.connections.securityGroups[0]!, 5432), `${env} ${service} proxy`).toEqual(viaProxy);
      }
    }
    const brokerUsers = groups(FUNCTIONS.filter((f) => f.uses.broker || f.uses.brokerManagement).map((f) => sgOf(f.id)));
    const brokerSg = s.backend.broker.securityGroup;
    // Plus the broker group itself: the event source mappings' ENIs carry it.
    expect(ingressSources(brokerSg, 5671)).toEqual([...brokerUsers, idOf(brokerSg)].sort());
    // The management API (HTTPS) only to the functions that set policies or read queue statistics.
    expect(ingressSources(brokerSg, 443)).toEqual(groups(FUNCTIONS.filter((f) => f.uses.brokerManagement).map((f) => sgOf(f.id))));
    const redisUsers = groups(FUNCTIONS.filter((f) => f.uses.redis).map((f) => sgOf(f.id)));
    // And a group is shared only by equals, so no function reaches more than it uses through it.
    const isMigrations = (f: (typeof FUNCTIONS)[number]) => f.trigger.kind === 'deploy' && f.trigger.purpose === 'migrations';
    const reachOf = (f: (typeof FUNCTIONS)[number]) =>
      JSON.stringify([
        f.uses.databases.map((d) => `${d} ${s.backend.databases.services[d].proxy && !isMigrations(f) ? 'proxy' : 'instance'}`),
        f.uses.broker || f.uses.brokerManagement,
        !!f.uses.brokerManagement,
        f.uses.redis,
      ]);
    for (const f of FUNCTIONS) {
      for (const g of FUNCTIONS.filter((other) => sgOf(other.id) === sgOf(f.id))) expect(reachOf(g), `${env}: ${g.id} shares ${f.id}'s group`).toBe(reachOf(f));
    }
    expect(ingressSources(s.backend.cache.securityGroup, 6379)).toEqual(redisUsers);
  });

  it('lets only the WebSocket callback users manage connections', () => {
    const policies = ofType(dev.resources, 'AWS::IAM::Policy');
    for (const spec of FUNCTIONS) {
      const role = refTarget(dev.resources[fnLogicalId(dev, spec.id)]!.Properties!.Role);
      const statements = policies
        .filter(([, p]) => (p.Properties!.Roles as unknown[]).some((r) => refTarget(r) === role))
        .flatMap(([, p]) => p.Properties!.PolicyDocument.Statement as { Action: string | string[] }[]);
      const actions = statements.flatMap((s) => [s.Action].flat());
      expect(actions.includes('execute-api:ManageConnections'), spec.id).toBe(Boolean(spec.uses.websocketCallback));
      expect(actions.includes('mq:DescribeBroker'), spec.id).toBe(spec.trigger.kind === 'queue');
    }
  });
});

describe('resources', () => {
  it('runs a private RabbitMQ broker from settings, single instance in dev and a cluster in prod', () => {
    dev.backendTemplate.hasResourceProperties('AWS::AmazonMQ::Broker', {
      EngineType: 'RABBITMQ',
      EngineVersion: '4.2',
      DeploymentMode: 'SINGLE_INSTANCE',
      PubliclyAccessible: false,
      AutoMinorVersionUpgrade: true,
    });
    prod.backendTemplate.hasResourceProperties('AWS::AmazonMQ::Broker', { DeploymentMode: 'CLUSTER_MULTI_AZ', HostInstanceType: 'mq.m7g.large' });
    const custom = synthesize({ brokerEngineVersion: '3.13', brokerInstanceType: 'mq.m5.large', brokerDeploymentMode: 'CLUSTER_MULTI_AZ' });
    custom.backendTemplate.hasResourceProperties('AWS::AmazonMQ::Broker', {
      EngineVersion: '3.13',
      HostInstanceType: 'mq.m5.large',
      DeploymentMode: 'CLUSTER_MULTI_AZ',
    });
    dev.backendTemplate.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', SecretStringTemplate: '{"username":"eventflow"}' }),
    });
  });

  it('declares the topology and runs the migrations through custom resources', () => {
    dev.backendTemplate.resourceCountIs('Custom::EventFlowTopology', 1);
    dev.backendTemplate.resourceCountIs('Custom::EventFlowMigrations', 1);
  });

  it('gives each service its own encrypted, backed-up PostgreSQL with a generated secret', () => {
    dev.backendTemplate.resourceCountIs('AWS::RDS::DBInstance', 3);
    dev.backendTemplate.resourceCountIs('AWS::SecretsManager::SecretTargetAttachment', 3);
    dev.backendTemplate.allResourcesProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      StorageEncrypted: true,
      MultiAZ: false,
      DeletionProtection: false,
      BackupRetentionPeriod: 1,
      PubliclyAccessible: false,
    });
    prod.backendTemplate.allResourcesProperties('AWS::RDS::DBInstance', { MultiAZ: true, DeletionProtection: true, BackupRetentionPeriod: 14 });
    for (const [, db] of ofType(prod.resources, 'AWS::RDS::DBInstance')) expect(db.DeletionPolicy).toBe('Snapshot');
    for (const [, db] of ofType(dev.resources, 'AWS::RDS::DBInstance')) expect(db.DeletionPolicy).toBe('Delete');
    expect(prod.backend.terminationProtection).toBe(true);
    expect(dev.backend.terminationProtection).toBe(false);
  });

  it('runs Redis on ElastiCache Serverless (always TLS and encrypted at rest) in the isolated subnets', () => {
    dev.backendTemplate.hasResourceProperties('AWS::ElastiCache::ServerlessCache', { Engine: 'redis', SecurityGroupIds: Match.anyValue() });
  });

  it('gives the VPC private subnets and NAT for the MQ event source and the WebSocket management API', () => {
    dev.backendTemplate.resourceCountIs('AWS::EC2::NatGateway', 1);
    prod.backendTemplate.resourceCountIs('AWS::EC2::NatGateway', 2);
    dev.backendTemplate.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
  });

  it('exposes an HTTP API with the catalog CORS and a WebSocket API on a logged, throttled stage', () => {
    dev.backendTemplate.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({ AllowOrigins: HTTP_API_CORS.allowOrigins, MaxAge: HTTP_API_CORS.maxAgeSeconds }),
    });
    dev.backendTemplate.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET' });
    dev.backendTemplate.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
    dev.backendTemplate.hasOutput('HttpApiUrl', {});
    dev.backendTemplate.hasOutput('WebSocketUrl', {});
  });
});
