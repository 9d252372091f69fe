import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ROUTES } from '../catalog';
import { getConfig } from '../../shared/config';
import { getPool } from '../../shared/db/pool';
import { causeOf, created, ok } from '../../shared/http/api';
import { createRouteApi } from '../http-api';
import type { HttpRequest } from '../../shared/http/api';
import { decodeCursor, page, pageQuery, textIdCursor } from '../../shared/http/pagination';
import { badRequest, conflict, notFound, parseInput } from '../../shared/http/problem';
import { createLogger } from '../../shared/logger';
import { runUnitOfWork } from '../../shared/messaging/unit-of-work';
import { requestAudit } from '../../shared/audit/actor';
import type { UnitOfWork } from '../../shared/messaging/unit-of-work';
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
const ListQuery = z.strictObject(pageQuery);

/** What an operator sets on a product, as its audit entries record it. */
const AUDITED_FIELDS = ['sku', 'name', 'priceCents', 'stock', 'lowStockThreshold'] as const satisfies readonly (keyof Product)[];
const pick = (p: Product, fields: readonly (keyof Product)[]) => Object.fromEntries(fields.map((f) => [f, p[f]]));

const emitChanges = (uow: UnitOfWork, before: Product | null, after: Product) => {
  for (const e of productChangeEvents(before, after)) uow.emit(e.type, e.data);
};

async function create(req: HttpRequest) {
  const body = parseInput(CreateBody, req.body, 'the product');
  const { currency } = await getConfig();
  const { result: product } = await runUnitOfWork('inventory', causeOf(req), logger, async (uow) => {
    const product = await insertProduct(uow.tx, { id: randomUUID(), currency, ...body }).catch((err: { code?: string }) => {
      throw err.code === '23505' ? conflict(`a product with sku ${body.sku} already exists`) : err;
    });
    emitChanges(uow, null, product);
    uow.audit(requestAudit(req, { targets: [product.id], change: { after: pick(product, AUDITED_FIELDS) }, status: 201 }));
    return product;
  });
  return created(product, `/products/${product.id}`);
}

async function update(req: HttpRequest) {
  const { id } = parseInput(IdParams, req.params, 'the path');
  const changes = parseInput(UpdateBody, req.body, 'the update');
  if (Object.keys(changes).length === 0) throw badRequest('the update changes nothing', [{ pointer: '', detail: 'no field given' }]);
  const { result: product } = await runUnitOfWork('inventory', causeOf(req), logger, async (uow) => {
    const before = await findProduct(uow.tx, id, { forUpdate: true });
    if (!before) throw notFound(`product ${id} does not exist`);
    if (changes.stock !== undefined && changes.stock < before.reserved) {
      throw conflict(`stock cannot go below the ${before.reserved} units reserved for orders`);
    }
    const after = await updateProduct(uow.tx, id, changes);
    emitChanges(uow, before, after);
    // Before and after of the fields the request named.
    const named = AUDITED_FIELDS.filter((f) => changes[f as keyof typeof changes] !== undefined);
    uow.audit(requestAudit(req, { targets: [id], change: { before: pick(before, named), after: pick(after, named) }, status: 200 }));
    return after;
  });
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
  const after = decodeCursor(q.cursor, textIdCursor);
  const rows = await listProducts(await getPool('inventory'), after, q.limit + 1);
  return ok(page(rows, q.limit, (p) => [p.sku, p.id]));
}

export const handler = createRouteApi({
  logger,
  routes: {
    [ROUTES.listProducts]: list,
    [ROUTES.getProduct]: get,
    [ROUTES.createProduct]: create,
    [ROUTES.updateProduct]: update,
  },
});
