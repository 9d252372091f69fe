import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clockSkewOf } from '../../local/clock-skew';

describe('LOCAL_CLOCK_SKEW', () => {
  it('gives each named function its offset, "*" every other one, and nothing when unset', () => {
    expect(clockSkewOf(undefined, 'order-api')).toBe(0);
    expect(clockSkewOf('', 'order-api')).toBe(0);
    expect(clockSkewOf('order-api=300, payment-consumer=-60', 'payment-consumer')).toBe(-60_000);
    expect(clockSkewOf('order-api=300', 'payment-consumer')).toBe(0);
    expect(clockSkewOf('*=5,order-api=300', 'order-api')).toBe(300_000);
    expect(clockSkewOf('*=5,order-api=300', 'inventory-api')).toBe(5_000);
    expect(() => clockSkewOf('order-api', 'order-api')).toThrow(/<function>=<seconds>/);
    expect(() => clockSkewOf('order-api=soon', 'order-api')).toThrow(/<function>=<seconds>/);
  });

  it('moves Date.now, new Date() and Date() in the process, and leaves dates built from a value and the real clock alone', () => {
    // A process of its own: skewing this one would move the test runner's clock.
    const script = `
      import { realNow, skewClock } from ${JSON.stringify(path.resolve('local/clock-skew.ts'))};
      const before = Date.now();
      skewClock(300_000);
      const out = {
        now: Date.now() - before,
        constructed: new Date().getTime() - before,
        called: Date.parse(Date()) - before,
        fromValue: new Date(0).getTime(),
        real: realNow() - before,
        isDate: new Date() instanceof Date && Object.prototype.toString.call(new Date()) === '[object Date]',
        iso: typeof new Date().toISOString(),
      };
      console.log(JSON.stringify(out));`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout);
    for (const k of ['now', 'constructed'] as const) {
      expect(out[k]).toBeGreaterThanOrEqual(300_000);
      expect(out[k]).toBeLessThan(305_000);
    }
    // Date() has whole seconds only.
    expect(out.called).toBeGreaterThan(298_000);
    expect(out.fromValue).toBe(0);
    expect(out.real).toBeLessThan(5_000);
    expect(out.isDate).toBe(true);
    expect(out.iso).toBe('string');
  });
});
