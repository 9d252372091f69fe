import { existsSync } from 'node:fs';
import path from 'node:path';
import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { REPO_ROOT } from './bundling';
import type { Settings } from './settings';

/** The statically exported dashboard (`next build` with output: 'export'). */
export const DASHBOARD_DIR = path.join(REPO_ROOT, 'web/out');

/** What the dashboard fetches at start to find the APIs. */
export const RUNTIME_CONFIG = 'config.json';

// Static export with trailingSlash: /orders/ is stored as /orders/index.html, and CloudFront's
// default root object applies to "/" only.
const INDEX_REWRITE = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith('/')) request.uri = uri + 'index.html';
  else if (uri.lastIndexOf('.') < uri.lastIndexOf('/')) request.uri = uri + '/index.html';
  return request;
}`;

export interface WebProps {
  settings: Settings;
  apiUrl: string;
  wsUrl: string;
  /** The export folder; absent on a fresh clone, where only config.json is deployed. */
  siteDir?: string;
}

/** A private bucket behind CloudFront (origin access control, HTTPS only), plus the runtime config. */
export class Web extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: WebProps) {
    super(scope, id);
    const siteDir = props.siteDir ?? DASHBOARD_DIR;
    this.bucket = new s3.Bucket(this, 'Site', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: false,
      // Everything in it is rebuilt from the repository on each deploy.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    this.distribution = new cloudfront.Distribution(this, 'Cdn', {
      comment: `EventFlow dashboard (${props.settings.env})`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        functionAssociations: [
          {
            eventType: cloudfront.FunctionEventType.VIEWER_REQUEST,
            function: new cloudfront.Function(this, 'IndexRewrite', {
              code: cloudfront.FunctionCode.fromInline(INDEX_REWRITE),
              runtime: cloudfront.FunctionRuntime.JS_2_0,
            }),
          },
        ],
      },
      errorResponses: [
        { httpStatus: 403, responseHttpStatus: 404, responsePagePath: '/404.html', ttl: Duration.minutes(1) },
        { httpStatus: 404, responseHttpStatus: 404, responsePagePath: '/404.html', ttl: Duration.minutes(1) },
      ],
    });

    let site: s3deploy.BucketDeployment | undefined;
    if (existsSync(siteDir)) {
      site = new s3deploy.BucketDeployment(this, 'DeploySite', {
        sources: [s3deploy.Source.asset(siteDir)],
        destinationBucket: this.bucket,
        // Excluded files are neither uploaded nor pruned: config.json belongs to the deployment below.
        exclude: [RUNTIME_CONFIG],
        distribution: this.distribution,
        distributionPaths: ['/*'],
        memoryLimit: 512,
      });
    } else {
      Annotations.of(this).addWarningV2(
        'eventflow:dashboard-not-built',
        `${path.relative(REPO_ROOT, siteDir)} does not exist: only ${RUNTIME_CONFIG} is deployed. Build the dashboard first.`,
      );
    }
    const config = new s3deploy.BucketDeployment(this, 'DeployConfig', {
      sources: [s3deploy.Source.jsonData(RUNTIME_CONFIG, { apiUrl: props.apiUrl, wsUrl: props.wsUrl })],
      destinationBucket: this.bucket,
      prune: false,
      // Read on every dashboard start: a redeploy that moves an API must be seen at once.
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: [`/${RUNTIME_CONFIG}`],
    });
    if (site) config.node.addDependency(site);
  }

  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }
}
