import { causedBy } from '../../shared/events/envelope';
import { createLogger } from '../../shared/logger';
import { createEventConsumer } from '../../shared/messaging/consumer';
import { instrument } from '../../shared/observability';
import { commandOf, decideBatch, productsNeeded } from './domain/reservations';
import { lockProducts, lockReservations, saveReservations, saveStock } from './store';

const logger = createLogger('inventory');

/**
 * inventory_queue's consumer. A batch is load (the orders' locks and reservation records, then
 * the products they touch, locked in id order) → decide (domain/reservations.ts) → write
 * (reservations, stock, outbox): the same handful of statements for 1 event or 100.
 */
export const handler = instrument(createEventConsumer({
  service: 'inventory',
  logger,
  handler: {
    handles: ['order.created', 'order.cancelled', 'order.updated', 'payment.failed'],
    async apply(uow, events, log) {
      const items = events.flatMap((event) => {
        const command = commandOf(event);
        return command ? [{ event, command }] : [];
      });
      if (items.length === 0) return;
      const commands = items.map((i) => i.command);
      const reservations = await lockReservations(uow.tx, [...new Set(commands.map((c) => c.orderId))]);
      const products = await lockProducts(uow.tx, productsNeeded(commands, reservations));
      const decision = decideBatch(commands, reservations, products);
      await saveReservations(uow.tx, decision.reservations);
      await saveStock(uow.tx, decision.products);
      for (const e of decision.emitted) uow.emit(e.type, e.data, causedBy(items[e.cause]!.event));
      for (const s of decision.skipped) log.info('event changed nothing', { eventId: items[s.cause]!.event.id, why: s.why });
    },
  },
}));
