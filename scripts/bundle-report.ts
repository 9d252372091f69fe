/**
 * Bundles every catalog function the way the CDK stack does (lib/bundling.ts) and prints each
 * bundle's size. `npm run bundle:report`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { FUNCTIONS, type FunctionSpec } from '../functions/catalog';
import { ESM_BANNER, EXTERNAL_MODULES, NODE_TARGET, REPO_ROOT } from '../lib/bundling';

export interface BundleSize {
  id: string;
  /** index.mjs, minified. */
  bytes: number;
  sourceMapBytes: number;
  /** Package names (from node_modules) inside the bundle. */
  packages: string[];
  metafile: Metafile;
}

export async function bundleFunction(spec: FunctionSpec, outdir: string): Promise<BundleSize> {
  const outfile = path.join(outdir, spec.id, 'index.mjs');
  const result = await build({
    entryPoints: [path.join(REPO_ROOT, spec.entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: NODE_TARGET,
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: { js: ESM_BANNER },
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: EXTERNAL_MODULES,
    metafile: true,
    logLevel: 'silent',
  });
  const outputs = result.metafile.outputs;
  const key = (suffix: string) => Object.keys(outputs).find((k) => k.endsWith(suffix))!;
  const packages = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    if (m) packages.add(m[1]!);
  }
  return {
    id: spec.id,
    bytes: outputs[key('index.mjs')]!.bytes,
    sourceMapBytes: outputs[key('index.mjs.map')]!.bytes,
    packages: [...packages].sort(),
    metafile: result.metafile,
  };
}

export async function bundleAll(specs: FunctionSpec[] = FUNCTIONS): Promise<BundleSize[]> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'eventflow-bundles-'));
  try {
    return await Promise.all(specs.map((spec) => bundleFunction(spec, outdir)));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

async function main() {
  const sizes = await bundleAll();
  const width = Math.max(...sizes.map((s) => s.id.length));
  console.log(`${'function'.padEnd(width)}  ${'bundle'.padStart(10)}  ${'source map'.padStart(10)}  packages`);
  for (const s of sizes) {
    console.log(`${s.id.padEnd(width)}  ${kb(s.bytes).padStart(10)}  ${kb(s.sourceMapBytes).padStart(10)}  ${s.packages.join(', ')}`);
  }
  console.log(`\n@aws-sdk/* is external (provided by the nodejs22.x runtime). Total: ${kb(sizes.reduce((a, s) => a + s.bytes, 0))}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
