/**
 * `npm run cost -- -c env=dev|prod --orders-per-day N [--maus N] [--connections N]`: the monthly
 * cost of a deployment by component, with the unit prices used, their region and the dates of the
 * pages they were read from (scripts/cost/). Offline: nothing is asked of AWS.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { SERVICES } from '../shared/config';
import { FUNCTIONS } from '../functions/catalog';
import { settingsFromContext } from '../lib/settings';
import { DEFAULT_TRAFFIC, functionBills, monthlyCost, pricesUsed, total } from './cost/model';
import type { Deployment } from './cost/model';
import { REGION } from './cost/prices';
import { FUNCTION_USAGE } from './cost/usage';

function parse(argv: string[]) {
  const context: Record<string, string> = {};
  const options: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' || a === '--context') {
      const [k, ...v] = (argv[++i] ?? '').split('=');
      context[k!] = v.join('=');
    } else if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=');
      options[k!] = v ?? argv[++i] ?? '';
    } else {
      throw new Error(`unexpected argument "${a}"`);
    }
  }
  return { context, options };
}

const number = (name: string, value: string | undefined, fallback?: number): number => {
  if (value === undefined) {
    if (fallback === undefined) throw new Error(`--${name} is required: npm run cost -- -c env=dev --orders-per-day 864000`);
    return fallback;
  }
  const n = Number(value.replace(/[_,]/g, ''));
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number of 0 or more, got "${value}"`);
  return n;
};

try {
  const { context, options } = parse(process.argv.slice(2));
  const settings = settingsFromContext({ tryGetContext: (k: string) => context[k] } as unknown as Node);
  const deployment: Deployment = {
    env: settings.env,
    brokerInstanceType: settings.broker.instanceType,
    brokerNodes: settings.broker.deploymentMode === 'CLUSTER_MULTI_AZ' ? 3 : 1,
    databaseInstanceClass: settings.database.instanceClass,
    databases: SERVICES.length,
    multiAz: settings.database.multiAz,
    allocatedStorageGb: settings.database.allocatedStorageGb,
    databaseProxy: settings.databaseProxy,
    natGateways: settings.natGateways,
    logRetentionDays: settings.logRetention === RetentionDays.INFINITE ? 3650 : Number(settings.logRetention),
    partitions: settings.partitions,
  };
  const traffic = {
    ...DEFAULT_TRAFFIC,
    ordersPerDay: number('orders-per-day', options['orders-per-day']),
    monthlyActiveUsers: number('maus', options.maus, DEFAULT_TRAFFIC.monthlyActiveUsers),
    openConnections: number('connections', options.connections, DEFAULT_TRAFFIC.openConnections),
  };
  const items = monthlyCost(FUNCTIONS, FUNCTION_USAGE, deployment, traffic);
  const usd = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const sum = total(items);
  console.log(`EventFlow ${deployment.env}, ${traffic.ordersPerDay.toLocaleString('en-US')} orders/day (${(traffic.ordersPerDay / 86_400).toFixed(2)}/s), ` +
    `${traffic.monthlyActiveUsers.toLocaleString('en-US')} MAUs, ${traffic.openConnections} open WebSocket connections: on-demand, ${REGION}, per month\n`);
  const width = Math.max(...items.map((i) => i.component.length));
  for (const i of items) console.log(`${i.component.padEnd(width)}  ${usd(i.usd).padStart(12)}  ${(((i.usd / sum) * 100).toFixed(1) + ' %').padStart(7)}  ${i.basis}`);
  console.log(`${'total'.padEnd(width)}  ${usd(sum).padStart(12)}`);
  console.log('\nLambda by function (invocations a month, GB-seconds; * = duration not measured, see scripts/cost/usage.ts):');
  for (const b of functionBills(FUNCTIONS, FUNCTION_USAGE, traffic.ordersPerDay, deployment.partitions).filter((x) => x.invocations > 0)) {
    console.log(`  ${b.id.padEnd(24)} ${Math.round(b.invocations).toLocaleString('en-US').padStart(14)} ${Math.round(b.gbSeconds).toLocaleString('en-US').padStart(12)}${b.measured ? '' : ' *'}`);
  }
  console.log(`\nPrices (${REGION}, USD; "third party" = no stored AWS-owned source states it: AWS's price as quoted by that page, or AWS's published rate unconfirmed offline):`);
  for (const [id, p] of pricesUsed(items)) console.log(`  ${id.padEnd(20)} $${p.usd} per ${p.unit} — ${p.source}, ${p.asOf}${p.aws ? '' : ' (third party)'}`);
} catch (err) {
  console.error(`cost: ${(err as Error).message}`);
  process.exit(2);
}
