/**
 * Issue 20: what would fail a later update or hurt in the first hour of a deployment, checked in
 * the synthesized templates (nothing here can be deployed): cross-stack references, names that a
 * replacement or a second region would collide on, secrets kept with the data, the broker's
 * connection limit, RDS Proxy's pool, the event-source alarms, the connection presets.
 */
import { App, Stack, type CfnResource } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/catalog';
import { Broker } from '../../lib/broker';
import { BROKER_CONNECTION_HEADROOM, PROXY_MAX_CONNECTIONS_PERCENT, brokerConnections, brokerConnectionsFit, rdsMaxConnections } from '../../lib/capacity';
import { presetOf, settingsFromContext } from '../../lib/settings';
import { METRICS } from '../../shared/metric-names';
import { ofType, refTarget, synthesize, type Synthesized } from './support';

let dev: Synthesized;
let prod: Synthesized;

beforeAll(() => {
  dev = synthesize({ env: 'dev' });
  prod = synthesize({ env: 'prod' });
});

const idOf = (s: Synthesized, c: { node: { defaultChild?: unknown } }) => s.backend.getLogicalId((c.node.defaultChild ?? c) as CfnResource);

describe('updates', () => {
  it('exports nothing: the web stack reads the backend through weak references (Fn::GetStackOutput), so replacing a backend resource never fails on an export in use', () => {
    for (const s of [dev, prod]) {
      const outputs = (s.backendTemplate.toJSON().Outputs ?? {}) as Record<string, { Export?: unknown }>;
      expect(Object.entries(outputs).filter(([, o]) => o.Export).map(([k]) => k)).toEqual([]);
      const web = JSON.stringify(s.webTemplate.toJSON());
      expect(web).not.toContain('Fn::ImportValue');
      expect(web).toContain('Fn::GetStackOutput');
      // Each weak reference names an output the backend has.
      for (const m of web.matchAll(/"OutputName":"([A-Za-z0-9]+)"/g)) expect(outputs[m[1]!], m[1]).toBeDefined();
    }
  });

  it('names the response-headers policies per region, the RDS proxies and the broker after what replaces them', () => {
    for (const s of [dev, prod]) {
      for (const [, p] of ofType(s.resources, 'AWS::CloudFront::ResponseHeadersPolicy')) {
        const name = p.Properties!.ResponseHeadersPolicyConfig.Name;
        expect(JSON.stringify(name)).toContain('AWS::Region');
      }
    }
    const proxies = ofType(prod.resources, 'AWS::RDS::DBProxy');
    expect(proxies).toHaveLength(3);
    for (const [, p] of proxies) expect(p.Properties!.DBProxyName).toMatch(/^eventflow-prod-(order|payment|inventory)-[0-9a-f]{8}$/);
    // The broker's name moves with its subnets (SubnetIds is a replacement property), as the proxies' do.
    const brokerIn = (cidr: string) => {
      const stack = new Stack(new App(), 'Probe');
      const vpc = new ec2.Vpc(stack, 'Vpc', {
        ipAddresses: ec2.IpAddresses.cidr(cidr),
        maxAzs: 2,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        ],
      });
      return new Broker(stack, 'Broker', { vpc, settings: presetOf('dev') }).name;
    };
    expect(brokerIn('10.0.0.0/16')).toBe(brokerIn('10.0.0.0/16'));
    expect(brokerIn('10.1.0.0/16')).not.toBe(brokerIn('10.0.0.0/16'));
  });

  it('keeps the database secrets where the databases leave a snapshot (prod), and removes them with the data in dev', () => {
    for (const [s, policy] of [[dev, 'Delete'], [prod, 'Retain']] as const) {
      for (const db of s.backend.databases.instances) {
        const secret = s.resources[idOf(s, db.secret!)]!;
        expect(secret.DeletionPolicy ?? 'Delete', s.backend.stackName).toBe(policy);
      }
    }
    for (const [, db] of ofType(prod.resources, 'AWS::RDS::DBInstance')) expect(db.DeletionPolicy).toBe('Snapshot');
  });
});

describe('the first hour', () => {
  it('fits the broker connections of the catalog at full concurrency under the configured connection_max, with headroom', () => {
    for (const s of [dev, prod]) {
      const settings = settingsFromContext(s.app.node);
      const connections = brokerConnections(FUNCTIONS, settings.partitions);
      expect(connections.uncapped, s.backend.stackName).toEqual([]);
      expect(connections.total * BROKER_CONNECTION_HEADROOM, s.backend.stackName).toBeLessThanOrEqual(settings.broker.connectionMax);
      expect(brokerConnectionsFit(connections, settings.broker.connectionMax)).toBe(true);
      // Set with a broker configuration the broker uses.
      const [configId, config] = ofType(s.resources, 'AWS::AmazonMQ::Configuration')[0]!;
      expect(config.Properties!.EngineType).toBe('RABBITMQ');
      expect(config.Properties!.Data).toEqual({ 'Fn::Base64': `connection_max = ${settings.broker.connectionMax}\n` });
      const broker = ofType(s.resources, 'AWS::AmazonMQ::Broker')[0]![1];
      expect(refTarget(broker.Properties!.Configuration.Id)).toBe(configId);
      expect(refTarget(broker.Properties!.Configuration.Revision)).toBe(configId);
      // And watched: an alarm before the limit refuses connections.
      const alarms = ofType(s.resources, 'AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties!.MetricName === 'ConnectionCount');
      expect(alarms).toHaveLength(1);
      expect(alarms[0]![1].Properties).toMatchObject({ Namespace: 'AWS/AmazonMQ', Threshold: Math.floor(settings.broker.connectionMax * 0.8) });
    }
    // A catalog that would not fit is caught: dev's broker at twice the API caps.
    const doubled = FUNCTIONS.map((f) => (f.maxConcurrency ? { ...f, maxConcurrency: f.maxConcurrency * 4 } : f));
    expect(brokerConnectionsFit(brokerConnections(doubled, presetOf('dev').partitions), presetOf('dev').broker.connectionMax)).toBe(false);
  });

  it("bounds RDS Proxy's pool: 90 % of max_connections, and a borrow timeout below every proxied function's timeout", () => {
    const proxied = FUNCTIONS.filter((f) => f.uses.databases.length > 0 && !(f.trigger.kind === 'deploy' && f.trigger.purpose === 'migrations'));
    const groups = ofType(prod.resources, 'AWS::RDS::DBProxyTargetGroup');
    expect(groups).toHaveLength(3);
    for (const [, g] of groups) {
      const pool = g.Properties!.ConnectionPoolConfigurationInfo;
      expect(pool.MaxConnectionsPercent).toBe(PROXY_MAX_CONNECTIONS_PERCENT);
      for (const f of proxied) expect(pool.ConnectionBorrowTimeout, f.id).toBeLessThan(f.timeoutSeconds);
    }
  });

  it('pages on an event source mapping only after two periods in a row: a fresh deploy or a broker restart passes quietly', () => {
    for (const s of [dev, prod]) {
      const alarms = ofType(s.resources, 'AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties!.MetricName === METRICS.eventSourceHealthy);
      expect(alarms).toHaveLength(s.backend.eventSources.mappings.size);
      for (const [, a] of alarms) expect(a.Properties).toMatchObject({ EvaluationPeriods: 2, DatapointsToAlarm: 2, TreatMissingData: 'breaching' });
    }
  });

  it("takes the connection presets from RDS's formula on the usable memory, below the nominal figure", () => {
    // LEAST({DBInstanceClassMemory/9531392}, 5000), DBInstanceClassMemory below the nominal RAM.
    expect(rdsMaxConnections('t4g.micro')).toBeLessThan(Math.floor(1024 ** 3 / 9531392));
    expect(rdsMaxConnections('t4g.medium')).toBeLessThan(Math.floor(4 * 1024 ** 3 / 9531392));
    expect(rdsMaxConnections('t4g.micro')).toBe(90);
    expect(rdsMaxConnections('t4g.medium')).toBe(360);
    expect(() => rdsMaxConnections('x9.huge')).toThrow(/lib\/capacity.ts/);
    expect(presetOf('dev').database.maxConnections).toBe(rdsMaxConnections(presetOf('dev').database.instanceClass));
    expect(presetOf('prod').database.maxConnections).toBe(rdsMaxConnections(presetOf('prod').database.instanceClass));
    // The alarm fires at 80 % of it.
    const dbAlarms = ofType(prod.resources, 'AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties!.MetricName === 'DatabaseConnections');
    for (const [, a] of dbAlarms) expect(a.Properties!.Threshold).toBe(Math.floor(presetOf('prod').database.maxConnections * 0.8));
  });
});
