/** The report: medians over runs, the tables printed at the end, and the files written. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunFigures } from './analyze';
import type { BenchOptions } from './args';
import { chartSpec, renderChart } from './chart';
import type { DrainResult } from './drain';
import type { DeliveryCount } from './deliveries';
import type { Violation } from './invariants';
import type { Machine } from './machine';
import { shortSymbol } from './perf-profile';
import type { PerfSummary } from './perf-profile';
import { topGroupOf } from './sampler';
import type { ProfileSummary } from './profile';
import { median } from './stats';

export interface LevelRun {
  level: number;
  run: number;
  namespace: string;
  figures: RunFigures;
  drain: DrainResult;
  invariants: { ok: boolean; broken: number; description: string; examples: Violation[] };
  /** Queue deliveries per order (absent in results written before it was counted). */
  deliveries?: DeliveryCount;
  profile: ProfileSummary | null;
  /** With --perf: the whole machine over the measured window (absent in older results). */
  perf?: PerfSummary | null;
}

export interface LevelSummary {
  level: number;
  runs: number;
  offeredPerSec: number;
  acceptedPerSec: number;
  settledPerSec: number;
  postP50: number;
  postP99: number;
  postMax: number;
  settleP50: number;
  settleP95: number;
  settleP99: number;
  settleMax: number;
  missedOnWs: number;
  httpErrors: number;
  wsErrors: number;
  latenessP99: number;
  drainSeconds: number;
  boxBusy: number;
  /** Median over runs of CPU per settled order, ms: the whole machine ("box") and per top group. */
  cpuPerOrderMs: Record<string, number>;
  /** Median busy cores per top-level group and per group. */
  cpuTop: Record<string, number>;
  cpu: Record<string, number>;
  /** Medians over runs of the runtime's peak resident memory (MiB; 0 when not sampled), and of each group's most and its processes then. */
  memoryPeakMiB: number;
  /** Medians over runs of calls per settled order per statement, when counted (--statements). */
  statementsPerOrder: Record<string, number>;
  /** Medians over runs of invocations per settled order and events per invocation, per function. */
  invocationsPerOrder: Record<string, number>;
  eventsPerInvocation: Record<string, number>;
  /** Medians over runs of transactions committed per settled order, per service database. */
  commitsPerOrder: Record<string, number>;
  memory: Record<string, { mib: number; processes: number }>;
  /** Median of each run's deepest ready count, per queue. */
  queueMax: Record<string, number>;
  /** Medians of every unexpected answer and error, by kind (HTTP "POST 500", "POST timeout", WebSocket ...). */
  errors: Record<string, number>;
  /** Medians of the measured orders' final statuses, and of the cancellations' answers. */
  outcomes: Record<string, number>;
  cancellations: Record<string, number>;
  /** WebSocket traffic per run (medians): event frames and replies to subscribe/unsubscribe, MB. */
  wsEventMB: number;
  wsReplyMB: number;
  warmup: { offeredPerSec: number; acceptedPerSec: number; settledPerSec: number; postP99: number; settleP99: number };
  invariantsHeld: boolean;
}

const med = (runs: LevelRun[], f: (r: LevelRun) => number) => median(runs.map(f));

function mediansOf(runs: LevelRun[], pick: (r: LevelRun) => Record<string, number>): Record<string, number> {
  const keys = new Set(runs.flatMap((r) => Object.keys(pick(r))));
  return Object.fromEntries([...keys].sort().map((k) => [k, median(runs.map((r) => pick(r)[k] ?? 0))]));
}

export function wsErrorsOf(r: LevelRun): number {
  const ws = r.figures.ws;
  return ws.socketErrors + ws.unexpectedCloses + ws.errorReplies;
}

const EXPECTED_HTTP = new Set(['POST 201', 'DELETE 200', 'DELETE 409']);

/** Every error of a run by kind, zeros left out. */
export function errorsOf(r: LevelRun): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(r.figures.http)) if (!EXPECTED_HTTP.has(k)) out[k] = n;
  const ws = r.figures.ws;
  const more: Record<string, number> = {
    'WS socket errors': ws.socketErrors,
    'WS unexpected closes': ws.unexpectedCloses,
    'WS error replies': ws.errorReplies,
    'missed on WS': r.figures.missedOnWs,
    'closed loop: settle waits given up': r.figures.settleWaitTimeouts,
  };
  for (const [k, n] of Object.entries(more)) if (n > 0) out[k] = n;
  return out;
}

/** Medians over the runs of one level, metric by metric. */
export function summarizeLevel(runs: LevelRun[]): LevelSummary {
  const m = (r: LevelRun) => r.figures.measured;
  return {
    level: runs[0]!.level,
    runs: runs.length,
    offeredPerSec: med(runs, (r) => m(r).offeredPerSec),
    acceptedPerSec: med(runs, (r) => m(r).acceptedPerSec),
    settledPerSec: med(runs, (r) => m(r).settledPerSec),
    postP50: med(runs, (r) => m(r).post.p50),
    postP99: med(runs, (r) => m(r).post.p99),
    postMax: med(runs, (r) => m(r).post.max),
    settleP50: med(runs, (r) => m(r).settle.p50),
    settleP95: med(runs, (r) => m(r).settle.p95),
    settleP99: med(runs, (r) => m(r).settle.p99),
    settleMax: med(runs, (r) => m(r).settle.max),
    missedOnWs: med(runs, (r) => r.figures.missedOnWs),
    httpErrors: med(runs, (r) => r.figures.httpErrors),
    wsErrors: med(runs, wsErrorsOf),
    latenessP99: med(runs, (r) => r.figures.lateness.p99),
    drainSeconds: med(runs, (r) => r.drain.ms / 1000),
    boxBusy: med(runs, (r) => r.figures.box.busy),
    cpuPerOrderMs: mediansOf(runs, cpuPerOrderMs),
    cpuTop: mediansOf(runs, (r) => r.figures.cpuTop),
    cpu: mediansOf(runs, (r) => r.figures.cpu),
    memoryPeakMiB: med(runs, (r) => r.figures.memory?.peakMiB ?? 0),
    statementsPerOrder: mediansOf(runs, (r) => Object.fromEntries(Object.entries(r.figures.statementsPerSec ?? {}).map(([q, n]) => [q, n / r.figures.measured.settledPerSec]))),
    invocationsPerOrder: mediansOf(runs, (r) => Object.fromEntries(Object.entries(r.figures.invocationsPerSec ?? {}).map(([fn, c]) => [fn, c.invocations / r.figures.measured.settledPerSec]))),
    eventsPerInvocation: mediansOf(runs, (r) => Object.fromEntries(Object.entries(r.figures.invocationsPerSec ?? {}).filter(([, c]) => c.invocations > 0).map(([fn, c]) => [fn, c.events / c.invocations]))),
    commitsPerOrder: mediansOf(runs, (r) => Object.fromEntries(Object.entries(r.figures.commitsPerSec ?? {}).map(([db, n]) => [db, n / r.figures.measured.settledPerSec]))),
    memory: (() => {
      const mib = mediansOf(runs, (r) => Object.fromEntries(Object.entries(r.figures.memory?.byGroup ?? {}).map(([g, m]) => [g, m.mib])));
      const processes = mediansOf(runs, (r) => Object.fromEntries(Object.entries(r.figures.memory?.byGroup ?? {}).map(([g, m]) => [g, m.processes])));
      return Object.fromEntries(Object.keys(mib).map((g) => [g, { mib: mib[g]!, processes: processes[g]! }]));
    })(),
    queueMax: mediansOf(runs, (r) => Object.fromEntries(Object.entries(r.figures.queues).map(([q, d]) => [q, d.max]))),
    errors: mediansOf(runs, errorsOf),
    outcomes: mediansOf(runs, (r) => r.figures.outcomes),
    cancellations: mediansOf(runs, (r) => r.figures.cancellations.outcomes),
    wsEventMB: med(runs, (r) => r.figures.ws.eventBytes / 1e6),
    wsReplyMB: med(runs, (r) => r.figures.ws.replyBytes / 1e6),
    warmup: {
      offeredPerSec: med(runs, (r) => r.figures.warmup.offeredPerSec),
      acceptedPerSec: med(runs, (r) => r.figures.warmup.acceptedPerSec),
      settledPerSec: med(runs, (r) => r.figures.warmup.settledPerSec),
      postP99: med(runs, (r) => r.figures.warmup.post.p99),
      settleP99: med(runs, (r) => r.figures.warmup.settle.p99),
    },
    invariantsHeld: runs.every((r) => r.invariants.ok),
  };
}

const ms = (x: number) => (Number.isNaN(x) ? '-' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const rate = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(0));
const cores = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(2));

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(header), `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

/** The main table: throughput, POST and settle latency, misses and errors (markdown, medians). */
export function throughputTable(mode: BenchOptions['mode'], levels: LevelSummary[]): string {
  return table(
    [mode === 'open' ? 'offered/s' : 'in flight', 'sent/s', 'accepted/s', 'settled/s', 'POST p50', 'p99', 'max', 'settle p50', 'p95', 'p99', 'max', 'missed on WS', 'errors', 'drain s', 'invariants'],
    levels.map((l) => [
      String(l.level),
      rate(l.offeredPerSec),
      rate(l.acceptedPerSec),
      rate(l.settledPerSec),
      ms(l.postP50),
      ms(l.postP99),
      ms(l.postMax),
      ms(l.settleP50),
      ms(l.settleP95),
      ms(l.settleP99),
      ms(l.settleMax),
      String(l.missedOnWs),
      String(l.httpErrors + l.wsErrors),
      l.drainSeconds.toFixed(1),
      l.invariantsHeld ? 'held' : 'BROKEN',
    ]),
  );
}

/**
 * CPU per settled order in one run, ms: busy cores over the measured window divided by the settled
 * rate, for the whole machine (what a user of these two cores pays, others' work included) and per
 * top-level group. NaN when nothing settled.
 */
export function cpuPerOrderMs(r: LevelRun): Record<string, number> {
  const settled = r.figures.measured.settledPerSec;
  const per = (busy: number) => (settled > 0 ? (busy * 1000) / settled : Number.NaN);
  return { box: per(r.figures.box.busy), ...Object.fromEntries(Object.entries(r.figures.cpuTop).map(([g, c]) => [g, per(c)])) };
}

const TOP_GROUPS = ['runtime', 'postgres', 'rabbitmq', 'redis', 'load generator', 'shared servers', 'other processes', 'unattributed'];

/** Busy cores per process group (medians over runs, mean over the measured window). */
export function cpuTable(mode: BenchOptions['mode'], levels: LevelSummary[]): string {
  // "shared servers" exists only when the bench runs on servers of its own.
  const groups = TOP_GROUPS.filter((g) => g !== 'shared servers' || levels.some((l) => g in l.cpuTop));
  return table(
    [mode === 'open' ? 'offered/s' : 'in flight', ...groups, 'box busy'],
    levels.map((l) => [String(l.level), ...groups.map((g) => cores(l.cpuTop[g] ?? 0)), cores(l.boxBusy)]),
  );
}

/** CPU per settled order, ms, per process group and for the whole machine (medians over runs). */
export function cpuPerOrderTable(mode: BenchOptions['mode'], levels: LevelSummary[]): string {
  const groups = TOP_GROUPS.filter((g) => g !== 'shared servers' || levels.some((l) => g in l.cpuTop));
  const msOf = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(1));
  return table(
    [mode === 'open' ? 'offered/s' : 'in flight', ...groups, 'whole machine'],
    levels.map((l) => [String(l.level), ...groups.map((g) => msOf(l.cpuPerOrderMs?.[g] ?? 0)), msOf(l.cpuPerOrderMs?.box)]),
  );
}

/** The runtime's and PostgreSQL's shares in detail (function or pid; database). */
export function cpuDetailTable(mode: BenchOptions['mode'], levels: LevelSummary[]): string {
  const groups = [...new Set(levels.flatMap((l) => Object.keys(l.cpu)))].filter((g) => g.startsWith('runtime') || g.startsWith('postgres')).sort();
  return table(
    ['group', ...levels.map((l) => `${l.level}${mode === 'open' ? '/s' : ''}`)],
    groups.map((g) => [g, ...levels.map((l) => cores(l.cpu[g]))]),
  );
}

/** Invocations per settled order per function, with the events each carried: the fixed costs' multiplier. */
export function invocationTable(mode: BenchOptions['mode'], levels: LevelSummary[]): string {
  const fns = [...new Set(levels.flatMap((l) => Object.keys(l.invocationsPerOrder)))].filter((fn) => levels.some((l) => (l.invocationsPerOrder[fn] ?? 0) >= 0.005)).sort();
  const cell = (l: LevelSummary, fn: string) => {
    const n = l.invocationsPerOrder[fn];
    return n === undefined || !Number.isFinite(n) ? '-' : `${n.toFixed(2)} (${(l.eventsPerInvocation[fn] ?? 0).toFixed(1)})`;
  };
  const total = (l: LevelSummary) => Object.values(l.invocationsPerOrder).filter(Number.isFinite).reduce((a, b) => a + b, 0);
  return table(
    ['invocations per settled order (events each)', ...levels.map((l) => `${l.level}${mode === 'open' ? '/s' : ''}`)],
    [...fns.map((fn) => [fn, ...levels.map((l) => cell(l, fn))]), ['all functions', ...levels.map((l) => total(l).toFixed(2))]],
  );
}

/** Statements per settled order per database, and the most frequent statements. */
export function statementSection(level: LevelSummary, top = 15): string {
  const entries = Object.entries(level.statementsPerOrder).filter(([, n]) => Number.isFinite(n) && n > 0);
  const byDb: Record<string, number> = {};
  for (const [q, n] of entries) byDb[q.slice(0, q.indexOf(':'))] = (byDb[q.slice(0, q.indexOf(':'))] ?? 0) + n;
  const total = entries.reduce((a, [, n]) => a + n, 0);
  const lines = [`${level.level}: statements per settled order (pg_stat_statements) ${Object.entries(byDb).map(([db, n]) => `${db} ${n.toFixed(1)}`).join(', ')}; all ${total.toFixed(1)}. The most frequent:`];
  for (const [q, n] of entries.sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${n.toFixed(2).padStart(6)}  ${q.length > 110 ? `${q.slice(0, 107)}...` : q}`);
  return lines.join('\n');
}

/** The runtime's resident memory: the peak of all its processes together, and each group's most with its environments. */
export function memoryTable(mode: BenchOptions['mode'], levels: LevelSummary[]): string {
  const groups = [...new Set(levels.flatMap((l) => Object.keys(l.memory)))].sort();
  const mib = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(0));
  return table(
    ['runtime RSS, MiB (processes)', ...levels.map((l) => `${l.level}${mode === 'open' ? '/s' : ''}`)],
    [
      ['all its processes at once', ...levels.map((l) => (l.memoryPeakMiB > 0 ? mib(l.memoryPeakMiB) : '-'))],
      ...groups.map((g) => [g, ...levels.map((l) => (l.memory[g] ? `${mib(l.memory[g]!.mib)} (${l.memory[g]!.processes.toFixed(0)})` : '-'))]),
    ],
  );
}

export function queueTable(mode: BenchOptions['mode'], levels: LevelSummary[]): string {
  const queues = [...new Set(levels.flatMap((l) => Object.keys(l.queueMax)))].sort();
  return table(
    ['deepest ready count', ...levels.map((l) => `${l.level}${mode === 'open' ? '/s' : ''}`)],
    queues.map((q) => [q, ...levels.map((l) => String(Math.round(l.queueMax[q] ?? 0)))]),
  );
}

export interface BenchReport {
  kind: 'eventflow-bench';
  startedAt: string;
  finishedAt: string;
  commit: string | null;
  command: string;
  options: BenchOptions;
  machine: Machine;
  levels: { summary: LevelSummary; runs: LevelRun[] }[];
  failure: string | null;
}

/** The run whose settled rate is the median of its level: the one the chart shows. */
export function medianRun(runs: LevelRun[]): LevelRun {
  const sorted = [...runs].sort((a, b) => a.figures.measured.settledPerSec - b.figures.measured.settledPerSec);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Writes <name>.json and, with a chart, <name>.svg and <name>.png. Returns the paths written. */
export async function writeReport(report: BenchReport, dir: string, name: string, withChart: boolean): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, name);
  const written = [`${base}.json`];
  await writeFile(`${base}.json`, JSON.stringify(report, (_, v) => (v === Number.POSITIVE_INFINITY ? null : v)));
  if (withChart && report.levels.length) {
    const unit = report.options.mode === 'open' ? 'orders/s offered' : 'in flight';
    const spec = chartSpec(
      `EventFlow bench, ${report.options.mode} loop, ${report.startedAt.slice(0, 16)} (run with the median settled rate per level)`,
      report.levels.map(({ runs }) => {
        const r = medianRun(runs);
        return {
          label: `${r.level} ${unit} (run ${r.run})`,
          warmupSeconds: report.options.warmupSeconds,
          seconds: report.options.seconds,
          series: r.figures.series,
          samples: r.figures.samples,
        };
      }),
    );
    const { svg, png } = await renderChart(spec);
    await writeFile(`${base}.svg`, svg);
    written.push(`${base}.svg`);
    if (png) {
      await writeFile(`${base}.png`, png);
      written.push(`${base}.png`);
    }
  }
  return written;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/**
 * A perf recording of the whole machine: busy samples by process group, each group's split by kind
 * of code (shares of its own samples) and its top symbols. Groups under minShare are left out.
 */
export function perfSection(what: string, p: PerfSummary, minShare = 0.005): string {
  const busy = p.samples - p.idleSamples;
  const out: string[] = [];
  out.push(
    `\nWhere the machine's CPU went (perf record -a, cpu-clock at ${p.frequency} Hz) at ${what}: ${p.seconds.toFixed(1)} s of the measured window, ` +
      `${busy} busy samples (${p.busyCores.toFixed(2)} cores)`,
  );
  const tops = new Map<string, number>();
  for (const g of p.groups) tops.set(topGroupOf(g.group), (tops.get(topGroupOf(g.group)) ?? 0) + g.share);
  out.push(`by top group: ${[...tops].sort((a, b) => b[1] - a[1]).map(([g, x]) => `${g} ${pct(x)}`).join(', ')}\n`);
  const shown = p.groups.filter((g) => g.share >= minShare);
  const of = (g: PerfSummary['groups'][number], n: number) => (g.samples ? `${((n / g.samples) * 100).toFixed(0)} %` : '-');
  out.push(
    table(
      ['group', 'busy samples', 'kernel', 'JIT code', 'own binary', 'libraries', 'unknown'],
      shown.map((g) => [
        g.binary ? `${g.group} (${g.binary})` : g.group,
        pct(g.share),
        of(g, g.split.kernel),
        of(g, g.split.jit),
        of(g, g.split.binary),
        of(g, g.split.libraries),
        of(g, g.split.unknown),
      ]),
    ),
  );
  if (shown.length < p.groups.length) out.push(`(${p.groups.length - shown.length} groups under ${pct(minShare)} left out)`);
  out.push('\nTop symbols per group (share of the group\'s samples):');
  for (const g of shown) out.push(`  ${g.group}: ${g.topSymbols.map((t) => `${shortSymbol(t.name)} ${(t.share * 100).toFixed(0)} %`).join(', ')}`);
  return out.join('\n');
}

const kv = (o: Record<string, number>) =>
  Object.entries(o)
    .filter(([, n]) => Math.round(n) > 0)
    .map(([k, n]) => `${k} ${Math.round(n)}`)
    .join(', ') || 'none';

/** Everything printed at the end of a run: the tables, the mix's outcomes, errors, the profile. */
export function formatReport(report: BenchReport): string {
  const { options } = report;
  const levels = report.levels.map((l) => l.summary);
  const unit = options.mode === 'open' ? 'offered rate' : 'orders in flight';
  const out: string[] = [];
  out.push(`\nEventFlow bench, ${options.mode} loop: medians of ${options.runs} run(s), ${options.seconds} s measured per level after ${options.warmupSeconds} s of warm-up\n`);
  out.push(throughputTable(options.mode, levels));
  out.push(`\nWarm-up (reported apart): ${levels.map((l) => `${l.level}: accepted ${l.warmup.acceptedPerSec.toFixed(0)}/s, settle p99 ${l.warmup.settleP99.toFixed(0)} ms`).join('; ')}`);
  out.push(`Generator lateness p99 (ms) by ${unit}: ${levels.map((l) => `${l.level}: ${l.latenessP99.toFixed(1)}`).join(', ')}`);
  for (const l of levels) {
    out.push(
      `${l.level}: outcomes ${kv(l.outcomes)}; cancellations answered ${kv(l.cancellations)}; errors ${kv(l.errors)}; ` +
        `WebSocket ${l.wsEventMB.toFixed(1)} MB of events, ${l.wsReplyMB.toFixed(1)} MB of replies`,
    );
  }
  out.push(`\nBusy cores per process group (mean over the measured window)\n`);
  out.push(cpuTable(options.mode, levels));
  out.push(`\nCPU per settled order, ms (busy cores over the settled rate, medians over runs)\n`);
  out.push(cpuPerOrderTable(options.mode, levels));
  out.push(`\n${cpuDetailTable(options.mode, levels)}`);
  for (const l of levels) {
    const dbs = Object.entries(l.commitsPerOrder).filter(([, n]) => Number.isFinite(n));
    if (dbs.length) out.push(`${l.level}: transactions committed per settled order (pg_stat_database; read-only ones count too, only writes wait for a WAL flush) ${dbs.map(([db, n]) => `${db} ${n.toFixed(1)}`).join(', ')}; all ${dbs.reduce((a, [, n]) => a + n, 0).toFixed(1)}`);
  }
  for (const l of levels) if (Object.keys(l.statementsPerOrder).length) out.push(`\n${statementSection(l)}`);
  if (levels.some((l) => Object.keys(l.invocationsPerOrder).length)) out.push(`\n${invocationTable(options.mode, levels)}`);
  if (levels.some((l) => l.memoryPeakMiB > 0)) out.push(`\nThe runtime's memory (resident, the most sampled in the measured window; medians over runs)\n\n${memoryTable(options.mode, levels)}`);
  out.push(`\nQueues\n\n${queueTable(options.mode, levels)}`);
  for (const l of report.levels) {
    const r = l.runs.find((x) => x.profile);
    const p = r?.profile;
    if (!r || !p) continue;
    out.push(`\nProfile of the runtime at ${r.level} (run ${r.run}, start to stop, ${p.busyMs} ms busy), self time by module:`);
    for (const e of p.byModule.slice(0, 12)) out.push(`  ${(e.share * 100).toFixed(1).padStart(5)} %  ${e.name}`);
    if (p.byGroup && p.byGroup.length > 1) {
      out.push('by process:');
      for (const g of p.byGroup) out.push(`  ${g.group}: ${g.busyMs} ms; ${g.byModule.slice(0, 5).map((e) => `${e.name} ${(e.share * 100).toFixed(0)} %`).join(', ')}`);
    }
  }
  for (const l of report.levels) {
    const r = l.runs.find((x) => x.perf);
    if (r?.perf) out.push(perfSection(`${r.level}${options.mode === 'open' ? ' orders/s offered' : ' in flight'} (run ${r.run})`, r.perf));
  }
  return out.join('\n');
}
