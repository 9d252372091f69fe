/**
 * The notification service's recent-event log as a pure fold over events: what a batch adds to the
 * stream of recent events, to each order's own short log and to the order owners. The consumer
 * writes what this says (recent-events.ts); a rebuild folds the services' event logs with it
 * (functions/notification/history.ts). Pure.
 */
import { orderIdOf } from '../../../shared/events/envelope';
import type { AnyEnvelope } from '../../../shared/events/envelope';
import { withoutPaymentToken } from '../../../shared/events/redact';
import { ownersNamedIn } from './access';

export interface RecentLogAppend {
  /** Stream entries, in publication order: the event id and the event as clients get it. */
  entries: { id: string; json: string }[];
  /** Order → the customer who placed it. */
  owners: Map<string, string>;
  /** Order → its events, in order. */
  byOrder: Map<string, string[]>;
}

/** What a batch of events adds to the recent-event log. No client is ever shown a payment token. */
export function planAppend(events: readonly AnyEnvelope[]): RecentLogAppend {
  const entries: RecentLogAppend['entries'] = [];
  const byOrder = new Map<string, string[]>();
  for (const raw of events) {
    const event = withoutPaymentToken(raw);
    const json = JSON.stringify(event);
    entries.push({ id: event.id, json });
    const orderId = orderIdOf(event);
    if (orderId) byOrder.set(orderId, [...(byOrder.get(orderId) ?? []), json]);
  }
  // Owners come from the events as written (order.created names its customer).
  return { entries, owners: ownersNamedIn(events), byOrder };
}

/**
 * The services' logs (each in its own order) as one sequence in publication order: each log's own
 * order is kept; between logs, the earlier occurredAt goes first (time only as a tie-break between
 * services, whose clocks may differ).
 */
export function mergeLogs(logs: readonly (readonly AnyEnvelope[])[]): AnyEnvelope[] {
  const at = logs.map(() => 0);
  const out: AnyEnvelope[] = [];
  for (;;) {
    let pick = -1;
    for (let i = 0; i < logs.length; i++) {
      const head = logs[i]![at[i]!];
      if (head && (pick < 0 || head.occurredAt < logs[pick]![at[pick]!]!.occurredAt)) pick = i;
    }
    if (pick < 0) return out;
    out.push(logs[pick]![at[pick]!++]!);
  }
}

export interface RecentLogDifference {
  id: string;
  kind: 'missing' | 'extra' | 'different';
}

/**
 * Live and rebuilt stream entries compared where both must hold the same: the ids from the later of
 * their oldest entries on (the live stream is trimmed approximately; older entries are gone from one
 * or the other by design). Order between services may differ (delivery order against the merge), so
 * entries are compared as a set, each with its content.
 */
export function compareRecentLog(
  live: readonly { id: string; json: string; at: string }[],
  rebuilt: readonly { id: string; json: string; at: string }[],
  /** Events that occurred after this may still be on their way to the consumer: not compared. */
  until: string,
) {
  const from = [live[0]?.at, rebuilt[0]?.at].filter((x): x is string => Boolean(x)).sort().at(-1) ?? '';
  const inWindow = (e: { at: string }) => e.at >= from && e.at <= until;
  const l = new Map(live.filter(inWindow).map((e) => [e.id, e.json]));
  const r = new Map(rebuilt.filter(inWindow).map((e) => [e.id, e.json]));
  const differences: RecentLogDifference[] = [];
  for (const [id, json] of r) {
    if (!l.has(id)) differences.push({ id, kind: 'missing' });
    else if (l.get(id) !== json) differences.push({ id, kind: 'different' });
  }
  for (const id of l.keys()) if (!r.has(id)) differences.push({ id, kind: 'extra' });
  return { from, until, liveEntries: l.size, rebuiltEntries: r.size, differences };
}
