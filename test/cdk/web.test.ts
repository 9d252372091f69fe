import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AssetStaging, CfnResource } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { WEB_DIR } from '../../lib/web';
import { beforeAll, describe, expect, it } from 'vitest';
import { IMMUTABLE_CACHE_CONTROL, NOT_FOUND_PAGE, REVALIDATE_CACHE_CONTROL, SECURITY_HEADERS } from '../../lib/web-site';
import { ofType, synthesize, type Synthesized } from './support';

let dev: Synthesized;
/** The distribution and its policies: in the backend stack, with the sign-in client that names its URL. */
let resources: Record<string, { Type: string; Properties?: Record<string, any> }>;
/** The files and config.json: the web stack. */
let webResources: Record<string, { Type: string; Properties?: Record<string, any> }>;
let distribution: Record<string, any>;

beforeAll(() => {
  dev = synthesize({ env: 'dev' });
  resources = dev.backendTemplate.toJSON().Resources;
  webResources = dev.webTemplate.toJSON().Resources;
  distribution = ofType(resources, 'AWS::CloudFront::Distribution')[0]![1].Properties!.DistributionConfig;
});

const byRef = (ref: unknown) => resources[(ref as { Ref: string }).Ref]!;

/** The viewer-request function as deployed, run on a CloudFront Functions event. */
function viewerRequest(uri: string, querystring: Record<string, { value: string; multiValue?: { value: string }[] }> = {}) {
  const [, fn] = ofType(resources, 'AWS::CloudFront::Function')[0]!;
  const handler = new Function(`${fn.Properties!.FunctionCode}\nreturn handler;`)();
  return handler({ request: { uri, method: 'GET', querystring, headers: {} } });
}

describe('web stack', () => {
  it('serves a private bucket through CloudFront with origin access control over HTTPS', () => {
    dev.backendTemplate.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    dev.backendTemplate.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    expect(distribution.DefaultRootObject).toBe('index.html');
    expect(distribution.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(distribution.CacheBehaviors.map((b: { ViewerProtocolPolicy: string }) => b.ViewerProtocolPolicy)).toEqual(['redirect-to-https']);
    dev.webTemplate.hasOutput('DashboardUrl', {});
  });

  it('runs a viewer-request function that maps /x/ to /x/index.html and redirects /x to /x/ keeping the query', () => {
    const [, fn] = ofType(resources, 'AWS::CloudFront::Function')[0]!;
    expect(fn.Properties!.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    expect(distribution.DefaultCacheBehavior.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [expect.any(String), 'FunctionARN'] } },
    ]);
    expect(viewerRequest('/').uri).toBe('/index.html');
    expect(viewerRequest('/orders/').uri).toBe('/orders/index.html');
    expect(viewerRequest('/orders/view/').uri).toBe('/orders/view/index.html');
    expect(viewerRequest('/_next/static/chunks/a1b2.js').uri).toBe('/_next/static/chunks/a1b2.js');
    expect(viewerRequest('/orders/__next._tree.txt').uri).toBe('/orders/__next._tree.txt');
    expect(viewerRequest('/config.json').uri).toBe('/config.json');
    const redirect = viewerRequest('/orders/view', {
      id: { value: 'f0e1d2c3-0000-4000-8000-000000000001' },
      tag: { value: 'b', multiValue: [{ value: 'a%20b' }, { value: 'c' }] },
      flag: { value: '' },
    });
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location.value).toBe('/orders/view/?id=f0e1d2c3-0000-4000-8000-000000000001&tag=a%20b&tag=c&flag');
    expect(viewerRequest('/queues').headers.location.value).toBe('/queues/');
  });

  it('answers 403 and 404 from S3 with the 404 page and status 404, not the SPA fallback', () => {
    expect(distribution.CustomErrorResponses).toEqual([
      { ErrorCode: 403, ResponseCode: 404, ResponsePagePath: NOT_FOUND_PAGE, ErrorCachingMinTTL: 10 },
      { ErrorCode: 404, ResponseCode: 404, ResponsePagePath: NOT_FOUND_PAGE, ErrorCachingMinTTL: 10 },
    ]);
    expect(JSON.stringify(distribution.CustomErrorResponses)).not.toContain('index.html');
  });

  it('serves pages no-cache and hashed assets immutable, each with its cache policy', () => {
    const pages = distribution.DefaultCacheBehavior;
    const [assets] = distribution.CacheBehaviors;
    expect(assets.PathPattern).toBe('/_next/static/*');
    const cacheControl = (behavior: { ResponseHeadersPolicyId: unknown }) =>
      byRef(behavior.ResponseHeadersPolicyId).Properties!.ResponseHeadersPolicyConfig.CustomHeadersConfig.Items;
    expect(cacheControl(pages)).toEqual([{ Header: 'Cache-Control', Value: REVALIDATE_CACHE_CONTROL, Override: true }]);
    expect(cacheControl(assets)).toEqual([{ Header: 'Cache-Control', Value: IMMUTABLE_CACHE_CONTROL, Override: true }]);
    const policy = (behavior: { CachePolicyId: unknown }) => byRef(behavior.CachePolicyId).Properties!.CachePolicyConfig;
    expect(policy(assets)).toMatchObject({ MinTTL: 31_536_000, DefaultTTL: 31_536_000 });
    expect(policy(pages)).toMatchObject({ MinTTL: 0 });
    for (const p of [policy(pages), policy(assets)]) {
      // Nothing a visitor sends changes what a static file is: one cache entry per path.
      expect(p.ParametersInCacheKeyAndForwardedToOrigin).toMatchObject({
        CookiesConfig: { CookieBehavior: 'none' },
        HeadersConfig: { HeaderBehavior: 'none' },
        QueryStringsConfig: { QueryStringBehavior: 'none' },
        EnableAcceptEncodingGzip: true,
        EnableAcceptEncodingBrotli: true,
      });
    }
  });

  it('sends CSP, HSTS, nosniff, frame options and a referrer policy on every response', () => {
    const policies = ofType(resources, 'AWS::CloudFront::ResponseHeadersPolicy');
    expect(policies).toHaveLength(2);
    for (const [, p] of policies) {
      const s = p.Properties!.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
      expect(s.StrictTransportSecurity).toEqual({ AccessControlMaxAgeSec: 63_072_000, IncludeSubdomains: true, Override: true });
      expect(s.ContentTypeOptions).toEqual({ Override: true });
      expect(s.FrameOptions).toEqual({ FrameOption: SECURITY_HEADERS['x-frame-options'], Override: true });
      expect(s.ReferrerPolicy).toEqual({ ReferrerPolicy: SECURITY_HEADERS['referrer-policy'], Override: true });
      const csp = JSON.stringify(s.ContentSecurityPolicy.ContentSecurityPolicy);
      for (const directive of ["default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "script-src 'self'"]) expect(csp).toContain(directive);
      // The dashboard may call exactly the two APIs and the sign-in endpoints of its environment,
      // resolved at deploy time.
      expect(csp).toContain("connect-src 'self' ");
      const connect = s.ContentSecurityPolicy.ContentSecurityPolicy['Fn::Join'][1] as unknown[];
      const refs = JSON.stringify(connect);
      expect(refs).toContain(JSON.stringify({ Ref: dev.backend.getLogicalId(dev.backend.apis.httpApi.node.defaultChild as CfnResource) }));
      expect(refs).toContain(JSON.stringify({ Ref: dev.backend.getLogicalId(dev.backend.apis.webSocketApi.node.defaultChild as CfnResource) }));
      expect(refs).toContain('https://cognito-idp.');
      expect(refs).toContain(JSON.stringify({ Ref: dev.backend.getLogicalId(dev.backend.auth.domain.node.defaultChild as CfnResource) }));
    }
  });

  it('builds web/ into the site it deploys, minus config.json, then writes config.json no-cache', () => {
    dev.webTemplate.resourceCountIs('Custom::CDKBucketDeployment', 3);
    dev.webTemplate.hasResourceProperties('Custom::CDKBucketDeployment', { Exclude: ['config.json', '_next/static/*'], DistributionPaths: ['/*'] });
    dev.webTemplate.hasResourceProperties('Custom::CDKBucketDeployment', {
      Prune: false,
      DistributionPaths: ['/config.json'],
      SystemMetadata: { 'cache-control': 'no-cache' },
    });
    // The site's asset is web/ itself, bundled (built) at synthesis; config.json goes after it.
    const stage = dev.web.web.node.findChild('DeploySite').node.findChild('Asset1').node.findChild('Stage') as AssetStaging;
    expect(stage.sourcePath).toBe(WEB_DIR);
    const deployments = ofType(webResources, 'Custom::CDKBucketDeployment');
    const [siteId] = deployments.find(([, r]) => r.Properties!.Prune !== false)!;
    dev.webTemplate.hasResource('Custom::CDKBucketDeployment', { Properties: Match.objectLike({ Prune: false, DistributionPaths: ['/config.json'] }), DependsOn: Match.arrayWith([siteId]) });
  });

  it("keeps earlier builds' hashed files, so a tab opened before a deploy still loads its own chunks", () => {
    const deployments = ofType(webResources, 'Custom::CDKBucketDeployment');
    const assets = deployments.filter(([, r]) => JSON.stringify(r.Properties!.Include) === JSON.stringify(['_next/static/*']));
    expect(assets).toHaveLength(1);
    const [assetsId, asset] = assets[0]!;
    // Only the hashed files, never pruned, uploaded before the HTML that names them.
    expect(asset.Properties).toMatchObject({ Exclude: ['*'], Include: ['_next/static/*'], Prune: false });
    const site = deployments.find(([, r]) => r.Properties!.Prune !== false)!;
    expect(site[1].DependsOn).toEqual(expect.arrayContaining([assetsId]));
    // The site's own deployment (which prunes) leaves them alone: excluded files are neither uploaded nor deleted.
    expect(site[1].Properties!.Exclude).toContain('_next/static/*');
  });

  it('deploys a prebuilt site folder as is, and refuses one that is not an export', () => {
    const siteDir = mkdtempSync(path.join(tmpdir(), 'eventflow-site-'));
    writeFileSync(path.join(siteDir, 'index.html'), '<!doctype html>');
    expect(() => synthesize({}, { siteDir })).toThrow(/has no 404\.html.*npm run build:web/);
    writeFileSync(path.join(siteDir, '404.html'), '<!doctype html>');
    const s = synthesize({}, { siteDir });
    s.webTemplate.resourceCountIs('Custom::CDKBucketDeployment', 3);
    expect(() => synthesize({}, { siteDir: path.join(tmpdir(), 'eventflow-no-such-dir') })).toThrow(/has no index\.html/);
  });
});
