import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INTEGRATION, INTEGRATION_AREAS, balance, planIntegration } from '../../scripts/test-plan';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ALL = readdirSync(path.join(ROOT, 'test/integration'))
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => `test/integration/${f}`)
  .sort();
const files = (...names: string[]) => names.map((n) => `test/integration/${n}.test.ts`).sort();

describe('the quick run’s map of paths to integration tests', () => {
  it('names only test files that exist, and every integration test file is reached from some path', () => {
    const named = new Set([...DEFAULT_INTEGRATION, ...INTEGRATION_AREAS.flatMap((a) => a.tests)]);
    for (const f of named) expect(existsSync(path.join(ROOT, f)), f).toBe(true);
    const unreached = ALL.filter((f) => !named.has(f));
    expect(unreached, 'add them to INTEGRATION_AREAS in scripts/test-plan.ts').toEqual([]);
  });

  it('puts the more specific prefix first, so that every area can apply', () => {
    INTEGRATION_AREAS.forEach((a, i) => {
      const shadow = INTEGRATION_AREAS.slice(0, i).find((b) => a.prefix.startsWith(b.prefix));
      expect(shadow?.prefix, `${a.prefix} comes after ${shadow?.prefix}`).toBeUndefined();
    });
  });

  it('runs nothing for documents, the CDK app, the dashboard and the other test projects', () => {
    const plan = planIntegration(['README.md', 'docs/decisions.md', 'lib/apis.ts', 'web/app/page.tsx', 'test/unit/order-domain.test.ts', 'test/cdk/stacks.test.ts', 'bench/main.ts'], ALL);
    expect(plan.integration).toEqual([]);
    expect(planIntegration([], ALL).integration).toEqual([]);
  });

  it('runs a changed integration test file, and only it', () => {
    expect(planIntegration(['test/integration/retention.test.ts'], ALL).integration).toEqual(files('retention'));
  });

  it("runs a service's tests and the end-to-end set for a change in the service", () => {
    const plan = planIntegration(['functions/payment/reconciler.ts'], ALL);
    expect(plan.integration).toEqual(files('saga', 'payment-recovery', 'deadline', 'outage', 'redelivery', 'read-only-database', 'http-input', 'access', 'notifications'));
    expect(plan.because['test/integration/outage.test.ts']).toBe('functions/payment/reconciler.ts');
  });

  it('runs the kernel part’s tests and the end-to-end set for a change under shared/, the end-to-end set alone where no part is named', () => {
    expect(planIntegration(['shared/http/rate-limits.ts'], ALL).integration).toEqual(files('rate-limit', 'rate-limit-redis', 'rate-limit-outage', 'rate-limit-silent', ...DEFAULT_INTEGRATION.map((f) => path.basename(f, '.test.ts'))));
    expect(planIntegration(['shared/env.ts'], ALL).integration).toEqual([...DEFAULT_INTEGRATION].sort());
  });

  it('runs the end-to-end set for a path no area names (the lock file, test support, a new folder)', () => {
    for (const p of ['package-lock.json', 'test/support/runtime-process.ts', 'tools/new.ts', 'test/integration/helpers.ts']) {
      expect(planIntegration([p], ALL).integration, p).toEqual([...DEFAULT_INTEGRATION].sort());
    }
  });

  it('ignores a deleted test file it no longer finds but still runs the end-to-end set', () => {
    expect(planIntegration(['test/integration/gone.test.ts'], ALL).integration).toEqual([...DEFAULT_INTEGRATION].sort());
  });
});

describe('balancing test files across processes', () => {
  const d = new Map([
    ['a', 100],
    ['b', 60],
    ['c', 50],
    ['d', 40],
    ['e', 10],
  ]);

  it('gives each group about the same total, longest first, every file exactly once', () => {
    const groups = balance(['a', 'b', 'c', 'd', 'e'], d, 2);
    expect(groups).toEqual([
      ['a', 'd'],
      ['b', 'c', 'e'],
    ]);
    expect(groups.flat().sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('counts a file of unknown duration as the median, and makes no empty groups', () => {
    expect(balance(['a', 'x'], d, 4)).toEqual([['a'], ['x']]);
    expect(balance(['x', 'y', 'z'], new Map(), 2).flat().sort()).toEqual(['x', 'y', 'z']);
    expect(balance([], d, 3)).toEqual([]);
  });
});
