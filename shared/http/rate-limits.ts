/**
 * Rate limits per principal: their configuration and the decision of which limit a request
 * counts against. Pure; shared/http/rate-limiter.ts keeps the counts in Redis.
 */
import { LOCAL_ENV, RATE_LIMIT_ENV } from '../env';

/** A token bucket: `perSecond` sustained, up to `burst` at once after a quiet spell. */
export interface Limit {
  perSecond: number;
  burst: number;
}

export interface RateLimits {
  /** Every route but POST /orders. */
  requests: Limit;
  /** POST /orders, which costs a transaction, a charge and a reservation downstream. */
  orders: Limit;
}

/**
 * Generous: one principal (for anonymous requests, one IP address: every local client, the test
 * suite and the dashboard included) may read at 200/s and place 50 orders/s before it is slowed.
 * The bench raises them; the stage's throttling on AWS (lib/apis.ts) caps all clients together.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  requests: { perSecond: 200, burst: 2_000 },
  orders: { perSecond: 50, burst: 500 },
};

/**
 * Limits no single client reaches: for load generators (npm run bench), whose one address stands
 * for many customers. Set in their runtime's environment.
 */
export const UNTHROTTLED_ENV: Record<string, string> = {
  // The local gateway's per-route budgets (API Gateway's, on AWS) as well.
  [LOCAL_ENV.routeThrottling]: 'off',
  [RATE_LIMIT_ENV.requestsPerSecond]: '1000000',
  [RATE_LIMIT_ENV.requestsBurst]: '1000000',
  [RATE_LIMIT_ENV.ordersPerSecond]: '1000000',
  [RATE_LIMIT_ENV.ordersBurst]: '1000000',
};

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
}

/** The limits from the environment; an invalid value fails the cold start. */
export function readRateLimits(env: NodeJS.ProcessEnv = process.env): RateLimits {
  const e = RATE_LIMIT_ENV;
  const d = DEFAULT_RATE_LIMITS;
  return {
    requests: {
      perSecond: positive(e.requestsPerSecond, env[e.requestsPerSecond], d.requests.perSecond),
      burst: Math.max(1, Math.floor(positive(e.requestsBurst, env[e.requestsBurst], d.requests.burst))),
    },
    orders: {
      perSecond: positive(e.ordersPerSecond, env[e.ordersPerSecond], d.orders.perSecond),
      burst: Math.max(1, Math.floor(positive(e.ordersBurst, env[e.ordersBurst], d.orders.burst))),
    },
  };
}

export type Bucket = keyof RateLimits;

/** Which limit a route counts against. */
export const bucketOf = (routeKey: string): Bucket => (routeKey === 'POST /orders' ? 'orders' : 'requests');

/**
 * Whom a request is counted for: the verified subject of its token when it has one, else the
 * address it came from (API Gateway's sourceIp, which clients cannot set).
 */
export function principalKey(sub: string | undefined, sourceIp: string | undefined): string {
  return sub ? `sub:${sub}` : `ip:${sourceIp || 'unknown'}`;
}

/** The Redis keys of one namespace's buckets start with this (tests run in namespaces of their own). */
export const rateLimitPrefix = (namespace: string) => `ratelimit:${namespace || 'eventflow'}:`;

export const rateLimitKey = (namespace: string, bucket: Bucket, principal: string) => `${rateLimitPrefix(namespace)}${bucket}:${principal}`;

/** Whole seconds for Retry-After (RFC 9110: a non-negative integer), never 0 for a refusal. */
export const retryAfterSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
