import { randomUUID } from 'node:crypto';
import { createEvent } from '../../shared/events/envelope';
import type { AnyEnvelope } from '../../shared/events/envelope';

/** Events for the notification unit tests: an order's status changes and a product's snapshot. */
export function orderUpdated(orderId: string, orderVersion = 2, reason: string | null = null): AnyEnvelope {
  return createEvent(
    'order.updated',
    { orderId, orderVersion, status: 'CONFIRMED', previousStatus: 'PENDING', reason },
    { correlationId: randomUUID(), causationId: null },
  ) as AnyEnvelope;
}

export function productUpdated(name = 'Widget'): AnyEnvelope {
  return createEvent(
    'inventory.updated',
    {
      productId: randomUUID(),
      productVersion: 1,
      sku: 'SKU-1',
      name,
      priceCents: 100,
      changed: ['name'],
      currency: 'USD',
      stock: 5,
      reserved: 0,
      available: 5,
      lowStockThreshold: 0,
    },
    { correlationId: randomUUID(), causationId: null },
  ) as AnyEnvelope;
}
