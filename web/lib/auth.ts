/**
 * Signing in with the issuer config.json names (the local issuer, or a Cognito user pool) through
 * oidc-client-ts: authorization code with PKCE, back to /auth/callback/. The session is kept per
 * tab (sessionStorage) and renewed with the refresh token before the access token expires; when
 * renewal fails (the refresh token ran out or was revoked) the reader is signed out and asked to
 * sign in again. Every API call and the socket take their token from here.
 */
import type { UserManager } from 'oidc-client-ts';
import { CALLBACK_PATH, signOutUrl } from '../../shared/auth/dashboard-client';
import type { Role } from '../../shared/auth/principal';
import { homeOf, roleOfToken } from './access';
import { loadConfig, type RuntimeConfig } from './config';
import { reportIfStale } from './new-version';

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

/** What oidc-client-ts stores per tab (its User, as JSON): all a page needs while the token is valid. */
interface StoredUser {
  access_token: string;
  refresh_token?: string;
  /** Seconds since the epoch. */
  expires_at?: number;
  profile: { sub: string; email?: unknown; name?: unknown };
}

const ENDED = 'Your session has ended. Sign in again to go on.';
/** Renewal starts this long before the access token expires. */
const RENEW_BEFORE_MS = 60_000;

const LOADING: AuthState = { status: 'loading' };
let state: AuthState = LOADING;
const listeners = new Set<() => void>();
let session: Promise<void> | undefined;
let manager: Promise<UserManager> | undefined;
/** Resolved with a token whenever one is wanted and there is a signed-in user. */
let waiting: ((token: string) => void)[] = [];
let renewing: Promise<string | null> | null = null;
let renewTimer: ReturnType<typeof setTimeout> | null = null;

function set(next: AuthState) {
  state = next;
  for (const l of listeners) l();
}

/** oidc-client-ts's key for the user of this issuer and client. */
const storageKey = (config: RuntimeConfig) => `oidc.user:${config.auth.authority}:${config.auth.clientId}`;

function storedUser(config: RuntimeConfig): StoredUser | null {
  try {
    const raw = window.sessionStorage.getItem(storageKey(config));
    const user = raw ? (JSON.parse(raw) as StoredUser) : null;
    return user && typeof user.access_token === 'string' && typeof user.profile?.sub === 'string' ? user : null;
  } catch {
    return null;
  }
}

/** The user's access token while it is valid, else null. */
const validToken = (user: StoredUser | null): string | null =>
  user && (user.expires_at === undefined || user.expires_at * 1000 > Date.now()) ? user.access_token : null;

function accountOf(user: StoredUser): Account {
  const { profile } = user;
  const email = typeof profile.email === 'string' ? profile.email : null;
  const name = typeof profile.name === 'string' && profile.name ? profile.name : (email ?? profile.sub);
  return { sub: profile.sub, name, email, role: roleOfToken(user.access_token) };
}

function signedIn(user: StoredUser) {
  set({ status: 'signed-in', account: accountOf(user) });
  const ready = waiting;
  waiting = [];
  for (const resolve of ready) resolve(user.access_token);
  // Renewed a minute before it expires, with the refresh token.
  if (renewTimer) clearTimeout(renewTimer);
  renewTimer = null;
  if (user.expires_at !== undefined && user.refresh_token) {
    renewTimer = setTimeout(() => void renew(), Math.max(0, user.expires_at * 1000 - Date.now() - RENEW_BEFORE_MS));
  }
}

async function signedOut(reason: string | null) {
  if (renewTimer) clearTimeout(renewTimer);
  renewTimer = null;
  const config = await loadConfig();
  window.sessionStorage.removeItem(storageKey(config));
  set({ status: 'signed-out', reason });
}

/**
 * oidc-client-ts, loaded only to sign in, renew or sign out: a page whose token is still valid
 * reads it from sessionStorage and never loads the library (about 18 KiB gzipped).
 */
function userManager(): Promise<UserManager> {
  manager ??= Promise.all([loadConfig(), import('oidc-client-ts')]).then(([config, oidc]) => {
    const origin = window.location.origin;
    return new oidc.UserManager({
      authority: config.auth.authority,
      client_id: config.auth.clientId,
      scope: config.auth.scope,
      response_type: 'code',
      redirect_uri: `${origin}${CALLBACK_PATH}`,
      post_logout_redirect_uri: signOutUrl(origin),
      // Renewal is this module's (above), with the refresh token Cognito issues with every sign-in and
      // the local issuer for offline_access; no hidden iframes, which the CSP forbids anyway.
      automaticSilentRenew: false,
      monitorSession: false,
      loadUserInfo: false,
      userStore: new oidc.WebStorageStateStore({ store: window.sessionStorage }),
    });
  });
  manager.catch((err: unknown) => {
    manager = undefined;
    reportIfStale(err);
  });
  return manager;
}

/** One renewal at a time: concurrent callers share it. The new access token, or null when the reader must sign in again. */
function renew(): Promise<string | null> {
  renewing ??= userManager()
    .then((m) => m.signinSilent())
    .then((user) => {
      if (!user) throw new Error('no user after renewal');
      signedIn(user);
      return user.access_token;
    })
    .catch(async () => {
      await signedOut(ENDED);
      return null;
    })
    .finally(() => {
      renewing = null;
    });
  return renewing;
}

/** Reads this tab's session once: signed in, renewed, or signed out. */
function startSession(): Promise<void> {
  session ??= loadConfig().then(async (config) => {
    // The callback page completes the sign-in itself.
    if (window.location.pathname === CALLBACK_PATH) return;
    const user = storedUser(config);
    if (user && validToken(user)) signedIn(user);
    else if (user?.refresh_token) await renew();
    else set({ status: 'signed-out', reason: null });
  });
  session.catch((err: unknown) => {
    session = undefined;
    set({ status: 'error', message: `Signing in is not possible: ${err instanceof Error ? err.message : String(err)}` });
  });
  return session;
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
  startSession().catch(() => undefined);
}

/** A valid access token: at once when signed in, else once the reader has signed in. */
export async function accessToken(): Promise<string> {
  await startSession();
  const user = storedUser(await loadConfig());
  const token = validToken(user);
  if (token) return token;
  if (user?.refresh_token) {
    const renewed = await renew();
    if (renewed) return renewed;
  }
  return new Promise((resolve) => waiting.push(resolve));
}

/**
 * Called when the API refused the token (401): it may have been revoked or signed by a rotated key.
 * One renewal is tried; the token it gives, or null when the reader must sign in again.
 */
export async function refusedToken(token: string): Promise<string | null> {
  const user = storedUser(await loadConfig());
  const current = validToken(user);
  if (current && current !== token) return current;
  if (user?.refresh_token) return renew();
  await signedOut(ENDED);
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
  const config = await loadConfig();
  if (config.auth.logoutUrl) {
    await signedOut(null);
    window.location.assign(config.auth.logoutUrl);
    return;
  }
  const m = await userManager();
  if (renewTimer) clearTimeout(renewTimer);
  await m.signoutRedirect();
}
