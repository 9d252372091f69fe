export interface CatalogEntry {
  id: string;
  name: string;
  priceCents: number;
}

export interface RequestedLine {
  productId: string;
  quantity: number;
}

export interface PricedLine {
  productId: string;
  name: string;
  quantity: number;
  unitPriceCents: number;
  lineTotalCents: number;
}

export type PricingResult =
  | { ok: true; items: PricedLine[]; totalCents: number }
  | { ok: false; unknownLines: number[] };

/** Prices an order from the service's own catalog: a client never sets a price. */
export function priceOrder(lines: RequestedLine[], catalog: ReadonlyMap<string, CatalogEntry>): PricingResult {
  const unknownLines = lines.flatMap((l, i) => (catalog.has(l.productId) ? [] : [i]));
  if (unknownLines.length > 0) return { ok: false, unknownLines };
  const items = lines.map((l) => {
    const product = catalog.get(l.productId)!;
    return {
      productId: l.productId,
      name: product.name,
      quantity: l.quantity,
      unitPriceCents: product.priceCents,
      lineTotalCents: product.priceCents * l.quantity,
    };
  });
  return { ok: true, items, totalCents: items.reduce((sum, l) => sum + l.lineTotalCents, 0) };
}
