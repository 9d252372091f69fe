/**
 * Turns one run of one load level (the generator's records, the sampler's samples, the final
 * order statuses read from the database) into the numbers the report shows. Pure.
 */
import type { LoadCounters, OrderRecord } from './load';
import type { InvocationCounts } from '../local/invocation-report';
import type { GroupMemory, Sample } from './sampler';
import { topGroupOf } from './sampler';
import { histogram, secondOf, summarize } from './stats';
import type { Histogram, Summary } from './stats';
import type { FinalStatus, WatcherStats } from './ws-watcher';

export interface Window {
  /** performance.now() ms */
  startedAt: number;
  measureFrom: number;
  measureTo: number;
  /** performance.timeOrigin, to place Date.now() samples on the same clock. */
  timeOrigin: number;
  /** Queue names lose their namespace prefix in the figures, so runs compare. */
  namespace: string;
}

export interface SeriesPoint {
  /** Seconds since the measured window began (negative: warm-up; past its length: drain). */
  t: number;
  offered: number;
  accepted: number;
  settled: number;
  settleP50: number | null;
  settleP99: number | null;
  postP99: number | null;
}

export interface SamplePoint {
  t: number;
  cpu: Record<string, number>;
  box: { busy: number; iowait: number };
  queues: Record<string, number | null>;
}

export interface PhaseFigures {
  seconds: number;
  offered: number;
  accepted: number;
  /** Final statuses that arrived on the WebSocket during the phase (any order's). */
  settledInPhase: number;
  offeredPerSec: number;
  acceptedPerSec: number;
  settledPerSec: number;
  post: Summary;
  /** POST start to the final status on the WebSocket, for the phase's accepted orders. */
  settle: Summary;
}

export interface RunFigures {
  measured: PhaseFigures;
  warmup: PhaseFigures;
  settleByStatus: Partial<Record<FinalStatus, Summary>>;
  /** The database's final status of the measured window's accepted orders. */
  outcomes: Record<string, number>;
  /** Accepted orders whose final status (as the database has it) never arrived on the WebSocket. */
  missedOnWs: number;
  /** A few of the missed orders, to see why: what the database says, what the socket showed, the cancellation. */
  missedExamples: { id: string; dbStatus: string; seenOnWs: string[]; postMs: number; cancel: number | string | null; scarce: boolean; declined: boolean }[];
  /** Orders the database still holds unsettled (the invariant check fails on them too). */
  unsettledInDb: number;
  cancellations: { sent: number; outcomes: Record<string, number>; deleteMs: Summary };
  /** Every HTTP answer and error, by "METHOD status" (expected ones included). */
  http: Record<string, number>;
  /** Answers that are not an expected outcome: POST other than 201, DELETE other than 200/409. */
  httpErrors: number;
  lateness: Summary;
  settleWaitTimeouts: number;
  /** The WebSocket watchers' counters: frames, bytes, errors, reconnects. */
  ws: WatcherStats;
  /** Mean busy cores per process group (and per top-level group) over the measured window. */
  cpu: Record<string, number>;
  cpuTop: Record<string, number>;
  box: { busy: number; iowait: number };
  queues: Record<string, { max: number; mean: number; end: number }>;
  /** The runtime's resident memory over the measured window. */
  memory: RuntimeMemory;
  /** Calls per second over the measured window per statement ("service: query"), when counted (--statements). */
  statementsPerSec?: Record<string, number>;
  /** Invocations and the events they carried, per second over the measured window, per function. */
  invocationsPerSec: InvocationCounts;
  /** Transactions committed per second over the measured window, per service database. */
  commitsPerSec: Record<string, number>;
  histograms: { post: Histogram; settle: Histogram };
  series: SeriesPoint[];
  samples: SamplePoint[];
}

/**
 * Per-second growth of running totals (the runtime's invocation counts, pg_stat_database's commits,
 * pg_stat_statements' calls) between the first and the last sample that carries them; a key first
 * seen late counts from zero. Undefined when fewer than two samples carry them.
 */
export function totalsRateOf<S extends { t: number }>(samples: readonly S[], totalsOf: (s: S) => Record<string, number> | undefined): Record<string, number> | undefined {
  const counted = samples.filter((s) => totalsOf(s));
  const first = counted[0];
  const last = counted.at(-1);
  if (!first || !last || last.t <= first.t) return undefined;
  const seconds = (last.t - first.t) / 1000;
  const start = totalsOf(first)!;
  return Object.fromEntries(Object.entries(totalsOf(last)!).map(([key, n]) => [key, (n - (start[key] ?? 0)) / seconds]));
}

/** Per-second invocation rates between the first and the last sample that carry the runtime's totals. */
export function invocationRatesOf(samples: readonly Pick<Sample, 't' | 'invocations'>[]): InvocationCounts {
  const perSecond = (field: 'invocations' | 'events') =>
    totalsRateOf(samples, (s) => s.invocations && Object.fromEntries(Object.entries(s.invocations).map(([fn, c]) => [fn, c[field]]))) ?? {};
  const invocations = perSecond('invocations');
  const events = perSecond('events');
  return Object.fromEntries(Object.keys(invocations).map((fn) => [fn, { invocations: invocations[fn]!, events: events[fn]! }]));
}

/** Per-second calls per statement between the window's first and last samples that counted them. */
export function statementRatesOf(samples: readonly Pick<Sample, 't' | 'statements'>[]): Record<string, number> | undefined {
  return totalsRateOf(samples, (s) => s.statements);
}

export interface RuntimeMemory {
  /** The most the runtime's processes held at once (one sample's sum), MiB; 0 when nothing was sampled. */
  peakMiB: number;
  /** Per group, its own most (MiB) and how many processes it had then. */
  byGroup: Record<string, GroupMemory>;
}

/** The runtime's resident memory over some samples: the peak of the whole, and each group's. */
export function runtimeMemoryOf(samples: readonly Pick<Sample, 'memory'>[]): RuntimeMemory {
  let peakMiB = 0;
  const byGroup: Record<string, GroupMemory> = {};
  for (const s of samples) {
    if (!s.memory) continue;
    let total = 0;
    for (const [group, m] of Object.entries(s.memory)) {
      total += m.mib;
      if (m.mib > (byGroup[group]?.mib ?? -1)) byGroup[group] = { ...m };
    }
    peakMiB = Math.max(peakMiB, total);
  }
  return { peakMiB, byGroup };
}

const EXPECTED = new Set(['POST 201', 'DELETE 200', 'DELETE 409']);

function phase(records: OrderRecord[], settleOf: (r: OrderRecord) => number | undefined, from: number, to: number, allRecords: OrderRecord[]): PhaseFigures {
  const seconds = (to - from) / 1000;
  const inPhase = records.filter((r) => r.scheduledAt >= from && r.scheduledAt < to);
  const accepted = inPhase.filter((r) => r.id);
  let settledInPhase = 0;
  for (const r of allRecords) {
    const at = settleOf(r);
    if (at !== undefined && at >= from && at < to) settledInPhase++;
  }
  const settle = accepted.flatMap((r) => {
    const at = settleOf(r);
    return at === undefined ? [] : [at - r.startedAt];
  });
  return {
    seconds,
    offered: inPhase.length,
    accepted: accepted.length,
    settledInPhase,
    offeredPerSec: inPhase.length / seconds,
    acceptedPerSec: accepted.length / seconds,
    settledPerSec: settledInPhase / seconds,
    post: summarize(inPhase.filter((r) => r.postMs !== undefined).map((r) => r.postMs!)),
    settle: summarize(settle),
  };
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

export function analyzeRun(
  records: OrderRecord[],
  counters: LoadCounters,
  ws: WatcherStats,
  samples: Sample[],
  dbStatus: ReadonlyMap<string, string>,
  w: Window,
): RunFigures {
  // The settle time is the arrival of the status the order really ended in.
  const settleOf = (r: OrderRecord): number | undefined => {
    if (!r.id) return undefined;
    const status = dbStatus.get(r.id) as FinalStatus | undefined;
    return status ? r.finals[status] : undefined;
  };
  const measured = phase(records, settleOf, w.measureFrom, w.measureTo, records);
  const warmup = phase(records, settleOf, w.startedAt, w.measureFrom, records);
  const window = records.filter((r) => !r.warmup);
  const accepted = window.filter((r) => r.id);

  const outcomes: Record<string, number> = {};
  const byStatus: Partial<Record<FinalStatus, number[]>> = {};
  let missedOnWs = 0;
  const missedExamples: RunFigures['missedExamples'] = [];
  let unsettledInDb = 0;
  for (const r of records.filter((x) => x.id)) {
    const status = dbStatus.get(r.id!) ?? 'MISSING';
    if (!r.warmup) outcomes[status] = (outcomes[status] ?? 0) + 1;
    if (status !== 'CONFIRMED' && status !== 'FAILED' && status !== 'CANCELLED') {
      unsettledInDb++;
      continue;
    }
    const at = r.finals[status];
    if (at === undefined) {
      missedOnWs++;
      if (missedExamples.length < 10) {
        missedExamples.push({
          id: r.id!,
          dbStatus: status,
          seenOnWs: Object.keys(r.finals),
          postMs: r.postMs ?? Number.NaN,
          cancel: r.cancel?.outcome ?? null,
          scarce: r.scarce,
          declined: r.declined,
        });
      }
    } else if (!r.warmup) (byStatus[status] ??= []).push(at - r.startedAt);
  }
  const settleByStatus = Object.fromEntries(Object.entries(byStatus).map(([k, v]) => [k, summarize(v)]));

  const cancelled = records.filter((r) => r.cancel);
  const cancelOutcomes: Record<string, number> = {};
  for (const r of cancelled) cancelOutcomes[String(r.cancel!.outcome)] = (cancelOutcomes[String(r.cancel!.outcome)] ?? 0) + 1;

  const httpErrors = Object.entries(counters.http)
    .filter(([k]) => !EXPECTED.has(k))
    .reduce((a, [, n]) => a + n, 0);

  // Samples on the performance clock, and those of the measured window.
  const toPerf = (t: number) => t - w.timeOrigin;
  const inWindow = samples.filter((s) => toPerf(s.t) > w.measureFrom && toPerf(s.t) <= w.measureTo);
  const groups = new Set(inWindow.flatMap((s) => Object.keys(s.cpu)));
  const cpu: Record<string, number> = {};
  for (const g of groups) cpu[g] = mean(inWindow.map((s) => s.cpu[g] ?? 0));
  const cpuTop: Record<string, number> = {};
  for (const [g, v] of Object.entries(cpu)) cpuTop[topGroupOf(g)] = (cpuTop[topGroupOf(g)] ?? 0) + v;
  const boxBusy = mean(inWindow.map((s) => s.box.busy));
  const prefix = w.namespace ? `${w.namespace}.` : '';
  const bare = (q: string) => (q.startsWith(prefix) ? q.slice(prefix.length) : q);
  const queueNames = new Set(samples.flatMap((s) => Object.keys(s.queues)));
  const queues: RunFigures['queues'] = {};
  for (const q of queueNames) {
    const depths = inWindow.map((s) => s.queues[q]).filter((d): d is number => typeof d === 'number');
    queues[bare(q)] = { max: depths.length ? Math.max(...depths) : 0, mean: mean(depths), end: depths.at(-1) ?? 0 };
  }

  // Per-second series over the whole run (warm-up, window, drain).
  const buckets = new Map<number, { offered: number; accepted: number; settled: number; settle: number[]; post: number[] }>();
  const bucket = (t: number) => {
    const k = secondOf(t, w.measureFrom);
    let b = buckets.get(k);
    if (!b) buckets.set(k, (b = { offered: 0, accepted: 0, settled: 0, settle: [], post: [] }));
    return b;
  };
  for (const r of records) {
    bucket(r.scheduledAt).offered++;
    if (r.postMs !== undefined) {
      const b = bucket(r.startedAt + r.postMs);
      b.post.push(r.postMs);
      if (r.id) b.accepted++;
    }
    const at = settleOf(r);
    if (at !== undefined) {
      const b = bucket(at);
      b.settled++;
      b.settle.push(at - r.startedAt);
    }
  }
  const series: SeriesPoint[] = [...buckets]
    .sort(([a], [b]) => a - b)
    .map(([t, b]) => {
      const settle = summarize(b.settle);
      const post = summarize(b.post);
      return {
        t,
        offered: b.offered,
        accepted: b.accepted,
        settled: b.settled,
        settleP50: b.settle.length ? settle.p50 : null,
        settleP99: b.settle.length ? settle.p99 : null,
        postP99: b.post.length ? post.p99 : null,
      };
    });

  return {
    measured,
    warmup,
    settleByStatus,
    outcomes,
    missedOnWs,
    missedExamples,
    unsettledInDb,
    cancellations: { sent: cancelled.length, outcomes: cancelOutcomes, deleteMs: summarize(cancelled.map((r) => r.cancel!.ms)) },
    http: counters.http,
    httpErrors,
    lateness: summarize(window.map((r) => r.lateMs)),
    settleWaitTimeouts: counters.settleWaitTimeouts,
    ws: { ...ws },
    cpu,
    cpuTop,
    box: { busy: boxBusy, iowait: mean(inWindow.map((s) => s.box.iowait)) },
    queues,
    memory: runtimeMemoryOf(inWindow),
    invocationsPerSec: invocationRatesOf(inWindow),
    statementsPerSec: statementRatesOf(inWindow),
    commitsPerSec: totalsRateOf(inWindow, (s) => s.commits) ?? {},
    histograms: {
      post: histogram(window.filter((r) => r.postMs !== undefined).map((r) => r.postMs!)),
      settle: histogram(accepted.flatMap((r) => (settleOf(r) === undefined ? [] : [settleOf(r)! - r.startedAt]))),
    },
    series,
    samples: samples.map((s) => ({
      t: (toPerf(s.t) - w.measureFrom) / 1000,
      cpu: s.cpu,
      box: s.box,
      queues: Object.fromEntries(Object.entries(s.queues).map(([q, n]) => [bare(q), n])),
    })),
  };
}
