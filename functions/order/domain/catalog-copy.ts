import type { AnyEnvelope } from '../../../shared/events/envelope';
import { CATALOG_CHANGES } from '../../../shared/events/types';

/**
 * The order service's copy of a product (catalog_products), as a pure fold over inventory's
 * inventory.updated events: the newest product version that touched the catalog (created, sku,
 * name, price or currency; stock moves are not the order service's business and do not reach it,
 * functions/subscriptions.ts). The consumer writes what this says; a rebuild folds inventory's log
 * with it.
 */
export interface CatalogCopy {
  id: string;
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
  productVersion: number;
  /** occurredAt of the event this version came with. */
  updatedAt: string;
}

/** Whether an event changes the catalog copy (the same rule as the routing detail `catalog`). */
export const touchesCatalog = (event: AnyEnvelope): event is Extract<AnyEnvelope, { type: 'inventory.updated' }> =>
  event.type === 'inventory.updated' && event.data.changed.some((c) => CATALOG_CHANGES.has(c));

export function evolveCatalogCopy(copy: CatalogCopy | null, event: AnyEnvelope): CatalogCopy | null {
  if (!touchesCatalog(event)) return copy;
  const d = event.data;
  if (copy && copy.productVersion >= d.productVersion) return copy;
  return { id: d.productId, sku: d.sku, name: d.name, priceCents: d.priceCents, currency: d.currency, productVersion: d.productVersion, updatedAt: event.occurredAt };
}
