import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/catalog';
import { reservedConcurrency } from '../../lib/capacity';
import { LAMBDA_UNRESERVED_MINIMUM, concurrencyFinding, elasticIpFinding, natGatewayFinding, preflight, report, vpcFinding, type AccountFacts } from '../../lib/preflight';
import { settingsFromContext } from '../../lib/settings';

const settings = (context: Record<string, string>) => settingsFromContext(new App({ context }).node);
const dev = settings({ env: 'dev' });
const prod = settings({ env: 'prod' });
/** A seasoned account: the default 1,000 concurrent executions, room in every quota. */
const roomy: AccountFacts = {
  lambda: { concurrentExecutions: 1000, unreservedConcurrentExecutions: 1000 },
  vpcs: { quota: 5, used: 1 },
  elasticIps: { quota: 5, used: 0 },
  natGatewaysPerAz: { quota: 5, busiestZone: 0 },
};
/** A new account: reduced concurrency. */
const fresh: AccountFacts = { ...roomy, lambda: { concurrentExecutions: 10, unreservedConcurrentExecutions: 10 } };

describe('npm run preflight', () => {
  it('reserves nothing in dev by default, so a new account passes; prod reserves the catalog caps', () => {
    expect(reservedConcurrency(FUNCTIONS, dev.reservedConcurrency)).toBe(0);
    expect(reservedConcurrency(FUNCTIONS, prod.reservedConcurrency)).toBe(FUNCTIONS.reduce((n, f) => n + (f.maxConcurrency ?? 0), 0));
    expect(concurrencyFinding(fresh, FUNCTIONS, dev).ok).toBe(true);
    expect(preflight(fresh, FUNCTIONS, dev).every((f) => f.ok)).toBe(true);
  });

  it('says how much concurrency a reservation needs when the account cannot hold it, and the way around it', () => {
    const wanted = reservedConcurrency(FUNCTIONS, true);
    const f = concurrencyFinding(fresh, FUNCTIONS, prod);
    expect(f.ok).toBe(false);
    // 10 + everything wanted: the unreserved 10 are all below Lambda's minimum of 100.
    expect(f.detail).toContain(`at least ${10 + wanted + LAMBDA_UNRESERVED_MINIMUM - 10}`);
    expect(f.detail).toContain('-c reservedConcurrency=false');
    // Exactly enough: unreserved = wanted + 100.
    const exact = { ...roomy, lambda: { concurrentExecutions: wanted + 100, unreservedConcurrentExecutions: wanted + 100 } };
    expect(concurrencyFinding(exact, FUNCTIONS, prod).ok).toBe(true);
    const oneShort = { ...roomy, lambda: { concurrentExecutions: wanted + 99, unreservedConcurrentExecutions: wanted + 99 } };
    expect(concurrencyFinding(oneShort, FUNCTIONS, prod)).toMatchObject({ ok: false, detail: expect.stringContaining(`at least ${wanted + 100}`) });
    // Other functions of the account already reserve: what is left is what counts.
    const shared = { ...roomy, lambda: { concurrentExecutions: 1000, unreservedConcurrentExecutions: 150 } };
    expect(concurrencyFinding(shared, FUNCTIONS, prod).ok).toBe(wanted <= 50);
  });

  it('counts one VPC, one Elastic IP per NAT gateway, one NAT gateway per zone against the quotas', () => {
    expect(vpcFinding({ ...roomy, vpcs: { quota: 5, used: 4 } }).ok).toBe(true);
    expect(vpcFinding({ ...roomy, vpcs: { quota: 5, used: 5 } })).toMatchObject({ ok: false, detail: expect.stringContaining('VPCs per Region') });
    expect(elasticIpFinding({ ...roomy, elasticIps: { quota: 5, used: 4 } }, dev).ok).toBe(true);
    expect(elasticIpFinding({ ...roomy, elasticIps: { quota: 5, used: 4 } }, prod)).toMatchObject({ ok: false, detail: expect.stringContaining('EC2-VPC Elastic IPs" of 6') });
    expect(natGatewayFinding({ ...roomy, natGatewaysPerAz: { quota: 5, busiestZone: 5 } }).ok).toBe(false);
  });

  it('puts what is missing first and says whether the deploy can start', () => {
    const lines = report(preflight({ ...fresh, vpcs: { quota: 5, used: 5 } }, FUNCTIONS, prod), 'EventFlow-prod in eu-west-1');
    expect(lines[0]).toMatch(/^MISSING {2}Lambda concurrency/);
    expect(lines[1]).toMatch(/^MISSING {2}VPCs/);
    expect(lines.at(-1)).toBe('EventFlow-prod in eu-west-1: 2 thing(s) missing; the deploy would fail on them after the broker and databases are built.');
    expect(report(preflight(roomy, FUNCTIONS, prod), 'x').at(-1)).toBe('x: nothing missing; cdk deploy can start.');
    expect(lines.some((l) => l.includes('Plus plan'))).toBe(true);
  });
});
