/**
 * `npm run bench`: EventFlow's end-to-end benchmark. See `npm run bench -- --help` and
 * BENCHMARKS.md. Starts a runtime of its own per level and run, offers load, measures what a user
 * sees (POST latency; the final status arriving on a WebSocket), samples CPU and queue depths,
 * checks the saga's invariants after every level and fails loudly if one broke.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { HELP, parseBenchArgs } from './args';
import type { BenchOptions } from './args';
import { compare, parseCompareArgs } from './compare';
import type { CompareArgs } from './compare';

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Set on Ctrl-C: the cleanup under way, which every exit waits for. */
let interruption: Promise<unknown> | null = null;
/** Stops the private stack, if one runs. */
let stackClose: (() => Promise<void>) | null = null;

async function exit(code: number): Promise<never> {
  if (interruption) {
    await interruption;
    code = 130;
  }
  await stackClose?.().catch((err) => log(`could not stop the private stack: ${String(err)}`));
  process.exit(code);
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

async function main(options: BenchOptions) {
  // Modules that derive names from the environment (the topology) load only after --env applied.
  const { DEFAULTS } = await import('../shared/config');
  const { connectAmqp } = await import('../shared/messaging/broker');
  const { describeMachine } = await import('./machine');
  const { runLevel, databaseServerUrl } = await import('./run');
  const report = await import('./report');

  const cleanups = new Set<() => Promise<void>>();
  let interrupted = false;
  let interruptedAt = 0;
  const onSignal = (signal: string) => {
    if (interrupted) {
      // Ctrl-C reaches this process twice (from the terminal and relayed by tsx): only a later one forces the exit.
      if (Date.now() - interruptedAt < 2_000) return;
      log(`${signal} again: exiting now; the namespace may be left behind (dropNamespace in test/support/runtime-process.ts removes it)`);
      process.exit(130);
    }
    interrupted = true;
    interruptedAt = Date.now();
    log(`${signal}: stopping the load, the runtime, and removing the namespace…`);
    interruption = Promise.allSettled([...cleanups].map((f) => f()));
    void exit(130);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  let ownServerPids: (() => Record<'postgres' | 'rabbitmq' | 'redis', number[]>) | undefined;
  if (options.privateStack) {
    log('starting a PostgreSQL, RabbitMQ and Redis of its own…');
    const { startPrivateStack } = await import('../scripts/private-stack');
    const stack = await startPrivateStack({ statementStats: options.statements });
    // Stopped last, by exit(), once every level's runtime is gone.
    stackClose = () => {
      stackClose = null;
      return stack.close();
    };
    // The runtime and this process both use it: the runtime inherits this environment.
    Object.assign(process.env, stack.env);
    ownServerPids = () => stack.pids();
    log(`private stack in ${stack.dir}: ${Object.values(stack.env).join(', ')}`);
  }
  const amqp = await connectAmqp(process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl);
  const machine = await describeMachine({ databaseServerUrl: databaseServerUrl(), amqp, redisUrl: process.env.REDIS_URL ?? DEFAULTS.redisUrl }).finally(() =>
    amqp.close().catch(() => undefined),
  );
  log(`${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB; ${machine.postgres}; ${machine.rabbitmq}; ${machine.redis}; Node ${machine.node}; load ${machine.loadAverage.join(' ')}`);

  // --perf: said once if perf cannot record here, and the bench goes on without it.
  let perfFrequency = options.perfFrequency;
  if (perfFrequency !== null) {
    const { perfUnavailable } = await import('./perf-record');
    const why = await perfUnavailable(perfFrequency);
    if (why) {
      log(`--perf: ${why}; going on without it`);
      perfFrequency = null;
    }
  }
  const perfFailed = (reason: string) => {
    log(`--perf: ${reason}; going on without it`);
    perfFrequency = null;
  };

  const startedAt = new Date();
  const name = options.name ?? `${startedAt.toISOString().slice(0, 19).replace(/[:T]/g, '-')}-${options.mode}`;
  const result: import('./report').BenchReport = {
    kind: 'eventflow-bench',
    startedAt: startedAt.toISOString(),
    finishedAt: startedAt.toISOString(),
    commit: gitCommit(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    options,
    machine,
    levels: options.levels.map(() => ({ summary: undefined as unknown as import('./report').LevelSummary, runs: [] })),
    failure: null,
  };
  const write = async () => {
    result.finishedAt = new Date().toISOString();
    const done = result.levels.filter((l) => l.runs.length > 0);
    for (const l of done) l.summary = report.summarizeLevel(l.runs);
    const written = await report.writeReport({ ...result, levels: done }, options.outDir, name, options.chart);
    log(`wrote ${written.join(', ')}`);
    return done.map((l) => l.summary);
  };

  // Runs interleave the levels (run 1 of every level, then run 2, ...) so noise spreads over all of them.
  try {
    for (let run = 1; run <= options.runs && !interrupted; run++) {
      for (const [i, level] of options.levels.entries()) {
        if (interrupted) break;
        const r = await runLevel(options, level, run, {
          log,
          registerCleanup: (fn) => {
            cleanups.add(fn);
            return () => cleanups.delete(fn);
          },
          profileDir: path.join(options.outDir, 'profiles', `${name}-${level}-run${run}`),
          perf: perfFrequency === null ? undefined : { frequency: perfFrequency, onFailure: perfFailed },
          ownServerPids,
        });
        result.levels[i]!.runs.push(r);
        const m = r.figures.measured;
        log(
          `level ${level}, run ${run}: sent ${m.offeredPerSec.toFixed(0)}/s, accepted ${m.acceptedPerSec.toFixed(0)}/s, settled ${m.settledPerSec.toFixed(0)}/s; ` +
            `POST p99 ${m.post.p99.toFixed(1)} ms; settle p50 ${m.settle.p50.toFixed(0)} ms, p99 ${m.settle.p99.toFixed(0)} ms; ` +
            `missed on WS ${r.figures.missedOnWs}; drain ${(r.drain.ms / 1000).toFixed(1)} s; invariants ${r.invariants.ok ? 'held' : 'BROKEN'}` +
            (r.deliveries ? `; ${r.deliveries.perOrder.toFixed(2)} queue deliveries per order` : ''),
        );
        if (!r.invariants.ok) {
          result.failure = `invariants broken at level ${level}, run ${run} (namespace ${r.namespace}):\n${r.invariants.description}`;
          throw new Error(result.failure);
        }
      }
    }
  } catch (err) {
    result.failure ??= err instanceof Error ? (err.stack ?? err.message) : String(err);
    await write().catch((e) => log(`could not write the results: ${String(e)}`));
    throw err;
  }
  const levels = await write();
  console.log(report.formatReport({ ...result, levels: result.levels.map((l, i) => ({ ...l, summary: levels[i]! })) }));
  if (interrupted) process.exitCode = 130;
}

let parsed: ReturnType<typeof parseBenchArgs>;
let comparing: CompareArgs | null = null;
try {
  comparing = parseCompareArgs(process.argv.slice(2));
  // With --compare, the rest is checked here too, so a typo fails before anything is built.
  parsed = parseBenchArgs(comparing ? comparing.benchArgs : process.argv.slice(2));
} catch (err) {
  log(`${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
  process.exit(2);
}
if (comparing && parsed.kind === 'run') {
  try {
    await compare(comparing, log);
  } catch (err) {
    log(`\nCOMPARE FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
} else if (parsed.kind === 'help') {
  console.log(HELP);
} else if (parsed.kind === 'replot') {
  // Tables and chart again from a results file, with this version's report and chart.
  const { readFile } = await import('node:fs/promises');
  const report = await import('./report');
  const saved = JSON.parse(await readFile(parsed.file, 'utf8')) as import('./report').BenchReport;
  for (const l of saved.levels) l.summary = report.summarizeLevel(l.runs);
  console.log(report.formatReport(saved));
  const written = await report.writeReport(saved, path.dirname(parsed.file), path.basename(parsed.file, '.json'), true);
  log(`wrote ${written.join(', ')}`);
} else {
  const options = parsed.options;
  // --env settings reach the runtime, and this process, so both resolve the same topology.
  Object.assign(process.env, options.env);
  try {
    await main(options);
    await exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  } catch (err) {
    if (!interruption) log(`\nBENCH FAILED: ${err instanceof Error ? err.message : String(err)}`);
    await exit(1);
  }
}
