import { causedBy } from '../../shared/events/envelope';
import { createLogger } from '../../shared/logger';
import { createEventConsumer } from '../../shared/messaging/consumer';
import { instrument } from '../../shared/observability';
import { evolveCatalogCopy } from './domain/catalog-copy';
import { decideOutcomes, newestPerProduct, outcomeOf } from './domain/saga';
import { lockSagas, saveSagas, upsertCatalogProducts } from './store';

const logger = createLogger('order');

/**
 * order_queue's consumer: reservation and payment outcomes join in each order's saga
 * (domain/saga.ts), catalog changes keep the order service's copy of the catalog, and the other
 * events are only recorded (the inbox is part of every order's timeline). A batch is the same few
 * statements whatever its size: lock the orders, decide, write orders, catalog and outbox.
 */
export const handler = instrument(createEventConsumer({
  service: 'order',
  logger,
  handler: {
    handles: [
      'inventory.reserved',
      'inventory.reservation_failed',
      'payment.processed',
      'payment.failed',
      'inventory.updated',
      'payment.initiated',
      'payment.refunded',
      'inventory.released',
    ],
    // The inbox is half of every order's timeline (GET /orders/{id}/events).
    keepEnvelopes: true,
    async apply(uow, events, log) {
      const outcomes = events.flatMap((event) => {
        const o = outcomeOf(event);
        return o ? [{ event, ...o }] : [];
      });
      const orders = await lockSagas(uow.tx, [...new Set(outcomes.map((o) => o.orderId))]);
      const decision = decideOutcomes(orders, outcomes);
      // A status change's time is its event's (domain/order-record.ts): emit, then write.
      const changedAt = new Map<string, string>();
      for (const { cause, orderId, orderVersion, transition } of decision.transitions) {
        const event = uow.emit(
          'order.updated',
          { orderId, orderVersion, status: transition.to, previousStatus: transition.from, reason: transition.reason },
          causedBy(outcomes[cause]!.event),
        );
        changedAt.set(orderId, event.occurredAt);
      }
      await saveSagas(uow.tx, decision.updates.map((u) => ({ ...u, updatedAt: changedAt.get(u.id) ?? null })));
      for (const { cause, why } of decision.ignored) log.info(why, { eventId: outcomes[cause]!.event.id, orderId: outcomes[cause]!.orderId });
      const catalog = events.flatMap((e) => {
        const copy = evolveCatalogCopy(null, e);
        return copy ? [copy] : [];
      });
      await upsertCatalogProducts(uow.tx, newestPerProduct(catalog.map((c) => ({ ...c, productId: c.id }))));
    },
  },
}));
