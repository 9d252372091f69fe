import { z } from 'zod';
import { badRequest } from './problem';

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(500).optional(),
};

/** A timestamp as the API issues them (toISOString), within what PostgreSQL's timestamptz holds. */
const instant = z.iso.datetime({ offset: true }).refine((s) => {
  const year = new Date(s).getUTCFullYear();
  return year >= 1970 && year <= 9999;
}, 'out of range');

/** Cursors of lists sorted by creation time, then id. */
export const timeIdCursor = z.tuple([instant, z.uuid()]);
/** Cursors of lists sorted by a short text key (a sku), then id. */
export const textIdCursor = z.tuple([z.string().min(1).max(200), z.uuid()]);

/** Opaque cursor: the sort key of the last item of a page. */
export function encodeCursor(key: (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * The sort key a cursor carries, checked against the list's own key shape: a cursor this API did
 * not issue (garbage, another list's, one edited by hand) is a 400, never a failed query.
 */
export function decodeCursor<S extends z.ZodType>(cursor: string | undefined, shape: S): z.infer<S> | null {
  if (!cursor) return null;
  try {
    const parsed = shape.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // not JSON: fall through
  }
  throw badRequest('cursor is not one this API issued', [{ pointer: '/cursor', detail: 'invalid cursor' }]);
}

/** Builds {items, nextCursor} from rows fetched with limit + 1. */
export function page<T>(rows: T[], limit: number, keyOf: (last: T) => (string | number)[]) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}
