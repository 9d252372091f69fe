import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { FunctionSpec } from '../functions/catalog';
import { deploymentLayout } from '../functions/topology';
import { LOCAL_ENV } from '../shared/env';
import { ENVIRONMENT_HOST } from './bundles';
import { countInvocation, startInvocationReports } from './invocation-report';
import type { InvocationCounts } from './invocation-report';
import type { EnvironmentMessage, Invocation } from './environment-protocol';

/**
 * Environments a function may have at once locally when the catalog sets no concurrency for it.
 * On Lambda each environment brings its own CPU; here they all share this machine's cores, and
 * every extra environment is another cold start and another JIT to warm for the same CPU. Past
 * twice the cores, more environments only make each request slower, so requests wait for one
 * instead, up to LOCAL_THROTTLE_WAIT_MS (LOCAL_CONCURRENCY overrides).
 */
export const DEFAULT_LOCAL_CONCURRENCY = Number(process.env.LOCAL_CONCURRENCY ?? Math.max(2, os.availableParallelism() * 2));

/**
 * How long an HTTP request may wait for an environment of its function before it is throttled
 * (docs/decisions.md). Lambda throttles at once; the local concurrency is far below Lambda's, so a
 * short wait absorbs a burst, while a wait without bound would grow under overload until every
 * request waits past its client's timeout.
 */
export const LOCAL_THROTTLE_WAIT_MS = throttleWaitMs(process.env.LOCAL_THROTTLE_WAIT_MS);

export function throttleWaitMs(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 1_000;
  if (!/^\d+$/.test(raw.trim())) throw new Error(`LOCAL_THROTTLE_WAIT_MS must be a whole number of milliseconds, 0 or more (0: throttle at once, as Lambda does); got ${JSON.stringify(raw)}`);
  return Number(raw.trim());
}

/**
 * The CPU priority (nice value, 0 to 19) environments run at; 0 unless LOCAL_ENVIRONMENT_NICE says
 * otherwise. On AWS the edge (API Gateway) has capacity of its own and refuses past its throttle
 * whatever the functions are doing; here the gateway shares the cores with every environment, so
 * under overload its refusals wait for a core behind them. A run about the edge's answers under
 * overload (the fault run's tenfold burst) sets 10 (docs/decisions.md).
 */
export const LOCAL_ENVIRONMENT_NICE = environmentNice(process.env.LOCAL_ENVIRONMENT_NICE);

export function environmentNice(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 0;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) > 19) throw new Error(`LOCAL_ENVIRONMENT_NICE must be a nice value from 0 to 19; got ${JSON.stringify(raw)}`);
  return Number(raw.trim());
}

/** An environment left idle this long is reclaimed, as Lambda does (its next invocation is a cold start). */
const IDLE_MS = 5 * 60_000;

/** Invocations per function since the runtime started, for the bench (local/invocation-report.ts). */
const counts: InvocationCounts = {};

export class InvocationError extends Error {
  constructor(
    message: string,
    readonly functionId: string,
    readonly remote?: { name: string; stack?: string; code?: unknown },
  ) {
    super(message);
    this.name = remote?.name ?? 'InvocationError';
  }
}

/** The caller went away while its invocation waited for an environment: it never ran. */
export class InvocationAbandoned extends InvocationError {
  constructor(functionId: string) {
    super(`${functionId}: the caller went away before an environment was free; not invoked`, functionId);
    this.name = 'InvocationAbandoned';
  }
}

/** Every environment stayed busy for as long as the caller would wait, and no more could start: it never ran. */
export class InvocationThrottled extends InvocationError {
  constructor(
    functionId: string,
    readonly concurrency: number,
    readonly waitedMs: number,
  ) {
    super(`${functionId}: at its concurrency limit (${concurrency}) and no environment was free within ${waitedMs} ms; throttled, not invoked`, functionId);
    this.name = 'InvocationThrottled';
  }
}

/** How a caller waits for an environment: `signal`, it went away; `maxWaitMs`, how long it waits at most. */
export interface InvokeOptions {
  signal?: AbortSignal;
  maxWaitMs?: number;
}

interface Environment {
  child: ChildProcess;
  ready: Promise<void>;
  busy: boolean;
  idleSince: number;
  current?: { id: number; resolve: (v: unknown) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout };
}

export interface EnvironmentOptions {
  /** Bundles by function id, and the environment host's (see local/bundles.ts). */
  bundles: Record<string, string>;
  /** Environment variables of every environment (the local configuration), before the function's own. */
  env: NodeJS.ProcessEnv;
  /** A function's own variables on top of those (its identities: local/identities/environment.ts); undefined withholds one. */
  envOf?: (spec: FunctionSpec) => Record<string, string | undefined>;
  /** Extra Node.js flags for every environment (say, --cpu-prof). */
  nodeArgs?: string[];
  /**
   * Reads each environment's stdout and stderr (the console on a terminal: local/console/; the
   * logger writes warnings and errors to stderr); without it, environments inherit both.
   */
  output?: (spec: FunctionSpec, stdout: Readable, stderr: Readable) => void;
  logError: (line: string, err: unknown) => void;
}

/**
 * The execution environments of one function, as Lambda keeps them: each a process of its own
 * (local/environment.ts) running one invocation at a time; more are started, each with a cold
 * start, while all are busy, up to the function's concurrency; one that runs past its timeout is
 * killed and replaced, so no invocation outlives its timeout; idle ones are reclaimed.
 */
export class FunctionEnvironments {
  private readonly environments = new Set<Environment>();
  private readonly waiting: (() => void)[] = [];
  private nextId = 1;
  private stopped = false;
  private readonly reaper: NodeJS.Timeout;
  readonly maxConcurrency: number;

  constructor(
    readonly spec: FunctionSpec,
    private readonly opts: EnvironmentOptions,
  ) {
    const t = spec.trigger;
    this.maxConcurrency =
      t.kind === 'queue' ? deploymentLayout()[t.queue] : t.kind === 'schedule' || t.kind === 'deploy' ? 1 : Math.min(spec.maxConcurrency ?? Infinity, DEFAULT_LOCAL_CONCURRENCY);
    this.reaper = setInterval(() => this.reclaimIdle(), 30_000);
    this.reaper.unref();
  }

  /**
   * Invokes the function as Lambda would: an environment of its own, a context with a deadline.
   * `signal`: the caller went away (an HTTP client that hung up) while the invocation waited for
   * an environment, so nothing runs; once it has one, the invocation runs to its end, as on Lambda.
   * `maxWaitMs`: when every environment is busy and no more may start, how long to wait for one
   * before the invocation is throttled (InvocationThrottled), and nothing runs; without it, as long
   * as it takes (a queue's batch, a schedule's run: they must wait their turn).
   */
  async invoke(event: unknown, opts: InvokeOptions = {}): Promise<unknown> {
    const env = await this.acquire(opts);
    // Counted once it has an environment: a throttled or abandoned call never ran.
    countInvocation(counts, this.spec.id, event);
    try {
      // As on Lambda, the timeout counts from the end of the cold start (init has its own budget).
      await env.ready;
      const deadline = Date.now() + this.spec.timeoutSeconds * 1000;
      return await new Promise((resolve, reject) => {
        const id = this.nextId++;
        const timer = setTimeout(() => {
          // Lambda ends an invocation at its timeout by ending the environment.
          this.discard(env);
          reject(new InvocationError(`${this.spec.id} timed out after ${this.spec.timeoutSeconds} s; its environment was ended`, this.spec.id));
        }, deadline - Date.now());
        env.current = { id, resolve, reject, timer };
        const msg: Invocation = { id, requestId: randomUUID(), event, deadline };
        env.child.send(msg, (err) => {
          if (err) {
            this.discard(env);
            reject(new InvocationError(`${this.spec.id}: could not reach its environment: ${err.message}`, this.spec.id));
          }
        });
      });
    } finally {
      this.release(env);
    }
  }

  /** Busy environments, all environments: for the runtime's status line. */
  stats() {
    return { busy: [...this.environments].filter((e) => e.busy).length, total: this.environments.size };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reaper);
    const exits = [...this.environments].map((env) => new Promise<void>((r) => (env.child.exitCode !== null ? r() : env.child.once('exit', () => r()))));
    for (const env of this.environments) env.child.kill('SIGTERM');
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 5_000).unref())]);
    for (const env of this.environments) env.child.kill('SIGKILL');
    this.environments.clear();
  }

  private async acquire({ signal, maxWaitMs }: InvokeOptions): Promise<Environment> {
    const deadline = maxWaitMs === undefined ? undefined : Date.now() + maxWaitMs;
    for (let ended: 'woken' | 'gave up' | undefined; ; ) {
      if (this.stopped) throw new InvocationError(`${this.spec.id}: the runtime is stopping`, this.spec.id);
      if (signal?.aborted) {
        // Woken for an environment just freed, but gone meanwhile: the next in line gets the turn.
        if (ended === 'woken') this.waiting.shift()?.();
        throw new InvocationAbandoned(this.spec.id);
      }
      const idle = [...this.environments].find((e) => !e.busy);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (this.environments.size < this.maxConcurrency) {
        const env = this.start();
        env.busy = true;
        return env;
      }
      // Throttled as Lambda would (at once, when maxWaitMs is 0). Nothing is free, so even a caller
      // that was woken holds no turn to pass on: a newcomer took it.
      if (deadline !== undefined && Date.now() >= deadline) throw new InvocationThrottled(this.spec.id, this.maxConcurrency, maxWaitMs!);
      // Every environment is busy: wait for one, unless the caller goes away or its wait runs out
      // first. A request nobody waits for any more must not run later (an order its client saw
      // time out), nor keep the ones behind it waiting.
      const first = ended !== 'woken';
      ended = await new Promise<'woken' | 'gave up'>((resolve) => {
        const end = (how: 'woken' | 'gave up') => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', giveUp);
          resolve(how);
        };
        const wake = () => end('woken');
        // Clearing the timer in wake() means a release and a timeout never both end one wait.
        const giveUp = () => {
          const at = this.waiting.indexOf(wake);
          if (at >= 0) this.waiting.splice(at, 1);
          end('gave up');
        };
        const timer = deadline === undefined ? undefined : setTimeout(giveUp, deadline - Date.now());
        // Woken, but a newcomer took the environment first: back to the head of the line, not its end.
        if (first) this.waiting.push(wake);
        else this.waiting.unshift(wake);
        signal?.addEventListener('abort', giveUp, { once: true });
      });
    }
  }

  private release(env: Environment) {
    env.busy = false;
    env.idleSince = Date.now();
    this.waiting.shift()?.();
  }

  private start(): Environment {
    const spec = this.spec;
    const bundle = this.opts.bundles[spec.id];
    const host = this.opts.bundles[ENVIRONMENT_HOST];
    if (!bundle || !host) throw new InvocationError(`${spec.id} has no bundle`, spec.id);
    const child = spawn(
      process.execPath,
      [...(this.opts.nodeArgs ?? []), '--enable-source-maps', `--max-old-space-size=${spec.memoryMb}`, host, spec.id],
      {
        cwd: path.resolve(import.meta.dirname, '..'),
        stdio: this.opts.output ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
        // JSON, as Lambda itself passes events and results: anything a handler gets or returns
        // here survives the trip on AWS too, and JSON costs less per hand-off than V8's serializer
        // (bench/handoff-cost.ts; BENCHMARKS.md).
        serialization: 'json',
        env: {
          ...this.opts.env,
          ...this.opts.envOf?.(spec),
          EVENTFLOW_FUNCTION_SPEC: JSON.stringify(spec),
          EVENTFLOW_FUNCTION_BUNDLE: bundle,
          AWS_LAMBDA_FUNCTION_NAME: spec.id,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
          DB_POOL_MAX: String(spec.dbPoolMax),
        },
      },
    );
    if (this.opts.output && child.stdout && child.stderr) this.opts.output(spec, child.stdout, child.stderr);
    if (LOCAL_ENVIRONMENT_NICE > 0 && child.pid) {
      try {
        os.setPriority(child.pid, LOCAL_ENVIRONMENT_NICE);
      } catch {
        // ended already: its exit is handled below
      }
    }
    let markReady!: () => void;
    let failReady!: (err: Error) => void;
    const env: Environment = {
      child,
      busy: false,
      idleSince: Date.now(),
      ready: new Promise<void>((resolve, reject) => {
        markReady = resolve;
        failReady = reject;
      }),
    };
    env.ready.catch(() => undefined);
    child.on('message', (msg: EnvironmentMessage) => {
      if ('ready' in msg) return markReady();
      const current = env.current;
      if (!current || current.id !== msg.id) return;
      clearTimeout(current.timer);
      env.current = undefined;
      if (msg.ok) current.resolve(msg.result);
      else current.reject(new InvocationError(msg.error.message, spec.id, msg.error));
    });
    child.on('exit', (code, signal) => {
      this.environments.delete(env);
      const why = `${spec.id}: its environment exited (${signal ?? `code ${code}`})`;
      failReady(new InvocationError(why, spec.id));
      if (env.current) {
        clearTimeout(env.current.timer);
        env.current.reject(new InvocationError(why, spec.id));
        env.current = undefined;
      }
      this.waiting.shift()?.();
    });
    child.on('error', (err) => this.opts.logError(`${spec.id}: environment process error`, err));
    this.environments.add(env);
    return env;
  }

  private discard(env: Environment) {
    this.environments.delete(env);
    env.child.kill('SIGKILL');
  }

  private reclaimIdle() {
    const now = Date.now();
    for (const env of this.environments) {
      if (!env.busy && now - env.idleSince > IDLE_MS) {
        this.environments.delete(env);
        env.child.kill('SIGTERM');
      }
    }
  }
}

const environments = new Map<string, FunctionEnvironments>();
let options: EnvironmentOptions | undefined;

/** Sets up environments for the catalog's functions; they start on first use, as on Lambda. */
export function useEnvironments(opts: EnvironmentOptions): { stop(): Promise<void>; stats(): Record<string, { busy: number; total: number }> } {
  options = opts;
  const reportFile = process.env[LOCAL_ENV.invocationReport];
  const stopReports = reportFile ? startInvocationReports(reportFile, counts) : undefined;
  return {
    async stop() {
      stopReports?.();
      await Promise.all([...environments.values()].map((e) => e.stop()));
      environments.clear();
    },
    stats: () => Object.fromEntries([...environments].map(([id, e]) => [id, e.stats()])),
  };
}

/** Invokes a catalog function in one of its environments (see FunctionEnvironments.invoke for the options). */
export function invoke(spec: FunctionSpec, event: unknown, opts: InvokeOptions = {}): Promise<unknown> {
  if (!options) throw new Error('useEnvironments() was not called');
  let envs = environments.get(spec.id);
  if (!envs) environments.set(spec.id, (envs = new FunctionEnvironments(spec, options)));
  return envs.invoke(event, opts);
}
