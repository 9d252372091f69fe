/**
 * The saga's invariants, checked against what the databases hold once the system is quiet. The
 * rules are a pure function of a snapshot (checkInvariants), so they are unit-tested on fixed
 * inputs; readSnapshot loads that snapshot from a namespace's three databases and the inventory
 * API. Used by `npm run bench` after every offered rate and by fault-injection runs.
 */
import type pg from 'pg';
import { orderTimelines } from '../functions/order/store';
import { apiFetch } from './http';

/** Where the saga ends (CONFIRMED, FAILED, CANCELLED), and the fulfilment steps after CONFIRMED. */
export const SETTLED_STATUSES = ['CONFIRMED', 'FAILED', 'CANCELLED', 'PROCESSING', 'SHIPPED', 'DELIVERED'] as const;

export interface SnapshotOrder {
  id: string;
  status: string;
  /** The order's version (each status change raises it by one), where the snapshot read it. */
  version?: number;
}
export interface SnapshotPayment {
  orderId: string;
  status: string;
}
export interface SnapshotReservation {
  orderId: string;
  status: string;
  items: { productId: string; quantity: number }[];
}
export interface SnapshotProduct {
  id: string;
  stock: number;
  reserved: number;
  /** As the inventory API reports it (stock - reserved, computed by the service). */
  available: number;
}

export interface Snapshot {
  orders: SnapshotOrder[];
  payments: SnapshotPayment[];
  reservations: SnapshotReservation[];
  products: SnapshotProduct[];
}

export interface Expectations {
  /** Orders the API accepted (201): each must exist and have settled. */
  acceptedOrderIds: Iterable<string>;
  /** Stock each product was created with. */
  initialStock: ReadonlyMap<string, number>;
}

export interface Violation {
  rule: string;
  subject: string;
  detail: string;
}

const isSettled = (status: string) => (SETTLED_STATUSES as readonly string[]).includes(status);
const isFailedOrCancelled = (status: string) => status === 'FAILED' || status === 'CANCELLED';

/** Every accepted order exists and left PENDING (CONFIRMED, FAILED or CANCELLED, or on to fulfilment); so did every order the database holds. */
export function checkOrdersSettled(snapshot: Snapshot, expect: Expectations): Violation[] {
  const byId = new Map(snapshot.orders.map((o) => [o.id, o]));
  const out: Violation[] = [];
  for (const id of expect.acceptedOrderIds) {
    const order = byId.get(id);
    if (!order) out.push({ rule: 'accepted order exists', subject: id, detail: 'the API answered 201 but the order database has no such order' });
  }
  for (const o of snapshot.orders) {
    if (!isSettled(o.status)) out.push({ rule: 'every order settled', subject: o.id, detail: `status ${o.status}` });
  }
  return out;
}

/**
 * For every product: initial stock = stock + shipped (units of COMMITTED reservations), reserved
 * = the sum of its ACTIVE reservations, and available = stock - reserved (and never negative).
 */
export function checkStock(snapshot: Snapshot, expect: Expectations): Violation[] {
  const active = new Map<string, number>();
  const shipped = new Map<string, number>();
  for (const r of snapshot.reservations) {
    const into = r.status === 'ACTIVE' ? active : r.status === 'COMMITTED' ? shipped : null;
    if (!into) continue;
    for (const line of r.items) into.set(line.productId, (into.get(line.productId) ?? 0) + line.quantity);
  }
  const out: Violation[] = [];
  const products = new Map(snapshot.products.map((p) => [p.id, p]));
  for (const [id, initial] of expect.initialStock) {
    const p = products.get(id);
    if (!p) {
      out.push({ rule: 'product exists', subject: id, detail: 'created by the benchmark but missing from the inventory' });
      continue;
    }
    const gone = shipped.get(id) ?? 0;
    if (p.stock + gone !== initial) out.push({ rule: 'initial stock = stock + shipped', subject: id, detail: `${initial} ≠ ${p.stock} + ${gone}` });
    const held = active.get(id) ?? 0;
    if (p.reserved !== held) out.push({ rule: 'reserved = sum of ACTIVE reservations', subject: id, detail: `reserved ${p.reserved}, ACTIVE reservations hold ${held}` });
    if (p.stock - p.reserved !== p.available) out.push({ rule: 'stock - reserved = available', subject: id, detail: `${p.stock} - ${p.reserved} ≠ ${p.available}` });
    if (p.available < 0) out.push({ rule: 'available ≥ 0', subject: id, detail: `available ${p.available}` });
  }
  return out;
}

/**
 * Money: no order charged twice (at most one payment that was ever processed, i.e. PROCESSED or
 * REFUNDED), no payment for an order that does not exist, every REFUNDED payment belongs to a
 * FAILED or CANCELLED order, and no FAILED or CANCELLED order keeps a PROCESSED charge.
 */
export function checkPayments(snapshot: Snapshot): Violation[] {
  const orders = new Map(snapshot.orders.map((o) => [o.id, o.status]));
  const charged = new Map<string, number>();
  const out: Violation[] = [];
  for (const p of snapshot.payments) {
    if (p.status === 'PROCESSED' || p.status === 'REFUNDED') charged.set(p.orderId, (charged.get(p.orderId) ?? 0) + 1);
    const status = orders.get(p.orderId);
    if (status === undefined) {
      out.push({ rule: 'payment has an order', subject: p.orderId, detail: `a ${p.status} payment for an order the order database does not hold` });
      continue;
    }
    if (p.status === 'REFUNDED' && !isFailedOrCancelled(status)) {
      out.push({ rule: 'refund only for FAILED or CANCELLED orders', subject: p.orderId, detail: `refunded, but the order is ${status}` });
    }
    if (p.status === 'PROCESSED' && isFailedOrCancelled(status)) {
      out.push({ rule: 'FAILED or CANCELLED orders are refunded', subject: p.orderId, detail: `the order is ${status} but its charge is still PROCESSED` });
    }
  }
  for (const [orderId, n] of charged) {
    if (n > 1) out.push({ rule: 'at most one processed payment per order', subject: orderId, detail: `${n} payments processed` });
  }
  return out;
}

/**
 * Each order's holdings match its status: a CONFIRMED (or PROCESSING) order holds one ACTIVE
 * reservation and one PROCESSED payment; a SHIPPED or DELIVERED one a COMMITTED reservation and a
 * PROCESSED payment; a FAILED or CANCELLED one no ACTIVE reservation.
 */
export function checkOrderHoldings(snapshot: Snapshot): Violation[] {
  const reservations = new Map<string, SnapshotReservation[]>();
  for (const r of snapshot.reservations) reservations.set(r.orderId, [...(reservations.get(r.orderId) ?? []), r]);
  const payments = new Map<string, SnapshotPayment[]>();
  for (const p of snapshot.payments) payments.set(p.orderId, [...(payments.get(p.orderId) ?? []), p]);
  const out: Violation[] = [];
  for (const o of snapshot.orders) {
    const rs = reservations.get(o.id) ?? [];
    const ps = payments.get(o.id) ?? [];
    const count = (xs: { status: string }[], s: string) => xs.filter((x) => x.status === s).length;
    const holding = o.status === 'CONFIRMED' || o.status === 'PROCESSING' ? 'ACTIVE' : o.status === 'SHIPPED' || o.status === 'DELIVERED' ? 'COMMITTED' : null;
    if (holding) {
      if (rs.length !== 1 || count(rs, holding) !== 1) {
        out.push({ rule: `${o.status} order holds one ${holding} reservation`, subject: o.id, detail: `reservations: ${rs.map((r) => r.status).join(', ') || 'none'}` });
      }
      if (ps.length !== 1 || count(ps, 'PROCESSED') !== 1) {
        out.push({ rule: `${o.status} order holds one PROCESSED payment`, subject: o.id, detail: `payments: ${ps.map((p) => p.status).join(', ') || 'none'}` });
      }
    } else if (isFailedOrCancelled(o.status) && count(rs, 'ACTIVE') > 0) {
      out.push({ rule: 'FAILED or CANCELLED order holds no stock', subject: o.id, detail: 'its reservation is still ACTIVE' });
    }
  }
  return out;
}

/** All the rules. An empty list means every invariant holds. */
export function checkInvariants(snapshot: Snapshot, expect: Expectations): Violation[] {
  return [...checkOrdersSettled(snapshot, expect), ...checkStock(snapshot, expect), ...checkPayments(snapshot), ...checkOrderHoldings(snapshot)];
}

/**
 * An order's timeline (GET /orders/{id}/events, in its own order) tells its history as it
 * happened: its own events carry every version from 1 to the order's, in order, each status change
 * starts from the status the one before it left (previousStatus), and the last leaves the order in
 * the status it has. The rules' names start with "timeline".
 */
export function checkTimeline(order: SnapshotOrder, timeline: readonly { type: string; source: string; data: unknown }[]): Violation[] {
  const out: Violation[] = [];
  const broken = (rule: string, detail: string) => out.push({ rule: `timeline ${rule}`, subject: order.id, detail });
  let status: string | null = null;
  let version = 0;
  for (const e of timeline) {
    if (e.source !== 'order') continue;
    const d = e.data as { orderVersion?: number; status?: string; previousStatus?: string };
    if (d.orderVersion !== version + 1) broken('holds every order version in order', `version ${d.orderVersion} after ${version}`);
    version = d.orderVersion ?? version;
    if (e.type === 'order.created') {
      if (status !== null) broken('holds every order version in order', 'order.created after another of its events');
      status = 'PENDING';
      continue;
    }
    if (d.previousStatus !== status) broken('previousStatus is the status before it', `${e.type} from ${d.previousStatus}, after ${status ?? 'nothing'}`);
    status = e.type === 'order.cancelled' ? 'CANCELLED' : (d.status ?? null);
  }
  if (order.version !== undefined && version !== order.version) broken('holds every order version in order', `ends at version ${version}, the order is at ${order.version}`);
  if (status !== order.status) broken("ends in the order's status", `tells ${status ?? 'nothing'}, the order is ${order.status}`);
  return out;
}

/** Orders whose timelines one statement reads: bounded, so a long run's history is never held whole. */
const TIMELINES_PER_READ = 500;

/** Reads every order's timeline as the API gives it (functions/order/store.ts) and checks it. */
export async function readTimelineViolations(orderDb: pg.Pool, orders: readonly SnapshotOrder[]): Promise<Violation[]> {
  const out: Violation[] = [];
  for (let i = 0; i < orders.length; i += TIMELINES_PER_READ) {
    const chunk = orders.slice(i, i + TIMELINES_PER_READ);
    const timelines = await orderTimelines(orderDb, chunk.map((o) => o.id));
    for (const o of chunk) out.push(...checkTimeline(o, timelines.get(o.id) ?? []));
  }
  return out;
}

/** Violations grouped by rule, with a few examples each, for a message a person can read. */
export function describeViolations(violations: Violation[], examples = 3): string {
  const byRule = new Map<string, Violation[]>();
  for (const v of violations) byRule.set(v.rule, [...(byRule.get(v.rule) ?? []), v]);
  return [...byRule]
    .map(([rule, vs]) => `  ${rule}: ${vs.length} broken, e.g. ${vs.slice(0, examples).map((v) => `${v.subject} (${v.detail})`).join('; ')}`)
    .join('\n');
}

export interface SnapshotSources {
  order: pg.Pool;
  payment: pg.Pool;
  inventory: pg.Pool;
  /** The HTTP API, for `available` as the inventory service reports it. */
  httpUrl: string;
}

async function availableFromApi(httpUrl: string): Promise<Map<string, number>> {
  const available = new Map<string, number>();
  let cursor: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const url = new URL('/products', httpUrl);
    url.searchParams.set('limit', '100');
    if (cursor) url.searchParams.set('cursor', cursor);
    const res = await apiFetch(url, { timeoutMs: 10_000 });
    if (res.status !== 200) throw new Error(`GET ${url.pathname}: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { items: { id: string; available: number }[]; nextCursor: string | null };
    for (const p of body.items) available.set(p.id, p.available);
    cursor = body.nextCursor;
    if (!cursor) break;
  }
  return available;
}

/** Reads the snapshot the rules check: orders, payments, reservations and products, from their owners. */
export async function readSnapshot(src: SnapshotSources): Promise<Snapshot> {
  const [orders, payments, reservations, products, available] = await Promise.all([
    src.order.query<SnapshotOrder>('SELECT id, status, version FROM orders'),
    src.payment.query<SnapshotPayment>('SELECT order_id AS "orderId", status FROM payments'),
    src.inventory.query<SnapshotReservation>('SELECT order_id AS "orderId", status, items FROM reservations'),
    src.inventory.query<{ id: string; stock: number; reserved: number }>('SELECT id, stock, reserved FROM products'),
    availableFromApi(src.httpUrl),
  ]);
  return {
    orders: orders.rows,
    payments: payments.rows,
    reservations: reservations.rows,
    products: products.rows.map((p) => ({ ...p, available: available.get(p.id) ?? Number.NaN })),
  };
}

/**
 * Reads and checks (every order's timeline too, once the rest holds) until every invariant holds or retryForMs has passed, since compensations
 * (refunds, releases) may still be on their way when the queues first look empty. Returns the
 * last snapshot and what it broke (empty: all hold).
 */
export async function verifyInvariants(src: SnapshotSources, expect: Expectations, retryForMs = 20_000) {
  const deadline = Date.now() + retryForMs;
  for (;;) {
    const snapshot = await readSnapshot(src);
    const violations = checkInvariants(snapshot, expect);
    if (violations.length === 0) violations.push(...(await readTimelineViolations(src.order, snapshot.orders)));
    if (violations.length === 0 || Date.now() >= deadline) return { snapshot, violations };
    await new Promise((r) => setTimeout(r, 1_000));
  }
}
