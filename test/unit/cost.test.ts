import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/catalog';
import type { FunctionSpec } from '../../functions/catalog';
import { DEFAULT_TRAFFIC, batchesPerSecond, functionBills, monthlyCost, total } from '../../scripts/cost/model';
import type { Deployment } from '../../scripts/cost/model';
import { uniformLayout } from '../../functions/topology';
import { HOURS_PER_MONTH, PRICES } from '../../scripts/cost/prices';
import { FUNCTION_USAGE } from '../../scripts/cost/usage';

const dev: Deployment = {
  env: 'dev',
  brokerInstanceType: 'mq.m7g.medium',
  brokerNodes: 1,
  databaseInstanceClass: 't4g.micro',
  databases: 3,
  multiAz: false,
  allocatedStorageGb: 20,
  databaseProxy: false,
  natGateways: 1,
  logRetentionDays: 7,
  partitions: uniformLayout(1),
};
const prod: Deployment = { ...dev, env: 'prod', brokerInstanceType: 'mq.m7g.large', brokerNodes: 3, databaseInstanceClass: 't4g.medium', multiAz: true, allocatedStorageGb: 50, databaseProxy: true, natGateways: 2, logRetentionDays: 90, partitions: uniformLayout(2) };
const line = (items: ReturnType<typeof monthlyCost>, component: string) => items.find((i) => i.component.startsWith(component))!.usd;

describe('cost model', () => {
  it('has a cost entry for every catalog function, and none for a function the catalog does not have', () => {
    expect(Object.keys(FUNCTION_USAGE).sort()).toEqual(FUNCTIONS.map((f) => f.id).sort());
  });

  it('refuses a catalog function without a cost entry', () => {
    const extra: FunctionSpec = { ...FUNCTIONS[0]!, id: 'order-exporter' };
    expect(() => functionBills([...FUNCTIONS, extra], FUNCTION_USAGE, 1000, dev.partitions)).toThrow(/no cost entry for the catalog function order-exporter/);
  });

  it('prices the hourly components from the settings', () => {
    const items = monthlyCost(FUNCTIONS, FUNCTION_USAGE, prod, { ...DEFAULT_TRAFFIC, ordersPerDay: 0 });
    expect(line(items, 'broker')).toBeCloseTo(3 * HOURS_PER_MONTH * PRICES.brokerLarge.usd, 6);
    // Multi-AZ doubles instance and storage; three databases.
    expect(line(items, 'databases')).toBeCloseTo(3 * 2 * (HOURS_PER_MONTH * PRICES.rdsT4gMedium.usd + 50 * PRICES.rdsGp3.usd), 6);
    expect(line(items, 'database proxies')).toBeCloseTo(3 * 2 * HOURS_PER_MONTH * PRICES.rdsProxy.usd, 6);
    expect(line(items, 'NAT')).toBeCloseTo(2 * HOURS_PER_MONTH * PRICES.natHour.usd, 6);
    expect(line(items, 'database proxies') > 0 && line(monthlyCost(FUNCTIONS, FUNCTION_USAGE, dev, { ...DEFAULT_TRAFFIC, ordersPerDay: 0 }), 'database proxies')).toBe(0);
  });

  it('idle, invokes only the schedules and the operators\' page', () => {
    const bills = functionBills(FUNCTIONS, FUNCTION_USAGE, 0, dev.partitions);
    const schedules = FUNCTIONS.filter((f) => f.trigger.kind === 'schedule');
    const expected =
      schedules.reduce((s, f) => s + (HOURS_PER_MONTH * 60) / (f.trigger.kind === 'schedule' ? f.trigger.everyMinutes : 1), 0) +
      (FUNCTION_USAGE['operations-api'] as { perMonth: number }).perMonth;
    expect(bills.reduce((s, b) => s + b.invocations, 0)).toBeCloseTo(expected, 3);
  });

  it('counts one batch per event when events are sparse, and full batches when a partition cannot keep up', () => {
    expect(batchesPerSecond(0, 15, 1, 100)).toBe(0);
    expect(batchesPerSecond(2, 15, 1, 100)).toBe(2);
    expect(batchesPerSecond(2000, 15, 1, 100)).toBe(20);
    // 200 events/s, 15 ms fixed, 1 ms each: n = 200 × 0.015 / (1 − 0.2) = 3.75 events a batch.
    expect(batchesPerSecond(200, 15, 1, 100)).toBeCloseTo(200 / 3.75, 6);
  });

  it('grows the per-request components with the orders and leaves the hourly ones alone', () => {
    const at = (ordersPerDay: number) => monthlyCost(FUNCTIONS, FUNCTION_USAGE, dev, { ...DEFAULT_TRAFFIC, ordersPerDay });
    const [a, b] = [at(100_000), at(200_000)];
    const http = (items: ReturnType<typeof at>) => line(items, 'API Gateway HTTP') - line(at(0), 'API Gateway HTTP');
    expect(http(b)).toBeCloseTo(2 * http(a), 6);
    expect(line(b, 'broker')).toBe(line(a, 'broker'));
    expect(total(b)).toBeGreaterThan(total(a));
  });
});
