/**
 * The dashboard's static export (web/out), built only when it is missing or older than its sources.
 * Used by `npm run dev` (local/web-server.ts), the browser tests, and the CDK web stack's asset
 * (lib/web.ts), which runs this file: `tsx scripts/build-web.ts [--force]`.
 *
 * Builds are serialised across processes by a lock directory, so a test run and a synth that both
 * find the export stale build it once.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processAlive } from './process-tree';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_DIR = path.join(REPO_ROOT, 'web');
export const WEB_OUT = path.join(WEB_DIR, 'out');
const STAMP = path.join(WEB_DIR, '.export-stamp');
const LOCK = path.join(WEB_DIR, '.export-lock');
/** A lock older than this belongs to a build that died without cleaning up. */
const LOCK_STALE_MS = 10 * 60_000;

/** Not inputs of the export: build output, dependencies, tests, generated typings. */
const IGNORED = new Set(['out', '.next', 'node_modules', '.export-stamp', '.export-lock', 'next-env.d.ts', 'tsconfig.tsbuildinfo']);
const IMPORT = /from\s+'(\.\.\/[^']+)'/g;

function webSources(dir = WEB_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (IGNORED.has(entry.name) || /\.test\.tsx?$/.test(entry.name)) return [];
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? webSources(full) : [full];
  });
}

/** Files outside web/ that the dashboard imports (pure domain modules of the services). */
function importedFromOutside(files: string[]): string[] {
  const outside = new Set<string>();
  for (const file of files.filter((f) => /\.tsx?$/.test(f))) {
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = path.resolve(path.dirname(file), spec!);
      if (!target.startsWith(WEB_DIR + path.sep)) outside.add(existsSync(`${target}.ts`) ? `${target}.ts` : target);
    }
  }
  return [...outside].filter((f) => existsSync(f) && statSync(f).isFile());
}

/** A hash of everything the export is made from, including the Next.js version that makes it. */
export function sourceHash(): string {
  const files = webSources();
  const all = [...files, ...importedFromOutside(files), createRequire(path.join(WEB_DIR, 'package.json')).resolve('next/package.json')].sort();
  const hash = createHash('sha256');
  for (const file of all) hash.update(path.relative(REPO_ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

export type ExportState = 'missing' | 'stale' | 'fresh';

export function exportState(hash = sourceHash()): ExportState {
  if (!existsSync(path.join(WEB_OUT, 'index.html')) || !existsSync(path.join(WEB_OUT, '404.html'))) return 'missing';
  try {
    return (JSON.parse(readFileSync(STAMP, 'utf8')) as { hash?: string }).hash === hash ? 'fresh' : 'stale';
  } catch {
    return 'stale';
  }
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      break;
    } catch {
      let owner = NaN;
      try {
        owner = Number(readFileSync(path.join(LOCK, 'pid'), 'utf8'));
      } catch {
        // just created, pid not written yet
      }
      const age = existsSync(LOCK) ? Date.now() - statSync(LOCK).mtimeMs : 0;
      if ((Number.isFinite(owner) && owner > 0 && !processAlive(owner)) || age > LOCK_STALE_MS) rmSync(LOCK, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function runNextBuild(): Promise<void> {
  const nextBin = createRequire(path.join(WEB_DIR, 'package.json')).resolve('next/dist/bin/next');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [nextBin, 'build'], {
      cwd: WEB_DIR,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`the dashboard build (next build in web/) failed with exit code ${code}:\n${output.slice(-8000)}`)),
    );
  });
}

export interface BuildResult {
  state: ExportState;
  built: boolean;
  ms: number;
}

/**
 * Builds web/out unless it is fresh. `log` hears when a build starts and how long it took.
 */
export async function ensureWebExport(opts: { force?: boolean; log?: (line: string) => void } = {}): Promise<BuildResult> {
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  return withLock(async () => {
    const hash = sourceHash();
    const state = exportState(hash);
    if (state === 'fresh' && !opts.force) return { state, built: false, ms: Date.now() - started };
    log(`building the dashboard (web/out is ${opts.force ? 'rebuilt on request' : state}; about 20 s)`);
    rmSync(STAMP, { force: true });
    await runNextBuild();
    writeFileSync(STAMP, JSON.stringify({ hash, builtAt: new Date().toISOString() }));
    const ms = Date.now() - started;
    log(`dashboard built in ${(ms / 1000).toFixed(1)} s`);
    return { state, built: true, ms };
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureWebExport({ force: process.argv.includes('--force'), log: (line) => process.stderr.write(`${line}\n`) }).then(
    (r) => {
      if (!r.built) process.stderr.write('web/out is up to date\n');
    },
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
