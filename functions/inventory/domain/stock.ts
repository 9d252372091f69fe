import type { EventData, EventType, ProductChange } from '../../../shared/events/types';

export interface Product {
  id: string;
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
  stock: number;
  reserved: number;
  available: number;
  lowStockThreshold: number;
  version: number;
}

export interface StockLine {
  productId: string;
  quantity: number;
}

export interface Shortage {
  productId: string;
  requested: number;
  available: number;
}

/** Sums the quantities of lines naming the same product, in a stable (id) order for row locking. */
export function mergeLines(lines: StockLine[]): StockLine[] {
  const totals = new Map<string, number>();
  for (const l of lines) totals.set(l.productId, (totals.get(l.productId) ?? 0) + l.quantity);
  return [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([productId, quantity]) => ({ productId, quantity }));
}

/** All or nothing: every line can be reserved from available stock, or the shortages say why not. */
export function planReservation(
  lines: StockLine[],
  stock: ReadonlyMap<string, Pick<Product, 'available'>>,
): { ok: true; lines: StockLine[] } | { ok: false; shortages: Shortage[] } {
  const merged = mergeLines(lines);
  const shortages = merged.flatMap((l) => {
    const available = stock.get(l.productId)?.available ?? 0;
    return available >= l.quantity ? [] : [{ productId: l.productId, requested: l.quantity, available }];
  });
  return shortages.length ? { ok: false, shortages } : { ok: true, lines: merged };
}

export function describeShortages(shortages: Shortage[]): string {
  return `insufficient stock: ${shortages.map((s) => `${s.productId} (requested ${s.requested}, available ${s.available})`).join(', ')}`;
}

export type ProductEvent = { type: Extract<EventType, 'inventory.updated' | 'inventory.low_stock'>; data: EventData<'inventory.updated'> };

function snapshot(p: Product, changed: ProductChange[]): EventData<'inventory.updated'> {
  return {
    productId: p.id,
    productVersion: p.version,
    sku: p.sku,
    name: p.name,
    priceCents: p.priceCents,
    currency: p.currency,
    stock: p.stock,
    reserved: p.reserved,
    available: p.available,
    lowStockThreshold: p.lowStockThreshold,
    changed,
  };
}

/** Which fields differ between two states of a product; `created` when there was none before. */
export function changesOf(before: Product | null, after: Product): ProductChange[] {
  if (!before) return ['created'];
  const changed: ProductChange[] = [];
  if (before.sku !== after.sku) changed.push('sku');
  if (before.name !== after.name) changed.push('name');
  if (before.priceCents !== after.priceCents) changed.push('price');
  if (before.currency !== after.currency) changed.push('currency');
  if (before.stock !== after.stock) changed.push('stock');
  if (before.reserved !== after.reserved) changed.push('reserved');
  if (before.lowStockThreshold !== after.lowStockThreshold) changed.push('threshold');
  return changed;
}

const isLow = (p: Pick<Product, 'available' | 'lowStockThreshold'>) => p.available <= p.lowStockThreshold;

/**
 * The events a product change causes: inventory.updated saying what changed (nothing if nothing
 * did); inventory.low_stock too when available stock has just fallen to or below its threshold.
 */
export function productChangeEvents(before: Product | null, after: Product): ProductEvent[] {
  const changed = changesOf(before, after);
  if (changed.length === 0) return [];
  const events: ProductEvent[] = [{ type: 'inventory.updated', data: snapshot(after, changed) }];
  if (before && isLow(after) && !isLow(before)) events.push({ type: 'inventory.low_stock', data: snapshot(after, changed) });
  return events;
}
