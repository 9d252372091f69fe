import type { Log } from '../logger';
import { isTransient } from './errors';

/**
 * Runs `attempt` until it succeeds or fails for good: a transient failure (a dependency
 * unreachable) is retried in place, with growing pauses, until `until` (epoch ms). Each
 * redelivery of a batch counts against its queue's delivery limit, so riding out a short outage
 * here keeps good messages out of the DLQ.
 */
export async function retryInPlace<T>(attempt: () => Promise<T>, until: number, log: Log): Promise<T> {
  for (let pause = 100; ; pause = Math.min(pause * 2, 2_000)) {
    try {
      return await attempt();
    } catch (err) {
      if (!isTransient(err) || Date.now() + pause >= until) throw err;
      log.warn('transient failure; retrying in place', { error: (err as Error).message, pauseMs: pause });
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

/** How long an invocation may retry in place: up to `budgetMs`, leaving `reserveMs` before its timeout. */
export function retryDeadline(budgetMs: number, remainingMs: number | undefined, reserveMs = 10_000): number {
  return Date.now() + Math.min(budgetMs, (remainingMs ?? Infinity) - reserveMs);
}
