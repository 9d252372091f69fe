/**
 * The points of review that a first real deploy would otherwise hit, each checked on the
 * synthesized templates: WebSocket replies, the HTTP access-log format, broker policies through
 * the management API, event source mapping clean-up on destroy, database connections (RDS Proxy,
 * reserved concurrency, pool size), tracing, alarms and the dashboard, log retention, names.
 */
import { App, Validations, type CfnResource } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { Match } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/catalog';
import { buildApp } from '../../lib/app';
import { HTTP_API_ACCESS_LOG_FORMAT, contextVariables, isHttpApiLogVariable } from '../../lib/http-access-log';
import { fullConcurrency } from '../../lib/capacity';
import { settingsFromContext } from '../../lib/settings';
import { METRICS } from '../../shared/metric-names';
import { resolveTopology } from '../../functions/topology';
import { redisUsers } from '../../functions/identities';
import { cdkJsonContext, ofType, refTarget, synthesize, type Synthesized } from './support';

let dev: Synthesized;
let prod: Synthesized;
beforeAll(() => {
  dev = synthesize({ env: 'dev' });
  prod = synthesize({ env: 'prod' });
});

const idOf = (s: Synthesized, c: IConstruct) => s.backend.getLogicalId((c.node.defaultChild ?? c) as CfnResource);
const fnId = (s: Synthesized, id: string) => idOf(s, s.backend.functions.get(id));
const fnProps = (s: Synthesized, id: string) => s.resources[fnId(s, id)]!.Properties!;

describe('WebSocket replies', () => {
  it('makes $default two-way (route response), as the catalog says, and leaves $connect/$disconnect one-way', () => {
    const routes = ofType(dev.resources, 'AWS::ApiGatewayV2::Route');
    const byKey = (key: string) => routes.find(([, r]) => r.Properties!.RouteKey === key)!;
    const [defaultId, defaultRoute] = byKey('$default');
    expect(defaultRoute.Properties!.RouteResponseSelectionExpression).toBe('$default');
    const responses = ofType(dev.resources, 'AWS::ApiGatewayV2::RouteResponse');
    expect(responses).toHaveLength(1);
    expect(responses[0]![1].Properties).toMatchObject({ RouteResponseKey: '$default', RouteId: { Ref: defaultId } });
    for (const key of ['$connect', '$disconnect']) expect(byKey(key)[1].Properties!.RouteResponseSelectionExpression).toBeUndefined();
  });
});

describe('HTTP API access logs', () => {
  it('use HTTP API variables only', () => {
    const [, stage] = ofType(dev.resources, 'AWS::ApiGatewayV2::Stage').find(([, r]) => r.Properties!.StageName === '$default')!;
    const format = stage.Properties!.AccessLogSettings.Format as string;
    expect(format).toBe(HTTP_API_ACCESS_LOG_FORMAT);
    const used = contextVariables(format);
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((v) => !isHttpApiLogVariable(v))).toEqual([]);
    // API Gateway requires a request id in every access-log format.
    expect(used).toContain('requestId');
  });

  it('would refuse the REST module format that HTTP APIs reject ($context.resourcePath)', () => {
    const rest = contextVariables(AccessLogFormat.jsonWithStandardFields().toString());
    expect(rest.filter((v) => !isHttpApiLogVariable(v))).toContain('resourcePath');
  });
});

describe('broker policies at deploy time', () => {
  it('gives the topology hook the management endpoint, and HTTPS to the broker', () => {
    const vars = fnProps(dev, 'platform-topology').Environment.Variables;
    expect(vars.RABBITMQ_MANAGEMENT_ENDPOINT).toEqual({
      'Fn::Join': ['', ['https:', { 'Fn::Select': [1, { 'Fn::Split': [':', { 'Fn::Select': [0, { 'Fn::GetAtt': [dev.backend.getLogicalId(dev.backend.broker.broker), 'AmqpEndpoints'] }] }] }] }]],
    });
  });

  it('re-runs the topology hook when the policies change (their definition is part of its fingerprint)', () => {
    const fingerprint = (s: Synthesized) => ofType(s.resources, 'Custom::EventFlowTopology')[0]![1].Properties!.fingerprint;
    // 3.13 has no unlimited delivery limit, so its DLQ policy differs from 4.2's.
    expect(fingerprint(synthesize({ brokerEngineVersion: '3.13' }))).not.toBe(fingerprint(dev));
  });
});

describe('cdk destroy', () => {
  it('guards every event source mapping with a clean-up that goes before the consumer role and its policies', () => {
    const cleanups = ofType(dev.resources, 'Custom::EventFlowEsmCleanup');
    const mappings = ofType(dev.resources, 'AWS::Lambda::EventSourceMapping');
    expect(cleanups).toHaveLength(mappings.length);
    for (const [mappingId, mapping] of dev.backend.eventSources.mappings) {
      const esmLogicalId = idOf(dev, mapping);
      const [, cleanup] = cleanups.find(([, r]) => refTarget(r.Properties!.EsmId) === esmLogicalId)!;
      const role = dev.backend.functions.get(dev.backend.eventSources.consumerOf.get(mappingId)!).role!;
      // What tells it whether the broker's ENIs stay with another mapping: the broker, the mapping's alias, the broker's group.
      expect(cleanup.Properties, mappingId).toMatchObject({
        BrokerArn: { 'Fn::GetAtt': [idOf(dev, dev.backend.broker.broker), 'Arn'] },
        FunctionName: dev.backend.resolve(dev.backend.eventSources.targetOf.get(mappingId)!.functionArn),
        SecurityGroupId: { 'Fn::GetAtt': [idOf(dev, dev.backend.broker.securityGroup), 'GroupId'] },
      });
      expect(dev.resources[esmLogicalId]!.Properties!.FunctionName).toEqual(cleanup.Properties!.FunctionName);
      // Deleted first (it references the mapping; the role and policy are its dependencies).
      expect(cleanup.DependsOn, mappingId).toEqual(
        expect.arrayContaining([idOf(dev, role), dev.backend.getLogicalId(role.node.findChild('DefaultPolicy').node.defaultChild as CfnResource)]),
      );
    }
    // onEvent may delete exactly these mappings; isComplete only describes ENIs.
    const onEventRole = refTarget(dev.resources[idOf(dev, dev.backend.esmCleanup.onEvent)]!.Properties!.Role);
    const statements = ofType(dev.resources, 'AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties!.Roles as unknown[]).some((r) => refTarget(r) === onEventRole))
      .flatMap(([, p]) => p.Properties!.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const deletable = statements.filter((s) => [s.Action].flat().includes('lambda:DeleteEventSourceMapping')).flatMap((s) => [s.Resource].flat());
    expect(deletable).toHaveLength(mappings.length);
    // isComplete describes ENIs and lists mappings (neither takes a resource) and reads exactly the guarded mappings.
    dev.backendTemplate.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['ec2:DescribeNetworkInterfaces', 'lambda:ListEventSourceMappings'], Resource: '*' }),
          Match.objectLike({ Action: 'lambda:GetEventSourceMapping', Resource: Match.anyValue() }),
        ]),
      },
    });
  });

  it('leaves no fixed physical name that a replacement would collide with', () => {
    for (const [, r] of ofType(dev.resources, 'AWS::Lambda::Function')) expect(r.Properties!.FunctionName).toBeUndefined();
    for (const [, r] of ofType(dev.resources, 'AWS::RDS::DBInstance')) expect(r.Properties!.DBInstanceIdentifier).toBeUndefined();
    for (const [, r] of ofType(dev.resources, 'AWS::SecretsManager::Secret')) expect(r.Properties!.Name).toBeUndefined();
    // Names the resource types require carry the settings that replace them.
    const brokerName = (s: Synthesized) => ofType(s.resources, 'AWS::AmazonMQ::Broker')[0]![1].Properties!.BrokerName as string;
    expect(brokerName(dev)).toMatch(/^eventflow-dev-[0-9a-f]{8}$/);
    expect(brokerName(synthesize({ brokerDeploymentMode: 'CLUSTER_MULTI_AZ' }))).not.toBe(brokerName(dev));
  });
});

describe('database connections under load', () => {
  it('puts an RDS Proxy (TLS required) in front of each database in prod, none in dev', () => {
    expect(ofType(prod.resources, 'AWS::RDS::DBProxy')).toHaveLength(3);
    prod.backendTemplate.allResourcesProperties('AWS::RDS::DBProxy', { RequireTLS: true, EngineFamily: 'POSTGRESQL' });
    expect(ofType(dev.resources, 'AWS::RDS::DBProxy')).toHaveLength(0);
  });

  it('sends the functions through the proxy, except the migrations, whose advisory lock would pin it', () => {
    for (const spec of FUNCTIONS) {
      const vars = fnProps(prod, spec.id).Environment.Variables;
      for (const service of spec.uses.databases) {
        const host = vars[`${service.toUpperCase()}_DB_HOST`];
        if (spec.trigger.kind === 'deploy' && spec.trigger.purpose === 'migrations') expect(host, spec.id).toBeUndefined();
        else expect(refTarget(host), `${spec.id} ${service}`).toBe(idOf(prod, prod.backend.databases.services[service].proxy!));
      }
      for (const service of spec.uses.databases) expect(fnProps(dev, spec.id).Environment.Variables[`${service.toUpperCase()}_DB_HOST`]).toBeUndefined();
    }
  });

  it("reserves the catalog's concurrency per environment: off in dev by default (a new account's quota), on in prod, switchable", () => {
    const capped = FUNCTIONS.filter((f) => f.maxConcurrency !== undefined);
    expect(capped.map((f) => f.trigger.kind)).toEqual(expect.arrayContaining(['http']));
    for (const spec of FUNCTIONS.filter((f) => f.trigger.kind === 'http')) expect(spec.maxConcurrency, spec.id).toBeGreaterThan(0);
    const reserved = synthesize({ env: 'dev', reservedConcurrency: 'true' });
    for (const spec of FUNCTIONS) {
      expect(fnProps(dev, spec.id).ReservedConcurrentExecutions, spec.id).toBeUndefined();
      expect(fnProps(reserved, spec.id).ReservedConcurrentExecutions, spec.id).toBe(spec.maxConcurrency);
      expect(fnProps(prod, spec.id).ReservedConcurrentExecutions, spec.id).toBe(spec.maxConcurrency);
    }
    // The capped functions together stay within a dev database's connections, one per environment.
    const layout = settingsFromContext(dev.app.node).partitions;
    for (const service of ['order', 'payment', 'inventory'] as const) {
      const users = FUNCTIONS.filter((f) => f.uses.databases.includes(service));
      const environments = (f: (typeof users)[number]) => fullConcurrency(f, layout) ?? 1;
      const worst = users.reduce((n, f) => n + environments(f) * f.dbPoolMax, 0);
      expect(worst, service).toBeLessThan(settingsFromContext(dev.app.node).database.maxConnections * 0.8);
    }
  });
});

describe('watched', () => {
  it('traces every catalog function with X-Ray', () => {
    for (const spec of FUNCTIONS) expect(fnProps(dev, spec.id).TracingConfig, spec.id).toEqual({ Mode: 'Active' });
  });

  it('alarms, to one SNS topic, on what the review named', () => {
    const topic = dev.backend.getLogicalId(dev.backend.monitoring.topic.node.defaultChild as CfnResource);
    const alarms = ofType(dev.resources, 'AWS::CloudWatch::Alarm');
    for (const [, a] of alarms) expect(a.Properties!.AlarmActions).toEqual([{ Ref: topic }]);
    const on = (metric: string, dims?: Record<string, unknown>) =>
      alarms.filter(([, a]) => a.Properties!.MetricName === metric && (!dims || Object.entries(dims).every(([k, v]) => (a.Properties!.Dimensions as { Name: string; Value: unknown }[]).some((d) => d.Name === k && JSON.stringify(d.Value) === JSON.stringify(v)))));
    // Each function's errors and throttles, summed in one alarm.
    type Query = { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: unknown }[] } } };
    const queriesOf = (a: (typeof alarms)[number][1]) => (a.Properties!.Metrics as Query[] | undefined) ?? [];
    for (const spec of FUNCTIONS) {
      const ofFn = (q: Query, metric: string) =>
        q.MetricStat?.Metric.MetricName === metric && q.MetricStat.Metric.Dimensions.some((d) => d.Name === 'FunctionName' && JSON.stringify(d.Value) === JSON.stringify({ Ref: fnId(dev, spec.id) }));
      const watching = alarms.filter(([, a]) => {
        const qs = queriesOf(a);
        return qs.some((q) => ofFn(q, 'Errors')) && qs.some((q) => ofFn(q, 'Throttles')) && qs.some((q) => q.Expression === 'errors + throttles');
      });
      expect(watching, spec.id).toHaveLength(1);
      expect(watching[0]![1].Properties!.Threshold, spec.id).toBe(1);
    }
    expect(on('5xx')).toHaveLength(1);
    for (const m of ['CPUUtilization', 'DatabaseConnections', 'FreeStorageSpace']) expect(on(m), m).toHaveLength(3);
    expect(on(METRICS.brokerMemoryUsage)).toHaveLength(1);
    expect(on(METRICS.brokerResourceAlarms)).toHaveLength(1);
    expect(on(METRICS.eventSourceHealthy)).toHaveLength(dev.backend.eventSources.mappings.size);
    for (const [, a] of on(METRICS.eventSourceHealthy)) expect(a.Properties!.TreatMissingData).toBe('breaching');
    const dlqs = resolveTopology('').queues.filter((q) => q.policy.kind === 'dead-letter').map((q) => q.name);
    expect(dlqs.length).toBeGreaterThan(0);
    for (const dlq of dlqs) expect(on(METRICS.queueDepth, { queue: dlq }), dlq).toHaveLength(1);
    // Metric math and Metrics Insights alarms: WebSocket errors, broker CPU (node metrics).
    const queries = alarms.flatMap(([, a]) => (a.Properties!.Metrics as { Expression?: string }[] | undefined) ?? []).map((m) => m.Expression ?? '');
    expect(queries.some((q) => q.includes('SystemCpuUtilization') && q.includes(dev.backend.broker.name))).toBe(true);
    expect(queries).toContain('integration + execution');
  });

  it('sends alarms to an e-mail address when one is given', () => {
    const s = synthesize({ alarmEmail: 'ops@example.com' });
    s.backendTemplate.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('draws a dashboard: orders per outcome, saga latency, queue depths, errors', () => {
    const [, dashboard] = ofType(dev.resources, 'AWS::CloudWatch::Dashboard')[0]!;
    const body = JSON.stringify(dashboard.Properties!.DashboardBody);
    for (const needle of [METRICS.ordersSettled, METRICS.sagaLatency, METRICS.queueDepth, 'Errors', '5xx']) expect(body, needle).toContain(needle);
  });

  it('gives the broker and database log groups, which those services create, a retention', () => {
    const retentions = ofType(dev.resources, 'Custom::LogRetention');
    const names = retentions.map(([, r]) => JSON.stringify(r.Properties!.LogGroupName));
    expect(names.filter((n) => n.includes('/aws/amazonmq/broker/'))).toHaveLength(1);
    expect(names.filter((n) => n.includes('/aws/rds/instance/'))).toHaveLength(3);
    for (const [, r] of retentions) expect(r.Properties!.RetentionInDays).toBe(7);
  });
});

describe('smaller', () => {
  it('lets only the RBAC application users into the cache: the default user is switched off', () => {
    const users = ofType(dev.resources, 'AWS::ElastiCache::User');
    const byName = (n: string) => users.find(([, u]) => u.Properties!.UserName === n)![1].Properties!;
    expect(byName('default').AccessString).toMatch(/^off /);
    // One per use (test/cdk/identities.test.ts checks their access strings), each with a password.
    for (const user of redisUsers('')) expect(byName(user.name).AuthenticationMode, user.name).toMatchObject({ Type: 'password' });
    const [groupId, group] = ofType(dev.resources, 'AWS::ElastiCache::UserGroup')[0]!;
    expect(group.Properties!.UserIds).toHaveLength(1 + redisUsers('').length);
    dev.backendTemplate.hasResourceProperties('AWS::ElastiCache::ServerlessCache', { UserGroupId: { Ref: groupId } });
  });

  it('scopes each cdk-nag acknowledgement of a wildcard to the function that has it, with a reason', () => {
    const acks: { path: string; id: string; reason: string }[] = [];
    const visit = (c: IConstruct) => {
      for (const m of c.node.metadata) {
        if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(m.data as Record<string, string>)) acks.push({ path: c.node.path, id, reason });
      }
      c.node.children.forEach(visit);
    };
    // Built, not synthesized: the acknowledgements are construct metadata (the nag test runs the checks).
    const { backend } = buildApp(new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } }), { nag: true });
    visit(backend);
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(20);
    const functionsPath = backend.functions.node.path;
    // Never on the functions construct as a whole: each function answers for its own wildcards.
    expect(acks.filter((a) => a.path === functionsPath)).toEqual([]);
    for (const a of acks.filter((x) => x.id.endsWith('IAM5[Resource::*]') && x.path.startsWith(`${functionsPath}/`))) {
      const id = a.path.slice(functionsPath.length + 1);
      const spec = FUNCTIONS.find((f) => f.id === id)!;
      expect(a.reason).toContain('X-Ray');
      expect(a.reason.includes('Amazon MQ event source'), id).toBe(spec.trigger.kind === 'queue');
    }
  });
});
