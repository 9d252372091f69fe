/**
 * One level of one run: a fresh runtime in a namespace of its own, the product set, the sampler,
 * the load (warm-up, then the measured window), the drain, the invariant check, and the cleanup.
 * Every wait is bounded; cleanup runs on failure and on Ctrl-C (registerCleanup).
 */
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ChannelModel } from 'amqplib';
import pg from 'pg';
import { DEFAULTS, databaseName, withDatabase } from '../shared/config';
import { LOCAL_ENV } from '../shared/env';
import type { ServiceName } from '../shared/config';
import { connectAmqp } from '../shared/messaging/broker';
import { dropNamespace, freshNamespace, startRuntimeProcess } from '../test/support/runtime-process';
import { UNTHROTTLED_ENV } from '../shared/http/rate-limits';
import { benchAccess } from './access';
import { analyzeRun } from './analyze';
import type { BenchOptions } from './args';
import { drain } from './drain';
import { countDeliveries } from './deliveries';
import { describeViolations, verifyInvariants } from './invariants';
import { deploymentLayout } from '../functions/topology';
import { startLoad } from './load';
import type { Load } from './load';
import { createProductSet } from './products';
import type { PerfSummary, PerfWindow } from './perf-profile';
import { monotonicSeconds, startPerfRecord, summarizePerfFile } from './perf-record';
import type { PerfRecording } from './perf-record';
import { summarizeProfileDir } from './profile';
import type { LevelRun } from './report';
import { startSampler } from './sampler';
import type { Sampler } from './sampler';

/** perf record starts this long before the measured window, and stops this long after it. */
const PERF_LEAD_MS = 5_000;
const PERF_TAIL_MS = 250;

export const databaseServerUrl = () => process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl;

/** Rejects if the promise has not settled within ms. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface LevelHooks {
  log: (line: string) => void;
  /** Registers a cleanup to run on Ctrl-C; returns its removal. */
  registerCleanup: (fn: () => Promise<void>) => () => void;
  /** Where a CPU profile of the runtime goes (with --profile), and the perf recording (with --perf). */
  profileDir: string;
  /** Record the machine with perf over the measured window; onFailure hears why it could not. */
  perf?: { frequency: number; onFailure: (reason: string) => void };
  /** The pids of the bench's own servers, with --private-stack. */
  ownServerPids?: () => Record<'postgres' | 'rabbitmq' | 'redis', number[]>;
}

function servicePools(namespace: string): Record<ServiceName, pg.Pool> {
  const pool = (s: ServiceName) =>
    new pg.Pool({ connectionString: withDatabase(databaseServerUrl(), databaseName(s, namespace)), max: 2, statement_timeout: 60_000, connectionTimeoutMillis: 10_000 });
  return { order: pool('order'), payment: pool('payment'), inventory: pool('inventory') };
}

export async function runLevel(opts: BenchOptions, level: number, run: number, hooks: LevelHooks): Promise<LevelRun> {
  const namespace = freshNamespace('bench');
  // One address offers the load of many customers: the per-client rate limits would throttle it.
  const invocationReport = path.join(os.tmpdir(), `eventflow-invocations-${namespace}.json`);
  const env: Record<string, string> = { SCHEDULE_SECONDS: process.env.SCHEDULE_SECONDS ?? '60', ...UNTHROTTLED_ENV, [LOCAL_ENV.invocationReport]: invocationReport, ...opts.env };
  const runtimeNodeArgs = process.env.RUNTIME_NODE_ARGS;
  if (opts.profile) {
    // A fresh folder: profiles left by an earlier run of the same name would be summed in.
    await rm(hooks.profileDir, { recursive: true, force: true });
    await mkdir(hooks.profileDir, { recursive: true });
    // NODE_OPTIONS refuses --cpu-prof: startRuntimeProcess passes RUNTIME_NODE_ARGS to the
    // runtime's node, and the runtime FUNCTION_NODE_ARGS to each function's environment.
    const prof = `--cpu-prof --cpu-prof-dir=${path.resolve(hooks.profileDir)}`;
    process.env.RUNTIME_NODE_ARGS = `${runtimeNodeArgs ?? ''} ${prof}`.trim();
    env.FUNCTION_NODE_ARGS = `${process.env.FUNCTION_NODE_ARGS ?? ''} ${opts.env.FUNCTION_NODE_ARGS ?? ''} ${prof}`.trim();
  }
  const perfFile = path.join(hooks.profileDir, 'perf.data');
  if (hooks.perf) {
    await mkdir(hooks.profileDir, { recursive: true });
    await rm(perfFile, { force: true });
  }
  hooks.log(`level ${level}, run ${run}: starting a runtime in namespace ${namespace}`);
  // Ctrl-C while the runtime starts: the runtime gets the signal too; what it created is dropped.
  const unregisterStart = hooks.registerCleanup(() => dropNamespace(namespace));
  const starting = startRuntimeProcess({ namespace, env });
  // Read when the process is spawned, which happens before startRuntimeProcess first awaits.
  if (runtimeNodeArgs === undefined) delete process.env.RUNTIME_NODE_ARGS;
  else process.env.RUNTIME_NODE_ARGS = runtimeNodeArgs;
  const runtime = await starting.finally(unregisterStart);
  let load: Load | undefined;
  let sampler: Sampler | undefined;
  let amqp: ChannelModel | undefined;
  let pools: Record<ServiceName, pg.Pool> | undefined;
  let perf: PerfRecording | undefined;
  let perfStopped: ReturnType<PerfRecording['stop']> | undefined;
  let perfWindow: PerfWindow | undefined;
  const perfTimers: NodeJS.Timeout[] = [];
  const stopPerf = () => {
    for (const t of perfTimers) clearTimeout(t);
    return perf ? (perfStopped ??= perf.stop()) : undefined;
  };
  let cleaned: Promise<void> | undefined;
  const step = (p: Promise<unknown> | undefined, what: string, ms = 30_000) => (p ? within(p, ms, what).catch((err) => hooks.log(`  cleanup: ${String(err)}`)) : undefined);
  const cleanup = () =>
    (cleaned ??= (async () => {
      await step(load?.stop(), 'stopping the load');
      await step(stopPerf(), 'stopping perf record', 90_000);
      await step(sampler?.stop(), 'stopping the sampler');
      await step(Promise.all(Object.values(pools ?? {}).map((p) => p.end())), 'closing the database pools');
      await step(amqp?.close(), 'closing the AMQP connection');
      await step(runtime.stop(), 'stopping the runtime and removing its namespace', 90_000);
      await rm(invocationReport, { force: true });
    })());
  const unregister = hooks.registerCleanup(cleanup);
  try {
    const { httpUrl } = runtime.system;
    const access = await benchAccess(runtime.system);
    pools = servicePools(namespace);
    amqp = await connectAmqp(process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl);
    amqp.on('error', () => undefined);
    const products = await createProductSet(httpUrl, access.headers, pools.order, opts.products);

    sampler = await startSampler({ namespace, amqp, databaseServerUrl: databaseServerUrl(), invocationReport, statements: opts.statements, ownServerPids: hooks.ownServerPids, onError: () => undefined });
    const mode = opts.mode === 'open' ? ({ kind: 'open', ratePerSec: level } as const) : ({ kind: 'closed', concurrency: level } as const);
    load = await startLoad({
      httpUrl,
      wsUrl: access.wsUrl,
      auth: access.headers,
      wsClients: opts.wsClients,
      wsSubscribe: opts.wsWatch === 'subscribe',
      products,
      mix: opts.mix,
      mode,
      warmupSeconds: opts.warmupSeconds,
      seconds: opts.seconds,
      httpConnections: opts.httpConnections,
      requestTimeoutMs: opts.requestTimeoutMs,
      settleWaitMs: opts.settleWaitMs,
      seed: opts.seed,
    });
    const current = load;
    if (hooks.perf) {
      // perf takes a second or more (and a core) to read every process's maps before it samples:
      // it starts during the warm-up, and only the measured window's samples are summarized.
      const { frequency } = hooks.perf;
      const at = (t: number) => Math.max(0, t - performance.now());
      const toMonotonic = monotonicSeconds() - performance.now() / 1000;
      perfWindow = { from: toMonotonic + current.measureFrom / 1000, to: toMonotonic + current.measureTo / 1000 };
      perfTimers.push(
        setTimeout(() => {
          perf = startPerfRecord(perfFile, frequency);
          perfTimers.push(setTimeout(() => void stopPerf(), at(current.measureTo + PERF_TAIL_MS)));
        }, at(current.measureFrom - PERF_LEAD_MS)),
      );
    }
    const progress = setInterval(() => {
      const t = (performance.now() - current.measureFrom) / 1000;
      const last = sampler?.samples.at(-1);
      const queued = last ? Object.values(last.queues).reduce<number>((a, n) => a + (n ?? 0), 0) : 0;
      hooks.log(
        `  t=${t.toFixed(0)}s sent ${current.records.length}, accepted ${current.acceptedIds().length}, not yet settled on WS ${current.unsettled()}, ` +
          `queued ${queued}, box busy ${last ? last.box.busy.toFixed(2) : '-'} cores`,
      );
    }, 5_000);
    try {
      const lastWait = opts.mode === 'closed' ? opts.settleWaitMs : opts.mix.cancelDelayMaxMs;
      const budget = (opts.warmupSeconds + opts.seconds) * 1000 + lastWait + 2 * opts.requestTimeoutMs + 30_000;
      await within(load.done, budget, 'the load').catch(async (err) => {
        hooks.log(`  ${String(err)}; stopping the load`);
        await load!.stopOffering();
      });
      await load.stopOffering();
      const perfRecorded = await stopPerf();
      hooks.log(`  offered for ${opts.warmupSeconds + opts.seconds} s; draining`);
      const drained = await drain({
        namespace,
        amqp,
        db: pools,
        timeoutMs: opts.drainTimeoutSeconds * 1000,
        stallMs: opts.drainStallSeconds * 1000,
      });
      if (!drained.quiet) hooks.log(`  drain gave up: ${drained.reason}`);
      // The notification queue is empty: the last final statuses are on their way to the socket.
      const graceUntil = Date.now() + 5_000;
      while (load.unsettled() > 0 && Date.now() < graceUntil) await new Promise((r) => setTimeout(r, 100));
      const samples = await sampler.stop();
      const { snapshot, violations } = await within(
        verifyInvariants(
          { ...pools, httpUrl },
          { acceptedOrderIds: load.acceptedIds(), initialStock: products.initialStock },
          drained.quiet ? 20_000 : 0,
        ),
        120_000,
        'the invariant check',
      );
      const deliveries = await countDeliveries(pools, namespace, deploymentLayout());
      const dbStatus = new Map(snapshot.orders.map((o) => [o.id, o.status]));
      const figures = analyzeRun(load.records, load.counters, load.wsStats, samples, dbStatus, {
        startedAt: load.startedAt,
        measureFrom: load.measureFrom,
        measureTo: load.measureTo,
        timeOrigin: performance.timeOrigin,
        namespace,
      });
      await cleanup();
      const profile = opts.profile ? await summarizeProfileDir(hooks.profileDir, (pid) => sampler?.runtimeProcesses.get(pid)) : null;
      let perfSummary: PerfSummary | null = null;
      if (hooks.perf && perfRecorded && !perfRecorded.ok) hooks.perf.onFailure(perfRecorded.reason);
      else if (hooks.perf && perfRecorded?.ok) {
        // After the runtime stopped: perf script takes a core for a few seconds.
        const groups = sampler.processGroups;
        // pid 0 is the idle task: what it ran that was not idling is the kernel's own work, as in the CPU table.
        const groupOfPid = (pid: number) => (pid === 0 ? 'unattributed' : (groups.get(pid) ?? 'other processes'));
        perfSummary = await summarizePerfFile(perfFile, hooks.perf.frequency, groupOfPid, { window: perfWindow }).catch((err) => {
          hooks.perf!.onFailure(`could not read ${perfFile}: ${String(err)}`);
          return null;
        });
      }
      return {
        level,
        run,
        namespace,
        figures,
        drain: drained,
        invariants: { ok: violations.length === 0, broken: violations.length, description: describeViolations(violations), examples: violations.slice(0, 20) },
        deliveries,
        profile,
        perf: perfSummary,
      };
    } finally {
      clearInterval(progress);
    }
  } finally {
    await cleanup();
    unregister();
  }
}
