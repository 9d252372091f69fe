/**
 * How the exported dashboard is served, in one place: CloudFront applies these rules on AWS
 * (lib/web.ts) and `npm run dev`'s web server applies the very same ones (local/web-server.ts), so
 * the site behaves alike in both. No CDK import here: the local server reads this module too.
 */
import type { AuthConfig } from '../shared/auth/dashboard-client';

/**
 * The viewer-request function (CloudFront Functions, JavaScript runtime 2.0). A static export with
 * trailing slashes stores /orders/ as /orders/index.html and S3 has no index documents behind OAC:
 * /x/ is mapped to /x/index.html, and /x (no extension) is redirected to /x/ with its query kept.
 * Query values are passed on as received (still percent-encoded), as CloudFront hands them over.
 */
export const VIEWER_REQUEST_FUNCTION = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
    return request;
  }
  var name = uri.substring(uri.lastIndexOf('/') + 1);
  if (name.indexOf('.') !== -1) return request;
  var pairs = [];
  for (var key in request.querystring) {
    var param = request.querystring[key];
    var values = param.multiValue ? param.multiValue : [param];
    for (var i = 0; i < values.length; i++) pairs.push(values[i].value === '' ? key : key + '=' + values[i].value);
  }
  return {
    statusCode: 301,
    statusDescription: 'Moved Permanently',
    headers: { location: { value: uri + '/' + (pairs.length ? '?' + pairs.join('&') : '') } },
  };
}`;

/** The page CloudFront answers, with status 404, for a key S3 does not have (403 under OAC) or 404. */
export const NOT_FOUND_PAGE = '/404.html';

/** What the dashboard fetches at start to find the APIs; never cached. */
export const RUNTIME_CONFIG = 'config.json';

/** Build output whose names carry a content hash: cached for good. */
export const IMMUTABLE_PATH = '/_next/static/';
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';
/**
 * Everything else (HTML, the RSC segment files, config.json) keeps its name across deploys:
 * revalidated on every use, so a deploy never strands a browser on chunks that are gone.
 */
export const REVALIDATE_CACHE_CONTROL = 'no-cache';

export function cacheControlFor(uri: string): string {
  return uri.startsWith(IMMUTABLE_PATH) ? IMMUTABLE_CACHE_CONTROL : REVALIDATE_CACHE_CONTROL;
}

/** What config.json tells the dashboard: where the APIs are and how to sign in. */
export interface RuntimeConfig {
  apiUrl: string;
  wsUrl: string;
  auth: AuthConfig;
}

/** Where the dashboard's scripts may connect besides the site itself. */
export interface ConnectSources {
  apiUrl: string;
  wsUrl: string;
  /** Origins of the issuer's endpoints the browser calls (discovery, token, revocation, user info). */
  signIn: string[];
}

/**
 * The Content-Security-Policy the dashboard works under. Scripts and styles come from the site
 * itself; 'unsafe-inline' is needed because a static export inlines its React Server Component
 * payload in <script> tags that differ per page and per build (no nonce is possible without a
 * server, and per-page hashes exceed CloudFront's header size). The page may talk to the site, the
 * two APIs and the issuer only, and may not be framed. Signing in and out are top-level
 * navigations, which connect-src does not govern.
 */
export function contentSecurityPolicy(connect: ConnectSources): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${[connect.apiUrl, connect.wsUrl, ...connect.signIn].join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; ');
}

/** HSTS: two years, subdomains included (sent over HTTPS only; the local server speaks plain HTTP). */
export const HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 60 * 60;

/** Headers every response carries, besides the CSP and HSTS. */
export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
} as const;
