/**
 * Samples, every second, where the machine's CPU goes and how deep the namespace's queues are:
 *  - CPU of every process from /proc/<pid>/stat, grouped: the runtime (by catalog function id when
 *    each function runs in a child process of its own, by pid otherwise), PostgreSQL (by database
 *    of the namespace, via pg_stat_activity), RabbitMQ (beam.smp), Redis, the load generator
 *    itself, and everything else on this shared machine;
 *  - box-wide busy and iowait cores from /proc/stat;
 *  - ready messages of every queue and DLQ of the namespace (AMQP passive declare), with queue
 *    names from the topology and the runtime's partition layout (PARTITIONS included).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import type { Channel, ChannelModel } from 'amqplib';
import pg from 'pg';
import { FUNCTIONS } from '../functions/catalog';
import type { InvocationCounts } from '../local/invocation-report';
import { SERVICES, databaseName } from '../shared/config';
import { resolveTopology, deploymentLayout } from '../functions/topology';

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, in clock ticks. */
  ticks: number;
  /** Start time after boot, in clock ticks. */
  start: number;
  /** Resident set size, in pages. */
  rssPages: number;
}

/** Parses /proc/<pid>/stat; comm may hold spaces and parentheses, so fields are counted after its last ')'. */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state): field n is rest[n - 3].
  const num = (field: number) => Number(rest[field - 3]);
  return { pid: Number(text.slice(0, open).trim()), ppid: num(4), comm: text.slice(open + 1, close), ticks: num(14) + num(15), start: num(22), rssPages: num(24) };
}

/** The first line of /proc/stat: busy (user, nice, system, irq, softirq, steal), idle and iowait ticks. */
export function parseCpuLine(text: string): { busy: number; idle: number; iowait: number } {
  const line = text.slice(0, text.indexOf('\n'));
  const [, user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return { busy: user! + nice! + system! + irq! + softirq! + (steal ?? 0), idle: idle!, iowait: iowait! };
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string;
}

export interface GroupingContext {
  /** The load generator's own pid (and its parent, the tsx launcher). */
  benchPids: ReadonlySet<number>;
  /** Pids of the runtime and all its descendants. */
  runtimePids: ReadonlySet<number>;
  runtimeRoot: number | null;
  /** PostgreSQL backend pid -> group (postgres:order, postgres:other databases, ...). */
  postgresPids: ReadonlyMap<number, string>;
  functionIds: readonly string[];
  /**
   * With servers of the bench's own (a private stack): their pids. PostgreSQL, RabbitMQ and Redis
   * processes outside these sets are the machine's shared servers, busy with other work.
   */
  ownServers?: { postgres: ReadonlySet<number>; rabbitmq: ReadonlySet<number>; redis: ReadonlySet<number> };
}

/** The broker's Erlang VM (not a rabbitmqctl run, which is a beam.smp too) and its helpers. */
const isRabbitServer = (p: ProcessInfo) =>
  (p.comm === 'beam.smp' && p.cmdline.includes('rabbit boot')) || p.comm === 'erl_child_setup' || p.comm === 'epmd' || p.comm === 'inet_gethost';

/** A command line made short: executables and scripts by their base name. */
export function shortCommand(cmdline: string, max = 50): string {
  return cmdline
    .split(' ')
    .map((arg) => (arg.startsWith('/') ? arg.slice(arg.lastIndexOf('/') + 1) : arg))
    .join(' ')
    .slice(0, max);
}

/**
 * The group a process's CPU counts toward. Runtime children started for one catalog function
 * (their command line names `local/environment` and the function id) group by function id.
 */
export function groupOf(p: ProcessInfo, ctx: GroupingContext): string {
  if (ctx.benchPids.has(p.pid)) return 'load generator';
  if (ctx.runtimePids.has(p.pid)) {
    if (p.pid === ctx.runtimeRoot) return 'runtime: main';
    if (p.cmdline.includes('local/environment')) {
      const id = ctx.functionIds.filter((f) => p.cmdline.includes(f)).sort((a, b) => b.length - a.length)[0];
      if (id) return `runtime: ${id}`;
    }
    return `runtime: pid ${p.pid} ${shortCommand(p.cmdline)}`;
  }
  const own = ctx.ownServers;
  if (p.comm === 'postgres' || p.comm.startsWith('postgres:')) {
    if (own && !own.postgres.has(p.pid)) return 'shared servers';
    return ctx.postgresPids.get(p.pid) ?? 'postgres: background';
  }
  if (isRabbitServer(p) || own?.rabbitmq.has(p.pid)) return own && !own.rabbitmq.has(p.pid) ? 'shared servers' : 'rabbitmq';
  if (p.comm === 'redis-server') return own && !own.redis.has(p.pid) ? 'shared servers' : 'redis';
  return 'other processes';
}

/** The top-level group of a group name: "runtime: order-api" -> "runtime". */
export function topGroupOf(group: string): string {
  const i = group.indexOf(':');
  return i < 0 ? group : group.slice(0, i);
}

/** All descendants of root (root included), from a pid -> ppid map. */
export function descendantsOf(root: number, parents: ReadonlyMap<number, number>): Set<number> {
  const out = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (!out.has(pid) && out.has(ppid)) {
        out.add(pid);
        grew = true;
      }
    }
  }
  return out;
}

export interface Sample {
  /** ms since the epoch */
  t: number;
  /** Busy cores per group over the interval before t. */
  cpu: Record<string, number>;
  box: { busy: number; iowait: number };
  /** Ready messages per queue; null when the queue could not be read. */
  queues: Record<string, number | null>;
  /** pg_stat_statements' running calls per statement of the namespace's databases, keyed "service: query". */
  statements?: Record<string, number>;
  /** The runtime's invocation totals per function when it reports them (local/invocation-report.ts). */
  invocations?: InvocationCounts;
  /** pg_stat_database's running count of transactions committed, per service database of the namespace. */
  commits?: Record<string, number>;
  /** Resident memory of the runtime's processes at t, per group (a function's environments, the main process). */
  memory?: Record<string, GroupMemory>;
}

export interface GroupMemory {
  mib: number;
  /** Processes of the group: a function's live environments. */
  processes: number;
}

/** A system setting (CLK_TCK, PAGESIZE), or the fallback where getconf is missing. */
export function getconf(name: string, fallback: number): number {
  try {
    return Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim()) || fallback;
  } catch {
    return fallback;
  }
}

/**
 * Reads every process's stat, synchronously: a few milliseconds, and all of them close together in
 * time, which the rates need more than the event loop needs those milliseconds (the generator's
 * lateness shows what they cost). Command lines are read once per process.
 */
export function readProcesses(cmdlines: Map<string, string>): { stat: ProcStat; cmdline: string }[] {
  const out: { stat: ProcStat; cmdline: string }[] = [];
  const seen = new Set<string>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      if (!stat) continue;
      const key = `${pid}:${stat.start}`;
      seen.add(key);
      let cmdline = cmdlines.get(key);
      if (cmdline === undefined) cmdlines.set(key, (cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()));
      out.push({ stat, cmdline });
    } catch {
      // the process ended meanwhile
    }
  }
  for (const key of cmdlines.keys()) if (!seen.has(key)) cmdlines.delete(key);
  return out;
}

export interface SamplerOptions {
  namespace: string;
  amqp: ChannelModel;
  /** A server URL for pg_stat_activity (any database). */
  databaseServerUrl: string;
  intervalMs?: number;
  onSample?: (s: Sample) => void;
  onError?: (err: unknown) => void;
  /** Read pg_stat_statements (loaded by the private stack) at every sample. */
  statements?: boolean;
  /** The file the runtime keeps its invocation counts in (EVENTFLOW_INVOCATION_REPORT), read at every sample. */
  invocationReport?: string;
  /** The pids of servers of the bench's own (a private stack), when it runs on them. */
  ownServerPids?: () => Record<'postgres' | 'rabbitmq' | 'redis', number[]>;
}

/** Starts sampling at once; stop() ends it and returns every sample taken. */
export async function startSampler(opts: SamplerOptions) {
  const hz = getconf('CLK_TCK', 100);
  const pageMiB = getconf('PAGESIZE', 4096) / 2 ** 20;
  const intervalMs = opts.intervalMs ?? 1000;
  const functionIds = FUNCTIONS.map((f) => f.id);
  const queueNames = resolveTopology(opts.namespace, deploymentLayout()).queues.map((q) => q.name);
  const dbGroups = new Map(SERVICES.map((s) => [databaseName(s, opts.namespace), `postgres: ${s}`]));
  const benchPids = new Set([process.pid, process.ppid]);
  const pgClient = new pg.Client({ connectionString: opts.databaseServerUrl, statement_timeout: 2_000, connectionTimeoutMillis: 5_000 });
  await pgClient.connect();
  pgClient.on('error', (err) => opts.onError?.(err));
  const ownBackend = (await pgClient.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  let channel: Channel | null = null;

  const samples: Sample[] = [];
  /** Every runtime process seen, and its group (a CPU profile file names its pid). */
  const runtimeProcesses = new Map<number, string>();
  /** Every process seen, and its group when last seen (a perf recording names pids). */
  const processGroups = new Map<number, string>();
  let prevTicks = new Map<number, { ticks: number; start: number }>();
  let prevCpu: ReturnType<typeof parseCpuLine> | null = null;
  let prevAt = 0;
  let prevBoxAt = 0;
  const cmdlines = new Map<string, string>();
  let bootTicksAtPrev = 0;

  async function postgresPids(): Promise<Map<number, string>> {
    const { rows } = await pgClient.query<{ pid: number; datname: string | null }>('SELECT pid, datname FROM pg_stat_activity');
    const out = new Map<number, string>();
    for (const r of rows) {
      if (r.pid === ownBackend) out.set(r.pid, 'postgres: the sampler');
      else if (r.datname === null) out.set(r.pid, 'postgres: background');
      else out.set(r.pid, dbGroups.get(r.datname) ?? 'postgres: other databases');
    }
    return out;
  }

  const serviceOfDb = new Map(SERVICES.map((s) => [databaseName(s, opts.namespace), s as string]));
  /** Transactions committed so far per service database (pg_stat_database's running count). */
  async function commitTotals(): Promise<Record<string, number>> {
    const { rows } = await pgClient.query<{ datname: string; commits: string }>('SELECT datname, xact_commit::text AS commits FROM pg_stat_database WHERE datname = ANY($1)', [[...serviceOfDb.keys()]]);
    return Object.fromEntries(rows.map((r) => [serviceOfDb.get(r.datname)!, Number(r.commits)]));
  }

  async function statementCalls(): Promise<Record<string, number> | undefined> {
    if (!opts.statements) return undefined;
    const { rows } = await pgClient.query<{ datname: string; query: string; calls: string }>(
      'SELECT d.datname, s.query, sum(s.calls)::text AS calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = ANY($1) GROUP BY 1, 2',
      [[...serviceOfDb.keys()]],
    );
    return Object.fromEntries(rows.map((r) => [`${serviceOfDb.get(r.datname)}: ${r.query.replace(/\s+/g, ' ')}`, Number(r.calls)]));
  }

  function readInvocations(): InvocationCounts | undefined {
    if (!opts.invocationReport) return undefined;
    try {
      return (JSON.parse(readFileSync(opts.invocationReport, 'utf8')) as { counts: InvocationCounts }).counts;
    } catch {
      return undefined; // not written yet
    }
  }

  async function queueDepths(): Promise<Record<string, number | null>> {
    const out: Record<string, number | null> = {};
    for (const name of queueNames) {
      try {
        if (!channel) {
          channel = await opts.amqp.createChannel();
          channel.on('error', () => undefined);
        }
        out[name] = (await channel.checkQueue(name)).messageCount;
      } catch {
        out[name] = null; // a missing queue closes the channel; open another for the next
        channel = null;
      }
    }
    return out;
  }

  async function sample(first: boolean) {
    // The machine's counters and every process's, read back to back; the database and the broker after.
    const boxAt = Date.now();
    const cpuNow = parseCpuLine(readFileSync('/proc/stat', 'utf8'));
    const uptimeTicks = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * hz;
    const procs = readProcesses(cmdlines);
    const now = (boxAt + Date.now()) / 2;
    // One client: its queries one after another (pg queues concurrent ones, but deprecates it).
    const fromPostgres = async () => {
      const pids = await postgresPids().catch((err) => {
        opts.onError?.(err);
        return new Map<number, string>();
      });
      const totals = await commitTotals().catch((err) => {
        opts.onError?.(err);
        return undefined;
      });
      const calls = await statementCalls().catch((err) => {
        opts.onError?.(err);
        return undefined;
      });
      return [pids, totals, calls] as const;
    };
    const [[pgPids, commits, statements], queues] = await Promise.all([fromPostgres(), first ? Promise.resolve({}) : queueDepths()]);
    const parents = new Map(procs.map((p) => [p.stat.pid, p.stat.ppid]));
    const root = procs.find((p) => p.stat.ppid === process.pid && p.cmdline.includes('local/dev.ts'))?.stat.pid ?? null;
    const ctx: GroupingContext = {
      benchPids,
      runtimePids: root === null ? new Set() : descendantsOf(root, parents),
      runtimeRoot: root,
      postgresPids: pgPids,
      functionIds,
    };
    if (opts.ownServerPids) {
      const own = opts.ownServerPids();
      ctx.ownServers = { postgres: new Set(own.postgres), rabbitmq: new Set(own.rabbitmq), redis: new Set(own.redis) };
    }
    const ticks = new Map<number, { ticks: number; start: number }>();
    const cpu: Record<string, number> = {};
    const memory: Record<string, GroupMemory> = {};
    const seconds = (now - prevAt) / 1000;
    const boxSeconds = (boxAt - prevBoxAt) / 1000;
    for (const p of procs) {
      ticks.set(p.stat.pid, { ticks: p.stat.ticks, start: p.stat.start });
      if (first) continue;
      // Even a process without a tick of CPU since the last sample: perf samples finer than ticks.
      processGroups.set(p.stat.pid, groupOf({ pid: p.stat.pid, ppid: p.stat.ppid, comm: p.stat.comm, cmdline: p.cmdline }, ctx));
      if (ctx.runtimePids.has(p.stat.pid)) {
        const m = (memory[processGroups.get(p.stat.pid)!] ??= { mib: 0, processes: 0 });
        m.mib += p.stat.rssPages * pageMiB;
        m.processes++;
      }
      const before = prevTicks.get(p.stat.pid);
      // A process born since the last sample counts from zero; a reused pid is told apart by its start time.
      const base = before && before.start === p.stat.start ? before.ticks : p.stat.start >= bootTicksAtPrev ? 0 : null;
      if (base === null) continue;
      const delta = p.stat.ticks - base;
      if (delta <= 0) continue;
      const group = processGroups.get(p.stat.pid)!;
      if (ctx.runtimePids.has(p.stat.pid)) runtimeProcesses.set(p.stat.pid, group);
      cpu[group] = (cpu[group] ?? 0) + delta / hz / seconds;
    }
    if (!first && prevCpu) {
      const box = { busy: (cpuNow.busy - prevCpu.busy) / hz / boxSeconds, iowait: (cpuNow.iowait - prevCpu.iowait) / hz / boxSeconds };
      // What /proc/stat saw busy that no live process accounts for: the kernel's own work
      // (loopback networking, softirqs) and processes that ended between two samples.
      cpu.unattributed = Math.max(0, box.busy - Object.values(cpu).reduce((a, b) => a + b, 0));
      const s: Sample = { t: now, cpu, box, queues, memory, commits, statements, invocations: readInvocations() };
      samples.push(s);
      opts.onSample?.(s);
    }
    prevTicks = ticks;
    prevCpu = cpuNow;
    prevAt = now;
    prevBoxAt = boxAt;
    bootTicksAtPrev = uptimeTicks;
  }

  let busy = false;
  let stopped = false;
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      await sample(false);
    } catch (err) {
      opts.onError?.(err);
    } finally {
      busy = false;
    }
  };
  await sample(true);
  const timer = setInterval(() => void tick(), intervalMs);

  return {
    samples,
    runtimeProcesses,
    processGroups,
    async stop(): Promise<Sample[]> {
      stopped = true;
      clearInterval(timer);
      const deadline = Date.now() + 5_000;
      while (busy && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await pgClient.end().catch(() => undefined);
      if (channel) await (channel as Channel).close().catch(() => undefined);
      return samples;
    },
  };
}

export type Sampler = Awaited<ReturnType<typeof startSampler>>;
