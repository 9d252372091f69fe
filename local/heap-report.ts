/**
 * Each environment's V8 heap, for the soak (bench/soak/): what /proc shows is resident memory, which
 * does not tell a heap that keeps growing (a leak in a function) from a heap that is merely large.
 * When EVENTFLOW_HEAP_REPORT_DIR names a folder, every environment writes its heap figures there
 * every few seconds, one small file per process, and a tool outside the runtime reads them
 * (bench/soak/heaps.ts). Off unless asked; nothing of it runs on Lambda.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface HeapReport {
  function: string;
  pid: number;
  /** When it was written (epoch ms). */
  at: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  /** Memory outside the heap held by JavaScript objects (buffers), which a heap figure alone misses. */
  externalMiB: number;
}

const MiB = 2 ** 20;

/** Writes this process's heap figures to `dir` now and every `everyMs`, without keeping the process alive; removed at exit. */
export function startHeapReports(dir: string, functionId: string, everyMs = 5_000): void {
  const file = path.join(dir, `${process.pid}.json`);
  const write = () => {
    const m = process.memoryUsage();
    const report: HeapReport = { function: functionId, pid: process.pid, at: Date.now(), heapUsedMiB: m.heapUsed / MiB, heapTotalMiB: m.heapTotal / MiB, externalMiB: m.external / MiB };
    try {
      writeFileSync(file, JSON.stringify(report));
    } catch {
      // the folder went (the soak ended): nothing to report to
    }
  };
  write();
  setInterval(write, everyMs).unref();
  process.once('exit', () => rmSync(file, { force: true }));
}
