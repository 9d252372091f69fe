/**
 * One soak: a private stack (scripts/private-stack.ts), the runtime on it, the product set, then a
 * steady open-loop load for the whole run; every interval a point (bench/soak/growth.ts): settled
 * orders per second and their p99, the resident memory of every process group, the V8 heap of each
 * function's largest environment, each database's
 * size, Redis's memory and the queues' depths. At the end it drains, checks every invariant of the
 * fault run, and says which series did not level off. Everything started is stopped at the end.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { databaseName, SERVICES, withDatabase } from '../../shared/config';
import type { ServiceName } from '../../shared/config';
import { UNTHROTTLED_ENV } from '../../shared/http/rate-limits';
import { LOCAL_ENV } from '../../shared/env';
import { readHeapReports } from './heaps';
import { connectAmqp } from '../../shared/messaging/broker';
import { deploymentLayout, resolveTopology } from '../../functions/topology';
import { startPrivateStack } from '../../scripts/private-stack';
import { processTree } from '../../scripts/process-tree';
import { freshNamespace, startRuntimeProcess } from '../../test/support/runtime-process';
import { benchAccess } from '../access';
import { drain } from '../drain';
import { checkInvariants, readSnapshot, readTimelineViolations } from '../invariants';
import type { Violation } from '../invariants';
import { startLoad } from '../load';
import type { OrderRecord } from '../load';
import { createProductSet } from '../products';
import { DEFAULT_MIX } from '../schedule';
import { p99OrNull } from '../stats';
import { findGrowth } from './growth';
import type { Finding, SoakPoint } from './growth';

export interface SoakOptions {
  minutes: number;
  rate: number;
  intervalSeconds: number;
  seed: number;
}

export interface SoakReport {
  kind: 'eventflow-soak';
  startedAt: string;
  finishedAt: string;
  options: SoakOptions;
  points: SoakPoint[];
  accepted: number;
  violations: Violation[];
  growth: Finding[];
  drained: boolean;
  ok: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Memory per group (MiB, proportional set size): the runtime's own process, each function's environments, the servers, the generator. */
function memoryByGroup(runtimePid: number, servers: Record<string, number[]>): Record<string, number> {
  // Proportional set size: a page shared by several processes (PostgreSQL's shared buffers, which
  // every backend touches) counted once in all, where summing resident sets counts it per process.
  const pss = (pid: number) => {
    try {
      return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) / 1024;
    } catch {
      return 0;
    }
  };
  const out: Record<string, number> = {};
  const add = (group: string, mib: number) => (out[group] = (out[group] ?? 0) + mib);
  for (const pid of processTree(runtimePid)) {
    let group = 'runtime (gateway and schedules)';
    if (pid !== runtimePid) {
      let args: string[] = [];
      try {
        args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      } catch {
        continue; // gone meanwhile
      }
      // An environment is `node … <host bundle> <function id>` (local/lambda.ts).
      group = args.some((a) => a.includes('/local/environment')) ? `environments: ${args.at(-1)}` : 'runtime: other';
    }
    add(group, pss(pid));
  }
  for (const [server, pids] of Object.entries(servers)) for (const pid of pids) add(server, pss(pid));
  add('load generator', pss(process.pid));
  return out;
}

/** The interval's figures from the load's records (times in performance.now() ms, as bench/load.ts keeps them). */
function windowFigures(records: readonly OrderRecord[], from: number, to: number) {
  let offered = 0;
  let accepted = 0;
  const settle: number[] = [];
  let settledTotal = 0;
  for (const r of records) {
    if (r.scheduledAt >= from && r.scheduledAt < to) offered++;
    if (r.postOutcome === 201 && r.startedAt >= from && r.startedAt < to) accepted++;
    const at = r.doneAt;
    if (at === undefined) continue;
    if (at < to) settledTotal++;
    if (at >= from && at < to) settle.push(at - r.startedAt);
  }
  const seconds = (to - from) / 1000;
  return { offeredPerSec: offered / seconds, acceptedPerSec: accepted / seconds, settledPerSec: settle.length / seconds, settleP99Ms: p99OrNull(settle), settledTotal };
}

export async function runSoak(opts: SoakOptions, log: (line: string) => void): Promise<SoakReport> {
  const startedAt = new Date();
  const cleanups: (() => Promise<unknown>)[] = [];
  const savedEnv = { ...process.env };
  try {
    log('starting a PostgreSQL, RabbitMQ and Redis of its own…');
    const stack = await startPrivateStack();
    cleanups.push(() => stack.close());
    Object.assign(process.env, stack.env);
    const namespace = freshNamespace('soak');
    // Every environment writes its heap figures here (local/heap-report.ts).
    const heapDir = mkdtempSync(path.join(os.tmpdir(), 'eventflow-heap-'));
    cleanups.push(async () => rmSync(heapDir, { recursive: true, force: true }));
    const runtime = await startRuntimeProcess({ namespace, env: { ...UNTHROTTLED_ENV, [LOCAL_ENV.heapReportDir]: heapDir } });
    cleanups.push(() => runtime.stop());
    const access = await benchAccess(runtime.system);
    log(`runtime at ${runtime.system.httpUrl}, namespace ${namespace}; log in ${runtime.system.logFile}`);
    const pools = Object.fromEntries(
      SERVICES.map((s) => {
        const pool = new pg.Pool({ connectionString: withDatabase(stack.env.DATABASE_URL, databaseName(s, namespace)), max: 2 });
        pool.on('error', () => undefined);
        return [s, pool];
      }),
    ) as Record<ServiceName, pg.Pool>;
    cleanups.push(() => Promise.all(Object.values(pools).map((p) => p.end())));
    const redis = new Redis(stack.env.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 });
    redis.on('error', () => undefined);
    cleanups.push(() => redis.quit());
    const amqp = await connectAmqp(stack.env.RABBITMQ_URL);
    amqp.on('error', () => undefined);
    cleanups.push(() => amqp.close());
    const channel = await amqp.createChannel();
    channel.on('error', () => undefined);
    const queueNames = resolveTopology(namespace, deploymentLayout()).queues.map((q) => q.name);
    const products = await createProductSet(runtime.system.httpUrl, access.headers, pools.order, { plentiful: 20, plentifulStock: 1_000_000, scarce: 5, scarceStock: 50 });

    const load = await startLoad({
      httpUrl: runtime.system.httpUrl,
      wsUrl: access.wsUrl,
      auth: access.headers,
      wsClients: 1,
      wsSubscribe: true,
      products,
      mix: DEFAULT_MIX,
      mode: { kind: 'open', ratePerSec: opts.rate },
      warmupSeconds: 0,
      seconds: opts.minutes * 60,
      httpConnections: 64,
      requestTimeoutMs: 10_000,
      settleWaitMs: 60_000,
      seed: opts.seed,
    });
    cleanups.push(() => load.stop());
    log(`${opts.rate} orders/s for ${opts.minutes} min; a point every ${opts.intervalSeconds} s`);
    log('    t  offered/s settled/s  p99 ms  PSS MiB (runtime, environments, servers)  largest heap MiB  DB MiB  Redis MiB  queued');

    const points: SoakPoint[] = [];
    const t0 = performance.now();
    for (let i = 1; t0 + i * opts.intervalSeconds * 1000 <= load.measureTo + 1; i++) {
      await sleep(t0 + i * opts.intervalSeconds * 1000 - performance.now());
      const to = performance.now();
      const from = to - opts.intervalSeconds * 1000;
      const figures = windowFigures(load.records, from, to);
      const rssMiB = memoryByGroup(runtime.pid, stack.pids());
      const databaseMiB: Record<string, number> = {};
      for (const s of SERVICES) {
        const { rows } = await pools[s].query<{ mib: number }>('SELECT coalesce(sum(pg_total_relation_size(relid)), 0)::float8 / 1048576 AS mib FROM pg_stat_user_tables');
        databaseMiB[s] = rows[0]!.mib;
      }
      const redisMiB = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0) / 2 ** 20;
      const queues: Record<string, number> = {};
      for (const q of queueNames) queues[q] = (await channel.checkQueue(q)).messageCount;
      const heapMiB: Record<string, number> = {};
      for (const r of readHeapReports(heapDir)) heapMiB[r.function] = Math.max(heapMiB[r.function] ?? 0, r.heapUsedMiB);
      const point: SoakPoint = { t: Math.round((to - t0) / 1000), ...figures, rssMiB, heapMiB, databaseMiB, redisMiB, queues };
      points.push(point);
      const sum = (o: Record<string, number>, f: (k: string) => boolean = () => true) => Object.entries(o).filter(([k]) => f(k)).reduce((a, [, v]) => a + v, 0);
      log(
        `${String(point.t).padStart(5)}  ${point.offeredPerSec.toFixed(1).padStart(9)} ${point.settledPerSec.toFixed(1).padStart(9)}  ${(point.settleP99Ms ?? Number.NaN).toFixed(0).padStart(6)}  ` +
          `${sum(rssMiB).toFixed(0).padStart(5)} (${sum(rssMiB, (k) => k.startsWith('runtime')).toFixed(0)}, ${sum(rssMiB, (k) => k.startsWith('environments')).toFixed(0)}, ` +
          `${sum(rssMiB, (k) => ['postgres', 'rabbitmq', 'redis'].includes(k)).toFixed(0)})${' '.repeat(14)}` +
          `${Math.max(0, ...Object.values(heapMiB)).toFixed(0).padStart(16)}  ${sum(databaseMiB).toFixed(1).padStart(6)}  ${redisMiB.toFixed(1).padStart(9)}  ${sum(queues)}`,
      );
    }
    await load.stopOffering();
    log('load stopped; draining');
    const drained = await drain({ namespace, amqp, db: pools, timeoutMs: 300_000, stallMs: 120_000 });
    const accepted = load.acceptedIds();
    const snapshot = await readSnapshot({ ...pools, httpUrl: runtime.system.httpUrl });
    const violations = [
      ...checkInvariants(snapshot, { acceptedOrderIds: accepted, initialStock: products.initialStock }),
      ...(await readTimelineViolations(pools.order, snapshot.orders)),
    ];
    const growth = findGrowth(points);
    return {
      kind: 'eventflow-soak',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      options: opts,
      points,
      accepted: accepted.length,
      violations,
      growth,
      drained: drained.quiet,
      ok: drained.quiet && violations.length === 0 && growth.length === 0,
    };
  } finally {
    for (const fn of cleanups.reverse()) await fn().catch((err) => log(`  cleanup: ${String(err)}`));
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  }
}
