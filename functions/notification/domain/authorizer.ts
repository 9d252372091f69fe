/**
 * What the WebSocket API's $connect authorizer answers, as API Gateway expects from a Lambda
 * REQUEST authorizer: an IAM policy allowing the connection, and a context (string values only)
 * that API Gateway hands to $connect at requestContext.authorizer. Pure.
 */
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import type { Principal } from '../../../shared/auth/principal';
import { ROLES } from '../../../shared/auth/principal';

/** The query parameter the token travels in: browsers cannot set headers on a WebSocket. */
export const TOKEN_PARAMETER = 'token';

/** API Gateway answers 401 when an authorizer fails with exactly this message; 403 for a Deny policy. */
export const UNAUTHORIZED = 'Unauthorized';

export function allowConnection(principal: Principal, methodArn: string): APIGatewayAuthorizerResult {
  return {
    principalId: principal.sub,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }] },
    context: { sub: principal.sub, role: principal.role },
  };
}

/** The principal in the authorizer context API Gateway passes to $connect, or null when it names none. */
export function principalOfContext(authorizer: unknown): Principal | null {
  const a = authorizer as { sub?: unknown; role?: unknown } | null | undefined;
  if (!a || typeof a.sub !== 'string' || !a.sub || !(ROLES as readonly unknown[]).includes(a.role)) return null;
  return { sub: a.sub, role: a.role as Principal['role'] };
}
