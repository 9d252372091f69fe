/**
 * `GET /audit` (operators): the audit trail, newest first, across the three service databases.
 *
 * Query: `subject` (who), `route` (a route key such as `PATCH /products/{id}`, or a CLI command),
 * `target` (an id: an order, a product, a queue), `from` (at or after) and `to` (before), ISO
 * times; `limit` (1..100, default 20) and `cursor`. Answers `{ items: [{ id, at, service, chain,
 * seq, subject, role, route, targets, change, source, status, correlationId }], nextCursor }`.
 *
 * Each database holds the entries of the changes made in it, so every database is asked for one
 * page past the cursor with the same filter, and the pages are merged on the shared sort key (time,
 * then id): the result is the same as one table sorted that way would give.
 */
import { z } from 'zod';
import { SERVICES } from '../../shared/config';
import { getPool } from '../../shared/db/pool';
import { listAudit as listAuditOf } from '../../shared/audit/store';
import { ok } from '../../shared/http/api';
import type { HttpRequest } from '../../shared/http/api';
import { decodeCursor, page, pageQuery, timeIdCursor } from '../../shared/http/pagination';
import { parseInput } from '../../shared/http/problem';

const text = z.string().min(1).max(200);
/** An ISO time, handed to the database in UTC (an offset PostgreSQL would refuse never reaches it). */
const instant = z.iso
  .datetime({ offset: true })
  .refine((s) => {
    const year = new Date(s).getUTCFullYear();
    return year >= 1970 && year <= 9999;
  }, 'out of range')
  .transform((s) => new Date(s).toISOString());
const AuditQuery = z
  .strictObject({ subject: text.optional(), route: text.optional(), target: text.optional(), from: instant.optional(), to: instant.optional(), ...pageQuery })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: 'from must be before to', path: ['to'] });

export async function listAudit(req: HttpRequest) {
  const q = parseInput(AuditQuery, req.query, 'the query');
  const after = decodeCursor(q.cursor, timeIdCursor);
  const filter = { subject: q.subject, route: q.route, target: q.target, from: q.from, to: q.to, after, limit: q.limit + 1 };
  const pages = await Promise.all(SERVICES.map(async (service) => (await listAuditOf(await getPool(service), filter)).map((e) => ({ ...e, service }))));
  const merged = pages.flat().sort((a, b) => (a.at !== b.at ? (a.at < b.at ? 1 : -1) : a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  return ok(page(merged, q.limit, (e) => [e.at, e.id]));
}
