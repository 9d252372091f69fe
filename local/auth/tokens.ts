/**
 * Access tokens minted outside the browser flow, for `npm run token` and the tests: the same claims
 * the local issuer puts in the tokens it issues to the dashboard, signed with its key.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, importJWK } from 'jose';
import type { JWK } from 'jose';
import { GROUPS_CLAIM } from '../../shared/auth/principal';
import type { Role } from '../../shared/auth/principal';
import { signingKey } from './signing-key';
import type { SigningKey } from './signing-key';

export const DASHBOARD_CLIENT_ID = 'eventflow-dashboard';
/** The resource server scope the local issuer grants the dashboard. */
export const API_SCOPE = 'eventflow';
export const DEFAULT_OIDC_PORT = 3006;

export const defaultIssuerUrl = (env: NodeJS.ProcessEnv = process.env) =>
  env.OIDC_ISSUER_URL ?? `http://127.0.0.1:${env.OIDC_PORT ?? DEFAULT_OIDC_PORT}`;

export interface MintOptions {
  sub: string;
  role: Role;
  /** The issuer URL (`iss`); by default the local issuer's on OIDC_PORT. */
  issuer?: string;
  /** `aud` and `client_id`; by default the dashboard's client id. */
  audience?: string;
  /** Seconds until it expires; negative for a token that expired that long ago. Default 3600. */
  expiresInSeconds?: number;
  /** Another key (a test's stranger key); by default the local issuer's. */
  key?: SigningKey | JWK;
  /** `token_use`: `access` by default, as Cognito's access tokens; `id` makes the ID token a test needs; null leaves it out. */
  tokenUse?: 'access' | 'id' | null;
}

export async function mintAccessToken(opts: MintOptions): Promise<string> {
  const jwk = (opts.key ?? (await signingKey())) as JWK;
  const audience = opts.audience ?? DASHBOARD_CLIENT_ID;
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = opts.expiresInSeconds ?? 3600;
  const tokenUse = opts.tokenUse === undefined ? 'access' : opts.tokenUse;
  const claims = tokenUse === 'id' ? { [GROUPS_CLAIM]: [opts.role], token_use: 'id' } : { [GROUPS_CLAIM]: [opts.role], scope: API_SCOPE, client_id: audience, ...(tokenUse ? { token_use: tokenUse } : {}) };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: tokenUse === 'id' ? 'JWT' : 'at+jwt', kid: jwk.kid })
    .setIssuer(opts.issuer ?? defaultIssuerUrl())
    .setSubject(opts.sub)
    .setAudience(audience)
    .setJti(randomUUID())
    .setIssuedAt(expiresIn < 0 ? now + expiresIn - 60 : now)
    .setExpirationTime(now + expiresIn)
    .sign(await importJWK(jwk, 'RS256'));
}
