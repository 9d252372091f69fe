/**
 * How the dashboard signs in, in one place: the CDK app registers these URLs and scopes with
 * Cognito, the local web server writes them into config.json, the dashboard uses them. Pure data;
 * imported by web/ as well, so nothing heavy here.
 */

/** The static page that completes the authorization code flow. */
export const CALLBACK_PATH = '/auth/callback/';

/**
 * Scopes the dashboard asks for. Cognito issues a refresh token with every code exchange and
 * refuses scopes it does not know (offline_access among them); an OpenID Connect provider such as
 * the local issuer issues one only for `offline_access`.
 */
export const SIGN_IN_SCOPES = {
  cognito: ['openid', 'email', 'profile'],
  oidc: ['openid', 'email', 'profile', 'offline_access'],
} as const;

/** What config.json says about signing in. */
export interface AuthConfig {
  /** The issuer: its /.well-known/openid-configuration describes the endpoints. */
  authority: string;
  clientId: string;
  scope: string;
  /** Where sign-out goes when the discovery document names no end_session_endpoint (Cognito). */
  logoutUrl?: string;
}

const withoutSlash = (origin: string) => origin.replace(/\/+$/, '');

export function callbackUrl(siteOrigin: string): string {
  return `${withoutSlash(siteOrigin)}${CALLBACK_PATH}`;
}

/** Where the issuer sends the browser back after sign-out: the overview. */
export function signOutUrl(siteOrigin: string): string {
  return `${withoutSlash(siteOrigin)}/`;
}
