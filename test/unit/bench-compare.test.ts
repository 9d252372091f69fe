import { describe, expect, it } from 'vitest';
import { formatRatio, parseCompareArgs, roundOrder } from '../../bench/compare';
import { cpuPerOrderMs } from '../../bench/report';
import type { LevelRun } from '../../bench/report';

describe('bench --compare', () => {
  it('takes the ref and the rounds out of the bench options and keeps the rest for both sides', () => {
    expect(parseCompareArgs(['--rates', '100', '--seconds', '10'])).toBeNull();
    expect(parseCompareArgs(['--compare', 'main', '--rates', '100', '--runs', '2', '--name', 'x', '--out', '/tmp/o', '--no-chart', '--env', 'PARTITIONS=1'])).toEqual({
      ref: 'main',
      rounds: 2,
      benchArgs: ['--rates', '100', '--env', 'PARTITIONS=1'],
      outDir: '/tmp/o',
      name: 'x',
    });
    expect(parseCompareArgs(['--compare=HEAD~1', '--private-stack'])).toEqual({ ref: 'HEAD~1', rounds: 3, benchArgs: ['--private-stack'], outDir: 'bench/results', name: null });
  });

  it('refuses fewer than two rounds, a missing ref and --replot', () => {
    expect(() => parseCompareArgs(['--compare', 'main', '--runs', '1'])).toThrow(/at least 2/);
    expect(() => parseCompareArgs(['--compare'])).toThrow(/value/);
    expect(() => parseCompareArgs(['--compare', '--rates', '100'])).toThrow(/value/);
    expect(() => parseCompareArgs(['--compare', 'main', '--replot', 'f.json'])).toThrow(/replot/);
  });

  it('alternates which side goes first', () => {
    expect(roundOrder(1)).toEqual(['ref', 'tree']);
    expect(roundOrder(2)).toEqual(['tree', 'ref']);
    expect(roundOrder(3)).toEqual(['ref', 'tree']);
  });

  it('formats new over old with the change in percent', () => {
    expect(formatRatio(100, 125)).toBe('1.25× (+25 %)');
    expect(formatRatio(20, 15)).toBe('0.75× (-25 %)');
    expect(formatRatio(10, 10)).toBe('1.00× (+0 %)');
    expect(formatRatio(0, 5)).toBe('-');
    expect(formatRatio(Number.NaN, 5)).toBe('-');
  });

  it('CPU per settled order is busy cores over the settled rate', () => {
    const run = { figures: { measured: { settledPerSec: 100 }, box: { busy: 2 }, cpuTop: { runtime: 1, postgres: 0.5 } } } as unknown as LevelRun;
    expect(cpuPerOrderMs(run)).toEqual({ box: 20, runtime: 10, postgres: 5 });
    const none = { figures: { measured: { settledPerSec: 0 }, box: { busy: 2 }, cpuTop: {} } } as unknown as LevelRun;
    expect(Number.isNaN(cpuPerOrderMs(none).box)).toBe(true);
  });
});
