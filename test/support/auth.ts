/**
 * Access tokens for the tests, minted with the local issuer's key and claims (local/auth/tokens.ts,
 * what `npm run token` uses), so the runtime's gateways verify them against its JWKS.
 */
import type { Principal } from '../../shared/auth/principal';
import { mintAccessToken } from '../../local/auth/tokens';
import type { MintOptions } from '../../local/auth/tokens';
import { LOCAL_USERS } from '../../local/auth/users';

const user = (email: string): Principal => {
  const u = LOCAL_USERS.find((x) => x.email === email)!;
  return { sub: u.sub, role: u.role };
};

/** The seeded users: an operator and two customers. */
export const OPERATOR = user('ops@eventflow.test');
export const ALICE = user('alice@eventflow.test');
export const BOB = user('bob@eventflow.test');

const cache = new Map<string, { token: string; until: number }>();

/** A valid access token for a principal from this issuer (cached while it has most of its life left). */
export async function tokenFor(issuer: string, principal: Principal, extra: Omit<MintOptions, 'sub' | 'role' | 'issuer'> = {}): Promise<string> {
  const custom = Object.keys(extra).length > 0;
  const key = `${issuer} ${principal.sub} ${principal.role}`;
  const hit = custom ? undefined : cache.get(key);
  if (hit && hit.until > Date.now()) return hit.token;
  const token = await mintAccessToken({ ...extra, sub: principal.sub, role: principal.role, issuer });
  if (!custom) cache.set(key, { token, until: Date.now() + 30 * 60_000 });
  return token;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
