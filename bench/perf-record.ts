/**
 * Records where the whole machine's CPU goes with Linux perf (`perf record -a`) and summarizes the
 * recording with `perf script` (perf-profile.ts). It samples the cpu-clock software event: a
 * timer, so it works in a VM without a hardware PMU, and each sample stands for the same slice of
 * CPU time whichever process or the kernel was running.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { PERF_SCRIPT_FIELDS, perfTally } from './perf-profile';
import type { PerfSummary, PerfWindow } from './perf-profile';

/**
 * Sample times on CLOCK_MONOTONIC, the clock of process.hrtime (monotonicSeconds), so that a window
 * of this process's timeline picks its samples. No build ids and no copies of the binaries into
 * ~/.debug (-B -N): perf script reads the recording on this machine, against the same files, and
 * stopping stays quick.
 */
const recordArgs = (file: string, frequency: number) => ['record', '-a', '-e', 'cpu-clock', '-F', String(frequency), '-k', 'CLOCK_MONOTONIC', '-B', '-N', '-o', file];

/** Now on the clock of the recording's sample times, in seconds. */
export const monotonicSeconds = () => Number(process.hrtime.bigint()) / 1e9;

/** Starts perf, keeping the tail of what it says on stderr (its last line says why it failed). */
function spawnPerf(args: string[], stdout: 'ignore' | 'pipe') {
  const child = spawn('perf', args, { stdio: ['ignore', stdout, 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  return { child, stderr: () => stderr, lastLine: () => stderr.trim().split('\n').at(-1) ?? '' };
}

/** Runs perf to its end: its exit code (null when it could not start) and the tail of its stderr. */
function run(args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const perf = spawnPerf(args, 'ignore');
    const timer = setTimeout(() => perf.child.kill('SIGKILL'), timeoutMs);
    perf.child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stderr: err.message });
    });
    perf.child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr: perf.stderr() });
    });
  });
}

/** Why `perf record -a` cannot run here (not installed, not permitted), or null if it can. */
export async function perfUnavailable(frequency: number): Promise<string | null> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-perf-'));
  try {
    const { code, stderr } = await run([...recordArgs(path.join(dir, 'probe.data'), frequency), '--', 'true'], 60_000);
    if (code === 0) return null;
    const detail = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('[ perf record:'))[0] ?? `exit code ${code}`;
    return code === null ? `perf could not be started (${detail})` : `perf record -a failed (${detail})`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface PerfRecording {
  /** Ends the recording (SIGINT, as perf expects) and waits until perf has written its file. */
  stop(): Promise<{ ok: true } | { ok: false; reason: string }>;
}

/** Starts `perf record -a` into file; stop() ends it. */
export function startPerfRecord(file: string, frequency: number): PerfRecording {
  const perf = spawnPerf(recordArgs(file, frequency), 'ignore');
  const { child } = perf;
  let failure: string | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      failure = err.message;
      resolve({ code: null, signal: null });
    });
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  let stopping: Promise<{ ok: true } | { ok: false; reason: string }> | undefined;
  return {
    stop() {
      return (stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
        // Writing the file takes a moment; a perf that hangs is killed rather than waited for.
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        const { code, signal } = await exited.finally(() => clearTimeout(timer));
        // Stopped by SIGINT, perf record writes its file and then ends by that signal.
        if (failure || (code !== 0 && signal !== 'SIGINT')) {
          return { ok: false as const, reason: failure ?? `perf record ended with ${code ?? signal}: ${perf.lastLine()}` };
        }
        const size = await stat(file).then((s) => s.size).catch(() => 0);
        return size > 0 ? { ok: true as const } : { ok: false as const, reason: `perf record wrote nothing to ${file}` };
      })());
    },
  };
}

/**
 * Summarizes a recording, reading `perf script` line by line: the samples within window
 * (monotonicSeconds), all of them without one. groupOf names a sample's process group by its pid
 * (the thread group id: a thread of beam.smp is beam.smp); pid 0 is the idle task's work that
 * was not idling.
 */
export async function summarizePerfFile(
  file: string,
  frequency: number,
  groupOf: (pid: number, comm: string) => string,
  { top = 8, window }: { top?: number; window?: PerfWindow } = {},
): Promise<PerfSummary> {
  const perf = spawnPerf(['script', '-i', file, '-F', PERF_SCRIPT_FIELDS], 'pipe');
  const { child } = perf;
  const closed = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const tally = perfTally(groupOf, window);
  for await (const line of createInterface({ input: child.stdout!, crlfDelay: Infinity })) tally.add(line);
  const code = await closed;
  if (code !== 0) throw new Error(`perf script ended with ${code}: ${perf.lastLine()}`);
  return tally.summary({ file, frequency }, top);
}
