import type { AnyEnvelope } from '../../../shared/events/envelope';
import type { OrderStatus } from '../../../shared/events/types';
import type { PricedLine } from './pricing';

/**
 * An order as the orders table holds it, as a pure fold over the order's events: order.created
 * makes it, order.updated and order.cancelled move it (the order's own log), and the outcomes the
 * order service received (inventory.reserved, payment.processed) set the saga's two flags. The live
 * path writes what this fold says for each event it emits (store.ts), and a rebuild folds the log
 * with it (projections.ts), so the two cannot drift.
 */
export interface OrderRecord {
  id: string;
  customerId: string;
  status: OrderStatus;
  totalCents: number;
  currency: string;
  failureReason: string | null;
  paymentToken: string;
  stockReserved: boolean;
  paymentProcessed: boolean;
  version: number;
  /** occurredAt of order.created. */
  createdAt: string;
  /** occurredAt of the last event that changed the status. */
  updatedAt: string;
  correlationId: string;
  items: PricedLine[];
}

/** Statuses an order reaches only once both saga steps succeeded. */
const CONFIRMED_OR_LATER: ReadonlySet<OrderStatus> = new Set(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED']);

/** The events that change an order record. */
export const ORDER_RECORD_EVENTS = ['order.created', 'order.updated', 'order.cancelled', 'inventory.reserved', 'payment.processed'] as const;

/**
 * The record after one more event. An event older than the record's version (a status change seen
 * twice, or late) changes nothing; an event for an order not yet created is ignored.
 */
export function evolveOrder(record: OrderRecord | null, event: AnyEnvelope): OrderRecord | null {
  switch (event.type) {
    case 'order.created': {
      if (record) return record;
      const d = event.data;
      return {
        id: d.orderId,
        customerId: d.customerId,
        status: 'PENDING',
        totalCents: d.totalCents,
        currency: d.currency,
        failureReason: null,
        paymentToken: d.paymentToken,
        stockReserved: false,
        paymentProcessed: false,
        version: d.orderVersion,
        createdAt: event.occurredAt,
        updatedAt: event.occurredAt,
        correlationId: event.correlationId,
        items: d.items,
      };
    }
    case 'order.updated': {
      if (!record || event.data.orderVersion <= record.version) return record;
      const { status, reason, orderVersion } = event.data;
      // Confirmation means both steps succeeded, whether or not their events are still on record.
      const confirmed = CONFIRMED_OR_LATER.has(status);
      return {
        ...record,
        status,
        failureReason: status === 'FAILED' ? reason : record.failureReason,
        stockReserved: record.stockReserved || confirmed,
        paymentProcessed: record.paymentProcessed || confirmed,
        version: orderVersion,
        updatedAt: event.occurredAt,
      };
    }
    case 'order.cancelled': {
      if (!record || event.data.orderVersion <= record.version) return record;
      return { ...record, status: 'CANCELLED', failureReason: event.data.reason, version: event.data.orderVersion, updatedAt: event.occurredAt };
    }
    case 'inventory.reserved':
      return record && !record.stockReserved ? { ...record, stockReserved: true } : record;
    case 'payment.processed':
      return record && !record.paymentProcessed ? { ...record, paymentProcessed: true } : record;
    default:
      return record;
  }
}

/** The fold itself: the record after a sequence of one order's events. */
export const foldOrder = (events: readonly AnyEnvelope[], from: OrderRecord | null = null): OrderRecord | null => events.reduce(evolveOrder, from);
