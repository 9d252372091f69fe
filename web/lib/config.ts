/**
 * Where the APIs are and how to sign in, read at start from /config.json: one build serves every
 * environment (`npm run dev` serves its own config.json naming the local issuer; on AWS the web
 * stack writes it at deploy time, naming the Cognito user pool).
 */
import type { AuthConfig } from '../../shared/auth/dashboard-client';

export interface RuntimeConfig {
  apiUrl: string;
  wsUrl: string;
  auth: AuthConfig;
}

export type ConfigState =
  | { status: 'loading' }
  | { status: 'ready'; config: RuntimeConfig }
  | { status: 'error'; message: string };

const LOADING: ConfigState = { status: 'loading' };
let state: ConfigState = LOADING;
let loading: Promise<RuntimeConfig> | undefined;
const listeners = new Set<() => void>();

function set(next: ConfigState) {
  state = next;
  for (const l of listeners) l();
}

export function parseConfig(json: unknown): RuntimeConfig {
  const c = json as Partial<RuntimeConfig> | null;
  const url = (v: unknown, schemes: string[]) => {
    if (typeof v !== 'string') return null;
    try {
      const u = new URL(v);
      return schemes.includes(u.protocol) ? v.replace(/\/+$/, '') : null;
    } catch {
      return null;
    }
  };
  const apiUrl = url(c?.apiUrl, ['http:', 'https:']);
  const wsUrl = url(c?.wsUrl, ['ws:', 'wss:']);
  if (!apiUrl || !wsUrl) throw new Error('config.json must name an http(s) apiUrl and a ws(s) wsUrl');
  const a = (c?.auth ?? null) as Partial<AuthConfig> | null;
  const authority = url(a?.authority, ['http:', 'https:']);
  // Kept exactly as written: its logout_uri must match the one registered with the issuer.
  const logoutUrl = a?.logoutUrl === undefined ? undefined : url(a.logoutUrl, ['http:', 'https:']) && a.logoutUrl;
  if (!authority || typeof a?.clientId !== 'string' || !a.clientId || typeof a.scope !== 'string' || !a.scope.split(' ').includes('openid') || logoutUrl === null) {
    throw new Error('config.json must name the sign-in issuer: auth.authority (http(s)), auth.clientId, auth.scope (with openid) and optionally auth.logoutUrl');
  }
  return { apiUrl, wsUrl, auth: { authority, clientId: a.clientId, scope: a.scope, ...(logoutUrl ? { logoutUrl } : {}) } };
}

/** Fetches config.json once (never from a cache: a redeploy that moves an API is seen at once). */
export function loadConfig(): Promise<RuntimeConfig> {
  loading ??= fetch('/config.json', { cache: 'no-store' })
    .then(async (res) => {
      if (!res.ok) throw new Error(`config.json answered ${res.status}`);
      return parseConfig(await res.json());
    })
    .then(
      (config) => {
        set({ status: 'ready', config });
        return config;
      },
      (err: unknown) => {
        loading = undefined;
        set({ status: 'error', message: `The dashboard could not read its configuration: ${err instanceof Error ? err.message : String(err)}` });
        throw err;
      },
    );
  return loading;
}

export const configStore = {
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  get: () => state,
  /** What the server renders: the shell, with the config still to come. */
  getServer: (): ConfigState => LOADING,
};
