import type { Cause, Envelope } from '../../shared/events/envelope';
import type { UnitOfWork } from '../../shared/messaging/unit-of-work';
import { evolveOrder } from './domain/order-record';
import type { OrderRecord } from './domain/order-record';
import type { SagaState } from './domain/saga';
import { saveOrderStatus } from './store';

/**
 * Cancels an order (locked by the caller) and records order.cancelled, in the caller's unit of
 * work; the order row gets what the fold of that event says. Inventory releases and payment
 * refunds on that event, or, if their part has not happened yet, make sure it never does.
 */
export async function cancelOrder(
  uow: UnitOfWork,
  order: SagaState & { id: string; version: number },
  reason: string,
  cause?: Cause,
): Promise<Envelope<'order.cancelled'>> {
  const event = uow.emit('order.cancelled', { orderId: order.id, orderVersion: order.version + 1, previousStatus: order.status, reason }, cause);
  await saveOrderStatus(uow.tx, evolveOrder(order as OrderRecord, event)!);
  return event;
}
