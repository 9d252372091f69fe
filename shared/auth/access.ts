/**
 * Route-level access, decided from a route's rule (the function catalog's ROUTE_ACCESS) and the
 * caller's principal. Pure. The token itself was verified before the handler (API Gateway's JWT
 * authorizer on AWS, the local gateway here); the handler reads the claims it was handed.
 */
import { isAccessToken, principalOf } from './principal';
import type { Principal } from './principal';

/**
 * Who may call a route. 'public': anyone, no token. 'customer': any signed-in caller, customer or
 * operator; the handler applies the rules per resource (a customer acts on its own orders only).
 * 'operator': operators only. Every route other than 'public' is behind the HTTP API's JWT
 * authorizer (the local gateway plays it), so its handler always receives the caller's claims.
 */
export type RouteAccess = 'public' | 'customer' | 'operator';

export type RouteDecision = { allow: true; principal: Principal | null } | { allow: false; status: 401 | 403; detail: string };

export function decideRoute(access: RouteAccess, principal: Principal | null, authenticated: boolean, accessToken = true): RouteDecision {
  if (access === 'public') return { allow: true, principal };
  // Only reachable without the authorizer in front (a misdeployed route): refuse rather than serve.
  if (!authenticated) return { allow: false, status: 401, detail: 'this route needs an access token' };
  // A validly signed token that is not an access token (an ID token): not a credential, as if there were none.
  if (!accessToken) return { allow: false, status: 401, detail: 'only access tokens are accepted (token_use must be "access")' };
  if (!principal) return { allow: false, status: 403, detail: 'the access token grants no role (customer or operator)' };
  if (access === 'operator' && principal.role !== 'operator') return { allow: false, status: 403, detail: 'only operators may do this' };
  return { allow: true, principal };
}

/** The claims API Gateway's JWT authorizer passed on (payload 2.0), if any. */
export function authorizerClaims(event: { requestContext?: unknown }): Record<string, unknown> | undefined {
  const ctx = event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } } | undefined;
  return ctx?.authorizer?.jwt?.claims;
}

/** The caller's principal from an HTTP API event's authorizer claims; null when there are none, they are not an access token's, or they name no role. */
export function principalOfEvent(event: { requestContext?: unknown }): Principal | null {
  const claims = authorizerClaims(event);
  return claims && isAccessToken(claims) ? principalOf(claims) : null;
}
