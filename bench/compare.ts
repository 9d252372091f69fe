/**
 * `npm run bench -- --compare <git ref>`: the before/after of a change, measured in one go. The
 * ref is checked out in a git worktree of its own (node_modules/.cache/eventflow/compare/<sha>),
 * then its bench and the working tree's run alternately with the same settings, one run per turn,
 * so that a noisy minute on a shared machine hits both. Prints both sides' tables and the ratios.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BenchReport, LevelRun } from './report';
import { cpuPerOrderMs, formatReport, summarizeLevel } from './report';
import { median } from './stats';

export interface CompareArgs {
  ref: string;
  /** Runs of each side, alternating (the bench's --runs, at least 2). */
  rounds: number;
  /** What both sides' benches get, without --compare, --runs, --name, --out, --no-chart. */
  benchArgs: string[];
  outDir: string;
  name: string | null;
}

/** Options that take a value, so that their value is not mistaken for a flag when stripped. */
const OWN = new Set(['--compare', '--runs', '--name', '--out']);

/** Pure: picks --compare and the options compare sets itself out of the bench's argv. Null without --compare. */
export function parseCompareArgs(argv: string[]): CompareArgs | null {
  const own: Record<string, string> = {};
  const benchArgs: string[] = [];
  let replot = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (OWN.has(flag)) {
      const value = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : argv[++i];
      if (value === undefined || value.startsWith('--')) throw new Error(`${flag}: a value is needed`);
      own[flag] = value;
    } else if (a === '--no-chart') {
      // each side's single run is drawn by nobody; the comparison is a table
    } else if (a === '--replot' || a.startsWith('--replot=')) {
      replot = true;
      benchArgs.push(a);
    } else {
      benchArgs.push(a);
    }
  }
  if (own['--compare'] === undefined) return null;
  if (replot) throw new Error('--compare and --replot do not go together');
  const rounds = own['--runs'] === undefined ? 3 : Number(own['--runs']);
  if (!Number.isInteger(rounds) || rounds < 2) throw new Error(`--compare needs --runs of at least 2 (each side runs that often, alternately), got "${own['--runs']}"`);
  return { ref: own['--compare'], rounds, benchArgs, outDir: own['--out'] ?? 'bench/results', name: own['--name'] ?? null };
}

/** Pure: which side runs first in round k (1-based): the ref in odd rounds, the working tree in even ones. */
export function roundOrder(round: number): ('ref' | 'tree')[] {
  return round % 2 === 1 ? ['ref', 'tree'] : ['tree', 'ref'];
}

/** Pure: new over old, "1.23×" with the change in percent; "-" when either is missing or old is zero. */
export function formatRatio(old: number, now: number): string {
  if (!Number.isFinite(old) || !Number.isFinite(now) || old === 0) return '-';
  const r = now / old;
  const change = (r - 1) * 100;
  return `${r.toFixed(2)}× (${change >= 0 ? '+' : ''}${change.toFixed(0)} %)`;
}

/** The figures compared, each from one run. */
export const METRICS: { name: string; of: (r: LevelRun) => number; digits: number }[] = [
  { name: 'settled/s', of: (r) => r.figures.measured.settledPerSec, digits: 0 },
  { name: 'accepted/s', of: (r) => r.figures.measured.acceptedPerSec, digits: 0 },
  { name: 'POST p99 ms', of: (r) => r.figures.measured.post.p99, digits: 0 },
  { name: 'settle p50 ms', of: (r) => r.figures.measured.settle.p50, digits: 0 },
  { name: 'settle p99 ms', of: (r) => r.figures.measured.settle.p99, digits: 0 },
  { name: 'CPU/order, whole machine, ms', of: (r) => cpuPerOrderMs(r).box!, digits: 1 },
  { name: 'CPU/order, runtime, ms', of: (r) => cpuPerOrderMs(r).runtime ?? Number.NaN, digits: 1 },
  { name: 'CPU/order, PostgreSQL, ms', of: (r) => cpuPerOrderMs(r).postgres ?? Number.NaN, digits: 1 },
  { name: 'CPU/order, RabbitMQ, ms', of: (r) => cpuPerOrderMs(r).rabbitmq ?? Number.NaN, digits: 1 },
];

/** Pure: one table per level: each metric's runs on both sides (in round order), medians and their ratio. */
export function compareTable(level: number, ref: LevelRun[], tree: LevelRun[], refLabel: string): string {
  const fmt = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const rows = METRICS.map((m) => {
    const a = ref.map(m.of);
    const b = tree.map(m.of);
    return [m.name, a.map((x) => fmt(x, m.digits)).join(', '), fmt(median(a), m.digits), b.map((x) => fmt(x, m.digits)).join(', '), fmt(median(b), m.digits), formatRatio(median(a), median(b))];
  });
  const header = [`level ${level}`, `${refLabel} runs`, 'median', 'working tree runs', 'median', 'ratio (tree / ref)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(header), `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

const git = (args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

/** Checks the ref out in a worktree of its own, once per commit, with its dependencies. Returns its folder. */
function prepareRef(ref: string, log: (s: string) => void): { sha: string; dir: string } {
  const sha = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  const top = git(['rev-parse', '--show-toplevel']);
  const dir = path.join(top, 'node_modules', '.cache', 'eventflow', 'compare', sha);
  if (!existsSync(path.join(dir, 'package.json'))) {
    log(`checking out ${ref} (${sha.slice(0, 7)}) in ${dir}`);
    git(['worktree', 'add', '--force', '--detach', dir, sha]);
  }
  if (!existsSync(path.join(dir, 'node_modules'))) {
    // The same lock file installs the same packages: share them instead of installing again.
    if (readFileSync(path.join(dir, 'package-lock.json'), 'utf8') === readFileSync(path.join(top, 'package-lock.json'), 'utf8')) {
      log('same package-lock.json: linking node_modules');
      symlinkSync(path.join(top, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    } else {
      log(`package-lock.json differs: npm ci in ${dir}`);
      execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
    }
  }
  return { sha, dir };
}

/** Runs one side's bench once (its own tsx, its own code), writing <outDir>/<name>.json. */
function runSide(cwd: string, args: string[], log: (s: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    log(`$ (cd ${cwd} && npm run bench -- ${args.join(' ')})`);
    // stdout (each run's own tables) is left out: the comparison prints both sides from the files.
    const child = spawn(path.join(cwd, 'node_modules', '.bin', 'tsx'), ['bench/main.ts', ...args], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      if (code === 0) resolve();
      else reject(new Error(`the bench in ${cwd} ended with ${signal ?? `exit code ${code}`}`));
    });
  });
}

/** Both sides' runs merged into one report per side, read from the files each run wrote. */
async function merge(files: string[]): Promise<BenchReport> {
  const reports = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as BenchReport));
  const first = reports[0]!;
  const levels = first.levels.map((l, i) => {
    const runs = reports.map((r, k) => ({ ...r.levels[i]!.runs[0]!, run: k + 1 }));
    return { runs, summary: summarizeLevel(runs) };
  });
  return { ...first, options: { ...first.options, runs: reports.length }, levels };
}

export async function compare(args: CompareArgs, log: (s: string) => void): Promise<void> {
  const { sha, dir } = prepareRef(args.ref, log);
  const tree = git(['rev-parse', '--show-toplevel']);
  const outDir = path.resolve(args.outDir);
  const base = args.name ?? `compare-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}`;
  const files: Record<'ref' | 'tree', string[]> = { ref: [], tree: [] };
  for (let round = 1; round <= args.rounds; round++) {
    for (const side of roundOrder(round)) {
      const name = `${base}-${side === 'ref' ? sha.slice(0, 7) : 'tree'}-${round}`;
      log(`\nround ${round} of ${args.rounds}: ${side === 'ref' ? `${args.ref} (${sha.slice(0, 7)})` : 'the working tree'}`);
      await runSide(side === 'ref' ? dir : tree, [...args.benchArgs, '--runs', '1', '--name', name, '--out', outDir, '--no-chart'], log);
      files[side].push(path.join(outDir, `${name}.json`));
    }
  }
  const before = await merge(files.ref);
  const after = await merge(files.tree);
  const label = `${args.ref} (${sha.slice(0, 7)})`;
  console.log(`\n=== ${label} ===`);
  console.log(formatReport(before));
  console.log(`\n=== the working tree (${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--untracked-files=no']) ? ', with changes' : ''}) ===`);
  console.log(formatReport(after));
  console.log(`\n=== ${label} against the working tree, alternating, ${args.rounds} runs each (round 1 ran the ref first) ===\n`);
  for (const [i, l] of before.levels.entries()) {
    const t = after.levels[i];
    if (t) console.log(`${compareTable(l.summary.level, l.runs, t.runs, args.ref)}\n`);
  }
  log(`results: ${[...files.ref, ...files.tree].join(', ')}`);
}
