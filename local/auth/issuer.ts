/**
 * The local OpenID Connect issuer (oidc-provider): discovery, JWKS, authorization code with PKCE
 * for the dashboard (a public client), a sign-in page for the seeded users (local/auth/users.ts),
 * and JWT access tokens with the claims a Cognito user pool's carry (`cognito:groups`, `client_id`,
 * `scope`) plus `aud`. Runs beside the local runtime; never deployed (Cognito is the issuer on AWS).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import { GROUPS_CLAIM } from '../../shared/auth/principal';
import { signingKey } from './signing-key';
import { API_SCOPE, DASHBOARD_CLIENT_ID } from './tokens';
import { userByEmail, userBySub } from './users';

/** The resource the dashboard's access tokens are for (every token request gets it by default). */
export const API_RESOURCE = 'urn:eventflow:api';

/** Where the dashboard expects the authorization response, and where sign-out returns, per origin. */
export const redirectUriOf = (origin: string) => `${origin}/auth/callback/`;
export const postLogoutUriOf = (origin: string) => `${origin}/`;

/** The origins a dashboard URL is reached on: a loopback address also as localhost, and the other way round. */
export function dashboardOrigins(webUrl: string): string[] {
  const u = new URL(webUrl);
  const port = u.port ? `:${u.port}` : '';
  if (['127.0.0.1', 'localhost', '0.0.0.0', '[::]', '::'].includes(u.hostname)) {
    return [`${u.protocol}//127.0.0.1${port}`, `${u.protocol}//localhost${port}`];
  }
  return [u.origin];
}

/** The library's in-memory adapter under a name of ours (see the configuration below). */
class LocalSessions extends MemoryAdapter {}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function signInPage(uid: string, clientId: string, error?: string) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in to EventFlow</title><style>body{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1rem}
p[role=alert]{color:#a40000}</style></head><body><main><h1>Sign in to EventFlow</h1>
<p>Local issuer for ${escapeHtml(clientId)}. Users: ops@eventflow.test, alice@eventflow.test, bob@eventflow.test (see README).</p>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form></main></body></html>`;
}

async function formBody(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16 * 1024) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function createProvider(issuer: string, origins: string[]): Promise<Provider> {
  const key = await signingKey();
  const clients: Configuration['clients'] = origins.length
    ? [
        {
          client_id: DASHBOARD_CLIENT_ID,
          token_endpoint_auth_method: 'none',
          application_type: 'web',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: origins.map(redirectUriOf),
          post_logout_redirect_uris: origins.map(postLogoutUriOf),
        },
      ]
    : [];
  const configuration: Configuration = {
    // Sessions, grants and tokens in memory, in the library's own adapter: given by name, it does not
    // print its warning (twice: a provider is made again once the dashboard's origin is known);
    // startIssuer says it once, in our words.
    adapter: LocalSessions,
    clients,
    jwks: { keys: [key as never] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // The API's own scope is the resource server's (getResourceServerInfo), not an OpenID scope.
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    pkce: { required: () => true },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, RefreshToken: 8 * 3600, Interaction: 600, Session: 8 * 3600, Grant: 8 * 3600 },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Every token the dashboard gets is for the EventFlow APIs, without it naming the resource.
        defaultResource: () => API_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== API_RESOURCE) throw new Error(`unknown resource ${indicator}`);
          // aud is the client id, as the contract with the CDK side says (Cognito: client_id).
          return { scope: API_SCOPE, audience: DASHBOARD_CLIENT_ID, accessTokenTTL: 3600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    // The dashboard is first-party: no consent page; a signed-in user is granted what it asks.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const clientId = ctx.oidc.client!.clientId;
      const grantId = (ctx.oidc.result?.consent as { grantId?: string } | undefined)?.grantId ?? ctx.oidc.session!.grantIdFor(clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid email profile offline_access');
      grant.addResourceScope(API_RESOURCE, API_SCOPE);
      await grant.save();
      return grant;
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris!.some((uri) => new URL(uri).origin === origin),
    findAccount: async (_ctx, sub) => {
      const user = userBySub(sub);
      if (!user) return undefined;
      return { accountId: user.sub, claims: async () => ({ sub: user.sub, email: user.email, email_verified: true, name: user.name }) };
    },
    // The groups go in the access token (as Cognito puts them there); never in the ID token, which
    // opens nothing. token_use says it is an access token, as Cognito's do: the APIs take no other.
    extraTokenClaims: async (_ctx, token) => {
      const user = 'accountId' in token && typeof token.accountId === 'string' ? userBySub(token.accountId) : undefined;
      return user ? { [GROUPS_CLAIM]: [user.role], token_use: 'access' } : undefined;
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in error</title></head><body><main><h1>Sign-in error</h1><pre>${escapeHtml(JSON.stringify(out, null, 2))}</pre></main></body></html>`;
    },
  };
  return new Provider(issuer, configuration);
}

export interface IssuerOptions {
  host: string;
  port: number;
  log?: (line: string) => void;
}

/**
 * Starts the issuer: listening at once (its URL is known before anything else starts), serving
 * discovery and JWKS; `allowDashboard` registers the dashboard client once the dashboard's origin
 * is known (its port may be chosen at run time).
 */
export async function startIssuer(opts: IssuerOptions) {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  const url = `http://${host}:${port}`;
  let provider = await createProvider(url, []);
  let callback = provider.callback();
  opts.log?.('local sign-in sessions live in memory and end when `npm run dev` stops');

  async function interaction(req: http.IncomingMessage, res: http.ServerResponse, uid: string, login: boolean) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    const clientId = String(details.params.client_id ?? '');
    if (!login) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(signInPage(uid, clientId));
      return;
    }
    const form = await formBody(req);
    const user = userByEmail(form.get('email') ?? '');
    if (!user || user.password !== form.get('password')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(signInPage(uid, clientId, 'Unknown email or wrong password.'));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
  }

  server.on('request', (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const m = /^\/interaction\/([^/]+)(\/login)?$/.exec(path);
    if (!m) {
      void callback(req, res);
      return;
    }
    const login = Boolean(m[2]);
    if ((login && req.method !== 'POST') || (!login && req.method !== 'GET')) {
      res.writeHead(405).end();
      return;
    }
    interaction(req, res, m[1]!, login).catch((err: Error) => {
      opts.log?.(`issuer: sign-in failed: ${err.message}`);
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' }).end('This sign-in has expired or is unknown; start again from the dashboard.');
    });
  });
  server.keepAliveTimeout = 30_000;

  return {
    url,
    clientId: DASHBOARD_CLIENT_ID,
    /** Registers the dashboard client for these origins (redirect <origin>/auth/callback/, post-logout <origin>/). */
    async allowDashboard(origins: string[]) {
      provider = await createProvider(url, origins);
      callback = provider.callback();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
