import { describe, expect, it } from 'vitest';
import { decideBatch, productsNeeded } from '../../functions/inventory/domain/reservations';
import type { Reservation, StockCommand } from '../../functions/inventory/domain/reservations';
import type { Product } from '../../functions/inventory/domain/stock';

const product = (id: string, stock: number, reserved = 0, lowStockThreshold = 0): Product => ({
  id,
  sku: id,
  name: id,
  priceCents: 100,
  currency: 'USD',
  stock,
  reserved,
  available: stock - reserved,
  lowStockThreshold,
  version: 7,
});
const products = (...ps: Product[]) => new Map(ps.map((p) => [p.id, p]));
const reserve = (orderId: string, ...lines: [string, number][]): StockCommand => ({
  kind: 'reserve',
  orderId,
  orderVersion: 1,
  lines: lines.map(([productId, quantity]) => ({ productId, quantity })),
});
const release = (orderId: string, reason = 'order cancelled'): StockCommand => ({ kind: 'release', orderId, orderVersion: 2, reason });
const none = new Map<string, Reservation>();

describe('a batch of stock commands', () => {
  it('reserves orders in batch order until stock runs out, all or nothing per order', () => {
    const d = decideBatch([reserve('o1', ['a', 2], ['b', 1]), reserve('o2', ['a', 2]), reserve('o3', ['b', 1])], none, products(product('a', 3), product('b', 5)));
    expect(d.emitted.map((e) => [e.cause, e.type])).toEqual([
      [0, 'inventory.reserved'],
      [1, 'inventory.reservation_failed'],
      [2, 'inventory.reserved'],
      [0, 'inventory.updated'],
      [0, 'inventory.updated'],
    ]);
    expect(d.reservations.map((r) => [r.orderId, r.status])).toEqual([
      ['o1', 'ACTIVE'],
      ['o2', 'FAILED'],
      ['o3', 'ACTIVE'],
    ]);
    // each product reported once, as it ends the batch, its version bumped once
    expect(d.products.map((p) => [p.id, p.reserved, p.available, p.version])).toEqual([
      ['a', 2, 1, 8],
      ['b', 2, 3, 8],
    ]);
    expect(d.emitted[1]!.data).toMatchObject({ shortages: [{ productId: 'a', requested: 2, available: 1 }] });
    expect(d.emitted[3]!.data).toMatchObject({ productId: 'a', reserved: 2, changed: ['reserved'] });
  });

  it('never reserves an order whose end is in the same batch, and leaves a tombstone', () => {
    const d = decideBatch([reserve('o1', ['a', 1]), release('o1')], none, products(product('a', 3)));
    expect(d.emitted).toEqual([]);
    expect(d.products).toEqual([]);
    expect(d.reservations).toEqual([{ orderId: 'o1', status: 'RELEASED', items: [], reason: 'released before reservation: order cancelled' }]);
    expect(d.skipped).toEqual([{ cause: 0, why: 'order ended in the same batch; nothing reserved' }]);
  });

  it('releases an active reservation, and ignores a second release', () => {
    const held: Reservation = { orderId: 'o1', status: 'ACTIVE', items: [{ productId: 'a', quantity: 2 }], reason: null };
    const d = decideBatch([release('o1', 'payment failed: card declined'), release('o1')], new Map([['o1', held]]), products(product('a', 5, 2)));
    expect(d.emitted.map((e) => e.type)).toEqual(['inventory.released', 'inventory.updated']);
    expect(d.products[0]).toMatchObject({ reserved: 0, available: 5 });
    expect(d.reservations).toEqual([{ ...held, status: 'RELEASED', reason: 'payment failed: card declined' }]);
    expect(d.skipped).toEqual([{ cause: 1, why: 'reservation is RELEASED' }]);
  });

  it('makes a late reservation for a released order reserve nothing', () => {
    const tombstone: Reservation = { orderId: 'o1', status: 'RELEASED', items: [], reason: 'released before reservation: order cancelled' };
    const d = decideBatch([reserve('o1', ['a', 1])], new Map([['o1', tombstone]]), products(product('a', 3)));
    expect(d.emitted).toEqual([]);
    expect(d.reservations).toEqual([]);
  });

  it('takes shipped units out of stock', () => {
    const held: Reservation = { orderId: 'o1', status: 'ACTIVE', items: [{ productId: 'a', quantity: 2 }], reason: null };
    const d = decideBatch([{ kind: 'commit', orderId: 'o1' }], new Map([['o1', held]]), products(product('a', 5, 2)));
    expect(d.products[0]).toMatchObject({ stock: 3, reserved: 0, available: 3 });
    expect(d.reservations[0]!.status).toBe('COMMITTED');
    expect(d.emitted[0]!.data).toMatchObject({ changed: ['stock', 'reserved'] });
  });

  it('reports low stock once, when the batch takes a product across its threshold', () => {
    const d = decideBatch([reserve('o1', ['a', 3]), reserve('o2', ['a', 1])], none, products(product('a', 10, 0, 6)));
    expect(d.emitted.map((e) => e.type)).toEqual(['inventory.reserved', 'inventory.reserved', 'inventory.updated', 'inventory.low_stock']);
  });

  it('reports nothing for a product whose moves cancel out', () => {
    const held: Reservation = { orderId: 'o1', status: 'ACTIVE', items: [{ productId: 'a', quantity: 1 }], reason: null };
    const d = decideBatch([release('o1'), reserve('o2', ['a', 1])], new Map([['o1', held]]), products(product('a', 5, 1)));
    expect(d.products).toEqual([]);
    expect(d.emitted.map((e) => e.type)).toEqual(['inventory.released', 'inventory.reserved']);
  });

  it('loads the products of new orders and of reservations on record', () => {
    const held: Reservation = { orderId: 'o1', status: 'ACTIVE', items: [{ productId: 'z', quantity: 1 }], reason: null };
    expect(productsNeeded([reserve('o2', ['b', 1], ['a', 1]), release('o1')], new Map([['o1', held]]))).toEqual(['a', 'b', 'z']);
  });
});
