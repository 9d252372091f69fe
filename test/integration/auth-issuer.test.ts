import { createHash, randomBytes } from 'node:crypto';
import { generateKeyPair, exportJWK, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, AuthError } from '../../shared/auth/verify';
import { startIssuer, redirectUriOf } from '../../local/auth/issuer';
import { mintAccessToken, DASHBOARD_CLIENT_ID } from '../../local/auth/tokens';
import { LOCAL_USERS } from '../../local/auth/users';

/** The local issuer on its own, as the dashboard and `npm run token` use it. */
describe('local OpenID Connect issuer', () => {
  let issuer: Awaited<ReturnType<typeof startIssuer>>;
  const origin = 'http://127.0.0.1:39999';

  beforeAll(async () => {
    issuer = await startIssuer({ host: '127.0.0.1', port: 0 });
    await issuer.allowDashboard([origin]);
  });
  afterAll(() => issuer?.close());

  it('publishes discovery and its JWKS', async () => {
    const doc = (await (await fetch(`${issuer.url}/.well-known/openid-configuration`)).json()) as Record<string, any>;
    expect(doc.issuer).toBe(issuer.url);
    expect(doc.code_challenge_methods_supported).toContain('S256');
    const jwks = (await (await fetch(doc.jwks_uri)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.length).toBe(1);
    expect(jwks.keys[0]).not.toHaveProperty('d'); // public parts only
  });

  it('verifies the tokens `npm run token` mints, and refuses expired, tampered, foreign ones', async () => {
    const verify = createVerifier({ issuer: issuer.url, audience: DASHBOARD_CLIENT_ID });
    const sub = LOCAL_USERS[1]!.sub;
    await expect(verify(await mintAccessToken({ sub, role: 'customer', issuer: issuer.url }))).resolves.toEqual({ sub, role: 'customer' });
    const reason = (p: Promise<unknown>) => p.then(() => 'accepted', (e: AuthError) => e.reason);
    expect(await reason(verify(await mintAccessToken({ sub, role: 'customer', issuer: issuer.url, expiresInSeconds: -120 })))).toBe('expired-token');
    expect(await reason(verify(await mintAccessToken({ sub, role: 'customer', issuer: 'http://127.0.0.1:1' })))).toBe('invalid-token');
    expect(await reason(verify(await mintAccessToken({ sub, role: 'customer', issuer: issuer.url, audience: 'another-client' })))).toBe('invalid-token');
    const stranger = { ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey)), kid: 'stranger' };
    expect(await reason(verify(await mintAccessToken({ sub, role: 'customer', issuer: issuer.url, key: stranger })))).toBe('invalid-token');
    const [h, p, s] = (await mintAccessToken({ sub, role: 'customer', issuer: issuer.url })).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, 'cognito:groups': ['operator'] })).toString('base64url');
    expect(await reason(verify(`${h}.${forged}.${s}`))).toBe('invalid-token');
    expect(await reason(verify(undefined))).toBe('missing-token');
  });

  it('signs a seeded user in with authorization code and PKCE, and issues the contract access token', async () => {
    const user = LOCAL_USERS.find((u) => u.email === 'alice@eventflow.test')!;
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const redirectUri = redirectUriOf(origin);
    const jar = new Map<string, string>();
    const go = async (url: string, init: RequestInit = {}) => {
      const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const [k, v] = pair!.split('=');
        jar.set(k!, v ?? '');
      }
      return res;
    };
    const auth = new URL(`${issuer.url}/auth`);
    Object.entries({
      client_id: DASHBOARD_CLIENT_ID,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'openid email eventflow',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 's1',
    }).forEach(([k, v]) => auth.searchParams.set(k, v));
    let res = await go(auth.toString());
    expect(res.status).toBe(303);
    const interaction = new URL(res.headers.get('location')!, issuer.url).toString();
    const page = await go(interaction);
    expect(await page.text()).toContain('Sign in to EventFlow');
    const wrong = await go(`${interaction}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ email: user.email, password: 'nope' }).toString() });
    expect(await wrong.text()).toContain('wrong password');
    res = await go(`${interaction}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ email: user.email, password: user.password }).toString() });
    // Back to the authorization endpoint, then (no consent for the first-party dashboard) to the callback.
    for (let i = 0; i < 5 && !res.headers.get('location')?.startsWith(redirectUri); i++) {
      const next = new URL(res.headers.get('location')!, issuer.url).toString();
      res = await go(next);
      if (!res.headers.get('location')) throw new Error(`${next} ${res.status} ${await res.text()}`);
    }
    const callback = new URL(res.headers.get('location')!);
    expect(callback.searchParams.get('state')).toBe('s1');
    const code = callback.searchParams.get('code')!;
    const tokenRes = await fetch(`${issuer.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: DASHBOARD_CLIENT_ID, code_verifier: verifier }).toString(),
    });
    expect(tokenRes.status).toBe(200);
    expect(tokenRes.headers.get('access-control-allow-origin')).toBe(origin);
    const tokens = (await tokenRes.json()) as { access_token: string; id_token: string };
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({ iss: issuer.url, sub: user.sub, aud: DASHBOARD_CLIENT_ID, client_id: DASHBOARD_CLIENT_ID, 'cognito:groups': ['customer'], token_use: 'access' });
    expect(String(claims.scope).split(' ')).toContain('eventflow');
    const verify = createVerifier({ issuer: issuer.url, audience: DASHBOARD_CLIENT_ID });
    await expect(verify(tokens.access_token)).resolves.toEqual({ sub: user.sub, role: 'customer' });
    // The ID token carries no groups, does not say it is an access token, and opens nothing.
    expect(decodeJwt(tokens.id_token)).not.toHaveProperty('cognito:groups');
    expect(decodeJwt(tokens.id_token).token_use).toBeUndefined();
    await expect(verify(tokens.id_token)).rejects.toBeInstanceOf(AuthError);
  });

  it('refuses an authorization request without PKCE', async () => {
    const auth = new URL(`${issuer.url}/auth`);
    Object.entries({ client_id: DASHBOARD_CLIENT_ID, response_type: 'code', redirect_uri: redirectUriOf(origin), scope: 'openid' }).forEach(([k, v]) => auth.searchParams.set(k, v));
    const res = await fetch(auth, { redirect: 'manual' });
    expect(res.headers.get('location') ?? '').toContain('error=invalid_request');
  });
});
