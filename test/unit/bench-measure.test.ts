import { runtimeMemoryOf, statementRatesOf } from '../../bench/analyze';
import { retryAfterMs } from '../../bench/http';
import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../bench/args';
import { settledAs } from '../../bench/load';
import { moduleOf, pidOfProfile, summarizeProfiles } from '../../bench/profile';
import { descendantsOf, groupOf, parseCpuLine, parseProcStat } from '../../bench/sampler';
import type { GroupingContext } from '../../bench/sampler';
import { DEFAULT_MIX, arrivalAt, dueBy, planOrder, seededRandom } from '../../bench/schedule';
import { histogram, median, quantile, summarize } from '../../bench/stats';

describe('bench statistics', () => {
  it('nearest-rank quantiles, summaries and medians', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted input
    const s = summarize(xs);
    expect(s).toMatchObject({ count: 100, p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 });
    expect(quantile([7], 0.99)).toBe(7);
    expect(Number.isNaN(summarize([]).p99)).toBe(true);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([Number.NaN, 5])).toBe(5);
  });

  it('a log-bucketed histogram keeps every sample in one bucket', () => {
    const h = histogram([0.5, 1, 1.2, 9.9, 10, 10.1, 5_000_000], 1, 2, 1); // bounds 1, 10, 100, then overflow
    expect(h.bounds).toEqual([1, 10, 100, Number.POSITIVE_INFINITY]);
    expect(h.counts).toEqual([2, 3, 1, 1]);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(7);
  });
});

describe('bench schedule and mix', () => {
  it('arrivals are due on a fixed schedule, whatever happened before', () => {
    expect(arrivalAt(0, 500)).toBe(0);
    expect(arrivalAt(250, 500)).toBe(500);
    expect(dueBy(-1, 500, 1000)).toBe(0);
    expect(dueBy(0, 500, 1000)).toBe(1);
    expect(dueBy(999, 500, 1000)).toBe(500); // arrival 499 is due at 998 ms
    expect(dueBy(1000, 500, 1000)).toBe(501);
    // a generator that stalled for 3 s fires everything due at once, capped at the total
    expect(dueBy(3000, 500, 1000)).toBe(1000);
  });

  it('the mix has the shares asked for, distinct products per order and 1-3 lines', () => {
    const random = seededRandom(42);
    const plentiful = Array.from({ length: 50 }, (_, i) => `p${i}`);
    const scarce = ['s1', 's2'];
    const orders = Array.from({ length: 20_000 }, () => planOrder(random, plentiful, scarce, DEFAULT_MIX));
    const share = (f: (o: (typeof orders)[number]) => boolean) => orders.filter(f).length / orders.length;
    expect(share((o) => o.paymentToken === 'tok_chargeDeclined')).toBeCloseTo(0.1, 1);
    expect(share((o) => o.scarce)).toBeCloseTo(0.05, 1);
    expect(share((o) => o.cancelAfterMs !== null)).toBeCloseTo(0.05, 1);
    for (const o of orders) {
      expect(o.lines.length).toBeGreaterThanOrEqual(1);
      expect(o.lines.length).toBeLessThanOrEqual(3);
      expect(new Set(o.lines.map((l) => l.productId)).size).toBe(o.lines.length);
      expect(o.lines.some((l) => scarce.includes(l.productId))).toBe(o.scarce);
      if (o.cancelAfterMs !== null) expect(o.cancelAfterMs).toBeLessThanOrEqual(DEFAULT_MIX.cancelDelayMaxMs);
    }
    // the same seed plans the same orders
    expect(planOrder(seededRandom(7), plentiful, scarce, DEFAULT_MIX)).toEqual(planOrder(seededRandom(7), plentiful, scarce, DEFAULT_MIX));
  });
});

describe('what counts as settled', () => {
  it('is the first final status, or for a cancelled order its order.cancelled', () => {
    expect(settledAs({ cancelAfterMs: null, cancel: undefined, finals: {} })).toBeUndefined();
    expect(settledAs({ cancelAfterMs: null, cancel: undefined, finals: { FAILED: 20 } })).toBe('FAILED');
    // DELETE not answered yet: a CONFIRMED may still turn into CANCELLED
    expect(settledAs({ cancelAfterMs: 50, cancel: undefined, finals: { CONFIRMED: 20 } })).toBeUndefined();
    const cancelled = { startedAt: 60, ms: 5, outcome: 200 };
    expect(settledAs({ cancelAfterMs: 50, cancel: cancelled, finals: { CONFIRMED: 20 } })).toBeUndefined();
    expect(settledAs({ cancelAfterMs: 50, cancel: cancelled, finals: { CONFIRMED: 20, CANCELLED: 90 } })).toBe('CANCELLED');
    // 409: it had already failed; that is its final status
    expect(settledAs({ cancelAfterMs: 50, cancel: { ...cancelled, outcome: 409 }, finals: { FAILED: 40 } })).toBe('FAILED');
  });
});

describe('CPU sampling', () => {
  it('parses /proc/<pid>/stat, whatever the command name holds', () => {
    const line = '4242 (node (x) y) S 4000 4242 4000 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 11 0 98765 1000 100';
    expect(parseProcStat(line)).toEqual({ pid: 4242, ppid: 4000, comm: 'node (x) y', ticks: 300, start: 98765, rssPages: 100 });
    expect(parseCpuLine('cpu  100 5 50 1000 20 1 2 3 0 0\ncpu0 ...')).toEqual({ busy: 161, idle: 1000, iowait: 20 });
  });

  it("reports the runtime's memory as the peak of one sample's sum, and each group's own most with its processes then", () => {
    const memory = runtimeMemoryOf([
      { memory: { 'runtime: main': { mib: 100, processes: 1 }, 'runtime: order-api': { mib: 300, processes: 4 } } },
      {}, // a sample from before memory was sampled
      { memory: { 'runtime: main': { mib: 150, processes: 1 }, 'runtime: order-api': { mib: 160, processes: 2 } } },
    ]);
    expect(memory.peakMiB).toBe(400); // 100 + 300, not the groups' maxima summed (450)
    expect(memory.byGroup).toEqual({ 'runtime: main': { mib: 150, processes: 1 }, 'runtime: order-api': { mib: 300, processes: 4 } });
    expect(runtimeMemoryOf([{}])).toEqual({ peakMiB: 0, byGroup: {} });
  });

  it("counts statements per second between the window's first and last counts, one first seen late from zero", () => {
    expect(
      statementRatesOf([
        { t: 0, statements: { 'order: COMMIT': 100 } },
        { t: 2_000, statements: { 'order: COMMIT': 160, 'payment: BEGIN': 8 } },
      ]),
    ).toEqual({ 'order: COMMIT': 30, 'payment: BEGIN': 4 });
    expect(statementRatesOf([{ t: 0 }, { t: 1_000 }])).toBeUndefined();
  });

  it('groups the runtime by catalog function when each runs in a process of its own, by pid otherwise', () => {
    const parents = new Map([
      [10, 1], // the bench
      [20, 10], // runtime main
      [21, 20],
      [22, 20],
      [23, 22],
      [30, 1],
    ]);
    const runtimePids = descendantsOf(20, parents);
    expect([...runtimePids].sort()).toEqual([20, 21, 22, 23]);
    const ctx: GroupingContext = {
      benchPids: new Set([10]),
      runtimePids,
      runtimeRoot: 20,
      postgresPids: new Map([[40, 'postgres: order']]),
      functionIds: ['order-consumer', 'order-outbox-relay', 'order-api'],
    };
    const p = (pid: number, comm: string, cmdline: string) => groupOf({ pid, ppid: parents.get(pid) ?? 1, comm, cmdline }, ctx);
    expect(p(10, 'node', 'node bench/main.ts')).toBe('load generator');
    expect(p(20, 'node', 'node --import tsx local/dev.ts')).toBe('runtime: main');
    expect(p(21, 'node', 'node --import tsx local/environment.ts order-outbox-relay')).toBe('runtime: order-outbox-relay');
    expect(p(22, 'esbuild', '/x/node_modules/@esbuild/linux-x64/bin/esbuild --service')).toBe('runtime: pid 22 esbuild --service');
    expect(p(40, 'postgres', 'postgres: 15/main: postgres b_order_db')).toBe('postgres: order');
    expect(p(41, 'postgres', 'postgres: 15/main: walwriter')).toBe('postgres: background');
    expect(p(50, 'beam.smp', '/usr/lib/erlang/beam.smp -B -- -s rabbit boot')).toBe('rabbitmq');
    expect(p(51, 'beam.smp', '/usr/lib/erlang/beam.smp -- -run escript start rabbitmqctl list_queues')).toBe('other processes');
    expect(p(52, 'redis-server', 'redis-server 127.0.0.1:6379')).toBe('redis');
    // on servers of its own, the machine's shared servers are someone else's work
    ctx.ownServers = { postgres: new Set([40]), rabbitmq: new Set([53]), redis: new Set([54]) };
    expect(p(40, 'postgres', 'postgres: 15/main: postgres b_order_db')).toBe('postgres: order');
    expect(p(41, 'postgres', 'postgres: 15/main: walwriter')).toBe('shared servers');
    expect(p(50, 'beam.smp', '/usr/lib/erlang/beam.smp -B -- -s rabbit boot')).toBe('shared servers');
    expect(p(53, 'beam.smp', '/usr/lib/erlang/beam.smp -B -- -s rabbit boot')).toBe('rabbitmq');
    expect(p(52, 'redis-server', 'redis-server 127.0.0.1:6379')).toBe('shared servers');
    expect(p(54, 'redis-server', 'redis-server 127.0.0.1:41234')).toBe('redis');
  });
});

describe('profile summary', () => {
  it('charges builtins and Node internals to the package that called them', () => {
    const root = 'file:///repo/';
    expect(moduleOf('file:///repo/node_modules/pg/lib/client.js', root)).toBe('pg');
    expect(moduleOf('file:///repo/node_modules/@smithy/core/dist/index.js', root)).toBe('@smithy/core');
    expect(moduleOf('file:///repo/functions/order/api.ts', root)).toBe('functions/order/api.ts');
    const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0 }, children });
    const summary = summarizeProfiles([
      {
        nodes: [
          frame(1, '(root)', '', [2, 5, 6]),
          frame(2, 'query', 'file:///x/node_modules/pg/lib/client.js', [3]),
          frame(3, 'writeGeneric', 'node:internal/stream_base_commons', [4]),
          frame(4, 'writev', ''),
          frame(5, '(garbage collector)', ''),
          frame(6, '(idle)', ''),
        ],
        samples: [4, 4, 4, 5, 6],
        timeDeltas: [1000, 1000, 1000, 1000, 50_000],
      },
    ]);
    expect(summary.busyMs).toBe(4);
    expect(summary.byModule).toEqual([
      { name: 'pg', ms: 3, share: 0.75 },
      { name: '(garbage collector)', ms: 1, share: 0.25 },
    ]);
    expect(summary.byFunction[0]).toEqual({ name: 'writev (builtin, from pg)', ms: 3, share: 0.75 });
    expect(pidOfProfile('/x/CPU.20261126.062751.25882.0.001.cpuprofile')).toBe(25882);
    expect(pidOfProfile('notes.txt')).toBeNull();
  });
});

describe('bench command line', () => {
  it('has defaults, reads lists and --env, and refuses nonsense', () => {
    const parsed = parseBenchArgs([]);
    if (parsed.kind !== 'run') throw new Error(`expected a run, got ${parsed.kind}`);
    expect(parsed.options).toMatchObject({ mode: 'open', levels: [250, 500, 1000, 1500, 2000], seconds: 60, runs: 3, wsClients: 1 });
    const closed = parseBenchArgs(['--mode', 'closed', '--concurrency', '8,64', '--env', 'PARTITIONS=2', '--env', 'X=a=b', '--lines', '2']);
    if (closed.kind !== 'run') throw new Error(`expected a run, got ${closed.kind}`);
    expect(closed.options.levels).toEqual([8, 64]);
    expect(closed.options.env).toEqual({ PARTITIONS: '2', X: 'a=b' });
    expect(closed.options.mix).toMatchObject({ minLines: 2, maxLines: 2 });
    expect(parseBenchArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseBenchArgs(['--replot', 'bench/results/x.json'])).toEqual({ kind: 'replot', file: 'bench/results/x.json' });
    expect(() => parseBenchArgs(['--rates', '100,fast'])).toThrow(/--rates/);
    expect(() => parseBenchArgs(['--declined', '2'])).toThrow(/--declined/);
    expect(() => parseBenchArgs(['--unknown'])).toThrow();
    // The shared PostgreSQL is never reconfigured to count statements.
    expect(() => parseBenchArgs(['--statements'])).toThrow(/--private-stack/);
    expect(parseBenchArgs(['--statements', '--private-stack'])).toMatchObject({ kind: 'run', options: { statements: true, privateStack: true } });
  });
});

describe('retryAfterMs', () => {
  it('reads the pause a 429 or 503 asks for, and nothing from any other answer', () => {
    expect(retryAfterMs(503, '1')).toBe(1000);
    expect(retryAfterMs(429, ['2'])).toBe(2000);
    expect(retryAfterMs(503, null)).toBeUndefined();
    expect(retryAfterMs(503, 'soon')).toBeUndefined();
    expect(retryAfterMs(500, '1')).toBeUndefined();
    expect(retryAfterMs(201, '1')).toBeUndefined();
  });
});
