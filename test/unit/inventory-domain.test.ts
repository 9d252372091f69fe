import { describe, expect, it } from 'vitest';
import { mergeLines, planReservation, productChangeEvents } from '../../functions/inventory/domain/stock';
import type { Product } from '../../functions/inventory/domain/stock';

describe('all-or-nothing reservation', () => {
  const stock = new Map([
    ['p1', { available: 5 }],
    ['p2', { available: 0 }],
    ['p3', { available: 2 }],
  ]);

  it('reserves when every line fits', () => {
    expect(planReservation([{ productId: 'p3', quantity: 2 }, { productId: 'p1', quantity: 5 }], stock)).toEqual({
      ok: true,
      lines: [
        { productId: 'p1', quantity: 5 },
        { productId: 'p3', quantity: 2 },
      ],
    });
  });

  it('reserves nothing when any line falls short, and names each shortage', () => {
    expect(
      planReservation([{ productId: 'p1', quantity: 1 }, { productId: 'p2', quantity: 1 }, { productId: 'p3', quantity: 3 }], stock),
    ).toEqual({
      ok: false,
      shortages: [
        { productId: 'p2', requested: 1, available: 0 },
        { productId: 'p3', requested: 3, available: 2 },
      ],
    });
  });

  it('treats an unknown product as having nothing available', () => {
    expect(planReservation([{ productId: 'nope', quantity: 1 }], stock)).toEqual({
      ok: false,
      shortages: [{ productId: 'nope', requested: 1, available: 0 }],
    });
  });

  it('adds up lines for the same product before checking', () => {
    expect(mergeLines([{ productId: 'b', quantity: 1 }, { productId: 'a', quantity: 2 }, { productId: 'b', quantity: 3 }])).toEqual([
      { productId: 'a', quantity: 2 },
      { productId: 'b', quantity: 4 },
    ]);
    expect(planReservation([{ productId: 'p3', quantity: 1 }, { productId: 'p3', quantity: 2 }], stock).ok).toBe(false);
  });
});

describe('product change events', () => {
  const base: Product = {
    id: '0b5c4c1e-5b0b-4c55-9c55-4b7c8b0c0c01',
    sku: 'S',
    name: 'N',
    priceCents: 100,
    currency: 'USD',
    stock: 10,
    reserved: 0,
    available: 10,
    lowStockThreshold: 3,
    version: 1,
  };
  const withAvailable = (available: number, version: number): Product => ({ ...base, reserved: 10 - available, available, version });

  it('always reports the update', () => {
    expect(productChangeEvents(null, base).map((e) => e.type)).toEqual(['inventory.updated']);
  });

  it('reports low stock when available falls to or below the threshold', () => {
    expect(productChangeEvents(withAvailable(4, 1), withAvailable(3, 2)).map((e) => e.type)).toEqual(['inventory.updated', 'inventory.low_stock']);
  });

  it('does not repeat low stock while it stays low', () => {
    expect(productChangeEvents(withAvailable(3, 1), withAvailable(1, 2)).map((e) => e.type)).toEqual(['inventory.updated']);
  });
});
