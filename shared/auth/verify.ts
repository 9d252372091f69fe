/**
 * Access token verification: a JWT (RS256) signed by the issuer's keys (its JWKS, found through
 * OpenID discovery or AUTH_JWKS_URL), from the expected issuer, for the expected audience, not
 * expired. Cognito access tokens carry the app client in `client_id` and no `aud`; the local
 * issuer's carry both; either names the audience. Used where a token is checked in code: the
 * WebSocket $connect authorizer, and the local gateway playing the HTTP API's JWT authorizer.
 */
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { LAMBDA_ENV } from '../env';
import { principalOf } from './principal';
import type { Principal } from './principal';

export type { Principal, Role } from './principal';

export type AuthFailure = 'missing-token' | 'invalid-token' | 'expired-token' | 'no-role' | 'unavailable';

/** A token refused, and why (the reason is for logs; clients get a plain 401). */
export class AuthError extends Error {
  constructor(
    readonly reason: AuthFailure,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface VerifierOptions {
  /** The issuer URL, exactly as the tokens' `iss`. */
  issuer: string;
  /** The app client id: the tokens' `aud` or `client_id`. */
  audience: string;
  /** The issuer's JWKS; by default the `jwks_uri` of its discovery document. */
  jwksUrl?: string;
  /**
   * Refuse a token whose `token_use` is not `access` (default). The local gateway turns it off to
   * play API Gateway's JWT authorizer, which cannot tell an ID token from an access token: the
   * HTTP handlers refuse it instead (shared/http/authorize.ts), on AWS as here.
   */
  accessTokensOnly?: boolean;
}

export type Verifier = (token: string | undefined) => Promise<Principal>;

async function discoverJwks(issuer: string): Promise<URL> {
  const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`discovery of ${issuer} answered ${res.status}`);
  const doc = (await res.json()) as { issuer?: string; jwks_uri?: string };
  if (doc.issuer !== issuer) throw new Error(`discovery of ${issuer} names another issuer (${doc.issuer})`);
  if (!doc.jwks_uri) throw new Error(`discovery of ${issuer} names no jwks_uri`);
  return new URL(doc.jwks_uri);
}

/** True when the token was issued for this audience, in `aud` (local issuer) or `client_id` (Cognito). */
export function issuedFor(payload: JWTPayload, audience: string): boolean {
  const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  return aud.includes(audience) || payload.client_id === audience;
}

/**
 * Checks a token as API Gateway's JWT authorizer does (signature, issuer, audience, expiry) and
 * returns its claims, whatever role they grant.
 */
export function createClaimsVerifier(opts: VerifierOptions): (token: string | undefined) => Promise<JWTPayload> {
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const keySet = () => {
    keys ??= (async () => createRemoteJWKSet(opts.jwksUrl ? new URL(opts.jwksUrl) : await discoverJwks(opts.issuer)))();
    // A failed discovery is tried again on the next token rather than remembered.
    keys.catch(() => (keys = undefined));
    return keys;
  };
  return async (token) => {
    if (!token) throw new AuthError('missing-token', 'no access token');
    let jwks: JWTVerifyGetKey;
    try {
      jwks = await keySet();
    } catch (err) {
      throw new AuthError('unavailable', `the issuer's keys are unavailable: ${(err as Error).message}`);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, { issuer: opts.issuer, algorithms: ['RS256'], requiredClaims: ['sub', 'exp'] }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new AuthError('expired-token', 'the access token has expired');
      if (err instanceof errors.JWKSTimeout) throw new AuthError('unavailable', "the issuer's keys are unavailable");
      throw new AuthError('invalid-token', `the access token is not valid: ${(err as Error).message}`);
    }
    if (!issuedFor(payload, opts.audience)) throw new AuthError('invalid-token', 'the access token was issued for another audience');
    // A Cognito ID token also names the client in `aud` and carries the groups: only access tokens open the APIs.
    if ((opts.accessTokensOnly ?? true) && payload.token_use !== 'access') throw new AuthError('invalid-token', 'not an access token');
    return payload;
  };
}

/** Verifies a token and returns the principal it names; a valid token granting no role is refused too. */
export function createVerifier(opts: VerifierOptions): Verifier {
  const claimsOf = createClaimsVerifier(opts);
  return async (token) => {
    const principal = principalOf((await claimsOf(token)) as Record<string, unknown>);
    if (!principal) throw new AuthError('no-role', 'the access token names no subject or no role');
    return principal;
  };
}

let fromEnv: Verifier | undefined;

/** Verifies with the function's configuration (AUTH_ISSUER, AUTH_AUDIENCE, optional AUTH_JWKS_URL). */
export function verifyAccessToken(token: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Principal> {
  if (!fromEnv) {
    const issuer = env[LAMBDA_ENV.authIssuer];
    const audience = env[LAMBDA_ENV.authAudience];
    if (!issuer || !audience) throw new Error(`${LAMBDA_ENV.authIssuer} and ${LAMBDA_ENV.authAudience} must be set to verify tokens`);
    fromEnv = createVerifier({ issuer, audience, jwksUrl: env[LAMBDA_ENV.authJwksUrl] || undefined });
  }
  return fromEnv(token);
}

/** The token of an `Authorization: Bearer …` header value. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}
