import type { FieldError } from './problem';

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** A field error for each query parameter that is not among those the route takes (`known`). */
export function unknownQueryParams(known: readonly string[], query: Record<string, unknown>): FieldError[] {
  return Object.keys(query)
    .filter((name) => !known.includes(name))
    .map((name) => ({ pointer: `/${escapePointer(name)}`, detail: `unknown query parameter "${name}"${known.length ? `; this route takes ${known.join(', ')}` : '; this route takes none'}` }));
}
