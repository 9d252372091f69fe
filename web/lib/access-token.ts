/**
 * The access token the dashboard sends: `Authorization: Bearer` on the HTTP API, `?token=` on the
 * WebSocket (browsers cannot set headers on one). Read from sessionStorage under this key, where
 * whatever signs the user in puts it.
 */
export const ACCESS_TOKEN_KEY = 'eventflow.accessToken';

// Typed without the DOM library: the browser tests (compiled without it) import the key.
type SessionStore = { getItem(key: string): string | null };

export function accessToken(): string | null {
  try {
    const storage = (globalThis as { sessionStorage?: SessionStore }).sessionStorage;
    return storage ? storage.getItem(ACCESS_TOKEN_KEY) : null;
  } catch {
    return null; // storage disabled
  }
}

export function authorizationHeader(): Record<string, string> {
  const token = accessToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The WebSocket URL with the token as its `token` query parameter. */
export function withToken(wsUrl: string): string {
  const token = accessToken();
  if (!token) return wsUrl;
  const u = new URL(wsUrl);
  u.searchParams.set('token', token);
  return u.toString();
}
