/**
 * The overview's figures: seeded from GET /stats/orders (everything up to the server's `asOf`), then
 * moved by every order event that occurred after `asOf`, with the same rules as the server
 * (functions/order/domain/stats.ts), so the two add up without double counting.
 */
import {
  MINUTE,
  MINUTES_KEPT,
  SECOND,
  SECONDS_KEPT,
  addToSeries,
  factOf,
  leavesPending,
  percentile,
  seriesFromWire,
  successRate,
  sumSeries,
  trimSeries,
} from '../../functions/order/domain/stats';
import type { KnownOrder, OrderStats, Series, Tally } from '../../functions/order/domain/stats';
import type { LiveEvent } from './events';
import { orderIdOf } from './events';

export interface Figures {
  placed: number;
  confirmed: number;
  failed: number;
  cancelled: number;
  revenueCents: number;
  successRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface OverviewSnapshot {
  at: number;
  /** Whether the server's figures are in (before that, only what arrived live). */
  seeded: boolean;
  lastMinute: Figures;
  lastHour: Figures;
  inFlight: number;
  /** Per second over the chart span: seconds (epoch s) and counts by outcome. */
  throughput: { t: number[]; placed: number[]; confirmed: number[]; failed: number[]; cancelled: number[] };
  /** Per 10-second window over the chart span: p50 and p95 settle time (ms), null where none settled. */
  settle: { t: number[]; p50: (number | null)[]; p95: (number | null)[]; count: number[] };
}

const WINDOW_MS = 10 * SECOND;
/** Order events kept for a re-seed: far more than arrive between a request and its answer. */
const LATEST_KEPT = 5_000;

function figures(t: Tally): Figures {
  return {
    placed: t.placed,
    confirmed: t.confirmed,
    failed: t.failed,
    cancelled: t.cancelled,
    revenueCents: t.revenueCents,
    successRate: successRate(t),
    p50Ms: percentile(t.settle, 0.5),
    p95Ms: percentile(t.settle, 0.95),
  };
}

export class OverviewModel {
  private perSecond: Series = new Map();
  private perMinute: Series = new Map();
  private readonly inFlight = new Map<string, KnownOrder>();
  /** Orders whose in-flight state is not listed (beyond the server's cap): counted, not known. */
  private unlisted = 0;
  private asOf: number | null = null;
  /** The latest order events, kept so that a new seed can count those after its cut. */
  private latest: LiveEvent[] = [];

  get seeded() {
    return this.asOf !== null;
  }

  seed(stats: OrderStats) {
    this.asOf = Date.parse(stats.asOf);
    this.perSecond = seriesFromWire(stats.perSecond);
    this.perMinute = seriesFromWire(stats.perMinute);
    this.inFlight.clear();
    for (const o of stats.inFlight.orders) this.inFlight.set(o.id, { createdAt: Date.parse(o.createdAt), totalCents: o.totalCents });
    this.unlisted = Math.max(0, stats.inFlight.total - stats.inFlight.orders.length);
    this.apply(this.latest);
  }

  /** Takes events in; those after the seed's cut count (before a seed, they wait for it). */
  add(events: LiveEvent[]) {
    const orderEvents = events.filter((e) => e.type.startsWith('order.'));
    if (orderEvents.length === 0) return;
    this.latest.push(...orderEvents);
    if (this.latest.length > LATEST_KEPT) this.latest = this.latest.slice(-LATEST_KEPT);
    if (this.asOf !== null) this.apply(orderEvents);
  }

  private apply(events: LiveEvent[]) {
    if (this.asOf === null) return;
    for (const e of events) {
      if (!e.type.startsWith('order.') || Date.parse(e.occurredAt) <= this.asOf) continue;
      const id = orderIdOf(e);
      if (!id) continue;
      if (e.type === 'order.created') {
        const d = e.data as { totalCents?: number };
        if (!this.inFlight.has(id)) this.inFlight.set(id, { createdAt: Date.parse(e.occurredAt), totalCents: d.totalCents ?? 0 });
      }
      const fact = factOf(e as Parameters<typeof factOf>[0], this.inFlight.get(id));
      if (leavesPending(e as Parameters<typeof leavesPending>[0])) {
        if (!this.inFlight.delete(id) && this.unlisted > 0) this.unlisted--;
      }
      if (!fact) continue;
      addToSeries(this.perSecond, SECOND, fact);
      addToSeries(this.perMinute, MINUTE, fact);
    }
  }

  snapshot(now = Date.now()): OverviewSnapshot {
    trimSeries(this.perSecond, now - (SECONDS_KEPT + 60) * SECOND);
    trimSeries(this.perMinute, now - (MINUTES_KEPT + 1) * MINUTE);
    const nowSecond = Math.floor(now / SECOND) * SECOND;
    const throughput: OverviewSnapshot['throughput'] = { t: [], placed: [], confirmed: [], failed: [], cancelled: [] };
    for (let s = nowSecond - (SECONDS_KEPT - 1) * SECOND; s <= nowSecond; s += SECOND) {
      const b = this.perSecond.get(s);
      throughput.t.push(s / 1000);
      throughput.placed.push(b?.placed ?? 0);
      throughput.confirmed.push(b?.confirmed ?? 0);
      throughput.failed.push(b?.failed ?? 0);
      throughput.cancelled.push(b?.cancelled ?? 0);
    }
    const settle: OverviewSnapshot['settle'] = { t: [], p50: [], p95: [], count: [] };
    const lastWindow = Math.floor(now / WINDOW_MS) * WINDOW_MS;
    for (let w = lastWindow - (SECONDS_KEPT * SECOND - WINDOW_MS); w <= lastWindow; w += WINDOW_MS) {
      const t = sumSeries(this.perSecond, w, w + WINDOW_MS);
      const n = Object.values(t.settle).reduce((a, b) => a + b, 0);
      settle.t.push(w / 1000);
      settle.p50.push(percentile(t.settle, 0.5));
      settle.p95.push(percentile(t.settle, 0.95));
      settle.count.push(n);
    }
    return {
      at: now,
      seeded: this.seeded,
      lastMinute: figures(sumSeries(this.perSecond, nowSecond - 59 * SECOND, nowSecond + SECOND)),
      lastHour: figures(sumSeries(this.perMinute, Math.floor(now / MINUTE) * MINUTE - (MINUTES_KEPT - 1) * MINUTE, now + MINUTE)),
      inFlight: this.inFlight.size + this.unlisted,
      throughput,
      settle,
    };
  }
}
