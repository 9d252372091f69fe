/**
 * `npm run preflight`'s decisions: what an environment needs from an account (from the catalog
 * and the environment's settings) against what the account has (read by bin/preflight.ts), as
 * plain findings. Pure, so every case is tested without AWS.
 */
import type { FunctionSpec } from '../functions/catalog';
import { reservedConcurrency } from './capacity';
import type { Settings } from './settings';

/** Lambda keeps this much of the account's concurrency unreserved, for functions without a reservation. */
export const LAMBDA_UNRESERVED_MINIMUM = 100;

/** What bin/preflight.ts reads from the account, in the region the stack deploys to. */
export interface AccountFacts {
  lambda: {
    /** GetAccountSettings AccountLimit.ConcurrentExecutions */
    concurrentExecutions: number;
    /** GetAccountSettings AccountLimit.UnreservedConcurrentExecutions: what reservations may still take (less the minimum). */
    unreservedConcurrentExecutions: number;
  };
  /** Service Quotas "VPCs per Region" and the VPCs there are. */
  vpcs: { quota: number; used: number };
  /** Service Quotas "EC2-VPC Elastic IPs" and the addresses allocated. */
  elasticIps: { quota: number; used: number };
  /** Service Quotas "NAT gateways per Availability Zone" and the most any zone has. */
  natGatewaysPerAz: { quota: number; busiestZone: number };
}

export interface Finding {
  check: string;
  ok: boolean;
  /** What was found and, when it is missing, what to do: one plain sentence or two. */
  detail: string;
}

/** Whether the functions this environment reserves for fit what the account leaves reservable. */
export function concurrencyFinding(facts: AccountFacts, specs: FunctionSpec[], settings: Settings): Finding {
  const wanted = reservedConcurrency(specs, settings.reservedConcurrency);
  const { concurrentExecutions: limit, unreservedConcurrentExecutions: unreserved } = facts.lambda;
  const reservable = Math.max(0, unreserved - LAMBDA_UNRESERVED_MINIMUM);
  if (wanted === 0) {
    return {
      check: 'Lambda concurrency',
      ok: true,
      detail: `nothing reserved (reservedConcurrency off); the account allows ${limit} concurrent executions, ${unreserved} unreserved.`,
    };
  }
  if (wanted <= reservable) {
    return { check: 'Lambda concurrency', ok: true, detail: `reserves ${wanted} of the ${reservable} the account can still reserve (limit ${limit}, ${unreserved} unreserved).` };
  }
  // Raising the limit raises the unreserved part by as much: enough that the reservation leaves the minimum.
  const needed = limit + wanted + LAMBDA_UNRESERVED_MINIMUM - unreserved;
  return {
    check: 'Lambda concurrency',
    ok: false,
    detail:
      `the ${settings.env} functions reserve ${wanted} concurrent executions, but the account can reserve only ${reservable} ` +
      `(limit ${limit}, ${unreserved} unreserved, of which Lambda keeps ${LAMBDA_UNRESERVED_MINIMUM}). ` +
      `Ask Service Quotas for "Concurrent executions" of at least ${needed}, or deploy with -c reservedConcurrency=false.`,
  };
}

export function vpcFinding(facts: AccountFacts): Finding {
  const { quota, used } = facts.vpcs;
  const ok = used + 1 <= quota;
  return {
    check: 'VPCs',
    ok,
    detail: ok ? `${used} of ${quota} in use; the stack adds 1.` : `${used} of ${quota} in use and the stack needs 1 more: delete an unused VPC or ask Service Quotas for "VPCs per Region".`,
  };
}

export function elasticIpFinding(facts: AccountFacts, settings: Settings): Finding {
  const { quota, used } = facts.elasticIps;
  const wanted = settings.natGateways;
  const ok = used + wanted <= quota;
  return {
    check: 'Elastic IPs (NAT gateways)',
    ok,
    detail: ok
      ? `${used} of ${quota} allocated; the stack's ${wanted} NAT gateway(s) add ${wanted}.`
      : `${used} of ${quota} allocated and the stack's ${wanted} NAT gateway(s) need ${wanted}: release unused addresses or ask Service Quotas for "EC2-VPC Elastic IPs" of ${used + wanted}.`,
  };
}

export function natGatewayFinding(facts: AccountFacts): Finding {
  const { quota, busiestZone } = facts.natGatewaysPerAz;
  // The VPC takes the region's first zones, which may be the busiest: one more there must fit.
  const ok = busiestZone + 1 <= quota;
  return {
    check: 'NAT gateways per zone',
    ok,
    detail: ok
      ? `at most ${busiestZone} of ${quota} in a zone; the stack adds 1 per zone.`
      : `a zone already has ${busiestZone} of ${quota}: ask Service Quotas for "NAT gateways per Availability Zone" of ${busiestZone + 1}.`,
  };
}

/** Not a quota: the user pool's feature plan, which the account does not gate but bills per monthly active user. */
export function cognitoFinding(): Finding {
  return {
    check: 'Cognito feature plan',
    ok: true,
    detail: 'the user pool uses the Plus plan (threat protection enforced): no quota to raise; it is billed per monthly active user at the Plus rate.',
  };
}

export function preflight(facts: AccountFacts, specs: FunctionSpec[], settings: Settings): Finding[] {
  return [concurrencyFinding(facts, specs, settings), vpcFinding(facts), elasticIpFinding(facts, settings), natGatewayFinding(facts), cognitoFinding()];
}

/** The report's lines: one per check, what is missing first. */
export function report(findings: Finding[], where: string): string[] {
  const missing = findings.filter((f) => !f.ok);
  const lines = [...missing, ...findings.filter((f) => f.ok)].map((f) => `${f.ok ? 'ok     ' : 'MISSING'}  ${f.check}: ${f.detail}`);
  lines.push(missing.length === 0 ? `${where}: nothing missing; cdk deploy can start.` : `${where}: ${missing.length} thing(s) missing; the deploy would fail on them after the broker and databases are built.`);
  return lines;
}
