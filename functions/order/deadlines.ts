import type { ScheduledEvent } from 'aws-lambda';
import { getConfig } from '../../shared/config';
import { getPool, withTransaction } from '../../shared/db/pool';
import { createLogger } from '../../shared/logger';
import { publishCommitted } from '../../shared/messaging/outbox';
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
  const pool = await getPool('order');
  let cancelled = 0;
  for (;;) {
    const events = await withTransaction(pool, async (tx) => {
      const overdue = await lockOverdueOrders(tx, orderDeadlineSeconds, BATCH);
      const out = [];
      for (const order of overdue) {
        const reason = deadlineReason(order, orderDeadlineSeconds);
        out.push(await cancelOrder(tx, order, reason, { correlationId: order.correlationId, causationId: null }));
        logger.warn('order cancelled at its deadline', { orderId: order.id, reason });
      }
      return out;
    });
    await publishCommitted(pool, events.map((e) => e.id), logger);
    cancelled += events.length;
    if (events.length < BATCH) return { cancelled };
  }
});
