import { lockOrderScopes } from '../../shared/db/locks';
import type { Queryable } from '../../shared/db/pool';
import type { Reservation, ReservationStatus } from './domain/reservations';
import type { Product, StockLine } from './domain/stock';

interface ProductRow {
  id: string;
  sku: string;
  name: string;
  price_cents: number;
  currency: string;
  stock: number;
  reserved: number;
  low_stock_threshold: number;
  version: number;
}

export function toProduct(r: ProductRow): Product {
  return {
    id: r.id,
    sku: r.sku,
    name: r.name,
    priceCents: r.price_cents,
    currency: r.currency,
    stock: r.stock,
    reserved: r.reserved,
    available: r.stock - r.reserved,
    lowStockThreshold: r.low_stock_threshold,
    version: r.version,
  };
}

export async function findProduct(db: Queryable, id: string, opts: { forUpdate?: boolean } = {}) {
  const { rows } = await db.query<ProductRow>(`SELECT * FROM products WHERE id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ? toProduct(rows[0]) : null;
}

/** Locks the products in id order, so concurrent reservations never deadlock. */
export async function lockProducts(tx: Queryable, ids: string[]): Promise<Map<string, Product>> {
  const { rows } = await tx.query<ProductRow>('SELECT * FROM products WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', [ids]);
  return new Map(rows.map((r) => [r.id, toProduct(r)]));
}

export async function listProducts(db: Queryable, after: [string, string] | null, limit: number): Promise<Product[]> {
  const { rows } = await db.query<ProductRow>(
    `SELECT * FROM products WHERE ($1::text IS NULL OR (sku, id) > ($1::text, $2::uuid))
     ORDER BY sku, id LIMIT $3`,
    [after?.[0] ?? null, after?.[1] ?? null, limit],
  );
  return rows.map(toProduct);
}

export async function insertProduct(
  tx: Queryable,
  p: { id: string; sku: string; name: string; priceCents: number; currency: string; stock: number; lowStockThreshold: number },
): Promise<Product> {
  const { rows } = await tx.query<ProductRow>(
    `INSERT INTO products (id, sku, name, price_cents, currency, stock, low_stock_threshold)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [p.id, p.sku, p.name, p.priceCents, p.currency, p.stock, p.lowStockThreshold],
  );
  return toProduct(rows[0]!);
}

export async function updateProduct(
  tx: Queryable,
  id: string,
  changes: { name?: string; priceCents?: number; stock?: number; lowStockThreshold?: number },
): Promise<Product> {
  const { rows } = await tx.query<ProductRow>(
    `UPDATE products SET name = COALESCE($2, name), price_cents = COALESCE($3, price_cents),
            stock = COALESCE($4, stock), low_stock_threshold = COALESCE($5, low_stock_threshold),
            version = version + 1, updated_at = now()
      WHERE id = $1 RETURNING *`,
    [id, changes.name ?? null, changes.priceCents ?? null, changes.stock ?? null, changes.lowStockThreshold ?? null],
  );
  return toProduct(rows[0]!);
}

/** Writes products' stock, reservations and versions as decided for a batch, in one statement (rows locked by the caller). */
export async function saveStock(tx: Queryable, products: Product[]): Promise<void> {
  if (products.length === 0) return;
  await tx.query(
    `UPDATE products p SET stock = u.stock, reserved = u.reserved, version = u.version, updated_at = now()
       FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[]) AS u(id, stock, reserved, version)
      WHERE p.id = u.id`,
    [products.map((p) => p.id), products.map((p) => p.stock), products.map((p) => p.reserved), products.map((p) => p.version)],
  );
}

/** Takes the locks of every order in the batch (in one statement, in a stable order), then reads their reservation records. */
export async function lockReservations(tx: Queryable, orderIds: string[]): Promise<Map<string, Reservation>> {
  await lockOrderScopes(tx, orderIds);
  const { rows } = await tx.query<{ order_id: string; status: ReservationStatus; items: StockLine[]; reason: string | null }>(
    'SELECT order_id, status, items, reason FROM reservations WHERE order_id = ANY($1::uuid[])',
    [orderIds],
  );
  return new Map(rows.map((r) => [r.order_id, { orderId: r.order_id, status: r.status, items: r.items, reason: r.reason }]));
}

export async function saveReservations(tx: Queryable, reservations: Reservation[]): Promise<void> {
  if (reservations.length === 0) return;
  await tx.query(
    `INSERT INTO reservations (order_id, status, items, reason)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[])
     ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, items = EXCLUDED.items,
       reason = EXCLUDED.reason, updated_at = now()`,
    [reservations.map((r) => r.orderId), reservations.map((r) => r.status), reservations.map((r) => JSON.stringify(r.items)), reservations.map((r) => r.reason)],
  );
}
