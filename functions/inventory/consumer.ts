import type { Envelope } from '../../shared/events/envelope';
import { createLogger } from '../../shared/logger';
import { createEventConsumer } from '../../shared/messaging/consumer';
import type { EventContext } from '../../shared/messaging/consumer';
import { instrument } from '../../shared/observability';
import { describeShortages, planReservation, productChangeEvents } from './domain/stock';
import type { Product, StockLine } from './domain/stock';
import { adjustStock, lockProducts, lockReservation, saveReservation } from './store';

const logger = createLogger('inventory');

function emitProductChanges(ctx: EventContext, before: Product, after: Product) {
  for (const e of productChangeEvents(before, after)) ctx.emit(e.type, e.data);
}

/**
 * Applies a stock movement to every line and emits what each product change causes. `locked` are
 * the products as read under lock (or they are locked here, in id order).
 */
async function move(ctx: EventContext, lines: StockLine[], delta: { reserved: number; stock: number }, locked?: Map<string, Product>) {
  const before = locked ?? (await lockProducts(ctx.tx, lines.map((l) => l.productId)));
  const after = (await adjustStock(ctx.tx, lines, delta)).sort((a, b) => a.id.localeCompare(b.id));
  for (const product of after) emitProductChanges(ctx, before.get(product.id)!, product);
}

async function reserve(event: Envelope<'order.created'>, ctx: EventContext) {
  const { orderId, orderVersion } = event.data;
  const existing = await lockReservation(ctx.tx, orderId);
  if (existing) {
    ctx.logger.info('order already has a reservation record; nothing to reserve', { status: existing.status });
    return;
  }
  const lines = event.data.items.map((i) => ({ productId: i.productId, quantity: i.quantity }));
  const products = await lockProducts(ctx.tx, lines.map((l) => l.productId));
  const plan = planReservation(lines, products);
  if (!plan.ok) {
    const reason = describeShortages(plan.shortages);
    await saveReservation(ctx.tx, { orderId, status: 'FAILED', items: [], reason });
    ctx.emit('inventory.reservation_failed', { orderId, orderVersion, reason, shortages: plan.shortages });
    return;
  }
  await move(ctx, plan.lines, { reserved: +1, stock: 0 }, products);
  await saveReservation(ctx.tx, { orderId, status: 'ACTIVE', items: plan.lines, reason: null });
  ctx.emit('inventory.reserved', { orderId, orderVersion, items: plan.lines });
}

/**
 * Gives reserved stock back. If the reservation has not arrived yet, leaves a tombstone so that
 * the late order.created reserves nothing.
 */
async function release(orderId: string, orderVersion: number, reason: string, ctx: EventContext) {
  const existing = await lockReservation(ctx.tx, orderId);
  if (!existing) {
    await saveReservation(ctx.tx, { orderId, status: 'RELEASED', items: [], reason: `released before reservation: ${reason}` });
    return;
  }
  if (existing.status !== 'ACTIVE') return;
  await move(ctx, existing.items, { reserved: -1, stock: 0 });
  await saveReservation(ctx.tx, { ...existing, status: 'RELEASED', reason });
  ctx.emit('inventory.released', { orderId, orderVersion, items: existing.items, reason });
}

/** A shipped order's reserved units leave the warehouse: stock and reservation both go down. */
async function commit(orderId: string, ctx: EventContext) {
  const existing = await lockReservation(ctx.tx, orderId);
  if (existing?.status !== 'ACTIVE') return;
  await move(ctx, existing.items, { reserved: -1, stock: -1 });
  await saveReservation(ctx.tx, { ...existing, status: 'COMMITTED' });
}

export const handler = instrument(createEventConsumer({
  service: 'inventory',
  logger,
  handlers: {
    'order.created': reserve,
    'order.cancelled': (e, ctx) => release(e.data.orderId, e.data.orderVersion, 'order cancelled', ctx),
    'payment.failed': (e, ctx) => release(e.data.orderId, e.data.orderVersion, `payment failed: ${e.data.reason}`, ctx),
    'order.updated': async (e, ctx) => {
      if (e.data.status === 'SHIPPED') await commit(e.data.orderId, ctx);
    },
  },
}));
