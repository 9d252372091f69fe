/**
 * The terminal's status line: what happened in the last 10 s, in place of the per-order and
 * per-batch lines. Orders are counted from the order service's outbox with the overview's own rules
 * (functions/order/domain/stats.ts), so the line and the dashboard agree. Pure.
 */
import { factOf } from '../../functions/order/domain/stats';

export interface OrderRow {
  type: string;
  occurredAt: string;
  status: string | null;
  previousStatus: string | null;
  /** When the order was placed (ms), for its settle time. */
  orderCreatedAt: number | null;
}

export interface OrderCounts {
  placed: number;
  confirmed: number;
  failed: number;
  cancelled: number;
  /** Placed → confirmed or failed (ms), as the overview's settle time. */
  settleMs: number[];
}

export const noOrders = (): OrderCounts => ({ placed: 0, confirmed: 0, failed: 0, cancelled: 0, settleMs: [] });

export function countOrders(rows: readonly OrderRow[], into: OrderCounts = noOrders()): OrderCounts {
  for (const r of rows) {
    const order = r.orderCreatedAt === null ? undefined : { createdAt: r.orderCreatedAt, totalCents: 0 };
    const fact = factOf({ type: r.type, occurredAt: r.occurredAt, data: { status: r.status, previousStatus: r.previousStatus } }, order);
    if (!fact) continue;
    into[fact.kind]++;
    if (fact.kind !== 'placed' && fact.kind !== 'cancelled' && fact.settleMs !== null) into.settleMs.push(fact.settleMs);
  }
  return into;
}

/** The p-th percentile (0..1) of some values, nearest rank; null for none. */
export function percentileOf(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export interface StatusWindow {
  seconds: number;
  /** null: the order database did not answer. */
  orders: OrderCounts | null;
  /** Messages waiting per service queue (its partitions together) and per DLQ that holds any; null: the broker did not answer. */
  queues: { name: string; depth: number }[] | null;
  deadLetters: { name: string; depth: number }[];
  /** HTTP requests refused: every environment busy (503), or past a rate limit (429). */
  throttled: number;
  rateLimited: number;
  environments: { busy: number; total: number };
  /** Log lines summarised here instead of shown (LOG_LEVEL=DEBUG shows them). */
  summarised: number;
}

const ms = (v: number | null) => (v === null ? '—' : v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`);

/**
 * Whether nothing happened and nothing waits: the line would say nothing new. Busy environments
 * alone do not count: the schedules (relays, reconciler) run whether anything happens or not.
 */
export function isIdle(w: StatusWindow): boolean {
  const o = w.orders;
  return o !== null && o.placed + o.confirmed + o.failed + o.cancelled === 0 && (w.queues ?? []).every((q) => q.depth === 0) && w.throttled + w.rateLimited + w.summarised === 0;
}

/** The status line's text (without time and level). */
export function formatStatus(w: StatusWindow): string {
  const parts: string[] = [];
  const o = w.orders;
  parts.push(
    o === null
      ? 'orders: the order database does not answer'
      : `${w.seconds} s: ${o.placed} placed, ${o.confirmed} confirmed, ${o.failed} failed, ${o.cancelled} cancelled; settle p50 ${ms(percentileOf(o.settleMs, 0.5))} p95 ${ms(percentileOf(o.settleMs, 0.95))}`,
  );
  parts.push(w.queues === null ? 'queues: the broker does not answer' : `queues ${w.queues.map((q) => `${q.name} ${q.depth}`).join(', ')}`);
  if (w.deadLetters.length) parts.push(`DLQ ${w.deadLetters.map((q) => `${q.name} ${q.depth}`).join(', ')} (npm run dlq)`);
  parts.push(`throttled ${w.throttled}${w.rateLimited ? `, rate-limited ${w.rateLimited}` : ''}`);
  parts.push(`environments ${w.environments.busy}/${w.environments.total} busy`);
  if (w.summarised) parts.push(`${w.summarised} info lines summarised (LOG_LEVEL=DEBUG shows them)`);
  return parts.join(' · ');
}
