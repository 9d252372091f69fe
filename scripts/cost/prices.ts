/**
 * The unit prices `npm run cost` uses: on-demand, US East (N. Virginia), USD. Each says where it
 * was read and the date that source carries (or, where it carries none, the day it was read from the
 * stored copy, 2026-12-07). `aws: true` marks a figure read from an AWS-owned source that states it
 * for us-east-1: a pricing page, blog post or whitepaper, or a file in AWS's own GitHub organisation
 * (github.com/aws), dated by the commit read; the repository files give AWS's rounded figures
 * ("~$0.045/hr") rather than the pricing page's. `aws: false` marks a figure no stored AWS-owned
 * source states: a third-party page quoting AWS's price or, where the source says so, AWS's published
 * rate not found in the stored copies. Check them against https://aws.amazon.com/pricing/ before
 * relying on a total.
 */
export interface Price {
  usd: number;
  unit: string;
  source: string;
  /** The date of the page, as it states it (or the day read). */
  asOf: string;
  /** Read from an AWS-owned source stating it for us-east-1 (true), or not (false): see the header. */
  aws: boolean;
}

export const REGION = 'us-east-1';
/** Hours in a month, as AWS's pricing examples count them. */
export const HOURS_PER_MONTH = 730;

const p = (usd: number, unit: string, source: string, asOf: string, aws: boolean): Price => ({ usd, unit, source, asOf, aws });

export const PRICES = {
  brokerMedium: p(0.0904, 'mq.m7g.medium instance-hour (RabbitMQ)', 'public infrastructure notes quoting ~$66/month for mq.m7g.medium', '2026-04', false),
  brokerLarge: p(0.274, 'mq.m7g.large instance-hour (RabbitMQ), per node', 'Amazon MQ for RabbitMQ 4 notes quoting ~$200/month (US East) for mq.m7g.large', '2026-12-07', false),
  rdsT4gMicro: p(0.016, 'db.t4g.micro instance-hour, Single-AZ (Multi-AZ: twice)', 'https://infratally.com/articles/aws-rds-pricing-explained-2026.html', '2026', false),
  rdsT4gMedium: p(0.065, 'db.t4g.medium instance-hour, Single-AZ (Multi-AZ: twice)', 'https://github.com/aws/agent-toolkit-for-aws/blob/d6ad2e44d5e3/skills/specialized-skills/database-skills/rds-oss/scripts/rds_commitment_pricing_analyzer.py#L34 (AWS\'s static on-demand table for RDS MySQL, MariaDB and PostgreSQL, Single-AZ, "us-east-1 only", Multi-AZ twice)', '2026-07-02', true),
  rdsGp3: p(0.115, 'gp3 GB-month (Multi-AZ: twice)', 'https://www.usage.ai/blogs/aws/reserved-instances/rds/pricing-calculator/', '2026-06', false),
  rdsProxy: p(0.015, 'RDS Proxy vCPU-hour of the instance behind it (at least 2)', 'https://github.com/aws/agent-toolkit-for-aws/blob/d6ad2e44d5e3/skills/specialized-skills/database-skills/rds-oss/references/proxy-advisor-workflow.md#L76 ("$0.015 per vCPU per hour in us-east-1")', '2026-07-02', true),
  cacheData: p(0.125, 'ElastiCache Serverless (Redis OSS) GB-hour, at least 1 GB', 'https://aws.amazon.com/blogs/database/unlock-on-demand-cost-optimized-performance-with-amazon-elasticache-serverless/', '2026-12-07', true),
  cacheEcpu: p(0.0034, 'million ECPUs (Redis OSS)', 'https://aws.amazon.com/blogs/database/unlock-on-demand-cost-optimized-performance-with-amazon-elasticache-serverless/', '2026-12-07', true),
  natHour: p(0.045, 'NAT gateway-hour', 'https://github.com/aws/agent-toolkit-for-aws/blob/d6ad2e44d5e3/skills/core-skills/aws-billing-and-cost-management/references/service-optimization.md#L30 ("~$0.045/hr"; the file\'s prices are "us-east-1 approximate as of early 2026")', '2026-05-11', true),
  natGb: p(0.045, 'GB processed by a NAT gateway', 'https://github.com/aws/agent-toolkit-for-aws/blob/d6ad2e44d5e3/skills/core-skills/aws-billing-and-cost-management/references/service-optimization.md#L30 ("~$0.045/GB"; the file\'s prices are "us-east-1 approximate as of early 2026")', '2026-05-11', true),
  lambdaRequests: p(0.2, 'million Lambda requests', 'https://aws.amazon.com/blogs/aws/new-for-aws-lambda-1ms-billing-granularity-adds-cost-savings/ ("costs in US East (N. Virginia)": "$0.20 per 1M requests"; the stored copy shows no date, so the day read; AWS\'s What\'s New dates the post\'s 1 ms billing 2020-12-01)', '2026-12-07', true),
  lambdaArmGbSecond: p(0.0000133334, 'Lambda GB-second, arm64 (first 7.5 billion)', 'https://cloudchipr.com/blog/aws-lambda-pricing', '2024', false),
  httpApi: p(1.0, 'million HTTP API requests (first 300 million)', 'https://docs.aws.amazon.com/pt_br/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html (AWS whitepaper, English text, Table 4: HTTP API calls (us-east-1), first 300 million $1.00 per million; the page shows no date, so the day read; the whitepaper\'s revision history ends 2025-04-03)', '2026-12-07', true),
  wsMessages: p(1.0, 'million WebSocket messages (32 KB each, first billion)', 'https://awsforengineers.com/blog/aws-api-gateway-pricing-explained', '2025-05-19', false),
  wsMinutes: p(0.25, 'million WebSocket connection minutes', 'https://aws.amazon.com/api-gateway/pricing/ (the rate as published; the stored copy shows the free tier only)', '2026-12-07', false),
  cloudfrontGb: p(0.085, 'GB to the internet, North America, first 10 TB (1 TB a month free)', 'http://aws.amazon.com/cloudfront/pricing', '2026-12-07', true),
  cloudfrontRequests: p(0.01, '10,000 HTTPS requests, North America (10 million a month free)', 'http://aws.amazon.com/cloudfront/pricing (free tier; the request rate as published, not in the stored excerpt)', '2026-12-07', false),
  // The stack's pool is on the Plus plan (lib/auth.ts: threat protection), which has no free MAUs.
  cognitoMau: p(0.02, 'monthly active user, Plus plan (no free tier)', 'AWS Cognito pricing (feature plans) as published; the stored copies of https://aws.amazon.com/cognito/pricing/ show the free tiers only, and a public note quotes ~$0.05', '2026-12-07', false),
  logsIngested: p(0.5, 'GB of CloudWatch Logs ingested (5 GB a month free)', 'https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards/', '2026-06-13', false),
  logsStored: p(0.03, 'GB-month of CloudWatch Logs stored', 'https://github.com/aws/agent-toolkit-for-aws/blob/d6ad2e44d5e3/skills/core-skills/aws-billing-and-cost-management/references/service-optimization.md#L43 ("~$0.03/GB/month"; the file\'s prices are "us-east-1 approximate as of early 2026")', '2026-05-11', true),
  customMetric: p(0.3, 'custom metric-month (first 10,000; 10 free)', 'https://github.com/aws/agent-toolkit-for-aws/blob/d6ad2e44d5e3/skills/core-skills/aws-billing-and-cost-management/references/service-optimization.md#L51 ("~$0.30/metric/month in us-east-1"; the tier and free allowance as before, from https://signoz.io/guides/cloudwatch-pricing)', '2026-05-11', true),
  alarm: p(0.1, 'standard-resolution alarm metric-month (10 free)', 'https://aws.amazon.com/cloudwatch/pricing/ (free tier) and https://signoz.io/guides/cloudwatch-pricing (rate)', '2026-02-15', false),
  dashboard: p(3.0, 'custom dashboard-month (3 free)', 'https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards/', '2026-06-13', false),
} as const satisfies Record<string, Price>;

export type PriceId = keyof typeof PRICES;
