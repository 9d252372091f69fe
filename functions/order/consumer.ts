import { createLogger } from '../../shared/logger';
import { createEventConsumer } from '../../shared/messaging/consumer';
import type { EventContext } from '../../shared/messaging/consumer';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { instrument } from '../../shared/observability';
import { applyOutcome } from './domain/saga';
import type { Outcome } from './domain/saga';
import { lockSagaState, saveSagaState, upsertCatalogProduct } from './store';

const logger = createLogger('order');

/** Feeds a reservation or payment outcome into the order's saga; emits order.updated on a status change. */
async function onOutcome(event: AnyEnvelope & { data: { orderId: string } }, outcome: Outcome, ctx: EventContext) {
  const order = await lockSagaState(ctx.tx, event.data.orderId);
  if (!order) {
    ctx.logger.warn('outcome for an unknown order ignored');
    return;
  }
  const { state, transition } = applyOutcome(order, outcome);
  const version = await saveSagaState(ctx.tx, order.id, state, transition !== null);
  if (transition) {
    ctx.emit('order.updated', {
      orderId: order.id,
      orderVersion: version,
      status: transition.to,
      previousStatus: transition.from,
      reason: transition.reason,
    });
  } else if (order.status !== 'PENDING') {
    ctx.logger.info('late outcome recorded without a status change', { status: order.status, outcome: outcome.kind });
  }
}

const recordOnly = async () => undefined; // kept in the inbox: part of the order's timeline

export const handler = instrument(createEventConsumer({
  service: 'order',
  logger,
  handlers: {
    'inventory.updated': (e, ctx) => upsertCatalogProduct(ctx.tx, e.data),
    'inventory.reserved': (e, ctx) => onOutcome(e, { kind: 'stock_reserved' }, ctx),
    'inventory.reservation_failed': (e, ctx) => onOutcome(e, { kind: 'stock_failed', reason: e.data.reason }, ctx),
    'payment.processed': (e, ctx) => onOutcome(e, { kind: 'payment_processed' }, ctx),
    'payment.failed': (e, ctx) => onOutcome(e, { kind: 'payment_failed', reason: e.data.reason }, ctx),
    'payment.initiated': recordOnly,
    'payment.refunded': recordOnly,
    'inventory.released': recordOnly,
  },
}));
