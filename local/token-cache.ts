/**
 * The local gateway plays API Gateway's JWT authorizer, so the RS256 verification of every request's
 * token is CPU of this machine: a client sends the same token with every request until it expires.
 * A token verified once is remembered, by its exact text (signature included, so only that token
 * hits), until its `exp` and at most `maxAgeMs` (so a key withdrawn from the issuer's JWKS stops
 * being honoured within minutes rather than at the token's expiry), in a map of bounded size that
 * forgets the least recently used. A refusal is never remembered: the next request is verified again.
 */
import type { JWTPayload } from 'jose';
import type { ClaimsVerifier } from './http-gateway';

export interface TokenCacheOptions {
  /** Tokens remembered at most (least recently used forgotten first). */
  maxEntries?: number;
  /** How long a verification is trusted at most, whatever the token's expiry. */
  maxAgeMs?: number;
  /** The clock, ms since the epoch. */
  now?: () => number;
}

export const TOKEN_CACHE_DEFAULTS = { maxEntries: 10_000, maxAgeMs: 5 * 60_000 };

export function cachingVerifier(verify: ClaimsVerifier, opts: TokenCacheOptions = {}): ClaimsVerifier & { size: () => number } {
  const maxEntries = opts.maxEntries ?? TOKEN_CACHE_DEFAULTS.maxEntries;
  const maxAgeMs = opts.maxAgeMs ?? TOKEN_CACHE_DEFAULTS.maxAgeMs;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { claims: JWTPayload; until: number }>();
  const cached = async (token: string | undefined) => {
    if (!token) return verify(token);
    const hit = cache.get(token);
    if (hit) {
      cache.delete(token);
      // Past its expiry (or the bound) it goes back to the verifier, which refuses it as expired.
      if (now() < hit.until) {
        cache.set(token, hit); // most recently used last
        return hit.claims;
      }
    }
    const claims = await verify(token);
    // The verifier requires `exp` (seconds); without one nothing is remembered.
    if (typeof claims.exp === 'number') {
      cache.set(token, { claims, until: Math.min(claims.exp * 1000, now() + maxAgeMs) });
      while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
    }
    return claims;
  };
  return Object.assign(cached, { size: () => cache.size });
}
