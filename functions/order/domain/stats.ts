/**
 * Order throughput, outcomes, revenue and settle times, tallied in time buckets. The same rules run
 * in the order service (GET /stats/orders, from its outbox) and in the dashboard (from the events it
 * receives after the server's cut), so the two add up. Pure: no I/O, no imports with side effects.
 */

/** What the saga settles into, or what a person does to an order. */
export type Outcome = 'confirmed' | 'failed' | 'cancelled';

/** One thing that happened to an order, as the figures count it. */
export type OrderFact =
  | { kind: 'placed'; at: number }
  | {
      kind: Outcome;
      at: number;
      /** Placed → this outcome, when the order was still PENDING (the saga settled); null otherwise. */
      settleMs: number | null;
      /** The order's total, counted as revenue when it is confirmed. */
      revenueCents: number;
    };

/** The part of an event envelope that classifying needs. */
export interface OrderEventLike {
  type: string;
  occurredAt: string;
  data: { orderId?: unknown; status?: unknown; previousStatus?: unknown };
}

export interface KnownOrder {
  createdAt: number;
  totalCents: number;
}

/**
 * The fact an order event stands for, or null for events that move no figure (fulfilment steps,
 * events of other services). `order` is what is known of the order (when it was placed, its total).
 */
export function factOf(event: OrderEventLike, order: KnownOrder | undefined): OrderFact | null {
  const at = Date.parse(event.occurredAt);
  const fromPending = event.data.previousStatus === 'PENDING';
  const settled = (kind: Outcome): OrderFact => ({
    kind,
    at,
    settleMs: fromPending && order ? Math.max(0, at - order.createdAt) : null,
    revenueCents: kind === 'confirmed' && order ? order.totalCents : 0,
  });
  if (event.type === 'order.created') return { kind: 'placed', at };
  if (event.type === 'order.cancelled') return settled('cancelled');
  if (event.type === 'order.updated' && fromPending) {
    if (event.data.status === 'CONFIRMED') return settled('confirmed');
    if (event.data.status === 'FAILED') return settled('failed');
  }
  return null;
}

/** Whether an event ends an order's time in flight (it leaves PENDING). */
export function leavesPending(event: OrderEventLike): boolean {
  return (event.type === 'order.updated' || event.type === 'order.cancelled') && event.data.previousStatus === 'PENDING';
}

// Settle-time histogram: ten buckets per decade from 1 ms to about 10 minutes, so that percentiles
// are within ~12 % and histograms from the server and from live events merge by adding.
const PER_DECADE = 10;
export const SETTLE_BUCKETS = 59;

/** Upper bound (ms) of a histogram bucket; the last bucket has no upper bound. */
export function bucketUpperMs(i: number): number {
  return i >= SETTLE_BUCKETS - 1 ? Infinity : 10 ** ((i + 1) / PER_DECADE);
}

export function settleBucket(ms: number): number {
  if (ms <= 1) return 0;
  return Math.min(SETTLE_BUCKETS - 1, Math.ceil(Math.log10(ms) * PER_DECADE) - 1);
}

/** A sparse histogram: bucket index → count. */
export type Histogram = Record<number, number>;

export interface Tally {
  placed: number;
  confirmed: number;
  failed: number;
  cancelled: number;
  revenueCents: number;
  settle: Histogram;
}

export const emptyTally = (): Tally => ({ placed: 0, confirmed: 0, failed: 0, cancelled: 0, revenueCents: 0, settle: {} });

export function addFact(t: Tally, f: OrderFact): void {
  if (f.kind === 'placed') {
    t.placed++;
    return;
  }
  t[f.kind]++;
  t.revenueCents += f.revenueCents;
  if (f.settleMs !== null) {
    const b = settleBucket(f.settleMs);
    t.settle[b] = (t.settle[b] ?? 0) + 1;
  }
}

export function mergeTally(into: Tally, from: Tally): void {
  into.placed += from.placed;
  into.confirmed += from.confirmed;
  into.failed += from.failed;
  into.cancelled += from.cancelled;
  into.revenueCents += from.revenueCents;
  for (const [b, n] of Object.entries(from.settle)) into.settle[Number(b)] = (into.settle[Number(b)] ?? 0) + n;
}

/**
 * The p-th percentile (0 < p < 1) of a histogram, interpolated geometrically inside its bucket;
 * null when it is empty.
 */
export function percentile(h: Histogram, p: number): number | null {
  const entries = Object.entries(h)
    .map(([b, n]) => [Number(b), n] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  const rank = p * total;
  let seen = 0;
  for (const [b, n] of entries) {
    if (seen + n >= rank) {
      const lower = b === 0 ? 0 : bucketUpperMs(b - 1);
      const upper = Number.isFinite(bucketUpperMs(b)) ? bucketUpperMs(b) : lower * 10 ** (1 / PER_DECADE);
      const share = (rank - seen) / n;
      return lower === 0 ? upper * share : lower * (upper / lower) ** share;
    }
    seen += n;
  }
  return bucketUpperMs(entries.at(-1)![0]);
}

/** Confirmed out of settled (confirmed or failed); null before any order settled. */
export function successRate(t: Pick<Tally, 'confirmed' | 'failed'>): number | null {
  const settled = t.confirmed + t.failed;
  return settled === 0 ? null : t.confirmed / settled;
}

/** Start (ms) of the bucket of `width` ms that holds `at`. */
export const bucketStart = (at: number, width: number) => Math.floor(at / width) * width;

export const SECOND = 1_000;
export const MINUTE = 60_000;
/** The throughput chart's span, in one-second buckets. */
export const SECONDS_KEPT = 300;
/** The hour figures and the settle-time chart, in one-minute buckets. */
export const MINUTES_KEPT = 60;

/** Buckets of one width, keyed by their start (ms). */
export type Series = Map<number, Tally>;

export function addToSeries(series: Series, width: number, f: OrderFact): void {
  const start = bucketStart(f.at, width);
  let t = series.get(start);
  if (!t) series.set(start, (t = emptyTally()));
  addFact(t, f);
}

/** The sum of the buckets that start within [from, to). */
export function sumSeries(series: Series, from: number, to: number): Tally {
  const sum = emptyTally();
  for (const [start, t] of series) if (start >= from && start < to) mergeTally(sum, t);
  return sum;
}

/** Drops buckets that start before `from`. */
export function trimSeries(series: Series, from: number): void {
  for (const start of series.keys()) if (start < from) series.delete(start);
}

/** The wire form of GET /stats/orders. */
export interface OrderStats {
  /** Everything that happened up to this instant is counted; later events are the client's to add. */
  asOf: string;
  /** Orders PENDING at asOf: how many, and (up to a cap) which, with what a later outcome needs. */
  inFlight: { total: number; orders: { id: string; createdAt: string; totalCents: number }[] };
  /** One-second buckets of the last SECONDS_KEPT seconds; empty buckets left out. */
  perSecond: ({ at: string } & Tally)[];
  /** One-minute buckets of the last MINUTES_KEPT minutes; empty buckets left out. */
  perMinute: ({ at: string } & Tally)[];
}

export function seriesToWire(series: Series): ({ at: string } & Tally)[] {
  return [...series].sort(([a], [b]) => a - b).map(([start, t]) => ({ at: new Date(start).toISOString(), ...t }));
}

export function seriesFromWire(rows: ({ at: string } & Tally)[]): Series {
  return new Map(rows.map(({ at, ...t }) => [Date.parse(at), { ...t, settle: { ...t.settle } }]));
}
