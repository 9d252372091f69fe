/**
 * API Gateway's per-route throttling, played by the local HTTP gateway: one token bucket per route
 * for all callers together, with the catalog's budgets (ROUTE_THROTTLES, DEFAULT_ROUTE_THROTTLE),
 * and past it a 429 with API Gateway's own body, before any authorizer or function runs.
 * `LOCAL_ROUTE_THROTTLING=off` turns it off for runs that send more than a deployment would take
 * (the test suites, the benchmarks, which measure capacity rather than the edge's budget).
 */
import type { RouteThrottle } from '../functions/catalog';
import { LOCAL_ENV } from '../shared/env';

export function routeThrottlingOn(env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env[LOCAL_ENV.routeThrottling]?.trim();
  if (raw === undefined || raw === '' || raw === 'on') return true;
  if (raw === 'off') return false;
  throw new Error(`${LOCAL_ENV.routeThrottling} must be "on" or "off", got ${JSON.stringify(raw)}`);
}

/** Token buckets by route key: `take` says whether a request may go on (and spends a token if so). */
export function routeBuckets(throttleOf: (routeKey: string) => RouteThrottle, now: () => number = Date.now) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(routeKey: string): boolean {
      const { ratePerSecond, burst } = throttleOf(routeKey);
      const t = now();
      const b = buckets.get(routeKey) ?? { tokens: burst, at: t };
      b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * ratePerSecond);
      b.at = t;
      buckets.set(routeKey, b);
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
  };
}
