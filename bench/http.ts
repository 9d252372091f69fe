/**
 * Every request the load tools make to the HTTP API goes through here, so what each request must
 * carry (its content type, the caller's Authorization header) is said once.
 */
import type { Dispatcher, Pool } from 'undici';

/** Headers every API request carries: `auth` is the caller's (bench/access.ts), if any. */
export function apiHeaders(json: boolean, auth: Record<string, string> = {}): Record<string, string> {
  return json ? { 'content-type': 'application/json', ...auth } : { ...auth };
}

/** A request through a keep-alive pool (the load generator's orders and cancellations). */
export function poolRequest(
  pool: Pool,
  opts: { method: Dispatcher.HttpMethod; path: string; body?: unknown; auth?: Record<string, string>; timeoutMs: number },
) {
  return pool.request({
    path: opts.path,
    method: opts.method,
    headers: apiHeaders(opts.body !== undefined, opts.auth),
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(opts.timeoutMs),
  });
}

/** A one-off request (products, listings, health). */
export function apiFetch(
  url: string | URL,
  opts: { method?: string; body?: unknown; auth?: Record<string, string>; timeoutMs: number },
): Promise<Response> {
  return fetch(url, {
    method: opts.method ?? 'GET',
    headers: apiHeaders(opts.body !== undefined, opts.auth),
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(opts.timeoutMs),
  });
}

/**
 * How long a refusal asks the client to wait before it tries again (Retry-After in seconds, on a
 * 429 or a 503: over a rate limit, or a function at its concurrency), or undefined for any other answer.
 */
export function retryAfterMs(status: number, retryAfter: string | string[] | null | undefined): number | undefined {
  if (status !== 429 && status !== 503) return undefined;
  const value = (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter)?.trim();
  if (!value || !/^\d+$/.test(value)) return undefined;
  return Number(value) * 1000;
}
