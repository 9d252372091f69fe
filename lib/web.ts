import { spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Aws, DockerImage, Duration, Fn, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { REPO_ROOT } from './bundling';
import type { Settings } from './settings';
import {
  HSTS_MAX_AGE_SECONDS,
  IMMUTABLE_CACHE_CONTROL,
  IMMUTABLE_PATH,
  NOT_FOUND_PAGE,
  REVALIDATE_CACHE_CONTROL,
  RUNTIME_CONFIG,
  VIEWER_REQUEST_FUNCTION,
  contentSecurityPolicy,
  type ConnectSources,
  type RuntimeConfig,
} from './web-site';

export { RUNTIME_CONFIG };

/** The dashboard's sources; its static export (`next build`, output: 'export') lands in web/out. */
export const WEB_DIR = path.join(REPO_ROOT, 'web');
export const DASHBOARD_DIR = path.join(WEB_DIR, 'out');

/**
 * The exported dashboard as a deployment source. The asset is bundled from web/: at synthesis the
 * export is built if it is missing or older than its sources (scripts/build-web.ts), then copied.
 * A failed build fails synthesis with the build's own output. Skipped bundling (tests that assert on
 * templates) stages the sources untouched, as for the functions.
 */
function dashboardAsset(): s3deploy.ISource {
  return s3deploy.Source.asset(WEB_DIR, {
    exclude: ['node_modules', '.next', 'out', '.export-stamp', '.export-lock', 'next-env.d.ts', 'tsconfig.tsbuildinfo'],
    bundling: {
      // Never used: the local build below always answers, and no Docker is needed to synthesize.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine'),
      local: {
        tryBundle(outputDir: string) {
          const build = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts/build-web.ts')], {
            cwd: REPO_ROOT,
            stdio: ['ignore', 'inherit', 'inherit'],
          });
          if (build.status !== 0) {
            throw new Error(`the dashboard could not be built for deployment (scripts/build-web.ts exited with ${build.status}); see its output above`);
          }
          cpSync(DASHBOARD_DIR, outputDir, { recursive: true });
          return true;
        },
      },
    },
  });
}

/** A prebuilt site folder, checked to be one: a deploy without its pages would answer 404 everywhere. */
function prebuiltSite(dir: string): s3deploy.ISource {
  for (const page of ['index.html', NOT_FOUND_PAGE.slice(1)]) {
    if (!existsSync(path.join(dir, page))) {
      throw new Error(`${dir} is not an exported dashboard: it has no ${page}. Build it with \`npm run build:web\`.`);
    }
  }
  return s3deploy.Source.asset(dir);
}

export interface WebSiteProps {
  settings: Settings;
  /** Where the dashboard's scripts may connect: the two APIs and the sign-in origins. */
  connect: ConnectSources;
}

/**
 * A private bucket behind CloudFront (origin access control, HTTPS only) serving the static export
 * with the rules of lib/web-site.ts. It lives in the backend stack: the sign-in client registers
 * the distribution's URL, and the HTTP API's authorizer names that client.
 */
export class WebSite extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly bucket: s3.Bucket;
  readonly viewerRequest: cloudfront.Function;

  constructor(scope: Construct, id: string, props: WebSiteProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Site', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: false,
      // Everything in it is rebuilt from the repository on each deploy.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    const securityHeaders = (name: string, cacheControl: string) =>
      new cloudfront.ResponseHeadersPolicy(this, name, {
        // CloudFront names are global to the account: the region keeps the same environment
        // deployed to a second region from colliding (CDK's cache policy names carry it already).
        responseHeadersPolicyName: Fn.join('-', [`${Names.uniqueId(this)}${name}`, Aws.REGION]),
        comment: `EventFlow dashboard (${props.settings.env}): security headers, Cache-Control ${cacheControl}`,
        securityHeadersBehavior: {
          contentSecurityPolicy: { contentSecurityPolicy: contentSecurityPolicy(props.connect), override: true },
          strictTransportSecurity: { accessControlMaxAge: Duration.seconds(HSTS_MAX_AGE_SECONDS), includeSubdomains: true, override: true },
          contentTypeOptions: { override: true },
          frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
          referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
        },
        customHeadersBehavior: { customHeaders: [{ header: 'Cache-Control', value: cacheControl, override: true }] },
      });

    // Pages, RSC segment files and config.json keep their names across deploys: cached at the edge
    // until a deploy invalidates them, revalidated by browsers on every use.
    const pageCache = new cloudfront.CachePolicy(this, 'PageCache', {
      comment: 'EventFlow dashboard pages: edge-cached until the next deploy invalidates them',
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.days(1),
      maxTtl: Duration.days(365),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    // Build output named by its content hash never changes.
    const assetCache = new cloudfront.CachePolicy(this, 'AssetCache', {
      comment: 'EventFlow dashboard hashed assets: immutable',
      minTtl: Duration.days(365),
      defaultTtl: Duration.days(365),
      maxTtl: Duration.days(365),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });

    this.viewerRequest = new cloudfront.Function(this, 'IndexRewrite', {
      comment: 'Static export: /x/ -> /x/index.html; /x -> 301 /x/ with the query',
      code: cloudfront.FunctionCode.fromInline(VIEWER_REQUEST_FUNCTION),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
    });
    const origin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    this.distribution = new cloudfront.Distribution(this, 'Cdn', {
      comment: `EventFlow dashboard (${props.settings.env})`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: pageCache,
        responseHeadersPolicy: securityHeaders('PageHeaders', REVALIDATE_CACHE_CONTROL),
        compress: true,
        functionAssociations: [{ eventType: cloudfront.FunctionEventType.VIEWER_REQUEST, function: this.viewerRequest }],
      },
      additionalBehaviors: {
        [`${IMMUTABLE_PATH}*`]: {
          origin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: assetCache,
          responseHeadersPolicy: securityHeaders('AssetHeaders', IMMUTABLE_CACHE_CONTROL),
          compress: true,
        },
      },
      // S3 answers 403 for a missing key under OAC (no ListBucket): both are "not found" for a visitor.
      // Not the SPA fallback to index.html, which would render the overview at every unknown URL.
      errorResponses: [403, 404].map((httpStatus) => ({
        httpStatus,
        responseHttpStatus: 404,
        responsePagePath: NOT_FOUND_PAGE,
        ttl: Duration.seconds(10),
      })),
    });
  }

  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }
}

export interface WebProps {
  settings: Settings;
  site: WebSite;
  /** config.json: where the APIs are and how to sign in, resolved at deploy time. */
  config: RuntimeConfig;
  /** A prebuilt export to deploy as is; by default web/ is built at synthesis. */
  siteDir?: string;
}

/** The exported dashboard and its config.json, deployed into the site's bucket. */
export class Web extends Construct {
  constructor(scope: Construct, id: string, props: WebProps) {
    super(scope, id);
    const { bucket, distribution } = props.site;
    const source = props.siteDir ? prebuiltSite(props.siteDir) : dashboardAsset();
    // The build's hashed files first, and never pruned: a tab opened before this deploy still loads
    // its own build's chunks lazily (the sign-in library, the charts) after the HTML has moved on.
    // Their names change with their content, so a kept file is never stale; they add a few MiB per
    // deploy, and an age-based expiry would also remove files the current build still uses (a
    // sync does not rewrite an unchanged object), so none is set.
    const assets = new s3deploy.BucketDeployment(this, 'DeployAssets', {
      sources: [source],
      destinationBucket: bucket,
      exclude: ['*'],
      include: [`${IMMUTABLE_PATH.slice(1)}*`],
      prune: false,
      memoryLimit: 512,
    });
    const site = new s3deploy.BucketDeployment(this, 'DeploySite', {
      sources: [source],
      destinationBucket: bucket,
      // Excluded files are neither uploaded nor pruned: config.json belongs to the deployment below,
      // the hashed files to the one above.
      exclude: [RUNTIME_CONFIG, `${IMMUTABLE_PATH.slice(1)}*`],
      distribution,
      distributionPaths: ['/*'],
      memoryLimit: 512,
    });
    site.node.addDependency(assets);
    const config = new s3deploy.BucketDeployment(this, 'DeployConfig', {
      sources: [s3deploy.Source.jsonData(RUNTIME_CONFIG, props.config)],
      destinationBucket: bucket,
      prune: false,
      // Read on every dashboard start: a redeploy that moves an API must be seen at once.
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution,
      distributionPaths: [`/${RUNTIME_CONFIG}`],
      // The same as the site's: both deployments share one handler function.
      memoryLimit: 512,
    });
    config.node.addDependency(site);
  }
}
