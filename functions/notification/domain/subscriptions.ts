import { orderIdOf } from '../../../shared/events/envelope';
import type { AnyEnvelope } from '../../../shared/events/envelope';

/**
 * Whether a connection receives an event. A connection subscribed to nothing receives every
 * event; one subscribed to orders receives only those orders' events (events about no order,
 * such as inventory.updated, are not for it).
 */
export function isVisibleTo(orderIds: ReadonlySet<string>, event: AnyEnvelope): boolean {
  if (orderIds.size === 0) return true;
  const orderId = orderIdOf(event);
  return orderId !== null && orderIds.has(orderId);
}

export function visibleEvents(orderIds: ReadonlySet<string>, events: readonly AnyEnvelope[]): AnyEnvelope[] {
  return events.filter((e) => isVisibleTo(orderIds, e));
}
