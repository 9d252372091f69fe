/**
 * The order service's projections, for rebuilds and checks (shared/history/table-rebuild.ts): each
 * folds a log with the same pure function the live path writes with.
 *
 * - `orders`: the orders table and its lines, from the order log (domain/order-record.ts); the
 *   saga's two flags also from the inbox (what the order service received), settled under the final
 *   lock. They are compared only while an order is PENDING, the only time the saga reads them: past
 *   the inbox's retention a settled order's flags cannot be known from any log.
 * - `catalog`: the copy of inventory's catalog, from inventory's log (domain/catalog-copy.ts).
 */
import type { Queryable } from '../../shared/db/pool';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { orderIdOf } from '../../shared/events/envelope';
import type { TableProjection } from '../../shared/history/table-rebuild';
import { evolveCatalogCopy } from './domain/catalog-copy';
import type { CatalogCopy } from './domain/catalog-copy';
import { ORDER_RECORD_EVENTS, evolveOrder } from './domain/order-record';
import type { OrderRecord } from './domain/order-record';
import type { OrderRow as StoredOrderRow } from './store';

const ORDER_COLUMNS = [
  'id',
  'customer_id',
  'status',
  'total_cents',
  'currency',
  'failure_reason',
  'payment_token',
  'stock_reserved',
  'payment_processed',
  'version',
  'created_at',
  'updated_at',
  'correlation_id',
];

/** The store's row, with the correlation id the projection also compares. */
type OrderRow = StoredOrderRow & { correlation_id: string };

export const ordersProjection: TableProjection<OrderRecord> = {
  name: 'orders',
  owner: 'order',
  source: 'order',
  // The outcomes are not in the order log: the flags come from the inbox (finish).
  types: ORDER_RECORD_EVENTS.filter((t) => t.startsWith('order.')),
  tables: [
    {
      live: 'orders',
      shadow: 'orders_rebuild',
      key: ['id'],
      columns: ORDER_COLUMNS,
      compared: `ROW(${ORDER_COLUMNS.filter((c) => c !== 'stock_reserved' && c !== 'payment_processed').map((c) => `t.${c}`).join(', ')},
                 CASE WHEN t.status = 'PENDING' THEN ROW(t.stock_reserved, t.payment_processed) END)`,
    },
    {
      live: 'order_items',
      shadow: 'order_items_rebuild',
      key: ['order_id', 'line_no'],
      columns: ['order_id', 'line_no', 'product_id', 'name', 'quantity', 'unit_price_cents', 'line_total_cents'],
    },
  ],
  keyOf: (event: AnyEnvelope) => orderIdOf(event),
  evolve: evolveOrder,
  async load(tx: Queryable, keys: string[]) {
    const { rows } = await tx.query<OrderRow>(
      `SELECT o.*, COALESCE((SELECT json_agg(json_build_object('productId', i.product_id, 'name', i.name, 'quantity', i.quantity,
                'unitPriceCents', i.unit_price_cents, 'lineTotalCents', i.line_total_cents) ORDER BY i.line_no)
                FROM order_items_rebuild i WHERE i.order_id = o.id), '[]') AS items
         FROM orders_rebuild o WHERE o.id = ANY($1::uuid[])`,
      [keys],
    );
    return new Map(
      rows.map((r) => [
        r.id,
        {
          id: r.id,
          customerId: r.customer_id,
          status: r.status,
          totalCents: Number(r.total_cents),
          currency: r.currency,
          failureReason: r.failure_reason,
          paymentToken: r.payment_token,
          stockReserved: r.stock_reserved,
          paymentProcessed: r.payment_processed,
          version: r.version,
          createdAt: r.created_at.toISOString(),
          updatedAt: r.updated_at.toISOString(),
          correlationId: r.correlation_id,
          items: r.items,
        },
      ]),
    );
  },
  async save(tx: Queryable, states: Map<string, OrderRecord | null>) {
    const ids = [...states.keys()];
    const records = [...states.values()].filter((r): r is OrderRecord => r !== null);
    await tx.query('DELETE FROM order_items_rebuild WHERE order_id = ANY($1::uuid[])', [ids]);
    await tx.query('DELETE FROM orders_rebuild WHERE id = ANY($1::uuid[])', [ids]);
    if (records.length === 0) return;
    await tx.query(
      `INSERT INTO orders_rebuild (${ORDER_COLUMNS.join(', ')})
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bool[], $9::bool[],
                            $10::int[], $11::timestamptz[], $12::timestamptz[], $13::text[])`,
      [
        records.map((r) => r.id),
        records.map((r) => r.customerId),
        records.map((r) => r.status),
        records.map((r) => r.totalCents),
        records.map((r) => r.currency),
        records.map((r) => r.failureReason),
        records.map((r) => r.paymentToken),
        records.map((r) => r.stockReserved),
        records.map((r) => r.paymentProcessed),
        records.map((r) => r.version),
        records.map((r) => r.createdAt),
        records.map((r) => r.updatedAt),
        records.map((r) => r.correlationId),
      ],
    );
    const lines = records.flatMap((r) => r.items.map((i, n) => ({ orderId: r.id, lineNo: n + 1, ...i })));
    await tx.query(
      `INSERT INTO order_items_rebuild (order_id, line_no, product_id, name, quantity, unit_price_cents, line_total_cents)
       SELECT * FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::text[], $5::int[], $6::int[], $7::bigint[])`,
      [
        lines.map((l) => l.orderId),
        lines.map((l) => l.lineNo),
        lines.map((l) => l.productId),
        lines.map((l) => l.name),
        lines.map((l) => l.quantity),
        lines.map((l) => l.unitPriceCents),
        lines.map((l) => l.lineTotalCents),
      ],
    );
  },
  async finish(tx: Queryable) {
    // The outcomes this service received (the same events evolveOrder takes for the flags).
    await tx.query(
      `UPDATE orders_rebuild r SET stock_reserved = r.stock_reserved OR i.reserved, payment_processed = r.payment_processed OR i.processed
         FROM (SELECT order_id, bool_or(type = 'inventory.reserved') AS reserved, bool_or(type = 'payment.processed') AS processed
                 FROM inbox WHERE type IN ('inventory.reserved', 'payment.processed') GROUP BY order_id) i
        WHERE r.id = i.order_id AND ((i.reserved AND NOT r.stock_reserved) OR (i.processed AND NOT r.payment_processed))`,
    );
  },
};

const CATALOG_COLUMNS = ['id', 'sku', 'name', 'price_cents', 'currency', 'product_version', 'updated_at'];

export const catalogProjection: TableProjection<CatalogCopy> = {
  name: 'catalog',
  owner: 'order',
  source: 'inventory',
  types: ['inventory.updated'],
  tables: [{ live: 'catalog_products', shadow: 'catalog_products_rebuild', key: ['id'], columns: CATALOG_COLUMNS }],
  keyOf: (event: AnyEnvelope) => (event.type === 'inventory.updated' ? event.data.productId : null),
  evolve: evolveCatalogCopy,
  async load(tx: Queryable, keys: string[]) {
    const { rows } = await tx.query<{ id: string; sku: string; name: string; price_cents: number; currency: string; product_version: number; updated_at: Date }>(
      'SELECT * FROM catalog_products_rebuild WHERE id = ANY($1::uuid[])',
      [keys],
    );
    return new Map(
      rows.map((r) => [r.id, { id: r.id, sku: r.sku, name: r.name, priceCents: r.price_cents, currency: r.currency, productVersion: r.product_version, updatedAt: r.updated_at.toISOString() }]),
    );
  },
  async save(tx: Queryable, states: Map<string, CatalogCopy | null>) {
    const copies = [...states.values()].filter((c): c is CatalogCopy => c !== null);
    await tx.query('DELETE FROM catalog_products_rebuild WHERE id = ANY($1::uuid[])', [[...states.keys()]]);
    await tx.query(
      `INSERT INTO catalog_products_rebuild (${CATALOG_COLUMNS.join(', ')})
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::int[], $7::timestamptz[])`,
      [
        copies.map((c) => c.id),
        copies.map((c) => c.sku),
        copies.map((c) => c.name),
        copies.map((c) => c.priceCents),
        copies.map((c) => c.currency),
        copies.map((c) => c.productVersion),
        copies.map((c) => c.updatedAt),
      ],
    );
  },
};

/** The order service's table projections, by name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each projection folds its own state
export const ORDER_PROJECTIONS: Record<string, TableProjection<any>> = {
  orders: ordersProjection,
  catalog: catalogProjection,
};
