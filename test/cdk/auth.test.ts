import type { CfnResource } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, accessOf, type RouteKey } from '../../functions/catalog';
import { CALLBACK_PATH } from '../../shared/auth/dashboard-client';
import { ofType, synthesize, type Synthesized } from './support';

let dev: Synthesized;
let prod: Synthesized;

beforeAll(() => {
  dev = synthesize({ env: 'dev' });
  prod = synthesize({ env: 'prod' });
});

const logicalId = (s: Synthesized, c: { node: { defaultChild?: unknown } }) => s.backend.getLogicalId(c.node.defaultChild as CfnResource);

describe('sign-in (Cognito)', () => {
  it('keeps a user pool of administrator-created accounts with a strong password policy, TOTP MFA and threat protection', () => {
    const pools = ofType(dev.resources, 'AWS::Cognito::UserPool');
    expect(pools).toHaveLength(1);
    const p = pools[0]![1].Properties!;
    expect(p.AdminCreateUserConfig.AllowAdminCreateUserOnly).toBe(true);
    expect(p.Policies.PasswordPolicy).toMatchObject({
      MinimumLength: 12,
      RequireLowercase: true,
      RequireUppercase: true,
      RequireNumbers: true,
      RequireSymbols: true,
      TemporaryPasswordValidityDays: 3,
      PasswordHistorySize: 5,
    });
    expect(p.MfaConfiguration).toBe('ON');
    expect(p.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
    expect(p.UserPoolTier).toBe('PLUS');
    expect(p.UserPoolAddOns).toEqual({ AdvancedSecurityMode: 'ENFORCED' });
    expect(p.UsernameAttributes).toEqual(['email']);
    expect(p.DeletionProtection).toBe('INACTIVE');
    const prodPool = ofType(prod.resources, 'AWS::Cognito::UserPool')[0]![1];
    expect(prodPool.Properties!.DeletionProtection).toBe('ACTIVE');
    expect(prodPool.DeletionPolicy).toBe('Retain');
  });

  it('has exactly the groups customer and operator', () => {
    const groups = ofType(dev.resources, 'AWS::Cognito::UserPoolGroup').map(([, g]) => g.Properties!.GroupName).sort();
    expect(groups).toEqual(['customer', 'operator']);
  });

  it('gives the dashboard a public client: authorization code only, back to the distribution', () => {
    const clients = ofType(dev.resources, 'AWS::Cognito::UserPoolClient');
    expect(clients).toHaveLength(1);
    const c = clients[0]![1].Properties!;
    expect(c.GenerateSecret).toBe(false);
    expect(c.AllowedOAuthFlows).toEqual(['code']);
    expect(c.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(c.AllowedOAuthScopes).toEqual(['openid', 'email', 'profile']);
    expect(c.SupportedIdentityProviders).toEqual(['COGNITO']);
    // No password flows: passwords are typed on the hosted pages only. Refresh tokens renew the session.
    expect(c.ExplicitAuthFlows).toEqual(['ALLOW_REFRESH_TOKEN_AUTH']);
    expect(c.EnableTokenRevocation).toBe(true);
    expect(c.PreventUserExistenceErrors).toBe('ENABLED');
    const distribution = logicalId(dev, dev.backend.site.distribution);
    const url = (suffix: string) => ({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distribution, 'DomainName'] }, suffix]] });
    expect(c.CallbackURLs).toEqual([url(CALLBACK_PATH)]);
    expect(c.LogoutURLs).toEqual([url('/')]);
  });

  it('hosts the sign-in pages on a domain named for the account and environment', () => {
    const [, domain] = ofType(dev.resources, 'AWS::Cognito::UserPoolDomain')[0]!;
    expect(domain.Properties!.Domain).toEqual({ 'Fn::Join': ['', ['eventflow-dev-', { Ref: 'AWS::AccountId' }]] });
  });

  it('tells the dashboard the issuer, its client, the scopes and the logout URL in config.json', () => {
    const pool = logicalId(dev, dev.backend.auth.userPool);
    const client = logicalId(dev, dev.backend.auth.dashboardClient);
    const domain = logicalId(dev, dev.backend.auth.domain);
    const distribution = logicalId(dev, dev.backend.site.distribution);
    const auth = JSON.stringify(dev.backend.resolve(dev.web.config.auth));
    expect(auth).toContain('"authority":{"Fn::Join":["",["https://cognito-idp.",{"Ref":"AWS::Region"},".",{"Ref":"AWS::URLSuffix"},"/",{"Ref":"' + pool + '"}]]}');
    expect(auth).toContain(`"clientId":{"Ref":"${client}"}`);
    expect(auth).toContain('"scope":"openid email profile"');
    const logout = JSON.stringify(dev.backend.resolve(dev.web.config.auth.logoutUrl));
    for (const part of [`{"Ref":"${domain}"}`, '.auth.', '/logout?client_id=', `{"Ref":"${client}"}`, '&logout_uri=https://', `{"Fn::GetAtt":["${distribution}","DomainName"]}`]) {
      expect(logout).toContain(part);
    }
    // config.json is written from these values at deploy time.
    const [, config] = ofType(dev.webTemplate.toJSON().Resources, 'Custom::CDKBucketDeployment').find(([, r]) => JSON.stringify(r.Properties!.DistributionPaths) === '["/config.json"]')!;
    const markers = JSON.stringify(config.Properties!.SourceMarkers);
    for (const name of [pool, client, domain]) expect(markers).toContain(name);
  });

  it('checks the access token on every HTTP route the catalog does not make public, with the pool as issuer and the client as audience', () => {
    const authorizers = ofType(dev.resources, 'AWS::ApiGatewayV2::Authorizer').filter(([, a]) => a.Properties!.AuthorizerType === 'JWT');
    expect(authorizers).toHaveLength(1);
    const [jwtId, jwt] = authorizers[0]!;
    const pool = logicalId(dev, dev.backend.auth.userPool);
    const client = logicalId(dev, dev.backend.auth.dashboardClient);
    expect(jwt.Properties).toMatchObject({
      ApiId: { Ref: logicalId(dev, dev.backend.apis.httpApi) },
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: client }],
        Issuer: { 'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: pool }]] },
      },
    });
    const routes = ofType(dev.resources, 'AWS::ApiGatewayV2::Route').filter(([, r]) => JSON.stringify(r.Properties!.ApiId).includes(logicalId(dev, dev.backend.apis.httpApi)));
    const catalogRoutes = FUNCTIONS.flatMap((f) => (f.trigger.kind === 'http' ? f.trigger.routes : []));
    expect(routes.map(([, r]) => r.Properties!.RouteKey).sort()).toEqual([...catalogRoutes].sort());
    const publicRoutes: string[] = [];
    for (const [, r] of routes) {
      const key = r.Properties!.RouteKey as RouteKey;
      if (accessOf(key) === 'public') {
        publicRoutes.push(key);
        expect(r.Properties!.AuthorizationType, key).toBe('NONE');
        expect(r.Properties!.AuthorizerId, key).toBeUndefined();
      } else {
        expect(r.Properties!.AuthorizationType, key).toBe('JWT');
        expect(r.Properties!.AuthorizerId, key).toEqual({ Ref: jwtId });
      }
    }
    // The catalog keeps some routes open (health, the product catalogue); all others are guarded.
    expect(publicRoutes.length).toBeGreaterThan(0);
    expect(publicRoutes.length).toBeLessThan(routes.length);
  });

  it('tells the WebSocket authorizer the same issuer and client, and nothing secret', () => {
    const pool = logicalId(dev, dev.backend.auth.userPool);
    const client = logicalId(dev, dev.backend.auth.dashboardClient);
    const verifiers = FUNCTIONS.filter((f) => f.uses.auth);
    expect(verifiers.length).toBeGreaterThan(0);
    for (const spec of verifiers) {
      const vars = dev.resources[logicalId(dev, dev.backend.functions.get(spec.id))]!.Properties!.Environment.Variables;
      expect(vars.AUTH_ISSUER, spec.id).toEqual({ 'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: pool }]] });
      expect(vars.AUTH_AUDIENCE, spec.id).toEqual({ Ref: client });
    }
    // The pool's issuer and client are not secrets, and no deploy-time parameter stands in for them.
    expect(dev.backendTemplate.toJSON().Parameters ?? {}).not.toHaveProperty('AuthIssuer');
  });
});
