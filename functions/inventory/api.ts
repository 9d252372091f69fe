import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ROUTES } from '../catalog';
import { getConfig } from '../../shared/config';
import { getPool, withTransaction } from '../../shared/db/pool';
import { createEvent } from '../../shared/events/envelope';
import type { AnyEnvelope, Cause } from '../../shared/events/envelope';
import { createHttpApi, created, ok } from '../../shared/http/api';
import type { HttpRequest } from '../../shared/http/api';
import { decodeCursor, page, pageQuery } from '../../shared/http/pagination';
import { badRequest, conflict, notFound, parseInput } from '../../shared/http/problem';
import { createLogger } from '../../shared/logger';
import { appendToOutbox, publishCommitted } from '../../shared/messaging/outbox';
import { productChangeEvents } from './domain/stock';
import type { Product } from './domain/stock';
import { findProduct, insertProduct, listProducts, updateProduct } from './store';

const logger = createLogger('inventory');

const money = z.int().min(0).max(100_000_000);
const units = z.int().min(0).max(10_000_000);
const CreateBody = z.strictObject({
  sku: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore; at most 64'),
  name: z.string().trim().min(1).max(200),
  priceCents: money,
  stock: units,
  lowStockThreshold: units.default(0),
});
const UpdateBody = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  priceCents: money.optional(),
  stock: units.optional(),
  lowStockThreshold: units.optional(),
});
const IdParams = z.object({ id: z.uuid() });
const ListQuery = z.object(pageQuery);

/** Stores the events of a product change in the outbox and returns them for publishing. */
async function recordChange(tx: Parameters<typeof appendToOutbox>[0], before: Product | null, after: Product, cause: Cause) {
  const events = productChangeEvents(before, after).map((e) => createEvent(e.type, e.data, cause) as AnyEnvelope);
  await appendToOutbox(tx, events);
  return events;
}

async function publishNow(events: AnyEnvelope[]) {
  await publishCommitted(await getPool('inventory'), events.map((e) => e.id), logger);
}

async function create(req: HttpRequest) {
  const body = parseInput(CreateBody, req.body, 'the product');
  const { currency } = await getConfig();
  const pool = await getPool('inventory');
  const cause = { correlationId: req.correlationId, causationId: null };
  const { product, events } = await withTransaction(pool, async (tx) => {
    const product = await insertProduct(tx, { id: randomUUID(), currency, ...body }).catch((err: { code?: string }) => {
      throw err.code === '23505' ? conflict(`a product with sku ${body.sku} already exists`) : err;
    });
    return { product, events: await recordChange(tx, null, product, cause) };
  });
  await publishNow(events);
  return created(product, `/products/${product.id}`);
}

async function update(req: HttpRequest) {
  const { id } = parseInput(IdParams, req.params, 'the path');
  const changes = parseInput(UpdateBody, req.body, 'the update');
  if (Object.keys(changes).length === 0) throw badRequest('the update changes nothing', [{ pointer: '', detail: 'no field given' }]);
  const pool = await getPool('inventory');
  const cause = { correlationId: req.correlationId, causationId: null };
  const { product, events } = await withTransaction(pool, async (tx) => {
    const before = await findProduct(tx, id, { forUpdate: true });
    if (!before) throw notFound(`product ${id} does not exist`);
    if (changes.stock !== undefined && changes.stock < before.reserved) {
      throw conflict(`stock cannot go below the ${before.reserved} units reserved for orders`);
    }
    const after = await updateProduct(tx, id, changes);
    return { product: after, events: await recordChange(tx, before, after, cause) };
  });
  await publishNow(events);
  return ok(product);
}

async function get(req: HttpRequest) {
  const { id } = parseInput(IdParams, req.params, 'the path');
  const product = await findProduct(await getPool('inventory'), id);
  if (!product) throw notFound(`product ${id} does not exist`);
  return ok(product);
}

async function list(req: HttpRequest) {
  const q = parseInput(ListQuery, req.query, 'the query');
  const after = decodeCursor(q.cursor, 2) as [string, string] | null;
  const rows = await listProducts(await getPool('inventory'), after, q.limit + 1);
  return ok(page(rows, q.limit, (p) => [p.sku, p.id]));
}

export const handler = createHttpApi({
  logger,
  routes: {
    [ROUTES.listProducts]: list,
    [ROUTES.getProduct]: get,
    [ROUTES.createProduct]: create,
    [ROUTES.updateProduct]: update,
  },
});
