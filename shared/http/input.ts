/**
 * Rules every request meets before any route sees it, whatever the route: a bounded body, and text
 * that PostgreSQL and every client can store and show as sent. Pure functions; shared/http/api.ts
 * applies them.
 */
import type { FieldError } from './problem';
import { HttpProblem, badRequest } from './problem';

/**
 * The largest request body any route accepts. Our bodies are small JSON documents (an order of 50
 * lines is under 5 KB); API Gateway's own limit (10 MB) and Lambda's (6 MB) are far above what a
 * client of this API ever needs to send, and a large body costs parse time before validation.
 */
export const MAX_BODY_BYTES = 64 * 1024;

export const payloadTooLarge = (bytes: number) =>
  new HttpProblem(413, 'Content Too Large', `the request body is ${bytes} bytes; at most ${MAX_BODY_BYTES} are accepted`, undefined, 'payload-too-large');

/**
 * C0 controls (NUL among them), DEL and C1 controls. PostgreSQL refuses NUL in text outright, and
 * none of our fields (names, identifiers, tokens) is multi-line.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string may not be stored, or null when it may. */
export function textProblem(s: string): string | null {
  const control = CONTROL.exec(s);
  if (control) return `control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} is not allowed`;
  // A lone surrogate has no UTF-8 encoding: stored, it would silently become U+FFFD.
  if (LONE_SURROGATE.test(s)) return 'a lone surrogate (invalid Unicode) is not allowed';
  return null;
}

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** How deep a request's JSON may nest: ours nest three levels; a deeper one only costs work. */
export const MAX_DEPTH = 32;

/**
 * Every string in a JSON value, keys included, that may not be stored, as field errors (JSON
 * Pointers); and nesting past MAX_DEPTH. Iterative: a body of 60,000 nested arrays fits the size
 * limit and must not exhaust the stack.
 */
export function textErrors(value: unknown, pointer = ''): FieldError[] {
  type Item = { value: unknown; pointer: string; depth: number } | { error: FieldError };
  const errors: FieldError[] = [];
  const pending: Item[] = [{ value, pointer, depth: 0 }];
  while (pending.length > 0) {
    const item = pending.pop()!;
    if ('error' in item) {
      errors.push(item.error);
      continue;
    }
    const v = item.value;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) errors.push({ pointer: item.pointer, detail: problem });
      continue;
    }
    if (!v || typeof v !== 'object') continue;
    if (item.depth >= MAX_DEPTH) {
      errors.push({ pointer: item.pointer, detail: `nested deeper than ${MAX_DEPTH} levels` });
      continue;
    }
    const children: Item[] = [];
    if (Array.isArray(v)) {
      v.forEach((child, i) => children.push({ value: child, pointer: `${item.pointer}/${i}`, depth: item.depth + 1 }));
    } else {
      for (const [k, child] of Object.entries(v)) {
        const keyProblem = textProblem(k);
        // A key that cannot be shown is named by the object that holds it.
        if (keyProblem) children.push({ error: { pointer: item.pointer, detail: `a field name: ${keyProblem}` } });
        else children.push({ value: child, pointer: `${item.pointer}/${escapePointer(k)}`, depth: item.depth + 1 });
      }
    }
    // Reversed onto the stack, so that errors come out in document order.
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]!);
  }
  return errors;
}

/** Refuses a request part (the body, the query, the path) holding text that may not be stored. */
export function assertStorableText(value: unknown, what: string): void {
  const errors = textErrors(value);
  if (errors.length === 0) return;
  throw badRequest(`${what} is invalid: ${errors.map((e) => `${e.pointer || '(root)'} ${e.detail}`).join('; ')}`, errors);
}

/**
 * The body's text from an API Gateway event, refusing an oversized one (413) and, when API Gateway
 * passed it base64-encoded (a content type it does not treat as text), bytes that are not UTF-8.
 */
export function bodyText(body: string, isBase64Encoded: boolean): string {
  if (!isBase64Encoded) {
    const bytes = Buffer.byteLength(body, 'utf8');
    if (bytes > MAX_BODY_BYTES) throw payloadTooLarge(bytes);
    return body;
  }
  const raw = Buffer.from(body, 'base64');
  if (raw.length > MAX_BODY_BYTES) throw payloadTooLarge(raw.length);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw badRequest('the request body is not valid UTF-8', [{ pointer: '', detail: 'invalid UTF-8' }]);
  }
}
