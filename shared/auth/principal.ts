/**
 * Who is calling: the principal an access token names, derived from its claims. Pure; shared by the
 * token verifier (WebSocket authorizer, local gateway) and by the HTTP handlers, which read the
 * claims API Gateway's JWT authorizer passes on.
 */
export const ROLES = ['customer', 'operator'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** The token's subject: a customer's id (a UUID), or the operator's. */
  sub: string;
  role: Role;
}

/** The claim that carries the caller's groups, as Cognito names it (the local issuer does the same). */
export const GROUPS_CLAIM = 'cognito:groups';

/**
 * A groups claim in any of the forms it reaches us: a JSON array (the token itself), or the string
 * API Gateway's HTTP API JWT authorizer makes of an array claim, bracketed and space-separated
 * ("[customer]", "[a b]"), or a plain comma-separated string.
 */
export function parseGroups(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.length > 0);
  if (typeof value !== 'string') return [];
  const inner = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  return inner.split(/[\s,]+/).filter(Boolean);
}

/** The role the groups grant: operator outranks customer; neither is no role. */
export function roleOf(groups: readonly string[]): Role | null {
  if (groups.includes('operator')) return 'operator';
  if (groups.includes('customer')) return 'customer';
  return null;
}

/**
 * Whether claims are an access token's: `token_use` is `access` (Cognito's access tokens, and the
 * local issuer's, say so). An ID token names the same user, client and groups, but it is for the
 * client to read, not a credential for the APIs; API Gateway's JWT authorizer cannot tell the two
 * apart (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html),
 * so the handlers do.
 */
export function isAccessToken(claims: Record<string, unknown>): boolean {
  return claims.token_use === 'access';
}

/** The principal of a set of claims, or null when it names no subject or no role. */
export function principalOf(claims: Record<string, unknown>): Principal | null {
  const sub = claims.sub;
  const role = roleOf(parseGroups(claims[GROUPS_CLAIM]));
  if (typeof sub !== 'string' || sub.length === 0 || !role) return null;
  return { sub, role };
}

/**
 * Claims as API Gateway's HTTP API (payload 2.0) hands them to the integration at
 * requestContext.authorizer.jwt.claims: every value a string; an array flattened to "[a b]",
 * numbers and booleans in their text form, objects as JSON.
 */
export function flattenClaims(payload: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) out[name] = `[${value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ')}]`;
    else if (typeof value === 'object') out[name] = JSON.stringify(value);
    else out[name] = String(value);
  }
  return out;
}
