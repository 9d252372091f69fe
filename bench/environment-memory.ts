/**
 * `npx tsx bench/environment-memory.ts`: the resident memory one execution environment costs, as a
 * child process (what the local runtime runs) and as a worker thread (an isolate in a shared
 * process), for every function bundle of the runtime's last build: each loaded (its cold start:
 * the bundle imported, nothing invoked), then measured from /proc after a settle. Not a test.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

const cache = path.resolve(import.meta.dirname, '../node_modules/.cache/eventflow');
const build = readdirSync(cache).filter((d) => d.startsWith('runtime-')).map((d) => path.join(cache, d))[0];
if (!build) throw new Error('no runtime build under node_modules/.cache/eventflow: run npm run dev (or a test) once');
const bundles = readdirSync(build).filter((f) => f.endsWith('.mjs')).map((f) => path.join(build, f));
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const settle = () => new Promise((r) => setTimeout(r, 1_500));
const LOAD = (file: string) => `import(${JSON.stringify(`file://${file}`)}).then(() => setInterval(() => {}, 1 << 30))`;

// Child processes, all alive at once as the runtime keeps them.
const children = bundles.map((file) => spawn(process.execPath, ['--enable-source-maps', '-e', LOAD(file)], { stdio: 'ignore' }));
await settle();
await settle();
const perChild = children.map((c) => rssMiB(c.pid!));
for (const c of children) c.kill();

// Worker threads in this process, one per bundle.
const before = rssMiB(process.pid);
const workers = bundles.map((file) => new Worker(LOAD(file), { eval: true, stdout: true, stderr: true }));
await settle();
await settle();
const after = rssMiB(process.pid);
await Promise.all(workers.map((w) => w.terminate()));

const sum = perChild.reduce((a, b) => a + b, 0);
console.log(`${bundles.length} function bundles, loaded and idle (resident memory, MiB):`);
console.log(`  as child processes: ${sum.toFixed(0)} in all, ${(sum / bundles.length).toFixed(0)} each (${Math.min(...perChild).toFixed(0)}–${Math.max(...perChild).toFixed(0)})`);
console.log(`  as worker threads:  ${(after - before).toFixed(0)} in all, ${((after - before) / bundles.length).toFixed(0)} each (one process's growth)`);
