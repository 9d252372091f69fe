/**
 * The dashboard for `npm run dev`: serves the static export (web/out) with CloudFront's rules, the
 * very viewer-request function and headers of lib/web-site.ts, plus a config.json naming this
 * runtime's APIs and the local issuer. So what a developer sees here is what the deployed site does.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  NOT_FOUND_PAGE,
  RUNTIME_CONFIG,
  SECURITY_HEADERS,
  VIEWER_REQUEST_FUNCTION,
  cacheControlFor,
  contentSecurityPolicy,
  type RuntimeConfig,
} from '../lib/web-site';
import type { AuthConfig } from '../shared/auth/dashboard-client';
import { WEB_OUT, ensureWebExport } from '../scripts/build-web';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

type ViewerRequest = { uri: string; method: string; querystring: Record<string, { value: string; multiValue?: { value: string }[] }> };
type ViewerResult = ViewerRequest | { statusCode: number; headers: Record<string, { value: string }> };

// The CloudFront function itself, run as CloudFront runs it: one source of routing truth.
const viewerRequest = new Function(`${VIEWER_REQUEST_FUNCTION}\nreturn handler;`)() as (event: { request: ViewerRequest }) => ViewerResult;

/** CloudFront's event form of a query string: values as received, repeated keys in multiValue. */
function querystringOf(raw: string): ViewerRequest['querystring'] {
  const qs: ViewerRequest['querystring'] = {};
  for (const pair of raw.split('&').filter(Boolean)) {
    const at = pair.indexOf('=');
    const key = at < 0 ? pair : pair.slice(0, at);
    const value = at < 0 ? '' : pair.slice(at + 1);
    const existing = qs[key];
    if (!existing) qs[key] = { value };
    else existing.multiValue = [...(existing.multiValue ?? [{ value: existing.value }]), { value }];
  }
  return qs;
}

export interface WebServerOptions {
  host: string;
  port: number;
  /** The runtime's APIs, written into config.json. */
  apiUrl: string;
  wsUrl: string;
  /** How the dashboard signs in (config.json's `auth`): the local issuer. */
  auth: AuthConfig;
  /** The export folder (web/out by default). */
  root?: string;
  log?: (line: string) => void;
}

/** An API URL as this browser must use it: a wildcard listen address is reached on the host the page came from. */
function reachable(url: string, requestHost: string | undefined): string {
  const u = new URL(url);
  if (!['0.0.0.0', '[::]', '::'].includes(u.hostname) || !requestHost) return url.replace(/\/$/, '');
  u.hostname = new URL(`http://${requestHost}`).hostname;
  return u.toString().replace(/\/$/, '');
}

export async function startWebServer(opts: WebServerOptions) {
  const root = path.resolve(opts.root ?? WEB_OUT);

  async function sendFile(req: http.IncomingMessage, res: http.ServerResponse, uri: string, status: number, headers: Record<string, string>) {
    let file: string;
    try {
      file = path.join(root, decodeURIComponent(uri));
    } catch {
      return false; // malformed percent-encoding: no such key
    }
    if (!file.startsWith(root + path.sep)) return false;
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) return false;
    const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    const common = { ...headers, etag, 'cache-control': cacheControlFor(uri) };
    if (status === 200 && req.headers['if-none-match'] === etag) {
      res.writeHead(304, common).end();
      return true;
    }
    res.writeHead(status, { ...common, 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': info.size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
    return true;
  }

  const server = http.createServer(async (req, res) => {
    try {
      const apis = { apiUrl: reachable(opts.apiUrl, req.headers.host), wsUrl: reachable(opts.wsUrl, req.headers.host) };
      const auth = { ...opts.auth, authority: reachable(opts.auth.authority, req.headers.host) };
      const headers: Record<string, string> = {
        ...SECURITY_HEADERS,
        'content-security-policy': contentSecurityPolicy({ ...apis, signIn: [new URL(auth.authority).origin] }),
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end();
        return;
      }
      const raw = req.url ?? '/';
      const q = raw.indexOf('?');
      const result = viewerRequest({
        request: { uri: q < 0 ? raw : raw.slice(0, q), method: req.method, querystring: querystringOf(q < 0 ? '' : raw.slice(q + 1)) },
      });
      if ('statusCode' in result) {
        const out: Record<string, string> = { ...headers };
        for (const [name, h] of Object.entries(result.headers)) out[name] = h.value;
        res.writeHead(result.statusCode, out).end();
        return;
      }
      if (result.uri === `/${RUNTIME_CONFIG}`) {
        const body = JSON.stringify({ ...apis, auth } satisfies RuntimeConfig);
        res.writeHead(200, { ...headers, 'content-type': 'application/json', 'cache-control': cacheControlFor(result.uri) });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      if (await sendFile(req, res, result.uri, 200, headers)) return;
      // What S3 has not got: CloudFront's custom error response, the 404 page with status 404.
      if (!(await sendFile(req, res, NOT_FOUND_PAGE, 404, headers))) res.writeHead(404, headers).end('Not Found');
    } catch (err) {
      opts.log?.(`web server error: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) res.writeHead(500).end();
    }
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * `npm run dev`'s dashboard on WEB_PORT (3000; "off" for none): `prepareDashboard` starts building
 * web/out, if missing or stale, while the back end starts; `startDashboard` serves it once built.
 */
export function prepareDashboard(log: (line: string) => void): Promise<unknown> | null {
  if (process.env.WEB_PORT === 'off') return null;
  const built = ensureWebExport({ log });
  built.catch(() => undefined); // awaited, and reported, by startDashboard
  return built;
}

export async function startDashboard(built: Promise<unknown> | null, opts: Omit<WebServerOptions, 'port'>) {
  if (!built) return null;
  await built;
  return startWebServer({ ...opts, port: Number(process.env.WEB_PORT ?? 3000) });
}
