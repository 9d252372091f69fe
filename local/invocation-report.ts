/**
 * How often each function was invoked, and with how many events, for the bench (bench/sampler.ts):
 * invocations per order are a cost the CPU tables only show summed. When
 * EVENTFLOW_INVOCATION_REPORT names a file, the runtime rewrites it every second with its running
 * totals; a tool outside the runtime reads the differences. Off unless asked; nothing of it runs on
 * Lambda.
 */
import { renameSync, writeFileSync } from 'node:fs';

/** Running totals per function id since the runtime started. */
export type InvocationCounts = Record<string, { invocations: number; events: number }>;

/** The events one invocation carries: a queue batch's messages, else one (a request, a schedule's tick). */
export function eventsIn(event: unknown): number {
  const byQueue = (event as { rmqMessagesByQueue?: Record<string, unknown[]> } | null)?.rmqMessagesByQueue;
  if (!byQueue) return 1;
  return Object.values(byQueue).reduce((n, messages) => n + messages.length, 0);
}

export function countInvocation(counts: InvocationCounts, functionId: string, event: unknown): void {
  const c = (counts[functionId] ??= { invocations: 0, events: 0 });
  c.invocations++;
  c.events += eventsIn(event);
}

/** Writes `counts` to `file` every `everyMs` (whole, by a rename, so a reader never sees half), without keeping the process alive. */
export function startInvocationReports(file: string, counts: InvocationCounts, everyMs = 1_000): () => void {
  const write = () => {
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify({ at: Date.now(), counts }));
      renameSync(`${file}.tmp`, file);
    } catch {
      // the folder went away: the reader is gone too
    }
  };
  write();
  const timer = setInterval(write, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    write();
  };
}
