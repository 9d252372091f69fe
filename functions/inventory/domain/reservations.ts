import type { AnyEnvelope } from '../../../shared/events/envelope';
import type { EventData, EventType } from '../../../shared/events/types';
import { describeShortages, planReservation, productChangeEvents } from './stock';
import type { Product, StockLine } from './stock';

export type ReservationStatus = 'ACTIVE' | 'FAILED' | 'RELEASED' | 'COMMITTED';

/** One per order the service has heard of. A RELEASED one without items is a tombstone. */
export interface Reservation {
  orderId: string;
  status: ReservationStatus;
  items: StockLine[];
  reason: string | null;
}

/** What an incoming event asks of inventory. */
export type StockCommand =
  | { kind: 'reserve'; orderId: string; orderVersion: number; lines: StockLine[] }
  | { kind: 'release'; orderId: string; orderVersion: number; reason: string }
  /** The order shipped: its reserved units leave the warehouse. */
  | { kind: 'commit'; orderId: string };

export function commandOf(event: AnyEnvelope): StockCommand | null {
  switch (event.type) {
    case 'order.created':
      return {
        kind: 'reserve',
        orderId: event.data.orderId,
        orderVersion: event.data.orderVersion,
        lines: event.data.items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
      };
    case 'order.cancelled':
      return { kind: 'release', orderId: event.data.orderId, orderVersion: event.data.orderVersion, reason: 'order cancelled' };
    case 'payment.failed':
      return { kind: 'release', orderId: event.data.orderId, orderVersion: event.data.orderVersion, reason: `payment failed: ${event.data.reason}` };
    case 'order.updated':
      return event.data.status === 'SHIPPED' ? { kind: 'commit', orderId: event.data.orderId } : null;
    default:
      return null;
  }
}

/** The products a batch of commands touches, given the reservations already on record. */
export function productsNeeded(commands: StockCommand[], reservations: ReadonlyMap<string, Reservation>): string[] {
  const ids = new Set<string>();
  for (const c of commands) {
    if (c.kind === 'reserve') for (const l of c.lines) ids.add(l.productId);
    else for (const l of reservations.get(c.orderId)?.items ?? []) ids.add(l.productId);
  }
  return [...ids].sort();
}

export interface Emitted<T extends EventType = EventType> {
  /** Index of the command (in the batch) whose event caused this one. */
  cause: number;
  type: T;
  data: EventData<T>;
}

export interface BatchDecision {
  /** Reservation records to write (new or changed). */
  reservations: Reservation[];
  /** Products whose stock moved, as they end the batch (version bumped once). */
  products: Product[];
  emitted: Emitted[];
  /** Commands that changed nothing, with why (for the log). */
  skipped: { cause: number; why: string }[];
}

/**
 * Decides a whole batch of stock commands, in order, against the reservations and the (locked)
 * products as they stand: every line of an order reserved or none; releases give back what was
 * reserved, or leave a tombstone so a late reservation reserves nothing; a shipped order's units
 * leave stock. An order whose release is in the same batch is never reserved: the stock would only
 * go back out. Each product that moved is reported once, as it ends the batch.
 */
export function decideBatch(
  commands: StockCommand[],
  reservationsBefore: ReadonlyMap<string, Reservation>,
  productsBefore: ReadonlyMap<string, Product>,
): BatchDecision {
  const reservations = new Map(reservationsBefore);
  const products = new Map(productsBefore);
  const changedReservations = new Set<string>();
  const movedBy = new Map<string, number>(); // product -> first command that moved it
  const emitted: Emitted[] = [];
  const skipped: BatchDecision['skipped'] = [];
  const releasedInBatch = new Set(commands.filter((c) => c.kind === 'release').map((c) => c.orderId));

  const move = (lines: StockLine[], delta: { reserved: number; stock: number }, cause: number) => {
    for (const l of lines) {
      const p = products.get(l.productId);
      if (!p) throw new Error(`product ${l.productId} of a reservation was not loaded`);
      const stock = p.stock + delta.stock * l.quantity;
      const reserved = p.reserved + delta.reserved * l.quantity;
      products.set(p.id, { ...p, stock, reserved, available: stock - reserved });
      if (!movedBy.has(p.id)) movedBy.set(p.id, cause);
    }
  };
  const record = (r: Reservation) => {
    reservations.set(r.orderId, r);
    changedReservations.add(r.orderId);
  };

  commands.forEach((c, i) => {
    const existing = reservations.get(c.orderId);
    if (c.kind === 'reserve') {
      if (existing) return skipped.push({ cause: i, why: `order already has a ${existing.status} reservation record` });
      if (releasedInBatch.has(c.orderId)) return skipped.push({ cause: i, why: 'order ended in the same batch; nothing reserved' });
      const plan = planReservation(c.lines, products);
      if (!plan.ok) {
        const reason = describeShortages(plan.shortages);
        record({ orderId: c.orderId, status: 'FAILED', items: [], reason });
        emitted.push({ cause: i, type: 'inventory.reservation_failed', data: { orderId: c.orderId, orderVersion: c.orderVersion, reason, shortages: plan.shortages } });
        return;
      }
      move(plan.lines, { reserved: +1, stock: 0 }, i);
      record({ orderId: c.orderId, status: 'ACTIVE', items: plan.lines, reason: null });
      emitted.push({ cause: i, type: 'inventory.reserved', data: { orderId: c.orderId, orderVersion: c.orderVersion, items: plan.lines } });
    } else if (c.kind === 'release') {
      if (!existing) {
        record({ orderId: c.orderId, status: 'RELEASED', items: [], reason: `released before reservation: ${c.reason}` });
        return;
      }
      if (existing.status !== 'ACTIVE') return skipped.push({ cause: i, why: `reservation is ${existing.status}` });
      move(existing.items, { reserved: -1, stock: 0 }, i);
      record({ ...existing, status: 'RELEASED', reason: c.reason });
      emitted.push({ cause: i, type: 'inventory.released', data: { orderId: c.orderId, orderVersion: c.orderVersion, items: existing.items, reason: c.reason } });
    } else {
      if (existing?.status !== 'ACTIVE') return skipped.push({ cause: i, why: `no active reservation to ship (${existing?.status ?? 'none'})` });
      move(existing.items, { reserved: -1, stock: -1 }, i);
      record({ ...existing, status: 'COMMITTED' });
    }
  });

  const moved: Product[] = [];
  for (const [id, cause] of [...movedBy].sort(([a], [b]) => a.localeCompare(b))) {
    const before = productsBefore.get(id)!;
    const after = { ...products.get(id)!, version: before.version + 1 };
    const events = productChangeEvents(before, after);
    if (events.length === 0) continue; // moved and moved back within the batch
    moved.push(after);
    for (const e of events) emitted.push({ cause, type: e.type, data: e.data });
  }
  return { reservations: [...changedReservations].map((id) => reservations.get(id)!), products: moved, emitted, skipped };
}
