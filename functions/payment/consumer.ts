import { causedBy, orderIdOf } from '../../shared/events/envelope';
import { createLogger } from '../../shared/logger';
import { createEventConsumer } from '../../shared/messaging/consumer';
import { instrument } from '../../shared/observability';
import { commandOf, decideIntents } from './domain/payments';
import { settleIntents } from './settlement';
import { simulatedGateway } from './simulated-gateway';
import { lockOrderPayments, saveBlocks, savePayments } from './store';

const logger = createLogger('payment');
const gateway = simulatedGateway();

/**
 * payment_queue's consumer, in two steps so that no money moves without a record of it: the batch
 * records its intents (a charge to take, a refund to give) and commits; then the gateway is called
 * and the outcomes recorded. A crash in between leaves intents that the next delivery of the same
 * events, or the payment-reconciler schedule, settles by asking the gateway what it did.
 */
export const handler = instrument(createEventConsumer({
  service: 'payment',
  logger,
  handler: {
    handles: ['order.created', 'order.cancelled', 'inventory.reservation_failed'],
    async apply(uow, events, log) {
      const commands = events.flatMap((event) => {
        const command = commandOf(event);
        return command ? [{ event, command, cause: causedBy(event) }] : [];
      });
      if (commands.length === 0) return;
      const { payments, blocked } = await lockOrderPayments(uow.tx, [...new Set(commands.map((c) => c.command.orderId))]);
      const decision = decideIntents(commands, payments, blocked);
      await savePayments(uow.tx, decision.payments);
      await saveBlocks(uow.tx, decision.blocks);
      for (const i of decision.initiated) uow.emit('payment.initiated', i.data, commands[i.cause]!.cause);
      for (const s of decision.skipped) log.info(s.why, { eventId: commands[s.cause]!.event.id, orderId: commands[s.cause]!.command.orderId });
    },
    async afterCommit(events, log) {
      const orderIds = [...new Set(events.map((e) => orderIdOf(e)).filter((id): id is string => id !== null))];
      const settled = await settleIntents(gateway, { orderIds }, log);
      if (settled) log.debug('payments settled', { settled });
    },
  },
}));
