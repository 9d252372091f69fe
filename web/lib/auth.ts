/**
 * Signing in with the issuer config.json names (the local issuer, or a Cognito user pool) through
 * oidc-client-ts: authorization code with PKCE, back to /auth/callback/. The session is kept per
 * tab (sessionStorage) and renewed with the refresh token before the access token expires; when
 * renewal fails (the refresh token ran out or was revoked) the reader is signed out and asked to
 * sign in again. Every API call and the socket take their token from here.
 */
import { UserManager, WebStorageStateStore, type User } from 'oidc-client-ts';
import { CALLBACK_PATH, signOutUrl } from '../../shared/auth/dashboard-client';
import type { Role } from '../../shared/auth/principal';
import { homeOf, roleOfToken } from './access';
import { loadConfig, type RuntimeConfig } from './config';

export interface Account {
  /** The subject: a customer's id. */
  sub: string;
  /** What to call the reader: the name, else the e-mail address. */
  name: string;
  email: string | null;
  /** From the access token's groups; null when the account is in neither group. */
  role: Role | null;
}

export type AuthState =
  | { status: 'loading' }
  | { status: 'signed-out'; reason: string | null }
  | { status: 'signed-in'; account: Account }
  | { status: 'error'; message: string };

const LOADING: AuthState = { status: 'loading' };
let state: AuthState = LOADING;
const listeners = new Set<() => void>();
let manager: Promise<UserManager> | undefined;
/** Resolved with a token whenever one is wanted and there is a signed-in user. */
let waiting: ((token: string) => void)[] = [];
let renewing: Promise<User | null> | null = null;

function set(next: AuthState) {
  state = next;
  for (const l of listeners) l();
}

function accountOf(user: User): Account {
  const profile = user.profile as Record<string, unknown>;
  const email = typeof profile.email === 'string' ? profile.email : null;
  const name = typeof profile.name === 'string' && profile.name ? profile.name : (email ?? user.profile.sub);
  return { sub: user.profile.sub, name, email, role: roleOfToken(user.access_token) };
}

function signedIn(user: User) {
  set({ status: 'signed-in', account: accountOf(user) });
  const ready = waiting;
  waiting = [];
  for (const resolve of ready) resolve(user.access_token);
}

function createManager(config: RuntimeConfig): UserManager {
  const origin = window.location.origin;
  const m = new UserManager({
    authority: config.auth.authority,
    client_id: config.auth.clientId,
    scope: config.auth.scope,
    response_type: 'code',
    redirect_uri: `${origin}${CALLBACK_PATH}`,
    post_logout_redirect_uri: signOutUrl(origin),
    // Renew a minute before expiry with the refresh token (Cognito issues one with every sign-in,
    // the local issuer for offline_access); no hidden iframes, which the CSP forbids anyway.
    automaticSilentRenew: true,
    accessTokenExpiringNotificationTimeInSeconds: 60,
    monitorSession: false,
    loadUserInfo: false,
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
  });
  m.events.addUserLoaded((user) => signedIn(user));
  m.events.addSilentRenewError(() => {
    void m.removeUser();
    set({ status: 'signed-out', reason: 'Your session has ended. Sign in again to go on.' });
  });
  return m;
}

/** The one UserManager, once config.json is read; also reads the session this tab already has. */
function userManager(): Promise<UserManager> {
  manager ??= loadConfig().then(async (config) => {
    const m = createManager(config);
    // The callback page completes the sign-in itself; elsewhere a stored user is picked up.
    if (window.location.pathname !== CALLBACK_PATH) {
      const user = await m.getUser();
      if (user && !user.expired) signedIn(user);
      else if (user?.refresh_token) await renew(m);
      else set({ status: 'signed-out', reason: null });
    }
    return m;
  });
  manager.catch((err: unknown) => {
    manager = undefined;
    set({ status: 'error', message: `Signing in is not possible: ${err instanceof Error ? err.message : String(err)}` });
  });
  return manager;
}

/** One renewal at a time: concurrent callers share it. */
function renew(m: UserManager): Promise<User | null> {
  renewing ??= m
    .signinSilent()
    .then((user) => {
      if (user) signedIn(user);
      return user;
    })
    .catch(async () => {
      await m.removeUser();
      set({ status: 'signed-out', reason: 'Your session has ended. Sign in again to go on.' });
      return null;
    })
    .finally(() => {
      renewing = null;
    });
  return renewing;
}

export const authStore = {
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  },
  get: () => state,
  /** What the server renders: the shell, sign-in still to be known. */
  getServer: (): AuthState => LOADING,
};

/** Reads the session, once, in the browser. */
export function startAuth() {
  userManager().catch(() => undefined);
}

/** A valid access token: at once when signed in, else once the reader has signed in. */
export async function accessToken(): Promise<string> {
  const m = await userManager();
  const user = await m.getUser();
  if (user && !user.expired) return user.access_token;
  if (user?.refresh_token) {
    const renewed = await renew(m);
    if (renewed) return renewed.access_token;
  }
  return new Promise((resolve) => waiting.push(resolve));
}

/**
 * Called when the API refused the token (401): it may have been revoked or signed by a rotated key.
 * One renewal is tried; the token it gives, or null when the reader must sign in again.
 */
export async function refusedToken(token: string): Promise<string | null> {
  const m = await userManager();
  const user = await m.getUser();
  if (user && user.access_token !== token && !user.expired) return user.access_token;
  if (user?.refresh_token) return (await renew(m))?.access_token ?? null;
  await m.removeUser();
  set({ status: 'signed-out', reason: 'Your session has ended. Sign in again to go on.' });
  return null;
}

/** Off to the issuer's sign-in page; back at `returnTo` (this page by default) afterwards. */
export async function signIn(returnTo = window.location.pathname + window.location.search) {
  const m = await userManager();
  await m.signinRedirect({ state: { returnTo } });
}

/**
 * Completes the sign-in on the callback page; where to go next. A customer sent back to a page
 * that is not theirs (the overview) lands on their orders.
 */
let completing: Promise<string> | undefined;
export function completeSignIn(): Promise<string> {
  completing ??= userManager().then(async (m) => {
    const user = await m.signinRedirectCallback();
    signedIn(user);
    const returnTo = (user.state as { returnTo?: unknown } | undefined)?.returnTo;
    const role = roleOfToken(user.access_token);
    const path = typeof returnTo === 'string' && returnTo.startsWith('/') && !returnTo.startsWith('//') ? returnTo : homeOf(role);
    return path === '/' ? homeOf(role) : path;
  });
  return completing;
}

/**
 * Ends the session here and at the issuer: its end_session_endpoint when discovery names one (the
 * local issuer), else the logout URL config.json gives (Cognito's /logout), then back to the overview.
 */
export async function signOut() {
  const [m, config] = await Promise.all([userManager(), loadConfig()]);
  if (config.auth.logoutUrl) {
    await m.removeUser();
    window.location.assign(config.auth.logoutUrl);
    return;
  }
  await m.signoutRedirect();
}
