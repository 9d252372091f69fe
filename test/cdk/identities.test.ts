/**
 * Every function and event source mapping on its own identity in the templates: each broker and
 * Redis user has a secret of its own, each function reads only the secrets of its own identities
 * (its databases', its broker user's, its Redis user's; the topology hook the broker users' it
 * creates), each mapping consumes as its queue's event source user, the cache's RBAC users have the
 * access strings of functions/identities.ts, and the HTTP API's budgets are per route.
 */
import type { CfnResource } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ROUTE_THROTTLE, FUNCTIONS, ROUTE_THROTTLES } from '../../functions/catalog';
import { brokerUsers, redisAccessString, redisUsers } from '../../functions/identities';
import { ofType, refTarget, synthesize, type Synthesized } from './support';

let dev: Synthesized;
beforeAll(() => {
  dev = synthesize({ env: 'dev' });
});

const fnLogicalId = (id: string) => dev.backend.getLogicalId(dev.backend.functions.get(id).node.defaultChild as CfnResource);
const resolved = (value: string) => JSON.stringify(dev.backend.resolve(value));

/** The secrets a function's role may read (GetSecretValue), as resolved ARNs. */
function readableSecrets(functionId: string): string[] {
  const role = refTarget(dev.resources[fnLogicalId(functionId)]!.Properties!.Role);
  return ofType(dev.resources, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties!.Roles as unknown[]).some((r) => refTarget(r) === role))
    .flatMap(([, p]) => p.Properties!.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
    .filter((st) => [st.Action].flat().includes('secretsmanager:GetSecretValue'))
    .flatMap((st) => [st.Resource].flat().map((r) => JSON.stringify(r)))
    .sort();
}

describe('identities in the templates', () => {
  it('has a secret per broker user and per Redis user, each naming its user', () => {
    for (const user of brokerUsers('')) {
      const secret = dev.resources[dev.backend.getLogicalId(dev.backend.broker.userSecret(user.role).node.defaultChild as CfnResource)]!;
      expect(JSON.parse(secret.Properties!.GenerateSecretString.SecretStringTemplate), user.role).toEqual({ username: user.name });
    }
    for (const user of redisUsers('')) {
      const secret = dev.resources[dev.backend.getLogicalId(dev.backend.cache.userSecret(user.role).node.defaultChild as CfnResource)]!;
      expect(JSON.parse(secret.Properties!.GenerateSecretString.SecretStringTemplate), user.role).toEqual({ username: user.name });
    }
  });

  it("gives each function only its own identities' secrets", () => {
    const { broker, cache, databases } = dev.backend;
    for (const spec of FUNCTIONS) {
      const expected = new Set<string>();
      for (const service of spec.uses.databases) expected.add(resolved(databases.services[service].instance.secret!.secretArn));
      const role = spec.identity.broker;
      if (role) expected.add(resolved(role === 'deploy' ? broker.secret.secretArn : broker.userSecret(role).secretArn));
      if (spec.uses.brokerUsers) for (const secret of broker.userSecrets.values()) expected.add(resolved(secret.secretArn));
      if (spec.trigger.kind === 'queue') expected.add(resolved(broker.userSecret(`${spec.trigger.queue}-source`).secretArn));
      if (spec.identity.redis) expected.add(resolved(cache.userSecret(spec.identity.redis).secretArn));
      expect(readableSecrets(spec.id), spec.id).toEqual([...expected].sort());

      const vars = dev.resources[fnLogicalId(spec.id)]!.Properties!.Environment.Variables as Record<string, unknown>;
      if (role) expect(JSON.stringify(vars.RABBITMQ_SECRET_ARN), spec.id).toBe(resolved(role === 'deploy' ? broker.secret.secretArn : broker.userSecret(role).secretArn));
      if (spec.identity.redis) expect(JSON.stringify(vars.REDIS_SECRET_ARN), spec.id).toBe(resolved(cache.userSecret(spec.identity.redis).secretArn));
    }
    // Only the deploy-time hook holds the administrator's secret.
    expect(FUNCTIONS.filter((f) => readableSecrets(f.id).includes(resolved(broker.secret.secretArn))).map((f) => f.id)).toEqual(['platform-topology']);
  });

  it('tells the topology hook which secret holds each broker user it creates', () => {
    const vars = dev.resources[fnLogicalId('platform-topology')]!.Properties!.Environment.Variables as Record<string, unknown>;
    const json = JSON.stringify(vars.RABBITMQ_USER_SECRETS);
    for (const user of brokerUsers('')) {
      expect(json).toContain(`\\"${user.role}\\"`);
      expect(json).toContain(dev.backend.getLogicalId(dev.backend.broker.userSecret(user.role).node.defaultChild as CfnResource));
    }
  });

  it('has each event source mapping consume as its queue\'s event source user', () => {
    for (const [mappingId, mapping] of dev.backend.eventSources.mappings) {
      const spec = FUNCTIONS.find((f) => f.id === dev.backend.eventSources.consumerOf.get(mappingId))!;
      if (spec.trigger.kind !== 'queue') throw new Error(`${mappingId} feeds no queue consumer`);
      const r = dev.resources[dev.backend.getLogicalId(mapping.node.defaultChild as CfnResource)]!;
      expect(r.Properties!.SourceAccessConfigurations, mappingId).toEqual([
        { Type: 'BASIC_AUTH', URI: dev.backend.resolve(dev.backend.broker.userSecret(`${spec.trigger.queue}-source`).secretArn) },
      ]);
    }
  });

  it("gives the cache one RBAC user per use with that use's access string, and the default user switched off", () => {
    const users = ofType(dev.resources, 'AWS::ElastiCache::User').map(([, r]) => r.Properties!);
    expect(users.map((u) => u.UserName).sort()).toEqual(['default', ...redisUsers('').map((u) => u.name)].sort());
    expect(users.find((u) => u.UserName === 'default')!.AccessString).toBe('off ~* -@all');
    for (const spec of redisUsers('')) {
      const user = users.find((u) => u.UserName === spec.name)!;
      expect(user.AccessString, spec.role).toBe(redisAccessString(spec));
      expect(user.AccessString, spec.role).not.toMatch(/~\*|\+@all|allkeys/);
    }
    const [, group] = ofType(dev.resources, 'AWS::ElastiCache::UserGroup')[0]!;
    expect((group.Properties!.UserIds as unknown[]).length).toBe(1 + redisUsers('').length);
  });

  it('throttles the HTTP API per route: the catalog\'s default on every route, its own budget where the catalog names one', () => {
    const stage = ofType(dev.resources, 'AWS::ApiGatewayV2::Stage').find(([, r]) => r.Properties!.StageName === '$default')!;
    expect(stage[1].Properties!.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: DEFAULT_ROUTE_THROTTLE.ratePerSecond,
      ThrottlingBurstLimit: DEFAULT_ROUTE_THROTTLE.burst,
    });
    expect(stage[1].Properties!.RouteSettings).toEqual(
      Object.fromEntries(Object.entries(ROUTE_THROTTLES).map(([route, t]) => [route, { ThrottlingRateLimit: t!.ratePerSecond, ThrottlingBurstLimit: t!.burst }])),
    );
    // API Gateway refuses settings for a route that does not exist yet: the stage comes after those routes.
    const routeIds = ofType(dev.resources, 'AWS::ApiGatewayV2::Route')
      .filter(([, r]) => Object.keys(ROUTE_THROTTLES).includes(r.Properties!.RouteKey as string))
      .map(([id]) => id);
    expect(routeIds).toHaveLength(Object.keys(ROUTE_THROTTLES).length);
    expect(stage[1].DependsOn).toEqual(expect.arrayContaining(routeIds));
  });
});
