import type { Cause, Envelope } from '../../shared/events/envelope';
import type { UnitOfWork } from '../../shared/messaging/unit-of-work';
import type { SagaState } from './domain/saga';
import { saveSagaState } from './store';

/**
 * Cancels an order (locked by the caller) and records order.cancelled, in the caller's unit of
 * work. Inventory releases and payment refunds on that event, or, if their part has not happened
 * yet, make sure it never does.
 */
export async function cancelOrder(
  uow: UnitOfWork,
  order: SagaState & { id: string },
  reason: string,
  cause?: Cause,
): Promise<Envelope<'order.cancelled'>> {
  const version = await saveSagaState(uow.tx, order.id, { ...order, status: 'CANCELLED', failureReason: reason }, true);
  return uow.emit('order.cancelled', { orderId: order.id, orderVersion: version, previousStatus: order.status, reason }, cause);
}
