import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../bench/args';
import { codeKind, isIdle, parsePerfScriptLine, shortSymbol, summarizePerfScript } from '../../bench/perf-profile';
import { monotonicSeconds, perfUnavailable, startPerfRecord, summarizePerfFile } from '../../bench/perf-record';
import { perfSection } from '../../bench/report';

/** A one-second `perf record -a -e cpu-clock -F 499` of this machine, trimmed to 20 of its samples. */
const FIXTURE = readFileSync(path.join(import.meta.dirname, '../fixtures/perf-script.txt'), 'utf8');

describe('perf script lines', () => {
  it('reads command names with spaces, the thread group of a thread, and files with parentheses', () => {
    expect(parsePerfScriptLine(' npm exec vitest 16095/16095  1170.503594:           114a2ae v8::internal::Heap::Scavenge (/usr/bin/node)')).toEqual({
      pid: 16095,
      comm: 'npm exec vitest',
      time: 1170.503594,
      ip: 0x114a2aen,
      sym: 'v8::internal::Heap::Scavenge',
      dso: '/usr/bin/node',
    });
    expect(parsePerfScriptLine('     2_scheduler  2932/2964   1169.459506:      7f7d01fffe9b [unknown] (/memfd:vmem (deleted))')).toMatchObject({
      pid: 2932,
      comm: '2_scheduler',
      sym: '[unknown]',
      dso: '/memfd:vmem (deleted)',
    });
    expect(parsePerfScriptLine('            node 16150/16150  1169.439467:           10a1e01 v8::internal::Foo::operator() (/usr/bin/node)')).toMatchObject({
      sym: 'v8::internal::Foo::operator()',
      dso: '/usr/bin/node',
    });
    expect(parsePerfScriptLine('')).toBeNull();
    expect(parsePerfScriptLine('Warning: 3 samples lost')).toBeNull();
  });

  it('tells the kernel, JIT code, the program, its libraries and the idle task apart', () => {
    const kindOf = (line: string) => codeKind(parsePerfScriptLine(line)!);
    const line = (ip: string, dso: string) => `node 1/1  1.0:  ${ip} f (${dso})`;
    expect(kindOf(line('ffffffff821f2fa7', '[kernel.kallsyms]'))).toBe('kernel');
    expect(kindOf(line('a59e4103a00', '/tmp/perf-16150.map'))).toBe('jit');
    expect(kindOf(line('a59e4103a00', '[JIT] tid 16150'))).toBe('jit');
    expect(kindOf(line('7f7d0250cd90', '/memfd:vmem (deleted)'))).toBe('jit');
    expect(kindOf(line('55de95277a85', '/usr/lib/erlang/erts-13.1.5/bin/beam.smp'))).toBe('binary');
    expect(kindOf(line('7f06c5099df0', '/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30'))).toBe('libraries');
    expect(kindOf(line('7f06c4eb5612', '/usr/lib/x86_64-linux-gnu/libc.so.6'))).toBe('libraries');
    expect(kindOf(line('7f06c4eb5612', '[unknown]'))).toBe('unknown');
    expect(isIdle({ pid: 0, sym: 'pv_native_safe_halt' })).toBe(true);
    expect(isIdle({ pid: 0, sym: 'finish_task_switch.isra.0' })).toBe(false);
    expect(isIdle({ pid: 4242, sym: 'default_idle_call' })).toBe(false);
  });
});

describe('perf summary', () => {
  const groups = new Map([
    [16150, 'runtime: order-api'],
    [16162, 'runtime: order-api'],
    [2932, 'rabbitmq'],
  ]);
  const groupOf = (pid: number) => groups.get(pid) ?? 'other processes';

  it('counts busy samples by process group, by kind of code, and ranks symbols', () => {
    const s = summarizePerfScript(FIXTURE, groupOf, { file: 'perf.data', frequency: 499 });
    expect(s).toMatchObject({ file: 'perf.data', frequency: 499, samples: 20, idleSamples: 4 });
    // From the first sample to the last, plus one interval.
    expect(s.seconds).toBeCloseTo(1170.503594 - 1169.41214 + 1 / 499, 6);
    expect(s.busyCores).toBeCloseTo(16 / 499 / s.seconds, 6);
    expect(s.groups.map((g) => [g.group, g.samples, g.share])).toEqual([
      ['other processes', 7, 7 / 16],
      ['rabbitmq', 5, 5 / 16],
      ['runtime: order-api', 4, 4 / 16],
    ]);
    const [other, rabbit, runtime] = s.groups;
    expect(other!.split).toEqual({ kernel: 0, jit: 1, binary: 4, libraries: 2, unknown: 0 });
    expect(rabbit!.split).toEqual({ kernel: 1, jit: 2, binary: 2, libraries: 0, unknown: 0 });
    expect(runtime!.split).toEqual({ kernel: 1, jit: 1, binary: 2, libraries: 0, unknown: 0 });
    expect(rabbit!.binary).toBe('beam.smp');
    expect(runtime!.binary).toBe('node');
    // JIT code of every process is one entry; ties in name order.
    expect(rabbit!.topSymbols.map((t) => [t.name, t.samples])).toEqual([
      ['[unknown] [JIT]', 2],
      ['[unknown] [beam.smp]', 1],
      ['erts_gc_update_map_assoc [beam.smp]', 1],
      ['sock_alloc [kernel]', 1],
    ]);
    expect(runtime!.topSymbols[0]).toEqual({ name: 'Builtins_LoadIC [node]', samples: 1, share: 0.25 });
    expect(summarizePerfScript(FIXTURE, groupOf, { file: 'perf.data', frequency: 499 }, { top: 2 }).groups[0]!.topSymbols).toHaveLength(2);
  });

  it('keeps only the samples within a window of the recording clock', () => {
    // The middle of the fixture: from the page fault at 1169.439467 to the libstdc++ sample at 1169.887091.
    const s = summarizePerfScript(FIXTURE, groupOf, { file: 'perf.data', frequency: 499 }, { window: { from: 1169.439, to: 1169.9 } });
    expect(s.samples).toBe(11);
    expect(s.idleSamples).toBe(0);
    expect(s.seconds).toBeCloseTo(1169.887091 - 1169.439467 + 1 / 499, 6);
    expect(s.groups.map((g) => [g.group, g.samples])).toEqual([
      ['rabbitmq', 5],
      ['other processes', 3],
      ['runtime: order-api', 3],
    ]);
  });

  it('elides template arguments and lambdas from C++ symbols, and leaves operators whole', () => {
    expect(
      shortSymbol(
        'v8::internal::MarkingVisitorBase<v8::internal::MainMarkingVisitor<v8::internal::MarkingState>, v8::internal::MarkingState>::ProcessStrongHeapObject<v8::internal::FullHeapObjectSlot>',
      ),
    ).toBe('v8::internal::MarkingVisitorBase<…>::ProcessStrongHeapObject<…>');
    expect(shortSymbol('Builtins_LoadIC')).toBe('Builtins_LoadIC');
    expect(shortSymbol('std::operator<< <std::char_traits<char> >')).toBe('std::operator<< <std::char_traits<char> >');
    expect(shortSymbol('v8::internal::Foo::operator->')).toBe('v8::internal::Foo::operator->');
  });

  it("gives the idle task's work that is not idling to the group of pid 0", () => {
    const text = [
      '         swapper     0/0      1254.743117:  ffffffff821f2c2b pv_native_safe_halt ([kernel.kallsyms])',
      '         swapper     0/0      1254.845309:  ffffffff813a2413 finish_task_switch.isra.0 ([kernel.kallsyms])',
    ].join('\n');
    const s = summarizePerfScript(text, (pid) => (pid === 0 ? 'unattributed' : 'other processes'), { file: 'x', frequency: 499 });
    expect(s.idleSamples).toBe(1);
    expect(s.groups).toMatchObject([{ group: 'unattributed', samples: 1, split: { kernel: 1 } }]);
  });

  it('prints the groups, their split and top symbols', () => {
    const text = perfSection('16 in flight (run 1)', summarizePerfScript(FIXTURE, groupOf, { file: 'perf.data', frequency: 499 }));
    expect(text).toContain('by top group: other processes 43.8 %, rabbitmq 31.3 %, runtime 25.0 %');
    expect(text).toMatch(/\| rabbitmq \(beam\.smp\)\s+\|\s+31\.3 % \|\s+20 % \|\s+40 % \|\s+40 % \|\s+0 % \|\s+0 % \|/);
    expect(text).toContain('  runtime: order-api: ');
  });

  it('is asked for with --perf, at 499 Hz unless --perf-freq says otherwise', () => {
    const freq = (argv: string[]) => {
      const p = parseBenchArgs(argv);
      return p.kind === 'run' ? p.options.perfFrequency : undefined;
    };
    expect(freq([])).toBeNull();
    expect(freq(['--perf'])).toBe(499);
    expect(freq(['--perf', '--perf-freq', '99'])).toBe(99);
    expect(() => parseBenchArgs(['--perf-freq', '0'])).toThrow(/--perf-freq/);
  });
});

// Only where perf can record the whole machine (not in CI): a real recording, read back.
const unavailable = await perfUnavailable(499);
describe.skipIf(unavailable !== null)('perf record, for real', () => {
  it("finds this process's busy loop in its own group, running node, within a window of this process's clock", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-perf-test-'));
    try {
      const file = path.join(dir, 'perf.data');
      const recording = startPerfRecord(file, 499);
      await new Promise((r) => setTimeout(r, 1_000)); // perf reads every process's maps before it samples
      const from = monotonicSeconds();
      const until = Date.now() + 1_000;
      let x = 0;
      while (Date.now() < until) x += Math.sqrt(x + 1);
      const to = monotonicSeconds();
      expect(await recording.stop()).toEqual({ ok: true });
      const s = await summarizePerfFile(file, 499, (pid) => (pid === process.pid ? 'this test' : 'other processes'), { window: { from, to } });
      const mine = s.groups.find((g) => g.group === 'this test');
      expect(mine?.samples).toBeGreaterThan(0);
      expect(mine?.binary).toBe('node');
      expect(s.seconds).toBeGreaterThan(0.5);
      expect(s.seconds).toBeLessThanOrEqual(to - from + 2 / 499);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
