import type { AnyEnvelope } from '../../../shared/events/envelope';
import { inHistoryOrder, instantOf } from '../../../shared/events/history';
import { visibleEvents } from './subscriptions';

/** Where a client's view stopped: the last event it saw, or a time (microseconds since the epoch, as instantOf). */
export type Since = { kind: 'event'; id: string } | { kind: 'time'; at: number };

/** Clocks of the Lambdas that stamp occurredAt may disagree this much; a time boundary allows for it. */
export const CLOCK_SKEW_MS = 2_000;
/** Most events one resume returns; the reply's `through` lets the client ask again from there. */
export const MAX_RESUME_EVENTS = 500;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseSince(value: string): Since {
  return UUID.test(value) ? { kind: 'event', id: value } : { kind: 'time', at: instantOf(value) };
}

/**
 * Whether the log, oldest first, reaches back to the boundary, so that everything after it is in
 * the log. Reading the log newest first, a reader stops as soon as this holds.
 */
export function reachesBack(log: readonly AnyEnvelope[], since: Since): boolean {
  return since.kind === 'event'
    ? log.some((e) => e.id === since.id)
    : log.some((e) => instantOf(e.occurredAt) <= since.at - CLOCK_SKEW_MS * 1000);
}

export interface ResumeSelection {
  events: AnyEnvelope[];
  /** False when the log does not reach back to the boundary or the answer was cut at the maximum: the client may have missed events. */
  complete: boolean;
  /** Id of the last event returned, to resume from if the answer was cut. */
  through: string | null;
}

/**
 * The events a client missed, from the recent-event log (oldest first, in publication order, possibly
 * with duplicates from redelivered batches), filtered by the client's subscriptions, in history
 * order (shared/events/history.ts).
 */
export function selectMissed(
  log: readonly AnyEnvelope[],
  since: Since,
  orderIds: ReadonlySet<string>,
  max = MAX_RESUME_EVENTS,
  /** What the client may receive at all (its role's rule); by default everything. */
  mayReceive: (event: AnyEnvelope) => boolean = () => true,
): ResumeSelection {
  const seen = new Set<string>();
  const unique = log.filter((e) => !seen.has(e.id) && seen.add(e.id));
  let after: AnyEnvelope[];
  let reached: boolean;
  if (since.kind === 'event') {
    const at = unique.findIndex((e) => e.id === since.id);
    reached = at >= 0;
    after = reached ? unique.slice(at + 1) : unique;
  } else {
    // Another process's clock may have stamped an event published after the boundary with an
    // earlier time: everything within the skew allowance goes out again (clients drop ids seen).
    const from = since.at - CLOCK_SKEW_MS * 1000;
    reached = unique.some((e) => instantOf(e.occurredAt) <= from);
    after = unique.filter((e) => instantOf(e.occurredAt) > from);
  }
  const visible = visibleEvents(orderIds, after).filter(mayReceive);
  const taken = visible.slice(0, max);
  // `through` is a place in the log, where the next resume starts; the events themselves go out in
  // history order (a late relay can put an order's events out of order in the log).
  return { events: inHistoryOrder(taken), complete: reached && visible.length <= max, through: taken.at(-1)?.id ?? null };
}
