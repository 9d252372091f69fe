import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ROUTES } from '../catalog';
import { getConfig } from '../../shared/config';
import { getPool } from '../../shared/db/pool';
import { ORDER_STATUSES } from '../../shared/events/types';
import { causeOf, createHttpApi, created, ok } from '../../shared/http/api';
import type { HttpRequest } from '../../shared/http/api';
import { decodeCursor, page, pageQuery } from '../../shared/http/pagination';
import { conflict, notFound, parseInput, unprocessable } from '../../shared/http/problem';
import { createLogger } from '../../shared/logger';
import { runUnitOfWork } from '../../shared/messaging/unit-of-work';
import { PAYMENT_TOKENS, isPaymentToken } from '../../shared/payments/test-tokens';
import { cancelOrder } from './cancellation';
import { priceOrder } from './domain/pricing';
import { canCancel, canFulfil, nextFulfilmentStep } from './domain/status';
import {
  claimIdempotencyKey,
  findOrder,
  insertOrder,
  listOrders,
  loadCatalog,
  orderTimeline,
  publicOrder,
  saveSagaState,
} from './store';

const logger = createLogger('order');

const CreateOrderBody = z.strictObject({
  customerId: z.uuid(),
  items: z
    .array(z.strictObject({ productId: z.uuid(), quantity: z.int().min(1).max(1000) }))
    .min(1)
    .max(50)
    .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, {
      message: 'each product may appear on one line only',
    }),
  paymentToken: z.string().min(1).max(200),
});

const IdParams = z.object({ id: z.uuid() });
const IdempotencyKey = z.string().min(1).max(200);
const ListQuery = z.object({ customerId: z.uuid().optional(), status: z.enum(ORDER_STATUSES).optional(), ...pageQuery });
const UpdateBody = z.strictObject({ status: z.enum(ORDER_STATUSES) });

function requestHash(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

async function createOrder(req: HttpRequest) {
  const body = parseInput(CreateOrderBody, req.body, 'the order');
  const key = req.headers['idempotency-key'];
  const idempotencyKey = key === undefined ? undefined : parseInput(IdempotencyKey, key, 'the Idempotency-Key header');
  if (!isPaymentToken(body.paymentToken)) {
    throw unprocessable(`payment token is not accepted; use one of ${Object.keys(PAYMENT_TOKENS).join(', ')}`, [
      { pointer: '/paymentToken', detail: 'unknown payment token' },
    ]);
  }
  const { currency } = await getConfig();
  const orderId = randomUUID();
  const { result: outcome } = await runUnitOfWork('order', causeOf(req), logger, async ({ tx, emit }) => {
    if (idempotencyKey) {
      const earlier = await claimIdempotencyKey(tx, idempotencyKey, requestHash(body), orderId);
      if (earlier) {
        if (earlier.requestHash !== requestHash(body)) {
          throw unprocessable('this Idempotency-Key was already used with a different request', [
            { pointer: '', detail: 'request differs from the first use of the key' },
          ]);
        }
        return { replayed: true as const, order: (await findOrder(tx, earlier.orderId))! };
      }
    }
    const catalog = await loadCatalog(tx, body.items.map((i) => i.productId));
    const priced = priceOrder(body.items, catalog);
    if (!priced.ok) {
      throw unprocessable('the order names products that do not exist', priced.unknownLines.map((i) => ({
        pointer: `/items/${i}/productId`,
        detail: 'unknown product',
      })));
    }
    const order = await insertOrder(tx, {
      id: orderId,
      customerId: body.customerId,
      items: priced.items,
      totalCents: priced.totalCents,
      currency,
      paymentToken: body.paymentToken,
      correlationId: req.correlationId,
    });
    emit('order.created', {
      orderId,
      orderVersion: 1,
      customerId: body.customerId,
      items: priced.items,
      totalCents: priced.totalCents,
      currency,
      paymentToken: body.paymentToken,
    });
    return { replayed: false as const, order };
  });
  logger.info(outcome.replayed ? 'order creation replayed' : 'order created', { orderId: outcome.order.id });
  return created(publicOrder(outcome.order), `/orders/${outcome.order.id}`, outcome.replayed ? { 'idempotent-replayed': 'true' } : undefined);
}

async function getOrder(req: HttpRequest) {
  const { id } = parseInput(IdParams, req.params, 'the path');
  const order = await findOrder(await getPool('order'), id);
  if (!order) throw notFound(`order ${id} does not exist`);
  return ok(publicOrder(order));
}

async function listAll(req: HttpRequest) {
  const q = parseInput(ListQuery, req.query, 'the query');
  const after = decodeCursor(q.cursor, 2) as [string, string] | null;
  const rows = await listOrders(await getPool('order'), { customerId: q.customerId, status: q.status, after, limit: q.limit + 1 });
  const result = page(rows, q.limit, (o) => [o.createdAt, o.id]);
  return ok({ items: result.items.map(publicOrder), nextCursor: result.nextCursor });
}

async function getEvents(req: HttpRequest) {
  const { id } = parseInput(IdParams, req.params, 'the path');
  const pool = await getPool('order');
  if (!(await findOrder(pool, id))) throw notFound(`order ${id} does not exist`);
  return ok({ items: await orderTimeline(pool, id), nextCursor: null });
}

async function cancel(req: HttpRequest) {
  const { id } = parseInput(IdParams, req.params, 'the path');
  const { result: order } = await runUnitOfWork('order', causeOf(req), logger, async (uow) => {
    const current = await findOrder(uow.tx, id, { forUpdate: true });
    if (!current) throw notFound(`order ${id} does not exist`);
    if (!canCancel(current.status)) throw conflict(`an order that is ${current.status} can no longer be cancelled`);
    await cancelOrder(uow, current, 'cancelled by request');
    return (await findOrder(uow.tx, id))!;
  });
  return ok(publicOrder(order));
}

async function updateOrder(req: HttpRequest) {
  const { id } = parseInput(IdParams, req.params, 'the path');
  const { status } = parseInput(UpdateBody, req.body, 'the update');
  const { result: order } = await runUnitOfWork('order', causeOf(req), logger, async ({ tx, emit }) => {
    const current = await findOrder(tx, id, { forUpdate: true });
    if (!current) throw notFound(`order ${id} does not exist`);
    if (!canFulfil(current.status, status)) {
      const next = nextFulfilmentStep(current.status);
      throw conflict(`an order that is ${current.status} cannot move to ${status}${next ? `; its next step is ${next}` : ''}`);
    }
    const version = await saveSagaState(tx, id, { ...current, status }, true);
    emit('order.updated', { orderId: id, orderVersion: version, status, previousStatus: current.status, reason: null });
    return (await findOrder(tx, id))!;
  });
  return ok(publicOrder(order));
}

export const handler = createHttpApi({
  logger,
  routes: {
    [ROUTES.createOrder]: createOrder,
    [ROUTES.listOrders]: listAll,
    [ROUTES.getOrder]: getOrder,
    [ROUTES.getOrderEvents]: getEvents,
    [ROUTES.cancelOrder]: cancel,
    [ROUTES.updateOrder]: updateOrder,
  },
});
