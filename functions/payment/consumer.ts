import type { Envelope } from '../../shared/events/envelope';
import { createLogger } from '../../shared/logger';
import { createEventConsumer } from '../../shared/messaging/consumer';
import type { EventContext } from '../../shared/messaging/consumer';
import { instrument } from '../../shared/observability';
import { paymentIdFor, simulatedGateway } from './domain/gateway';
import type { PaymentGateway } from './domain/gateway';
import { blockOrder, insertPayment, lockOrderPayment, settlePayment } from './store';

const logger = createLogger('payment');
const gateway: PaymentGateway = simulatedGateway;

async function charge(event: Envelope<'order.created'>, ctx: EventContext) {
  const { orderId, orderVersion, totalCents: amountCents, currency, paymentToken } = event.data;
  const { payment, blockedBecause } = await lockOrderPayment(ctx.tx, orderId);
  if (blockedBecause) {
    ctx.logger.info('order ended before its payment; not charging', { reason: blockedBecause });
    return;
  }
  if (payment) {
    ctx.logger.info('order already has a payment', { status: payment.status });
    return;
  }
  const paymentId = paymentIdFor(orderId);
  ctx.emit('payment.initiated', { orderId, orderVersion, paymentId, amountCents, currency });
  // The gateway is idempotent by paymentId: if this transaction rolls back, the retry gets the same
  // answer. Nobody sees the payment between the charge and the commit, so it is stored once, settled.
  const result = await gateway.charge({ idempotencyKey: paymentId, token: paymentToken, amountCents, currency });
  if (result.ok) {
    await insertPayment(ctx.tx, { id: paymentId, orderId, amountCents, currency, status: 'PROCESSED', chargeReference: result.reference });
    ctx.emit('payment.processed', { orderId, orderVersion, paymentId, amountCents, currency });
  } else {
    await insertPayment(ctx.tx, { id: paymentId, orderId, amountCents, currency, status: 'FAILED', failureReason: result.reason });
    ctx.emit('payment.failed', { orderId, orderVersion, paymentId, amountCents, reason: `payment declined: ${result.reason}` });
  }
}

/** Compensation: refunds a processed payment; blocks a payment that has not happened yet. */
async function refund(orderId: string, orderVersion: number, reason: string, ctx: EventContext) {
  const { payment } = await lockOrderPayment(ctx.tx, orderId);
  if (!payment) {
    await blockOrder(ctx.tx, orderId, reason);
    return;
  }
  if (payment.status !== 'PROCESSED') return;
  const { reference } = await gateway.refund({
    idempotencyKey: `refund:${payment.id}`,
    chargeReference: payment.chargeReference!,
    amountCents: payment.amountCents,
  });
  await settlePayment(ctx.tx, payment.id, { status: 'REFUNDED', refundReference: reference });
  ctx.emit('payment.refunded', { orderId, orderVersion, paymentId: payment.id, amountCents: payment.amountCents, reason });
}

export const handler = instrument(createEventConsumer({
  service: 'payment',
  logger,
  handlers: {
    'order.created': charge,
    'order.cancelled': (e, ctx) => refund(e.data.orderId, e.data.orderVersion, 'order cancelled', ctx),
    'inventory.reservation_failed': (e, ctx) =>
      refund(e.data.orderId, e.data.orderVersion, `stock could not be reserved: ${e.data.reason}`, ctx),
  },
}));
