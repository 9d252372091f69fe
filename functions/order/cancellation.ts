import type { Queryable } from '../../shared/db/pool';
import { createEvent } from '../../shared/events/envelope';
import type { Cause, Envelope } from '../../shared/events/envelope';
import { appendToOutbox } from '../../shared/messaging/outbox';
import type { SagaState } from './domain/saga';
import { saveSagaState } from './store';

/**
 * Cancels an order (locked by the caller) and records order.cancelled in the outbox, in the
 * caller's transaction. Inventory releases and payment refunds on that event, or, if their part
 * has not happened yet, make sure it never does.
 */
export async function cancelOrder(
  tx: Queryable,
  order: SagaState & { id: string },
  reason: string,
  cause: Cause,
): Promise<Envelope<'order.cancelled'>> {
  const version = await saveSagaState(tx, order.id, { ...order, status: 'CANCELLED', failureReason: reason }, true);
  const event = createEvent('order.cancelled', { orderId: order.id, orderVersion: version, previousStatus: order.status, reason }, cause);
  await appendToOutbox(tx, [event]);
  return event;
}
