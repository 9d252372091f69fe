import type { Queryable } from '../../shared/db/pool';
import { MINUTE, MINUTES_KEPT, SECOND, SECONDS_KEPT, addToSeries, factOf, leavesPending, seriesToWire } from './domain/stats';
import type { OrderStats, Series } from './domain/stats';

/**
 * How far behind the present the cut is taken: an event stamped before the cut but committed after
 * the query would be counted by nobody. Transactions commit well within this.
 */
const COMMIT_SLACK_MS = 5_000;
/** created_at is a transaction's start; rows commit slightly out of seq order. Search from this far before. */
const SEQ_SLACK_MS = 2 * MINUTE;
/** Most in-flight orders listed by id (the count is always exact). */
const IN_FLIGHT_LISTED = 10_000;

/** An order as its order.created says (the orders table's created_at and total_cents are that event's; domain/order-record.ts). */
const ORDER_FROM_CREATED = `c.order_id AS id, (c.envelope->>'occurredAt')::timestamptz AS created_at, (c.envelope->'data'->>'totalCents')::bigint AS total_cents`;
const ORDERS_FROM_LOG = `(SELECT ${ORDER_FROM_CREATED} FROM outbox c WHERE c.type = 'order.created') o ON o.id = e.order_id`;

interface FactRow {
  type: string;
  occurred_at: string;
  status: string | null;
  previous_status: string | null;
  order_id: string | null;
  order_created_at: Date | null;
  total_cents: number | null;
}

/**
 * The first outbox seq created at or after `since`, by binary search on the primary key: the
 * outbox is the service's whole history and has no index on time, and seq grows with created_at.
 */
async function firstSeqSince(db: Queryable, since: Date): Promise<number | null> {
  const bounds = await db.query<{ lo: string | null; hi: string | null }>('SELECT min(seq) AS lo, max(seq) AS hi FROM outbox');
  if (bounds.rows[0]?.lo == null) return null;
  let lo = Number(bounds.rows[0].lo);
  let hi = Number(bounds.rows[0].hi) + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const { rows } = await db.query<{ seq: string; created_at: Date }>(
      'SELECT seq, created_at FROM outbox WHERE seq >= $1 ORDER BY seq LIMIT 1',
      [mid],
    );
    const row = rows[0];
    if (!row || row.created_at >= since) hi = mid;
    else lo = Number(row.seq) + 1;
  }
  return lo;
}

/**
 * GET /stats/orders: the last hour of orders (one-minute buckets) and the last five minutes (one-second
 * buckets), up to `asOf`, and the orders in flight at `asOf`. A client adds the events it receives
 * with occurredAt after `asOf` using the same rules (domain/stats.ts).
 */
export async function orderStats(db: Queryable, now = Date.now(), source: 'tables' | 'log' = 'tables'): Promise<OrderStats> {
  const asOf = now - COMMIT_SLACK_MS;
  const from = asOf - MINUTES_KEPT * MINUTE;
  const seq = await firstSeqSince(db, new Date(from - SEQ_SLACK_MS));
  const { rows } =
    seq === null
      ? { rows: [] as FactRow[] }
      : await db.query<FactRow>(
          `SELECT e.type, e.envelope->>'occurredAt' AS occurred_at,
                  e.envelope->'data'->>'status' AS status, e.envelope->'data'->>'previousStatus' AS previous_status,
                  e.order_id, o.created_at AS order_created_at, o.total_cents
             FROM outbox e LEFT JOIN ${source === 'tables' ? 'orders o ON o.id = e.order_id' : ORDERS_FROM_LOG}
            WHERE e.seq >= $1 AND e.type IN ('order.created', 'order.updated', 'order.cancelled')`,
          [seq],
        );

  const perSecond: Series = new Map();
  const perMinute: Series = new Map();
  // Orders that left PENDING after the cut were in flight at it.
  const settledLater = new Map<string, { createdAt: Date; totalCents: number }>();
  for (const r of rows) {
    const event = { type: r.type, occurredAt: r.occurred_at, data: { status: r.status, previousStatus: r.previous_status } };
    const at = Date.parse(r.occurred_at);
    const order = r.order_created_at ? { createdAt: r.order_created_at.getTime(), totalCents: r.total_cents ?? 0 } : undefined;
    if (at > asOf) {
      if (leavesPending(event) && r.order_id && r.order_created_at && r.order_created_at.getTime() <= asOf) {
        settledLater.set(r.order_id, { createdAt: r.order_created_at, totalCents: r.total_cents ?? 0 });
      }
      continue;
    }
    if (at <= from) continue;
    const fact = factOf(event, order);
    if (!fact) continue;
    addToSeries(perMinute, MINUTE, fact);
    if (at > asOf - SECONDS_KEPT * SECOND) addToSeries(perSecond, SECOND, fact);
  }

  const pending = await db.query<{ id: string; created_at: Date; total_cents: number; total: string }>(
    source === 'tables'
      ? `SELECT id, created_at, total_cents, count(*) OVER () AS total FROM orders
          WHERE status = 'PENDING' AND created_at <= $1 ORDER BY created_at DESC LIMIT $2`
      : // From the log alone: placed in the window (and its slack) and not out of PENDING by the cut.
        `SELECT o.id, o.created_at, o.total_cents, count(*) OVER () AS total FROM (SELECT c.order_id, ${ORDER_FROM_CREATED} FROM outbox c
            WHERE c.type = 'order.created' AND c.seq >= $3) o
          WHERE o.created_at <= $1 AND NOT EXISTS (
            SELECT 1 FROM outbox u WHERE u.order_id = o.id AND u.type IN ('order.updated', 'order.cancelled')
              AND u.envelope->'data'->>'previousStatus' = 'PENDING' AND (u.envelope->>'occurredAt')::timestamptz <= $1)
          ORDER BY o.created_at DESC LIMIT $2`,
    source === 'tables' ? [new Date(asOf), IN_FLIGHT_LISTED] : [new Date(asOf), IN_FLIGHT_LISTED, seq ?? 0],
  );
  const listed = [
    ...pending.rows.map((r) => ({ id: r.id, createdAt: r.created_at.toISOString(), totalCents: r.total_cents })),
    ...[...settledLater].map(([id, o]) => ({ id, createdAt: o.createdAt.toISOString(), totalCents: o.totalCents })),
  ];
  return {
    asOf: new Date(asOf).toISOString(),
    inFlight: { total: Number(pending.rows[0]?.total ?? 0) + settledLater.size, orders: listed.slice(0, IN_FLIGHT_LISTED) },
    perSecond: seriesToWire(perSecond),
    perMinute: seriesToWire(perMinute),
  };
}

/**
 * The overview's figures from the log alone against what GET /stats/orders answers from the log and
 * the orders table, at one cut: they must agree wherever the orders table agrees with the log.
 */
export async function checkOverview(db: Queryable, now = Date.now()) {
  const live = await orderStats(db, now, 'tables');
  const rebuilt = await orderStats(db, now, 'log');
  const differences: { figure: string; live: unknown; rebuilt: unknown }[] = [];
  const byAt = (rows: OrderStats['perSecond']) => new Map(rows.map((r) => [r.at, JSON.stringify(r)]));
  for (const series of ['perSecond', 'perMinute'] as const) {
    const l = byAt(live[series]);
    const r = byAt(rebuilt[series]);
    for (const at of new Set([...l.keys(), ...r.keys()])) {
      if (l.get(at) !== r.get(at)) differences.push({ figure: `${series} ${at}`, live: l.get(at) ? JSON.parse(l.get(at)!) : null, rebuilt: r.get(at) ? JSON.parse(r.get(at)!) : null });
    }
  }
  const ids = (s: OrderStats) => s.inFlight.orders.map((o) => `${o.id} ${o.createdAt} ${o.totalCents}`).sort();
  if (live.inFlight.total !== rebuilt.inFlight.total || JSON.stringify(ids(live)) !== JSON.stringify(ids(rebuilt))) {
    differences.push({ figure: 'inFlight', live: live.inFlight, rebuilt: rebuilt.inFlight });
  }
  return {
    asOf: live.asOf,
    equal: differences.length === 0,
    differences: differences.length,
    listed: differences.slice(0, 100),
    buckets: { perSecond: live.perSecond.length, perMinute: live.perMinute.length },
  };
}
