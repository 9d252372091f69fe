#!/usr/bin/env node
/**
 * npm run preflight -- -c env=dev|prod [-c reservedConcurrency=true|false …]
 *
 * Reads, with the deploying credentials and region (AWS_PROFILE, AWS_REGION as the CDK CLI does),
 * what the environment needs of the account before anything is created: Lambda's concurrency,
 * the VPC, Elastic IP and NAT gateway quotas. Says what is missing (lib/preflight.ts decides);
 * exits 1 when something is. Reads only: it changes nothing in the account.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { DescribeAddressesCommand, DescribeSubnetsCommand, EC2Client, paginateDescribeNatGateways, paginateDescribeVpcs } from '@aws-sdk/client-ec2';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { FUNCTIONS } from '../functions/catalog';
import { REPO_ROOT } from '../lib/bundling';
import { preflight, report, type AccountFacts } from '../lib/preflight';
import { settingsFromContext } from '../lib/settings';

/** Service Quotas codes (the quota's name in the console in the comment). */
const QUOTAS = {
  vpcs: { ServiceCode: 'vpc', QuotaCode: 'L-F678F1CE' }, // VPCs per Region
  natGatewaysPerAz: { ServiceCode: 'vpc', QuotaCode: 'L-FE5A380F' }, // NAT gateways per Availability Zone
  elasticIps: { ServiceCode: 'ec2', QuotaCode: 'L-0263D0A3' }, // EC2-VPC Elastic IPs
} as const;

/** `-c key=value` pairs, as the CDK CLI takes them, over cdk.json's context. */
function contextOf(argv: string[]): Record<string, unknown> {
  const context = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const pair = arg === '-c' || arg === '--context' ? argv[++i] : arg.startsWith('--context=') ? arg.slice('--context='.length) : undefined;
    if (!pair || !pair.includes('=')) throw new Error(`usage: npm run preflight -- -c env=dev|prod [-c key=value …]; got "${arg}"`);
    const at = pair.indexOf('=');
    context[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return context;
}

/** The quota the account has: its applied value, else AWS's default (Service Quotas answers NoSuchResource for never-changed quotas of some services). */
async function quota(client: ServiceQuotasClient, q: { ServiceCode: string; QuotaCode: string }): Promise<number> {
  try {
    const out = await client.send(new GetServiceQuotaCommand(q));
    if (out.Quota?.Value !== undefined) return out.Quota.Value;
  } catch (err) {
    if ((err as { name?: string }).name !== 'NoSuchResourceException') throw err;
  }
  const out = await client.send(new GetAWSDefaultServiceQuotaCommand(q));
  if (out.Quota?.Value === undefined) throw new Error(`Service Quotas has no value for ${q.ServiceCode}/${q.QuotaCode}`);
  return out.Quota.Value;
}

async function readAccount(): Promise<AccountFacts> {
  const lambda = new LambdaClient({});
  const ec2 = new EC2Client({});
  const quotas = new ServiceQuotasClient({});
  const settings = await lambda.send(new GetAccountSettingsCommand({}));
  let vpcs = 0;
  for await (const page of paginateDescribeVpcs({ client: ec2 }, {})) vpcs += page.Vpcs?.length ?? 0;
  const addresses = await ec2.send(new DescribeAddressesCommand({ Filters: [{ Name: 'domain', Values: ['vpc'] }] }));
  const gatewaySubnets: string[] = [];
  for await (const page of paginateDescribeNatGateways({ client: ec2 }, { Filter: [{ Name: 'state', Values: ['pending', 'available'] }] })) {
    for (const gw of page.NatGateways ?? []) if (gw.SubnetId) gatewaySubnets.push(gw.SubnetId);
  }
  // A NAT gateway names its subnet, the subnet its zone.
  const zoneOf = new Map<string, string>();
  if (gatewaySubnets.length > 0) {
    const subnets = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [...new Set(gatewaySubnets)] }));
    for (const s of subnets.Subnets ?? []) if (s.SubnetId && s.AvailabilityZone) zoneOf.set(s.SubnetId, s.AvailabilityZone);
  }
  const perZone = new Map<string, number>();
  for (const subnet of gatewaySubnets) {
    const zone = zoneOf.get(subnet) ?? subnet;
    perZone.set(zone, (perZone.get(zone) ?? 0) + 1);
  }
  return {
    lambda: {
      concurrentExecutions: settings.AccountLimit?.ConcurrentExecutions ?? 0,
      unreservedConcurrentExecutions: settings.AccountLimit?.UnreservedConcurrentExecutions ?? 0,
    },
    vpcs: { quota: await quota(quotas, QUOTAS.vpcs), used: vpcs },
    elasticIps: { quota: await quota(quotas, QUOTAS.elasticIps), used: addresses.Addresses?.length ?? 0 },
    natGatewaysPerAz: { quota: await quota(quotas, QUOTAS.natGatewaysPerAz), busiestZone: Math.max(0, ...perZone.values()) },
  };
}

async function main() {
  let settings;
  try {
    settings = settingsFromContext(new App({ context: contextOf(process.argv.slice(2)) }).node);
  } catch (err) {
    console.error(`preflight: ${(err as Error).message}`);
    process.exit(2);
  }
  let facts: AccountFacts;
  let region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'the configured region';
  try {
    region = await new EC2Client({}).config.region();
    facts = await readAccount();
  } catch (err) {
    const e = err as Error;
    console.error(`preflight: could not read the account in ${region} (${e.name}: ${e.message}). It needs credentials allowed lambda:GetAccountSettings, ec2:DescribeVpcs, ec2:DescribeAddresses, ec2:DescribeNatGateways, ec2:DescribeSubnets and servicequotas:GetServiceQuota / GetAWSDefaultServiceQuota.`);
    process.exit(2);
  }
  const findings = preflight(facts, FUNCTIONS, settings);
  for (const line of report(findings, `EventFlow-${settings.env} in ${region}`)) console.log(line);
  process.exit(findings.every((f) => f.ok) ? 0 : 1);
}

void main();
