import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { Settings } from './settings';

/**
 * Where older months of the services' event logs go before they are dropped from the databases
 * (shared/history/archive.ts, run by each service's pruner): one gzipped CSV and a manifest per
 * service and month. Private, encrypted, TLS only; objects move to Glacier Instant Retrieval after
 * 30 days (read rarely, kept for years). Kept when the stack goes in prod; emptied and deleted in dev.
 */
export class EventLogArchive extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: { settings: Settings }) {
    super(scope, id);
    const { protectData } = props.settings;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: protectData,
      lifecycleRules: [{ transitions: [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(30) }] }],
      removalPolicy: protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !protectData,
    });
  }
}
