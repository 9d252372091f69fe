import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ROUTES } from '../catalog';
import { getConfig } from '../../shared/config';
import { getPool } from '../../shared/db/pool';
import { ORDER_STATUSES } from '../../shared/events/types';
import { causeOf, created, ok } from '../../shared/http/api';
import { createRouteApi } from '../http-api';
import type { HttpRequest } from '../../shared/http/api';
import { forbidden } from '../../shared/http/authorize';
import { withoutPaymentToken } from '../../shared/events/redact';
import { requestAudit } from '../../shared/audit/actor';
import type { Principal } from '../../shared/auth/principal';
import { listingFilter, mayAccessOrder, orderPlacedFor } from './domain/access';
import { decodeCursor, page, pageQuery, timeIdCursor } from '../../shared/http/pagination';
import { badRequest, conflict, notFound, parseInput, unprocessable } from '../../shared/http/problem';
import { createLogger } from '../../shared/logger';
import { runStatementUnitOfWork, runUnitOfWork } from '../../shared/messaging/unit-of-work';
import { PAYMENT_TOKENS, isPaymentToken } from '../../shared/payments/test-tokens';
import { cancelOrder } from './cancellation';
import { orderStats } from './stats';
import { evolveOrder } from './domain/order-record';
import type { OrderRecord } from './domain/order-record';
import { priceOrder } from './domain/pricing';
import { canCancel, canFulfil, nextFulfilmentStep } from './domain/status';
import {
  findIdempotencyKey,
  findOrder,
  insertOrder,
  listOrders,
  loadCatalog,
  orderTimeline,
  publicOrder,
  saveOrderStatus,
} from './store';

const logger = createLogger('order');

const CreateOrderBody = z.strictObject({
  // A customer's own id when absent; an operator names the customer (functions/order/domain/access.ts).
  customerId: z.uuid().optional(),
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
// Printable ASCII, as the header's drafts recommend (a UUID is typical).
const IdempotencyKey = z.string().min(1).max(200).regex(/^[\x20-\x7e]+$/, 'printable ASCII only');
const ListQuery = z.strictObject({ customerId: z.uuid().optional(), status: z.enum(ORDER_STATUSES).optional(), ...pageQuery });
const UpdateBody = z.strictObject({ status: z.enum(ORDER_STATUSES) });

function requestHash(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

/** The caller of a route behind the authorizer (createRouteApi refused any other). */
const callerOf = (req: HttpRequest): Principal => req.principal!;

/** Another customer's order answers as a missing one. */
function ownOrder<O extends { customerId: string }>(req: HttpRequest, id: string, order: O | null | undefined): O {
  if (!order || !mayAccessOrder(callerOf(req), order.customerId)) throw notFound(`order ${id} does not exist`);
  return order;
}

async function createOrder(req: HttpRequest) {
  const parsed = parseInput(CreateOrderBody, req.body, 'the order');
  const placedFor = orderPlacedFor(callerOf(req), parsed.customerId);
  if (!placedFor.ok) {
    if (placedFor.status === 403) throw forbidden(placedFor.detail);
    throw badRequest(`the order is invalid: ${placedFor.pointer} ${placedFor.detail}`, [{ pointer: placedFor.pointer, detail: placedFor.detail }]);
  }
  const body = { ...parsed, customerId: placedFor.customerId };
  const key = req.headers['idempotency-key'];
  const idempotencyKey = key === undefined ? undefined : parseInput(IdempotencyKey, key, 'the Idempotency-Key header');
  if (!isPaymentToken(body.paymentToken)) {
    throw unprocessable(`payment token is not accepted; use one of ${Object.keys(PAYMENT_TOKENS).join(', ')}`, [
      { pointer: '/paymentToken', detail: 'unknown payment token' },
    ]);
  }
  const { currency } = await getConfig();
  const pool = await getPool('order');
  const hash = requestHash(body);
  const replay = async () => {
    const earlier = await findIdempotencyKey(pool, idempotencyKey!);
    if (!earlier) throw new Error('an Idempotency-Key that stored nothing is not on record');
    if (earlier.requestHash !== hash) {
      throw unprocessable('this Idempotency-Key was already used with a different request', [
        { pointer: '', detail: 'request differs from the first use of the key' },
      ]);
    }
    logger.info('order creation replayed', { orderId: earlier.orderId });
    const order = (await findOrder(pool, earlier.orderId))!;
    return created(publicOrder(order), `/orders/${order.id}`, { 'idempotent-replayed': 'true' });
  };
  // A key seen before answers as the first time did, without pricing anything again.
  if (idempotencyKey && (await findIdempotencyKey(pool, idempotencyKey))) return replay();

  const catalog = await loadCatalog(pool, body.items.map((i) => i.productId));
  const priced = priceOrder(body.items, catalog);
  if (!priced.ok) {
    throw unprocessable('the order names products that do not exist', priced.unknownLines.map((i) => ({
      pointer: `/items/${i}/productId`,
      detail: 'unknown product',
    })));
  }
  // The order, its lines, its key and order.created: one statement, so no transaction round trips.
  // The row is what the fold of order.created says (domain/order-record.ts).
  const { result: stored } = await runStatementUnitOfWork('order', causeOf(req), logger, async (db, uow) => {
    const event = uow.emit('order.created', {
      orderId: randomUUID(),
      orderVersion: 1,
      customerId: body.customerId,
      items: priced.items,
      totalCents: priced.totalCents,
      currency,
      paymentToken: body.paymentToken,
    });
    const order = evolveOrder(null, event)!;
    uow.audit(
      requestAudit(req, {
        targets: [order.id],
        change: { after: { status: 'PENDING', customerId: order.customerId, totalCents: order.totalCents, currency, lines: order.items.length } },
        status: 201,
      }),
    );
    const row = await insertOrder(db, order, idempotencyKey ? { key: idempotencyKey, requestHash: hash } : null, uow.outbox);
    if (!row) uow.storedNothing();
    return row;
  });
  // Nothing stored: a request with the same key got there first, concurrently.
  if (!stored) return replay();
  logger.info('order created', { orderId: stored.id });
  return created(publicOrder(stored), `/orders/${stored.id}`);
}

async function getOrder(req: HttpRequest) {
  const { id } = parseInput(IdParams, req.params, 'the path');
  const order = ownOrder(req, id, await findOrder(await getPool('order'), id));
  return ok(publicOrder(order));
}

async function listAll(req: HttpRequest) {
  const q = parseInput(ListQuery, req.query, 'the query');
  const after = decodeCursor(q.cursor, timeIdCursor);
  const filter = listingFilter(callerOf(req), q.customerId);
  if (filter.none) return ok({ items: [], nextCursor: null });
  const rows = await listOrders(await getPool('order'), { customerId: filter.customerId, status: q.status, after, limit: q.limit + 1 });
  const result = page(rows, q.limit, (o) => [o.createdAt, o.id]);
  return ok({ items: result.items.map(publicOrder), nextCursor: result.nextCursor });
}

async function getEvents(req: HttpRequest) {
  const { id } = parseInput(IdParams, req.params, 'the path');
  const pool = await getPool('order');
  ownOrder(req, id, await findOrder(pool, id));
  return ok({ items: (await orderTimeline(pool, id)).map(withoutPaymentToken), nextCursor: null });
}

async function cancel(req: HttpRequest) {
  const { id } = parseInput(IdParams, req.params, 'the path');
  const { result: order } = await runUnitOfWork('order', causeOf(req), logger, async (uow) => {
    const current = ownOrder(req, id, await findOrder(uow.tx, id, { forUpdate: true }));
    if (!canCancel(current.status)) throw conflict(`an order that is ${current.status} can no longer be cancelled`);
    await cancelOrder(uow, current, 'cancelled by request');
    const after = (await findOrder(uow.tx, id))!;
    uow.audit(requestAudit(req, { targets: [id], change: { before: { status: current.status }, after: { status: after.status } }, status: 200 }));
    return after;
  });
  return ok(publicOrder(order));
}

async function updateOrder(req: HttpRequest) {
  const { id } = parseInput(IdParams, req.params, 'the path');
  const { status } = parseInput(UpdateBody, req.body, 'the update');
  const { result: order } = await runUnitOfWork('order', causeOf(req), logger, async ({ tx, emit, audit }) => {
    const current = await findOrder(tx, id, { forUpdate: true });
    if (!current) throw notFound(`order ${id} does not exist`);
    if (!canFulfil(current.status, status)) {
      const next = nextFulfilmentStep(current.status);
      throw conflict(`an order that is ${current.status} cannot move to ${status}${next ? `; its next step is ${next}` : ''}`);
    }
    const event = emit('order.updated', { orderId: id, orderVersion: current.version + 1, status, previousStatus: current.status, reason: null });
    await saveOrderStatus(tx, evolveOrder(current as OrderRecord, event)!);
    audit(requestAudit(req, { targets: [id], change: { before: { status: current.status }, after: { status } }, status: 200 }));
    return (await findOrder(tx, id))!;
  });
  return ok(publicOrder(order));
}

async function stats() {
  return ok(await orderStats(await getPool('order')));
}

export const handler = createRouteApi({
  logger,
  routes: {
    [ROUTES.createOrder]: createOrder,
    [ROUTES.listOrders]: listAll,
    [ROUTES.getOrder]: getOrder,
    [ROUTES.getOrderEvents]: getEvents,
    [ROUTES.cancelOrder]: cancel,
    [ROUTES.updateOrder]: updateOrder,
    [ROUTES.orderStats]: stats,
  },
});
