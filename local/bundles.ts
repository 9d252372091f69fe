/**
 * The local runtime runs each function from the bundle that ships to Lambda: built by esbuild with
 * the CDK app's settings (lib/bundling.ts), so what runs here is what runs there, and an
 * environment's cold start loads one file instead of compiling TypeScript (a quarter of the CPU).
 * Bundles are cached under node_modules/.cache/eventflow and rebuilt when a source file changed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import type { FunctionSpec } from '../functions/catalog';
import { ESM_BANNER, EXTERNAL_MODULES } from '../lib/bundling';

const ROOT = path.resolve(import.meta.dirname, '..');
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'eventflow');
/** The process that hosts a handler in an environment (local/environment.ts), bundled like the handlers. */
export const ENVIRONMENT_HOST = 'local/environment';

interface Manifest {
  dir: string;
  entries: Record<string, string>;
  /** Every source file that went into the bundles, with its modification time then. */
  inputs: Record<string, number>;
}

function manifestPath(name: string) {
  return path.join(CACHE, `${name}.json`);
}

function fresh(manifest: Manifest, entries: Record<string, string>): boolean {
  if (JSON.stringify(manifest.entries) !== JSON.stringify(entries) || !existsSync(manifest.dir)) return false;
  return Object.entries(manifest.inputs).every(([file, mtime]) => {
    try {
      return statSync(path.join(ROOT, file)).mtimeMs === mtime;
    } catch {
      return false;
    }
  });
}

/**
 * Bundles of the given functions (and of the environment host): id -> file. `name` keys the
 * cache, so that separate sets (the runtime's, a test's) do not evict each other.
 */
export async function bundleFunctions(specs: FunctionSpec[], name = 'runtime'): Promise<Record<string, string>> {
  const entries: Record<string, string> = { [ENVIRONMENT_HOST]: 'local/environment.ts' };
  for (const s of specs) entries[s.id] = s.entry;
  const file = manifestPath(name);
  if (existsSync(file)) {
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    if (fresh(manifest, entries)) return outputs(manifest.dir, entries);
  }
  // Each build goes to a folder of its own and the manifest is replaced last, so runtimes starting
  // at the same moment never load a half-written bundle.
  const dir = path.join(CACHE, `${name}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: entries,
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    mainFields: ['module', 'main'],
    banner: { js: ESM_BANNER },
    external: EXTERNAL_MODULES,
    sourcemap: true,
    sourcesContent: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.fromEntries(
    Object.keys(result.metafile.inputs)
      .filter((f) => !f.startsWith('node_modules/'))
      .map((f) => [f, statSync(path.join(ROOT, f)).mtimeMs]),
  );
  const manifest: Manifest = { dir, entries, inputs };
  const tmp = `${file}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, JSON.stringify(manifest));
  renameSync(tmp, file);
  removeStaleBuilds(name, dir);
  return outputs(dir, entries);
}

function outputs(dir: string, entries: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(entries).map((id) => [id, path.join(dir, `${id}.mjs`)]));
}

/** Earlier builds of the same set, older than a minute (a runtime started just before may still load one). */
function removeStaleBuilds(name: string, keep: string) {
  for (const entry of readdirSync(CACHE)) {
    const full = path.join(CACHE, entry);
    if (full === keep || !entry.startsWith(`${name}-`)) continue;
    try {
      if (Date.now() - statSync(full).mtimeMs > 60_000) rmSync(full, { recursive: true, force: true });
    } catch {
      // another runtime removed it first
    }
  }
}
