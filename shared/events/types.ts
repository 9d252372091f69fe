import { z } from 'zod';

/** The services that publish events. Each owns one exchange and one database. */
export const PUBLISHERS = ['order', 'payment', 'inventory'] as const;
export type Publisher = (typeof PUBLISHERS)[number];

export const ORDER_STATUSES = [
  'PENDING',
  'CONFIRMED',
  'PROCESSING',
  'SHIPPED',
  'DELIVERED',
  'CANCELLED',
  'FAILED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const id = z.uuid();
const cents = z.int().nonnegative();
const orderVersion = z.int().positive();
const currency = z.string().length(3);

export const OrderLineSchema = z.object({
  productId: id,
  name: z.string(),
  quantity: z.int().positive(),
  unitPriceCents: cents,
  lineTotalCents: cents,
});

const StockLineSchema = z.object({ productId: id, quantity: z.int().positive() });

/** What a product change touched; `created` for a new product. */
export const PRODUCT_CHANGES = ['created', 'sku', 'name', 'price', 'currency', 'stock', 'reserved', 'threshold'] as const;
export type ProductChange = (typeof PRODUCT_CHANGES)[number];
/** The changes that touch the catalog (what the order service copies); the others move stock only. */
export const CATALOG_CHANGES: ReadonlySet<ProductChange> = new Set(['created', 'sku', 'name', 'price', 'currency']);

const ProductSnapshot = {
  productId: id,
  productVersion: z.int().positive(),
  sku: z.string(),
  name: z.string(),
  priceCents: cents,
  currency,
  stock: z.int().nonnegative(),
  reserved: z.int().nonnegative(),
  available: z.int().nonnegative(),
  lowStockThreshold: z.int().nonnegative(),
  changed: z.array(z.enum(PRODUCT_CHANGES)).min(1),
};

/**
 * Every event type with the schema of its `data`. The type is also the routing key;
 * its prefix names the publishing service. Events about an order carry `orderId`
 * and the `orderVersion` they refer to, so a consumer can tell stale from new.
 */
export const EVENT_SCHEMAS = {
  'order.created': z.object({
    orderId: id,
    orderVersion,
    customerId: id,
    items: z.array(OrderLineSchema).min(1),
    totalCents: cents,
    currency,
    paymentToken: z.string().min(1),
  }),
  'order.updated': z.object({
    orderId: id,
    orderVersion,
    status: z.enum(ORDER_STATUSES),
    previousStatus: z.enum(ORDER_STATUSES),
    reason: z.string().nullable(),
  }),
  'order.cancelled': z.object({
    orderId: id,
    orderVersion,
    previousStatus: z.enum(ORDER_STATUSES),
    reason: z.string().nullable(),
  }),
  'payment.initiated': z.object({ orderId: id, orderVersion, paymentId: id, amountCents: cents, currency }),
  'payment.processed': z.object({ orderId: id, orderVersion, paymentId: id, amountCents: cents, currency }),
  'payment.failed': z.object({ orderId: id, orderVersion, paymentId: id, amountCents: cents, reason: z.string() }),
  'payment.refunded': z.object({ orderId: id, orderVersion, paymentId: id, amountCents: cents, reason: z.string() }),
  'inventory.reserved': z.object({ orderId: id, orderVersion, items: z.array(StockLineSchema).min(1) }),
  'inventory.reservation_failed': z.object({
    orderId: id,
    orderVersion,
    reason: z.string(),
    shortages: z.array(
      z.object({ productId: id, requested: z.int().positive(), available: z.int().nonnegative() }),
    ),
  }),
  'inventory.released': z.object({
    orderId: id,
    orderVersion,
    items: z.array(StockLineSchema),
    reason: z.string(),
  }),
  'inventory.updated': z.object(ProductSnapshot),
  'inventory.low_stock': z.object(ProductSnapshot),
} as const;

export type EventType = keyof typeof EVENT_SCHEMAS;
export type EventData<T extends EventType> = z.infer<(typeof EVENT_SCHEMAS)[T]>;
export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as EventType[];

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EVENT_SCHEMAS, value);
}

/** The service that publishes an event type: the part before the dot. */
export function publisherOf(type: EventType): Publisher {
  return type.slice(0, type.indexOf('.')) as Publisher;
}

/** Schema version of the envelope and of every event's data; bump on a breaking change. */
export const EVENT_SCHEMA_VERSION = 1;
