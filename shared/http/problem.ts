import { z } from 'zod';

export interface FieldError {
  /** JSON Pointer into the request (RFC 6901), e.g. "/items/0/quantity"; "" for the whole body. */
  pointer: string;
  detail: string;
}

/** An HTTP error answered as RFC 9457 application/problem+json. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly slug?: string,
    /** Response headers the problem calls for (Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
  }

  toBody(instance?: string): Record<string, unknown> {
    return {
      type: this.slug ? `urn:eventflow:problem:${this.slug}` : 'about:blank',
      title: this.title,
      status: this.status,
      detail: this.detail,
      ...(instance ? { instance } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new HttpProblem(400, 'Bad Request', detail, errors, 'validation-error');
export const notFound = (detail: string) => new HttpProblem(404, 'Not Found', detail, undefined, 'not-found');
export const conflict = (detail: string) => new HttpProblem(409, 'Conflict', detail, undefined, 'conflict');
export const unprocessable = (detail: string, errors?: FieldError[]) =>
  new HttpProblem(422, 'Unprocessable Content', detail, errors, 'unprocessable');

function pointerOf(path: PropertyKey[]): string {
  return path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** Validates input with a zod schema; failure is a 400 naming every failing field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string, prefix = ''): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.map((i) => ({ pointer: prefix + pointerOf(i.path), detail: i.message }));
  throw badRequest(`${what} is invalid: ${errors.map((e) => `${e.pointer || '(root)'} ${e.detail}`).join('; ')}`, errors);
}
