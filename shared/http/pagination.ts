import { z } from 'zod';
import { badRequest } from './problem';

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(500).optional(),
};

/** Opaque cursor: the sort key of the last item of a page. */
export function encodeCursor(key: (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, arity: number): (string | number)[] | null {
  if (!cursor) return null;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === arity) return key;
  } catch {
    // fall through
  }
  throw badRequest('cursor is not one this API issued', [{ pointer: '/cursor', detail: 'invalid cursor' }]);
}

/** Builds {items, nextCursor} from rows fetched with limit + 1. */
export function page<T>(rows: T[], limit: number, keyOf: (last: T) => (string | number)[]) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}
