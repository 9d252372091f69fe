/**
 * A deployment's monthly cost by component: pure arithmetic over the function catalog, the
 * environment's settings, the usage model (usage.ts) and the unit prices (prices.ts).
 */
import type { FunctionSpec } from '../../functions/catalog';
import type { PartitionLayout } from '../../functions/topology';
import { HOURS_PER_MONTH, PRICES } from './prices';
import type { Price, PriceId } from './prices';
import type { FunctionUsage } from './usage';

/** What of an environment's settings (lib/settings.ts) the bill depends on. */
export interface Deployment {
  env: string;
  brokerInstanceType: string;
  brokerNodes: number;
  databaseInstanceClass: string;
  databases: number;
  multiAz: boolean;
  allocatedStorageGb: number;
  databaseProxy: boolean;
  natGateways: number;
  logRetentionDays: number;
  /** Partitions per queue (the environment's setting): one event source mapping, and its batches, each. */
  partitions: PartitionLayout;
}

export interface Traffic {
  ordersPerDay: number;
  /** Monthly active users of the dashboard (Cognito MAUs). */
  monthlyActiveUsers: number;
  /** WebSocket connections open around the clock (dashboards left open). */
  openConnections: number;
  /** What one user downloads from CloudFront a month, and in how many requests. */
  dashboardMbPerUser: number;
  dashboardRequestsPerUser: number;
  /** CloudWatch Logs per invocation (Lambda's START/END/REPORT lines and the function's own). */
  logBytesPerInvocation: number;
  /** Bytes a NAT gateway carries per order (calls to AWS APIs from private subnets: X-Ray, metrics, Secrets Manager at cold start). */
  natBytesPerOrder: number;
  /** ElastiCache Processing Units per order (rate-limit script, WebSocket fan-out reads and writes). */
  ecpusPerOrder: number;
}

export const DEFAULT_TRAFFIC: Omit<Traffic, 'ordersPerDay'> = {
  monthlyActiveUsers: 1_000,
  openConnections: 10,
  dashboardMbPerUser: 20,
  dashboardRequestsPerUser: 300,
  logBytesPerInvocation: 1_000,
  natBytesPerOrder: 2_000,
  ecpusPerOrder: 30,
};

export interface LineItem {
  component: string;
  /** How it was counted, in words. */
  basis: string;
  usd: number;
  prices: PriceId[];
}

const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const VCPUS: Record<string, number> = { 't4g.micro': 2, 't4g.small': 2, 't4g.medium': 2, 't4g.large': 2 };

/** A consumer mapping's invocations a second when `rate` events/s reach it: one batch in flight, each batch holding what arrived while the last ran. */
export function batchesPerSecond(rate: number, fixedMs: number, perEventMs: number, batchSize: number): number {
  if (rate <= 0) return 0;
  // n = rate × (fixed + perEvent × n)  ⇒  n = rate·fixed / (1 − rate·perEvent), at least 1, at most the batch size.
  const busy = rate * (perEventMs / 1000);
  const n = busy >= 1 ? batchSize : Math.min(batchSize, Math.max(1, (rate * fixedMs) / 1000 / (1 - busy)));
  return rate / n;
}

export interface FunctionBill {
  id: string;
  invocations: number;
  gbSeconds: number;
  measured: boolean;
}

/** Each function's invocations and GB-seconds a month. Throws when a catalog function has no usage entry. */
export function functionBills(functions: readonly FunctionSpec[], usage: Record<string, FunctionUsage>, ordersPerDay: number, layout: PartitionLayout): FunctionBill[] {
  const ordersPerSecond = ordersPerDay / 86_400;
  return functions.map((f) => {
    const u = usage[f.id];
    if (!u) throw new Error(`no cost entry for the catalog function ${f.id} (scripts/cost/usage.ts)`);
    const gb = f.memoryMb / 1024;
    switch (u.kind) {
      case 'deploy':
        return { id: f.id, invocations: 0, gbSeconds: 0, measured: true };
      case 'requests': {
        const invocations = u.perOrder * ordersPerDay * 30.4 + u.perMonth;
        return { id: f.id, invocations, gbSeconds: invocations * (u.ms / 1000) * gb, measured: u.measured };
      }
      case 'schedule': {
        if (f.trigger.kind !== 'schedule') throw new Error(`${f.id}: a schedule entry for a ${f.trigger.kind} function`);
        const invocations = SECONDS_PER_MONTH / 60 / f.trigger.everyMinutes;
        return { id: f.id, invocations, gbSeconds: invocations * (u.ms / 1000) * gb, measured: false };
      }
      case 'batches': {
        if (f.trigger.kind !== 'queue') throw new Error(`${f.id}: a batches entry for a ${f.trigger.kind} function`);
        const partitions = layout[f.trigger.queue];
        const perPartition = (u.eventsPerOrder * ordersPerSecond) / partitions;
        const perSecond = partitions * batchesPerSecond(perPartition, u.fixedMs, u.perEventMs, f.trigger.batchSize);
        const invocations = perSecond * SECONDS_PER_MONTH;
        const busySeconds = invocations * (u.fixedMs / 1000) + u.eventsPerOrder * ordersPerSecond * SECONDS_PER_MONTH * (u.perEventMs / 1000);
        return { id: f.id, invocations, gbSeconds: busySeconds * gb, measured: true };
      }
    }
  });
}

const cost = (id: PriceId, quantity: number) => PRICES[id].usd * quantity;

/** The monthly bill, line by line. */
export function monthlyCost(functions: readonly FunctionSpec[], usage: Record<string, FunctionUsage>, d: Deployment, t: Traffic): LineItem[] {
  const orders = t.ordersPerDay * 30.4;
  const bills = functionBills(functions, usage, t.ordersPerDay, d.partitions);
  const invocations = bills.reduce((s, b) => s + b.invocations, 0);
  const gbSeconds = bills.reduce((s, b) => s + b.gbSeconds, 0);
  const az = d.multiAz ? 2 : 1;
  const brokerPrice: PriceId = d.brokerInstanceType === 'mq.m7g.medium' ? 'brokerMedium' : 'brokerLarge';
  const dbPrice: PriceId = d.databaseInstanceClass === 't4g.micro' ? 'rdsT4gMicro' : 'rdsT4gMedium';
  const queueMappings = functions.filter((f) => f.trigger.kind === 'queue').reduce((s, f) => s + (f.trigger.kind === 'queue' ? d.partitions[f.trigger.queue] : 0), 0);
  const http = bills.filter((b) => functions.find((f) => f.id === b.id)?.trigger.kind === 'http').reduce((s, b) => s + b.invocations, 0);
  // Each order's 5.3 events reach its own page (one connection), plus what clients send.
  const wsMessages = orders * 5.3 + bills.find((b) => b.id === 'notification-websocket')!.invocations;
  const logGb = (invocations * t.logBytesPerInvocation) / 1024 ** 3;
  const storedLogGb = logGb * Math.min(1, d.logRetentionDays / 30.4);
  // Alarms and custom metrics as the stack makes them (README, Watching it): one failures alarm per
  // function, one per event source mapping and per DLQ, three per database, three for the broker, two for the APIs;
  // metrics: depth and consumers per queue and DLQ, one per mapping, cold starts per function, broker memory, saga figures.
  const queues = functions.filter((f) => f.trigger.kind === 'queue').length;
  const alarms = functions.length + queueMappings + queues + 3 * d.databases + 3 + 2;
  const metrics = 2 * (queueMappings + queues) + queueMappings + functions.length + 1 + 4;
  const cloudfrontGb = (t.monthlyActiveUsers * t.dashboardMbPerUser) / 1024;
  const cloudfrontRequests = t.monthlyActiveUsers * t.dashboardRequestsPerUser;
  const items: LineItem[] = [
    {
      component: 'broker (Amazon MQ)',
      basis: `${d.brokerNodes} × ${d.brokerInstanceType}, ${HOURS_PER_MONTH} h`,
      usd: cost(brokerPrice, d.brokerNodes * HOURS_PER_MONTH),
      prices: [brokerPrice],
    },
    {
      component: 'databases (RDS PostgreSQL)',
      basis: `${d.databases} × db.${d.databaseInstanceClass}${d.multiAz ? ' Multi-AZ' : ''}, ${d.allocatedStorageGb} GB gp3 each`,
      usd: cost(dbPrice, d.databases * az * HOURS_PER_MONTH) + cost('rdsGp3', d.databases * az * d.allocatedStorageGb),
      prices: [dbPrice, 'rdsGp3'],
    },
    {
      component: 'database proxies (RDS Proxy)',
      basis: d.databaseProxy ? `${d.databases} × ${Math.max(2, VCPUS[d.databaseInstanceClass] ?? 2)} vCPU` : 'none',
      usd: d.databaseProxy ? cost('rdsProxy', d.databases * Math.max(2, VCPUS[d.databaseInstanceClass] ?? 2) * HOURS_PER_MONTH) : 0,
      prices: ['rdsProxy'],
    },
    {
      component: 'cache (ElastiCache Serverless)',
      basis: `1 GB minimum; ${fmt(orders * t.ecpusPerOrder)} ECPUs`,
      usd: cost('cacheData', HOURS_PER_MONTH) + cost('cacheEcpu', (orders * t.ecpusPerOrder) / 1e6),
      prices: ['cacheData', 'cacheEcpu'],
    },
    {
      component: 'NAT gateways',
      basis: `${d.natGateways} × ${HOURS_PER_MONTH} h; ${fmt((orders * t.natBytesPerOrder) / 1024 ** 3)} GB`,
      usd: cost('natHour', d.natGateways * HOURS_PER_MONTH) + cost('natGb', (orders * t.natBytesPerOrder) / 1024 ** 3),
      prices: ['natHour', 'natGb'],
    },
    {
      component: 'Lambda requests',
      basis: `${fmt(invocations)} invocations`,
      usd: cost('lambdaRequests', invocations / 1e6),
      prices: ['lambdaRequests'],
    },
    {
      component: 'Lambda duration',
      basis: `${fmt(gbSeconds)} GB-s (arm64)`,
      usd: cost('lambdaArmGbSecond', gbSeconds),
      prices: ['lambdaArmGbSecond'],
    },
    {
      component: 'API Gateway HTTP requests',
      basis: `${fmt(http)} requests`,
      usd: cost('httpApi', http / 1e6),
      prices: ['httpApi'],
    },
    {
      component: 'API Gateway WebSocket',
      basis: `${fmt(wsMessages)} messages; ${t.openConnections} connections × ${fmt(SECONDS_PER_MONTH / 60)} min`,
      usd: cost('wsMessages', wsMessages / 1e6) + cost('wsMinutes', (t.openConnections * SECONDS_PER_MONTH) / 60 / 1e6),
      prices: ['wsMessages', 'wsMinutes'],
    },
    {
      component: 'CloudFront',
      basis: `${fmt(cloudfrontGb)} GB, ${fmt(cloudfrontRequests)} requests (beyond 1 TB and 10 M free)`,
      usd: cost('cloudfrontGb', Math.max(0, cloudfrontGb - 1024)) + cost('cloudfrontRequests', Math.max(0, cloudfrontRequests - 1e7) / 1e4),
      prices: ['cloudfrontGb', 'cloudfrontRequests'],
    },
    {
      component: 'Cognito',
      basis: `${fmt(t.monthlyActiveUsers)} MAUs on the Plus plan`,
      usd: cost('cognitoMau', t.monthlyActiveUsers),
      prices: ['cognitoMau'],
    },
    {
      component: 'CloudWatch logs',
      basis: `${fmt(logGb)} GB ingested (5 GB free), ${fmt(storedLogGb)} GB kept ${d.logRetentionDays} days`,
      usd: cost('logsIngested', Math.max(0, logGb - 5)) + cost('logsStored', storedLogGb),
      prices: ['logsIngested', 'logsStored'],
    },
    {
      component: 'CloudWatch metrics, alarms, dashboard',
      basis: `${metrics} custom metrics (10 free), ${alarms} alarms (10 free), 1 dashboard (3 free)`,
      usd: cost('customMetric', Math.max(0, metrics - 10)) + cost('alarm', Math.max(0, alarms - 10)) + cost('dashboard', Math.max(0, 1 - 3)),
      prices: ['customMetric', 'alarm', 'dashboard'],
    },
  ];
  return items;
}

export const total = (items: readonly LineItem[]) => items.reduce((s, i) => s + i.usd, 0);

/** Every price the bill used, once. */
export function pricesUsed(items: readonly LineItem[]): [PriceId, Price][] {
  const ids = [...new Set(items.flatMap((i) => i.prices))];
  return ids.map((id) => [id, PRICES[id]]);
}

function fmt(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} billion`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} million`;
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(n >= 10 ? 1 : 2);
}
