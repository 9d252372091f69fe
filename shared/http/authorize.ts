import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { authorizerClaims, decideRoute, principalOfEvent } from '../auth/access';
import { isAccessToken } from '../auth/principal';
import type { RouteAccess } from '../auth/access';
import type { Principal } from '../auth/principal';
import { HttpProblem } from './problem';

/**
 * The route's access rule applied to the caller the authorizer's claims name: the principal, or a
 * 401/403 problem. A route without a rule is for operators only. Rules per resource (whose order)
 * are the handlers'.
 */
export function authorizeRoute(event: APIGatewayProxyEventV2, rule: RouteAccess | undefined): Principal | null {
  const access = rule ?? 'operator';
  const claims = authorizerClaims(event);
  const decision = decideRoute(access, principalOfEvent(event), claims !== undefined, claims === undefined || isAccessToken(claims));
  if (decision.allow) return decision.principal;
  if (decision.status === 401) throw new HttpProblem(401, 'Unauthorized', decision.detail, undefined, 'unauthorized');
  throw forbidden(decision.detail);
}

export const forbidden = (detail: string) => new HttpProblem(403, 'Forbidden', detail, undefined, 'forbidden');
