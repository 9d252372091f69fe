/**
 * The benchmark's catalog: plentiful products, and a few scarce ones so that some orders fail out
 * of stock. Created over the HTTP API like any product; ready once the order service's catalog
 * copy (kept from inventory.updated events) knows every one of them.
 */
import type pg from 'pg';
import { apiFetch, retryAfterMs } from './http';

export interface ProductSetOptions {
  plentiful: number;
  plentifulStock: number;
  scarce: number;
  scarceStock: number;
}

export const DEFAULT_PRODUCT_SET: ProductSetOptions = { plentiful: 100, plentifulStock: 1_000_000, scarce: 3, scarceStock: 20 };

export interface ProductSet {
  plentiful: string[];
  scarce: string[];
  /** Stock each product was created with, for the invariant check. */
  initialStock: Map<string, number>;
}

/** Refusals (throttled while environments start, rate-limited) a product's creation waits out. */
const MAX_REFUSALS = 30;

async function createProduct(httpUrl: string, auth: Record<string, string>, body: Record<string, unknown>): Promise<string> {
  for (let refusals = 0; ; refusals++) {
    const res = await apiFetch(`${httpUrl}/products`, { method: 'POST', body, auth, timeoutMs: 15_000 });
    const json = (await res.json()) as { id?: string };
    if (res.status === 201 && json.id) return json.id;
    // A throttled or rate-limited request never ran: trying it again after the pause asked for is
    // what a client does (the setup is not measured; the load itself never retries).
    const wait = retryAfterMs(res.status, res.headers.get('retry-after'));
    if (wait === undefined || refusals >= MAX_REFUSALS) throw new Error(`POST /products: ${res.status} ${JSON.stringify(json)}`);
    await new Promise((r) => setTimeout(r, wait));
  }
}

/**
 * Creates the products (a few at a time) as an operator (`auth`: its authorization header) and
 * waits, at most timeoutMs, until the order service knows them all.
 */
export async function createProductSet(httpUrl: string, auth: Record<string, string>, orderDb: pg.Pool, opts: ProductSetOptions = DEFAULT_PRODUCT_SET, timeoutMs = 60_000): Promise<ProductSet> {
  const specs = [
    ...Array.from({ length: opts.plentiful }, (_, i) => ({ kind: 'plentiful' as const, sku: `BENCH-P${i}`, stock: opts.plentifulStock, priceCents: 500 + i })),
    ...Array.from({ length: opts.scarce }, (_, i) => ({ kind: 'scarce' as const, sku: `BENCH-S${i}`, stock: opts.scarceStock, priceCents: 9_900 + i })),
  ];
  const set: ProductSet = { plentiful: [], scarce: [], initialStock: new Map() };
  for (let at = 0; at < specs.length; at += 8) {
    const chunk = specs.slice(at, at + 8);
    const ids = await Promise.all(
      chunk.map((s) => createProduct(httpUrl, auth, { sku: s.sku, name: `Bench ${s.kind} ${s.sku}`, priceCents: s.priceCents, stock: s.stock, lowStockThreshold: 0 })),
    );
    chunk.forEach((s, i) => {
      set[s.kind].push(ids[i]!);
      set.initialStock.set(ids[i]!, s.stock);
    });
  }
  const deadline = Date.now() + timeoutMs;
  const all = [...set.initialStock.keys()];
  for (;;) {
    const { rows } = await orderDb.query<{ n: number }>('SELECT count(*)::int AS n FROM catalog_products WHERE id = ANY($1::uuid[])', [all]);
    if (rows[0]!.n === all.length) return set;
    if (Date.now() > deadline) throw new Error(`the order service knows ${rows[0]!.n} of ${all.length} products after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
