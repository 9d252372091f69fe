import type { Queryable } from '../../shared/db/pool';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { inHistoryOrder } from '../../shared/events/history';
import type { EventData, OrderStatus } from '../../shared/events/types';
import type { CatalogEntry, PricedLine } from './domain/pricing';
import type { CatalogCopy } from './domain/catalog-copy';
import type { OrderRecord } from './domain/order-record';
import type { SagaState, StoredSaga } from './domain/saga';

export interface Order {
  id: string;
  customerId: string;
  status: OrderStatus;
  items: PricedLine[];
  totalCents: number;
  currency: string;
  failureReason: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** An order as stored, with what the saga needs besides the public fields. */
export interface StoredOrder extends Order, SagaState {
  paymentToken: string;
}

/** An order's row with its lines, as SELECT_ORDER reads it. */
export interface OrderRow {
  id: string;
  customer_id: string;
  status: OrderStatus;
  total_cents: number;
  currency: string;
  failure_reason: string | null;
  payment_token: string;
  stock_reserved: boolean;
  payment_processed: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
  items: PricedLine[];
}

const SELECT_ORDER = `
  SELECT o.*, COALESCE((
    SELECT json_agg(json_build_object(
      'productId', i.product_id, 'name', i.name, 'quantity', i.quantity,
      'unitPriceCents', i.unit_price_cents, 'lineTotalCents', i.line_total_cents) ORDER BY i.line_no)
    FROM order_items i WHERE i.order_id = o.id), '[]') AS items
  FROM orders o`;

function toOrder(row: OrderRow): StoredOrder {
  return {
    ...toSagaState(row),
    customerId: row.customer_id,
    items: row.items,
    totalCents: row.total_cents,
    currency: row.currency,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    paymentToken: row.payment_token,
  };
}

/** The public representation: no payment token, no saga bookkeeping. */
export function publicOrder(o: StoredOrder): Order {
  const { paymentToken: _t, stockReserved: _s, paymentProcessed: _p, ...rest } = o;
  return rest;
}

export async function findOrder(db: Queryable, id: string, opts: { forUpdate?: boolean } = {}) {
  // FOR UPDATE cannot sit beside the aggregate subquery's json_agg, so lock first, then read.
  if (opts.forUpdate) await db.query('SELECT 1 FROM orders WHERE id = $1 FOR UPDATE', [id]);
  const { rows } = await db.query<OrderRow>(`${SELECT_ORDER} WHERE o.id = $1`, [id]);
  return rows[0] ? toOrder(rows[0]) : null;
}

export interface OrderFilter {
  customerId?: string;
  status?: OrderStatus;
  after: [string, string] | null;
  limit: number;
}

export async function listOrders(db: Queryable, f: OrderFilter): Promise<StoredOrder[]> {
  const { rows } = await db.query<OrderRow>(
    `${SELECT_ORDER}
     WHERE ($1::uuid IS NULL OR o.customer_id = $1)
       AND ($2::text IS NULL OR o.status = $2)
       AND ($3::timestamptz IS NULL OR (o.created_at, o.id) < ($3::timestamptz, $4::uuid))
     ORDER BY o.created_at DESC, o.id DESC
     LIMIT $5`,
    [f.customerId ?? null, f.status ?? null, f.after?.[0] ?? null, f.after?.[1] ?? null, f.limit],
  );
  return rows.map(toOrder);
}

/** A new order as its order.created makes it (domain/order-record.ts). */
export type NewOrder = Pick<OrderRecord, 'id' | 'customerId' | 'items' | 'totalCents' | 'currency' | 'paymentToken' | 'correlationId' | 'createdAt'>;

/**
 * Stores a new PENDING order, its lines, its Idempotency-Key (if any) and its events, all in one
 * statement. A key already taken (or being taken: the statement waits for that commit) stores
 * nothing and returns null; read what the key was first used with (findIdempotencyKey).
 */
export async function insertOrder(
  db: Queryable,
  o: NewOrder,
  idempotency: { key: string; requestHash: string } | null,
  outbox: (first: number, when: string) => { ctes: string; params: unknown[] },
): Promise<StoredOrder | null> {
  const events = outbox(16, '(SELECT ok FROM go)');
  const { rows } = await db.query<OrderRow>(
    `WITH k AS (
       INSERT INTO idempotency_keys (key, request_hash, order_id)
       SELECT $13::text, $14::text, $1::uuid WHERE $13::text IS NOT NULL
       ON CONFLICT (key) DO NOTHING RETURNING 1
     ),
     go AS (SELECT $13::text IS NULL OR EXISTS (SELECT 1 FROM k) AS ok),
     lines AS (
       INSERT INTO order_items (order_id, line_no, product_id, name, quantity, unit_price_cents, line_total_cents)
       SELECT $1, n, p, nm, q, u, t
         FROM unnest($7::int[], $8::uuid[], $9::text[], $10::int[], $11::int[], $12::bigint[]) AS x(n, p, nm, q, u, t)
        WHERE (SELECT ok FROM go)
     ),
     ${events.ctes}
     INSERT INTO orders (id, customer_id, status, total_cents, currency, payment_token, correlation_id, created_at, updated_at)
     SELECT $1, $2, 'PENDING', $3, $4, $5, $6, $15, $15 WHERE (SELECT ok FROM go)
     RETURNING *`,
    [
      o.id,
      o.customerId,
      o.totalCents,
      o.currency,
      o.paymentToken,
      o.correlationId,
      o.items.map((_, i) => i + 1),
      o.items.map((i) => i.productId),
      o.items.map((i) => i.name),
      o.items.map((i) => i.quantity),
      o.items.map((i) => i.unitPriceCents),
      o.items.map((i) => i.lineTotalCents),
      idempotency?.key ?? null,
      idempotency?.requestHash ?? null,
      o.createdAt,
      ...events.params,
    ],
  );
  return rows[0] ? toOrder({ ...rows[0], items: o.items }) : null;
}

/** The saga columns of an order row. */
interface SagaRow {
  id: string;
  status: OrderStatus;
  stock_reserved: boolean;
  payment_processed: boolean;
  failure_reason: string | null;
}

const SAGA_COLUMNS = 'o.id, o.status, o.stock_reserved, o.payment_processed, o.failure_reason';

function toSagaState(r: SagaRow): SagaState & { id: string } {
  return { id: r.id, status: r.status, stockReserved: r.stock_reserved, paymentProcessed: r.payment_processed, failureReason: r.failure_reason };
}

/** Locks orders (in id order, so batches never deadlock) and reads just what their sagas need (no items). */
export async function lockSagas(tx: Queryable, ids: string[]): Promise<Map<string, StoredSaga>> {
  if (ids.length === 0) return new Map();
  const { rows } = await tx.query<SagaRow & { version: number }>(
    `SELECT ${SAGA_COLUMNS}, o.version FROM orders o WHERE o.id = ANY($1::uuid[]) ORDER BY o.id FOR UPDATE`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, { ...toSagaState(r), version: r.version }]));
}

/**
 * Writes the saga states a batch decided, in one statement; updatedAt moves only with the status, to
 * the occurredAt of the order.updated that says so (as domain/order-record.ts folds it).
 */
export async function saveSagas(tx: Queryable, sagas: (StoredSaga & { updatedAt: string | null })[]): Promise<void> {
  if (sagas.length === 0) return;
  await tx.query(
    `UPDATE orders o SET status = u.status, stock_reserved = u.stock_reserved, payment_processed = u.payment_processed,
            failure_reason = u.failure_reason, version = u.version,
            updated_at = COALESCE(u.updated_at, o.updated_at)
       FROM unnest($1::uuid[], $2::text[], $3::bool[], $4::bool[], $5::text[], $6::int[], $7::timestamptz[])
            AS u(id, status, stock_reserved, payment_processed, failure_reason, version, updated_at)
      WHERE o.id = u.id`,
    [
      sagas.map((s) => s.id),
      sagas.map((s) => s.status),
      sagas.map((s) => s.stockReserved),
      sagas.map((s) => s.paymentProcessed),
      sagas.map((s) => s.failureReason),
      sagas.map((s) => s.version),
      sagas.map((s) => s.updatedAt),
    ],
  );
}

/**
 * PENDING orders older than the deadline, locked (others running the sweep skip them). An order's
 * age is the database's reading: when its order.created was written (the outbox row's
 * transaction start), not `created_at`, which is the event's time by the clock of the process that
 * placed it; a process whose clock ran behind would otherwise have its orders cancelled early.
 */
export async function lockOverdueOrders(tx: Queryable, deadlineSeconds: number, limit: number) {
  const { rows } = await tx.query<SagaRow & { correlation_id: string; version: number }>(
    `SELECT ${SAGA_COLUMNS}, o.version,
            COALESCE(o.correlation_id, (SELECT envelope->>'correlationId' FROM outbox WHERE order_id = o.id AND type = 'order.created'), o.id::text)
              AS correlation_id
       FROM orders o
      WHERE o.status = 'PENDING'
        AND COALESCE(
              (SELECT min(x.created_at) FROM outbox x WHERE x.order_id = o.id AND x.type = 'order.created'),
              o.created_at
            ) < now() - make_interval(secs => $1)
      ORDER BY o.created_at LIMIT $2 FOR UPDATE OF o SKIP LOCKED`,
    [deadlineSeconds, limit],
  );
  // The order's own correlation id, so its cancellation joins its timeline.
  return rows.map((r) => ({ ...toSagaState(r), version: r.version, correlationId: r.correlation_id }));
}

/**
 * Writes an order's new status, as the fold of the event that says so gives it (domain/order-record.ts:
 * its version and its occurredAt as updatedAt).
 */
export async function saveOrderStatus(tx: Queryable, o: Pick<OrderRecord, 'id' | 'status' | 'failureReason' | 'version' | 'updatedAt'>): Promise<void> {
  await tx.query('UPDATE orders SET status = $2, failure_reason = $3, version = $4, updated_at = $5 WHERE id = $1', [
    o.id,
    o.status,
    o.failureReason,
    o.version,
    o.updatedAt,
  ]);
}

/**
 * Product names and prices from the order service's copy of the catalog, kept in the environment
 * for CATALOG_CACHE_MS: placing an order then needs one statement instead of two. The copy itself
 * follows inventory through events, so it is already seconds behind a price change at times; the
 * cache adds at most two seconds to that.
 */
export async function loadCatalog(db: Queryable, ids: string[]): Promise<Map<string, CatalogEntry>> {
  const now = Date.now();
  const missing = ids.filter((id) => (catalogCache.get(id)?.until ?? 0) <= now);
  if (missing.length > 0) {
    const { rows } = await db.query<{ id: string; name: string; price_cents: number }>(
      'SELECT id, name, price_cents FROM catalog_products WHERE id = ANY($1::uuid[])',
      [missing],
    );
    // An unknown product is not cached: it may be known a moment later.
    for (const r of rows) catalogCache.set(r.id, { entry: { id: r.id, name: r.name, priceCents: r.price_cents }, until: now + CATALOG_CACHE_MS });
  }
  return new Map(ids.flatMap((id) => {
    const cached = catalogCache.get(id);
    return cached ? [[id, cached.entry] as const] : [];
  }));
}

const CATALOG_CACHE_MS = 2_000;
const catalogCache = new Map<string, { entry: CatalogEntry; until: number }>();

/**
 * Keeps the catalog copy current, for several products in one statement, with what the fold of
 * each product's newest event says (domain/catalog-copy.ts); a version older than the one held is
 * ignored, as the fold ignores it.
 */
export async function upsertCatalogProducts(tx: Queryable, products: CatalogCopy[]): Promise<void> {
  if (products.length === 0) return;
  await tx.query(
    `INSERT INTO catalog_products (id, sku, name, price_cents, currency, product_version, updated_at)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::int[], $7::timestamptz[])
     ON CONFLICT (id) DO UPDATE SET sku = EXCLUDED.sku, name = EXCLUDED.name, price_cents = EXCLUDED.price_cents,
       currency = EXCLUDED.currency, product_version = EXCLUDED.product_version, updated_at = EXCLUDED.updated_at
     WHERE catalog_products.product_version < EXCLUDED.product_version`,
    [
      products.map((p) => p.id),
      products.map((p) => p.sku),
      products.map((p) => p.name),
      products.map((p) => p.priceCents),
      products.map((p) => p.currency),
      products.map((p) => p.productVersion),
      products.map((p) => p.updatedAt),
    ],
  );
}

/** What an Idempotency-Key was first used with. */
export async function findIdempotencyKey(db: Queryable, key: string): Promise<{ requestHash: string; orderId: string } | null> {
  const { rows } = await db.query<{ request_hash: string; order_id: string }>('SELECT request_hash, order_id FROM idempotency_keys WHERE key = $1', [key]);
  return rows[0] ? { requestHash: rows[0].request_hash, orderId: rows[0].order_id } : null;
}

/**
 * The order's timeline across every service: what this service published (outbox) and every
 * event about the order it received (inbox), in history order: the order's own events by version,
 * effects after their causes, time only in between (shared/events/history.ts). Times come from
 * different processes' clocks, so sorting by them alone could tell a cancellation before the
 * confirmation it cancelled.
 */
export async function orderTimeline(db: Queryable, orderId: string): Promise<AnyEnvelope[]> {
  return (await orderTimelines(db, [orderId])).get(orderId) ?? [];
}

/** The timelines of several orders (as orderTimeline), in one statement: for checking many at once. */
export async function orderTimelines(db: Queryable, orderIds: string[]): Promise<Map<string, AnyEnvelope[]>> {
  const { rows } = await db.query<{ order_id: string; envelope: AnyEnvelope }>(
    `SELECT order_id, envelope FROM (
       SELECT order_id, envelope, seq AS local_seq FROM outbox WHERE order_id = ANY($1::uuid[])
       UNION ALL
       SELECT order_id, envelope, NULL FROM inbox WHERE order_id = ANY($1::uuid[])
     ) t
     ORDER BY (envelope->>'occurredAt')::timestamptz, local_seq NULLS LAST`,
    [orderIds],
  );
  const stored = new Map<string, AnyEnvelope[]>();
  for (const r of rows) {
    const list = stored.get(r.order_id);
    if (list) list.push(r.envelope);
    else stored.set(r.order_id, [r.envelope]);
  }
  return new Map([...stored].map(([id, events]) => [id, inHistoryOrder(events)]));
}
