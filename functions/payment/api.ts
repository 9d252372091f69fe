import { z } from 'zod';
import { ROUTES } from '../catalog';
import { getPool } from '../../shared/db/pool';
import { ok } from '../../shared/http/api';
import { createRouteApi } from '../http-api';
import type { HttpRequest } from '../../shared/http/api';
import { decodeCursor, page, pageQuery, timeIdCursor } from '../../shared/http/pagination';
import { parseInput } from '../../shared/http/problem';
import { createLogger } from '../../shared/logger';
import { listPayments } from './store';

const logger = createLogger('payment');
const ListQuery = z.strictObject({ orderId: z.uuid().optional(), ...pageQuery });

async function list(req: HttpRequest) {
  const q = parseInput(ListQuery, req.query, 'the query');
  const after = decodeCursor(q.cursor, timeIdCursor);
  const rows = await listPayments(await getPool('payment'), { orderId: q.orderId, after, limit: q.limit + 1 });
  const result = page(rows, q.limit, (p) => [p.createdAt, p.id]);
  return ok(result);
}

export const handler = createRouteApi({ logger, routes: { [ROUTES.listPayments]: list } });
