/**
 * The tenfold burst: ten times the machine's ceiling offered for a while on top of the steady load.
 * What it must do (issue: "a tenfold burst"): accept about what the ceiling allows, refuse the rest
 * at once with 503 and Retry-After, keep the accepted orders' p99 within twice the steady p99,
 * and have the backlog gone within a minute of the burst. Pure judging here; the run measures.
 */
import { readFileSync } from 'node:fs';
import { processTree } from '../../scripts/process-tree';
import type { Violation } from '../invariants';
import type { OrderRecord } from '../load';
import { p99OrNull } from '../stats';

export interface OverloadFigures {
  offered: number;
  accepted: number;
  acceptedPerSec: number;
  /** 503s, how many carried no Retry-After, and the p99 of their answer times (ms). */
  refused: number;
  refusedWithoutRetryAfter: number;
  refusedP99Ms: number | null;
  /** Anything else than 201 or 503 (timeouts, resets). */
  otherErrors: number;
  /** POST to final status on the WebSocket, p99 (ms): the burst's accepted orders, and the steady load's before the burst. */
  acceptedSettleP99Ms: number | null;
  steadySettleP99Ms: number | null;
  /** From the burst's end until its last accepted order settled (s); null when some never did. */
  backlogGoneSeconds: number | null;
  /** Resident memory of the runtime's processes before the burst and at its peak (MiB). */
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** Where the machine's CPU went during the burst: busy cores per part, averaged (cpuByPart). */
  cpuCores?: Record<string, number>;
}

/** The parts the burst's CPU is told in: the runtime's main process (the HTTP gateway, the WebSocket gateway, the schedules), the environments, the servers, the generator. */
export function partOf(group: string): string {
  if (group === 'runtime: main') return 'gateway (runtime main process)';
  if (group.startsWith('runtime:')) return 'function environments';
  if (group.startsWith('postgres')) return 'postgres';
  return group;
}

/** Mean busy cores per part over the samples (bench/sampler.ts), largest first. */
export function cpuByPart(samples: readonly { cpu: Record<string, number> }[]): Record<string, number> {
  const sums = new Map<string, number>();
  for (const s of samples) for (const [g, cores] of Object.entries(s.cpu)) sums.set(partOf(g), (sums.get(partOf(g)) ?? 0) + cores);
  return Object.fromEntries([...sums].map(([part, total]) => [part, total / Math.max(1, samples.length)] as const).sort((a, b) => b[1] - a[1]));
}

/** How long a refusal may take to come back and still be "at once": the local gateway's wait for an environment (1 s) and slack. */
export const REFUSED_WITHIN_MS = 2_000;
/** The backlog's bound after the burst. */
export const BACKLOG_GONE_WITHIN_S = 60;

/** POST to settled (ms) of each order the load saw settle (its `doneAt`: bench/load.ts). */
export function settleTimes(records: readonly OrderRecord[]): number[] {
  return records.flatMap((r) => (r.doneAt === undefined ? [] : [r.doneAt - r.startedAt]));
}

export function overloadFigures(opts: {
  burst: readonly OrderRecord[];
  steadyBefore: readonly OrderRecord[];
  seconds: number;
  burstEndedAt: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  cpuCores?: Record<string, number>;
}): OverloadFigures {
  const { burst } = opts;
  const accepted = burst.filter((r) => r.postOutcome === 201);
  const refused = burst.filter((r) => r.postOutcome === 503);
  const acceptedSettle = settleTimes(burst);
  const steadySettle = settleTimes(opts.steadyBefore);
  const allSettled = acceptedSettle.length === accepted.length;
  const lastSettled = Math.max(opts.burstEndedAt, ...accepted.map((r) => r.doneAt ?? Number.NEGATIVE_INFINITY));
  return {
    offered: burst.length,
    accepted: accepted.length,
    acceptedPerSec: accepted.length / opts.seconds,
    refused: refused.length,
    refusedWithoutRetryAfter: refused.filter((r) => r.retryAfterMs === undefined).length,
    refusedP99Ms: p99OrNull(refused.map((r) => r.postMs ?? Number.POSITIVE_INFINITY)),
    otherErrors: burst.length - accepted.length - refused.length,
    acceptedSettleP99Ms: p99OrNull(acceptedSettle),
    steadySettleP99Ms: p99OrNull(steadySettle),
    backlogGoneSeconds: allSettled ? (lastSettled - opts.burstEndedAt) / 1000 : null,
    rssBeforeMiB: opts.rssBeforeMiB,
    rssPeakMiB: opts.rssPeakMiB,
    ...(opts.cpuCores ? { cpuCores: opts.cpuCores } : {}),
  };
}

/** What the burst broke, by the rules (memory is reported, not judged: environments start on demand). */
export function judgeOverload(f: OverloadFigures): Violation[] {
  const v: Violation[] = [];
  const rule = (r: string, detail: string) => v.push({ rule: `overload: ${r}`, subject: 'tenfold burst', detail });
  if (f.refusedWithoutRetryAfter > 0) rule('a refusal says when to come back', `${f.refusedWithoutRetryAfter} of ${f.refused} 503s carried no Retry-After`);
  if (f.refusedP99Ms !== null && f.refusedP99Ms > REFUSED_WITHIN_MS) rule('the excess is refused at once', `p99 of the 503s took ${Math.round(f.refusedP99Ms)} ms (bound ${REFUSED_WITHIN_MS} ms)`);
  if (f.acceptedSettleP99Ms !== null && f.steadySettleP99Ms !== null && f.acceptedSettleP99Ms > 2 * f.steadySettleP99Ms) {
    rule('accepted orders keep their pace', `p99 POST→final ${Math.round(f.acceptedSettleP99Ms)} ms against ${Math.round(f.steadySettleP99Ms)} ms steady (bound twice that)`);
  }
  if (f.backlogGoneSeconds === null) rule('the backlog is gone within a minute', 'some accepted orders never settled on the WebSocket');
  else if (f.backlogGoneSeconds > BACKLOG_GONE_WITHIN_S) rule('the backlog is gone within a minute', `the last accepted order settled ${f.backlogGoneSeconds.toFixed(1)} s after the burst`);
  return v;
}

/** Resident memory of a process and everything below it (MiB), from /proc. */
export function rssOfTreeMiB(root: number): number {
  let pages = 0;
  for (const pid of processTree(root)) {
    try {
      pages += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    } catch {
      // gone meanwhile
    }
  }
  return (pages * 4096) / 2 ** 20;
}
