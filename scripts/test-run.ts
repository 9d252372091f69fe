/**
 * The test runner behind `npm test` and `npm run test:quick`: independent suites in processes of
 * their own, at the same time, each integration group with its own runtime in its own namespace
 * (test/support/global-setup.ts). Every suite's output goes to the terminal with its name in front
 * and whole to test-results/logs/<suite>.log; the run ends with each suite's time, the slowest
 * test files and one line of counts.
 *
 *   tsx scripts/test-run.ts all     everything CI runs (npm test)
 *   tsx scripts/test-run.ts quick   type check, unit tests, the integration tests of what changed since main
 *   tsx scripts/test-run.ts integration   every integration file, in groups
 *
 * TEST_GROUPS=<n> sets how many integration groups (runtimes) run at once; by default as many as
 * the shared PostgreSQL has connections for, at most 3 (2 for quick).
 */
import { spawn, execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { DEFAULTS } from '../shared/config';
import { balance, planIntegration } from './test-plan';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'test-results');
const LOGS = path.join(OUT, 'logs');
const REPORTS = path.join(OUT, 'vitest');
/** Each test file's last duration (ms), by "project:path", to balance the groups of the next run. */
const DURATIONS = path.join(ROOT, 'node_modules/.cache/eventflow/test-durations.json');
const VITEST = path.join(ROOT, 'node_modules/.bin/vitest');
const CORES = os.availableParallelism();

interface Suite {
  name: string;
  command: string;
  args: string[];
  /** Suites that must have ended before this one starts. */
  after?: string[];
  /** The vitest JSON report it writes, for the durations. */
  report?: string;
}

interface Outcome {
  name: string;
  code: number;
  seconds: number;
  /** CPU seconds (user + system) of the suite and every process it started and waited for; null without /usr/bin/time. */
  cpu: number | null;
}

/** GNU time reports what a suite cost in CPU, its runtimes and their environments included: the floor two cores can reach. */
const TIME = '/usr/bin/time';

function integrationFiles(): string[] {
  return readdirSync(path.join(ROOT, 'test/integration'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `test/integration/${f}`)
    .sort();
}

function readDurations(): Map<string, number> {
  try {
    return new Map(Object.entries(JSON.parse(readFileSync(DURATIONS, 'utf8')) as Record<string, number>));
  } catch {
    return new Map();
  }
}

function git(args: string[]): string[] {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** What changed since main: the branch's commits, the working tree and files git does not track yet. */
function changedSinceMain(): string[] {
  const base = process.env.TEST_BASE ?? 'main';
  return [
    ...new Set([
      ...git(['diff', '--name-only', `${base}...HEAD`]),
      ...git(['diff', '--name-only', 'HEAD']),
      ...git(['ls-files', '--others', '--exclude-standard']),
    ]),
  ].sort();
}

function vitestSuite(name: string, project: string, files: string[] = [], after?: string[]): Suite {
  const report = path.join(REPORTS, `${name}.json`);
  return {
    name,
    command: VITEST,
    args: ['run', '--project', project, '--reporter=default', '--reporter=./test/support/summary-reporter.ts', '--reporter=json', `--outputFile.json=${report}`, ...files],
    after,
    report,
  };
}

/** Integration files in groups of about equal length, one vitest process (and so one runtime) each. */
function integrationSuites(files: string[], groups: number): Suite[] {
  const durations = readDurations();
  const byPath = new Map([...durations].filter(([k]) => k.startsWith('integration:')).map(([k, v]) => [k.slice('integration:'.length), v]));
  return balance(files, byPath, groups).map((group, i) => vitestSuite(`integration-${i + 1}`, 'integration', group));
}

const TYPECHECK: Suite = { name: 'typecheck', command: path.join(ROOT, 'node_modules/.bin/tsc'), args: ['--noEmit', '-p', '.'] };

/**
 * A runtime holds 13 to 19 PostgreSQL connections when idle (measured in pg_stat_activity on the
 * shared server), more while its environments scale out; the server allows max_connections (100 by
 * default) for everyone on the machine. The connections, not ports, are what parallel runtimes
 * compete for: past them a runtime's queries fail with "too many clients already".
 */
const CONNECTIONS_PER_RUNTIME = 25;

/** How many more runtimes the shared PostgreSQL has connections for now. */
async function runtimesAffordable(): Promise<number> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl });
  try {
    await client.connect();
    const { rows } = await client.query(
      "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int - (SELECT count(*) FROM pg_stat_activity)::int AS free",
    );
    return Math.floor(Number(rows[0].free) / CONNECTIONS_PER_RUNTIME);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The integration groups to run: as asked (TEST_GROUPS) or `wanted`, but no more than the shared
 * PostgreSQL has connections for, after `others` runtimes of the same run and one that a test file
 * starts of its own (several do); never fewer than one.
 */
async function groupCount(wanted: number, others: number): Promise<number> {
  const asked = Number(process.env.TEST_GROUPS);
  if (asked > 0) return asked;
  const affordable = (await runtimesAffordable()) - others - 1;
  const groups = Math.max(1, Math.min(wanted, affordable));
  if (groups < wanted) process.stdout.write(`the shared PostgreSQL has connections for ${Math.max(0, affordable)} more runtime(s) now: ${groups} integration group(s)\n`);
  return groups;
}

/**
 * The heavy suites start once the unit tests are done: a few unit tests measure real time on this
 * machine (bench-perf records a busy loop of its own with perf and expects most of a second of it),
 * which five suites at once on two cores starve. Alone with the type check they take about 20 s.
 */
const afterUnit = (suite: Suite): Suite => ({ ...suite, after: [...(suite.after ?? []), 'unit'] });

async function plan(mode: string): Promise<Suite[]> {
  if (mode === 'quick') {
    const changed = changedSinceMain();
    const { integration, because } = planIntegration(changed, integrationFiles());
    process.stdout.write(`${changed.length} path(s) changed since main; integration tests: ${integration.length ? '' : 'none'}\n`);
    for (const f of integration) process.stdout.write(`  ${f}  (${because[f]})\n`);
    return [
      // Incremental: a second quick run checks only what changed since the first.
      { ...TYPECHECK, args: [...TYPECHECK.args, '--incremental', '--tsBuildInfoFile', path.join(ROOT, 'node_modules/.cache/eventflow/tsc-quick.tsbuildinfo')] },
      vitestSuite('unit', 'unit'),
      ...integrationSuites(integration, await groupCount(2, 0)).map(afterUnit),
    ];
  }
  if (mode === 'integration') return integrationSuites(integrationFiles(), await groupCount(3, 0));
  if (mode === 'all') {
    const suites: Suite[] = [
      TYPECHECK,
      { name: 'layers', command: 'npm', args: ['run', '-s', 'lint:layers'] },
      { name: 'web', command: 'npm', args: ['test', '--silent', '-w', 'web'] },
      vitestSuite('unit', 'unit'),
      afterUnit(vitestSuite('cdk', 'cdk')),
      ...integrationSuites(integrationFiles(), await groupCount(3, 1)).map(afterUnit),
      afterUnit(vitestSuite('browser', 'browser')),
    ];
    // The fault run stops and starts servers of its own under load for minutes: alone, at the end,
    // so that neither its load nor the others' shape what it sees.
    suites.push(vitestSuite('stack', 'stack', [], suites.map((s) => s.name)));
    return suites;
  }
  throw new Error(`usage: tsx scripts/test-run.ts all|quick|integration (got ${mode})`);
}

const children = new Set<ReturnType<typeof spawn>>();

/** The runtimes' start bound (test/support/runtime-process.ts): 90 s for each runtime that starts at the same time. */
let startSeconds = 90;

function run(suite: Suite): Promise<Outcome> {
  const started = Date.now();
  const log = createWriteStream(path.join(LOGS, `${suite.name}.log`));
  const prefix = `[${suite.name}] `;
  const cpuFile = path.join(LOGS, `${suite.name}.cpu`);
  rmSync(cpuFile, { force: true });
  const timed = existsSync(TIME);
  const [command, args] = timed ? [TIME, ['-f', '%U %S', '-o', cpuFile, suite.command, ...suite.args]] : [suite.command, suite.args];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...(process.stdout.isTTY ? { FORCE_COLOR: '1' } : {}), TEST_RUNTIME_START_SECONDS: String(startSeconds) },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own, signalled whole (stop() below): GNU time does not pass a signal on
    // to the suite it measures, and a suite's vitest must get it to end its runtime.
    detached: true,
  });
  children.add(child);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      log.write(`${line}\n`);
      process.stdout.write(`${prefix}${line}\n`);
    });
  }
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      children.delete(child);
      log.end();
      resolve({ name: suite.name, code: code ?? (signal ? 1 : 0), seconds: (Date.now() - started) / 1000, cpu: readCpu(cpuFile) });
    });
    child.once('error', (err) => {
      log.write(`${err.message}\n`);
    });
  });
}

function readCpu(file: string): number | null {
  if (!existsSync(file)) return null;
  // The last line: GNU time puts "Command exited with non-zero status N" before it when a suite fails.
  const last = readFileSync(file, 'utf8').trim().split('\n').pop() ?? '';
  const [user, system] = last.split(' ').map(Number);
  return user !== undefined && system !== undefined && Number.isFinite(user + system) ? user + system : null;
}

/** Starts every suite as soon as the suites it waits for have ended; all run, whatever fails. */
async function runAll(suites: Suite[]): Promise<Outcome[]> {
  const done = new Map<string, Promise<Outcome>>();
  const start = (s: Suite): Promise<Outcome> => {
    let p = done.get(s.name);
    if (!p) {
      const before = (s.after ?? []).filter((n) => n !== s.name).map((n) => start(suites.find((x) => x.name === n)!));
      p = Promise.all(before).then(() => run(s));
      done.set(s.name, p);
    }
    return p;
  };
  return Promise.all(suites.map(start));
}

interface FileResult {
  file: string;
  seconds: number;
  tests: number;
  passed: number;
  failed: number;
  skipped: number;
}

/** Per-file results from the suites' JSON reports (a suite that died before writing one has none). */
function readReports(suites: Suite[]): FileResult[] {
  const results: FileResult[] = [];
  for (const s of suites) {
    if (!s.report || !existsSync(s.report)) continue;
    const project = s.args[s.args.indexOf('--project') + 1]!;
    const report = JSON.parse(readFileSync(s.report, 'utf8')) as {
      testResults: { name: string; startTime: number; endTime: number; assertionResults: { status: string }[] }[];
    };
    for (const r of report.testResults) {
      const statuses = r.assertionResults.map((a) => a.status);
      results.push({
        file: `${project}:${path.relative(ROOT, r.name)}`,
        seconds: (r.endTime - r.startTime) / 1000,
        tests: statuses.length,
        passed: statuses.filter((x) => x === 'passed').length,
        failed: statuses.filter((x) => x === 'failed').length,
        skipped: statuses.filter((x) => x !== 'passed' && x !== 'failed').length,
      });
    }
  }
  return results;
}

async function main() {
  const mode = process.argv[2] ?? 'all';
  const started = Date.now();
  const loadAtStart = os.loadavg()[0]!;
  rmSync(REPORTS, { recursive: true, force: true });
  mkdirSync(LOGS, { recursive: true });
  mkdirSync(REPORTS, { recursive: true });
  const suites = await plan(mode);
  const runtimes = suites.filter((s) => s.name.startsWith('integration-') || s.name === 'browser').length;
  startSeconds = 90 * Math.max(1, runtimes);
  const stop = (signal: NodeJS.Signals) => {
    // Each vitest process ends its runtime (global setup's teardown) on the signal.
    for (const c of children) {
      try {
        if (c.pid) process.kill(-c.pid, signal);
      } catch {
        // already gone
      }
    }
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const outcomes = await runAll(suites);
  const wall = (Date.now() - started) / 1000;
  const files = readReports(suites);

  const durations = readDurations();
  for (const f of files) durations.set(f.file, Math.round(f.seconds * 1000));
  mkdirSync(path.dirname(DURATIONS), { recursive: true });
  writeFileSync(DURATIONS, JSON.stringify(Object.fromEntries([...durations].sort()), null, 1));

  const out: string[] = ['', 'suite                 result   seconds  cpu seconds'];
  for (const o of outcomes) {
    out.push(`${o.name.padEnd(21)} ${(o.code === 0 ? 'ok' : `exit ${o.code}`).padEnd(8)} ${o.seconds.toFixed(1).padStart(7)}  ${o.cpu === null ? '' : o.cpu.toFixed(1).padStart(11)}`);
  }
  const cpu = outcomes.reduce((s, o) => s + (o.cpu ?? 0), 0);
  const slowest = [...files].sort((a, b) => b.seconds - a.seconds).slice(0, 10);
  if (slowest.length) {
    out.push('', 'slowest test files (seconds)');
    for (const f of slowest) out.push(`${f.seconds.toFixed(1).padStart(7)}  ${f.file}`);
  }
  const sum = files.reduce((s, f) => s + f.seconds, 0);
  const count = (k: 'passed' | 'failed' | 'skipped') => files.reduce((s, f) => s + f[k], 0);
  out.push(
    '',
    `${files.length} test files, ${sum.toFixed(0)} s of test file time in ${wall.toFixed(0)} s of wall time`,
    `${cpu.toFixed(0)} CPU seconds in the suites' own processes (the shared PostgreSQL, RabbitMQ and Redis not counted): at least ${(cpu / CORES).toFixed(0)} s on ${CORES} cores`,
    `${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped; ${outcomes.filter((o) => o.code !== 0).map((o) => o.name).join(', ') || 'every suite passed'}`,
    `load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0]!.toFixed(1)} at the end; logs: ${path.relative(ROOT, LOGS)}/`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  process.exitCode = outcomes.every((o) => o.code === 0) ? 0 : 1;
}

await main();
