import type { OrderStatus } from '../../../shared/events/types';

/** The moves an operator makes by hand (PATCH /orders/{id}), one step at a time. */
const FULFILMENT_NEXT: Partial<Record<OrderStatus, OrderStatus>> = {
  CONFIRMED: 'PROCESSING',
  PROCESSING: 'SHIPPED',
  SHIPPED: 'DELIVERED',
};

/** Statuses from which a customer may still cancel: nothing has left the warehouse. */
const CANCELLABLE: ReadonlySet<OrderStatus> = new Set(['PENDING', 'CONFIRMED', 'PROCESSING']);

export const TERMINAL: ReadonlySet<OrderStatus> = new Set(['DELIVERED', 'CANCELLED', 'FAILED']);

export function canFulfil(from: OrderStatus, to: OrderStatus): boolean {
  return FULFILMENT_NEXT[from] === to;
}

export function nextFulfilmentStep(from: OrderStatus): OrderStatus | undefined {
  return FULFILMENT_NEXT[from];
}

export function canCancel(status: OrderStatus): boolean {
  return CANCELLABLE.has(status);
}
