/**
 * What the dashboard knows about each event type. Keyed by the event catalog's own type
 * (shared/events/types.ts), so a new event type fails the build until it is described here.
 */
import type { AnyEnvelope } from '../../shared/events/envelope';
import type { EventType, OrderStatus, Publisher } from '../../shared/events/types';
import type { PaymentStatus } from '../../functions/payment/domain/payments';

/** An event as it arrives over the WebSocket or from GET /orders/{id}/events. */
export type LiveEvent = AnyEnvelope & { truncated?: boolean };

export type { EventType, OrderStatus, Publisher };

export interface EventInfo {
  /** Short label of the step, as a swimlane or a feed shows it. */
  label: string;
  /** A compensation undoes an earlier step of the saga (drawn as a reverse step). */
  compensation?: boolean;
  /** The step went wrong (the saga fails or is undone because of it). */
  failure?: boolean;
}

export const EVENT_INFO: Record<EventType, EventInfo> = {
  'order.created': { label: 'Order placed' },
  'order.updated': { label: 'Status changed' },
  'order.cancelled': { label: 'Cancelled', failure: true },
  'payment.initiated': { label: 'Charge started' },
  'payment.processed': { label: 'Card charged' },
  'payment.failed': { label: 'Charge declined', failure: true },
  'payment.refunded': { label: 'Refunded', compensation: true },
  'inventory.reserved': { label: 'Stock reserved' },
  'inventory.reservation_failed': { label: 'Reservation failed', failure: true },
  'inventory.released': { label: 'Stock released', compensation: true },
  'inventory.updated': { label: 'Product updated' },
  'inventory.low_stock': { label: 'Low stock', failure: true },
};

export const EVENT_TYPES = Object.keys(EVENT_INFO) as EventType[];

/** The publishing services, in the order the swimlane draws them. */
export const SERVICES: Record<Publisher, { label: string }> = {
  order: { label: 'Order' },
  inventory: { label: 'Inventory' },
  payment: { label: 'Payment' },
};
export const SERVICE_NAMES = Object.keys(SERVICES) as Publisher[];

export const STATUS_INFO: Record<OrderStatus, { label: string; tone: 'neutral' | 'progress' | 'good' | 'bad' | 'muted' }> = {
  PENDING: { label: 'Pending', tone: 'progress' },
  CONFIRMED: { label: 'Confirmed', tone: 'good' },
  PROCESSING: { label: 'Processing', tone: 'progress' },
  SHIPPED: { label: 'Shipped', tone: 'good' },
  DELIVERED: { label: 'Delivered', tone: 'good' },
  CANCELLED: { label: 'Cancelled', tone: 'muted' },
  FAILED: { label: 'Failed', tone: 'bad' },
};
export const ORDER_STATUSES = Object.keys(STATUS_INFO) as OrderStatus[];

/** Payment statuses as the payment service records them (CHARGING and REFUNDING are intents in flight). */
export const PAYMENT_STATUS_INFO: Record<PaymentStatus, { label: string; tone: 'neutral' | 'progress' | 'good' | 'bad' | 'warn' | 'muted' }> = {
  CHARGING: { label: 'Charging', tone: 'progress' },
  PROCESSED: { label: 'Charged', tone: 'good' },
  FAILED: { label: 'Declined', tone: 'bad' },
  REFUNDING: { label: 'Refunding', tone: 'progress' },
  REFUNDED: { label: 'Refunded', tone: 'warn' },
  VOIDED: { label: 'Voided', tone: 'muted' },
};
export type { PaymentStatus };

export function infoOf(type: string): EventInfo {
  return EVENT_INFO[type as EventType] ?? { label: type };
}

export function orderIdOf(event: { data?: unknown }): string | null {
  const id = (event.data as { orderId?: unknown } | undefined)?.orderId;
  return typeof id === 'string' ? id : null;
}

/** A one-line description of what an event says, for feeds and tooltips. */
export function describeEvent(e: LiveEvent): string {
  const d = e.data as Record<string, unknown>;
  const money = (c: unknown, cur?: unknown) => (typeof c === 'number' ? formatCents(c, typeof cur === 'string' ? cur : 'USD') : '');
  switch (e.type) {
    case 'order.created':
      return `${(d.items as unknown[] | undefined)?.length ?? 0} line(s), ${money(d.totalCents, d.currency)}`;
    case 'order.updated':
      return `${String(d.previousStatus)} → ${String(d.status)}${d.reason ? `: ${String(d.reason)}` : ''}`;
    case 'order.cancelled':
      return `was ${String(d.previousStatus)}${d.reason ? `: ${String(d.reason)}` : ''}`;
    case 'payment.initiated':
    case 'payment.processed':
      return money(d.amountCents, d.currency);
    case 'payment.failed':
    case 'payment.refunded':
      return `${money(d.amountCents)}: ${String(d.reason)}`;
    case 'inventory.reserved':
    case 'inventory.released':
      return `${(d.items as unknown[] | undefined)?.length ?? 0} product(s)${d.reason ? `: ${String(d.reason)}` : ''}`;
    case 'inventory.reservation_failed':
      return String(d.reason);
    case 'inventory.updated':
    case 'inventory.low_stock':
      return `${String(d.name)}: ${String(d.available)} available of ${String(d.stock)}`;
    default:
      return '';
  }
}

export function formatCents(cents: number, currency = 'USD'): string {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}
