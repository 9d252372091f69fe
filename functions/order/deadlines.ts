import type { ScheduledEvent } from 'aws-lambda';
import { getConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { runUnitOfWork } from '../../shared/messaging/unit-of-work';
import { instrument } from '../../shared/observability';
import { cancelOrder } from './cancellation';
import { deadlineReason } from './domain/saga';
import { lockOverdueOrders } from './store';

const logger = createLogger('order');
const BATCH = 100;

/**
 * The saga's deadline, on a schedule: an order still PENDING after ORDER_DEADLINE_SECONDS (a
 * service down, a queue stuck) is cancelled with the reason, and the usual compensations follow:
 * inventory releases, payment refunds, or each makes sure its part never happens.
 */
export const handler = instrument(async (_event?: ScheduledEvent): Promise<{ cancelled: number }> => {
  const { orderDeadlineSeconds } = await getConfig();
  let cancelled = 0;
  for (;;) {
    // Each cancellation carries its own order's correlation id, so it joins that order's timeline.
    const { result: count } = await runUnitOfWork('order', { correlationId: 'order-deadlines', causationId: null }, logger, async (uow) => {
      const overdue = await lockOverdueOrders(uow.tx, orderDeadlineSeconds, BATCH);
      for (const order of overdue) {
        const reason = deadlineReason(order, orderDeadlineSeconds);
        await cancelOrder(uow, order, reason, { correlationId: order.correlationId, causationId: null });
        logger.warn('order cancelled at its deadline', { orderId: order.id, reason });
      }
      return overdue.length;
    });
    cancelled += count;
    if (count < BATCH) return { cancelled };
  }
});
