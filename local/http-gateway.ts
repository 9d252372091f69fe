import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { FUNCTIONS, HTTP_API_CORS, ROUTE_ACCESS } from '../functions/catalog';
import type { FunctionSpec, RouteKey } from '../functions/catalog';
import { flattenClaims } from '../shared/auth/principal';
import { AuthError, bearerToken } from '../shared/auth/verify';
import type { JWTPayload } from 'jose';
import { HttpProblem } from '../shared/http/problem';
import { InvocationAbandoned, InvocationThrottled, LOCAL_THROTTLE_WAIT_MS, invoke } from './lambda';
import { routeBuckets, routeThrottlingOn } from './route-throttle';
import { throttleOf } from '../functions/catalog';

interface Route {
  spec: FunctionSpec;
  routeKey: string;
  method: string;
  pattern: RegExp;
  params: string[];
}

/** Compiles the catalog's route keys ("GET /orders/{id}") into matchers. */
export function compileRoutes(functions: FunctionSpec[] = FUNCTIONS): Route[] {
  return functions.flatMap((spec) =>
    spec.trigger.kind !== 'http'
      ? []
      : spec.trigger.routes.map((routeKey) => {
          const [method, template] = routeKey.split(' ') as [string, string];
          const params: string[] = [];
          const source = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
            params.push(name);
            return '([^/]+)';
          });
          return { spec, routeKey, method, pattern: new RegExp(`^${source}$`), params };
        }),
  );
}

/** A path segment percent-decoded; one that is not valid percent-encoding is passed as it came, for the handler to refuse. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function matchRoute(routes: Route[], method: string, path: string) {
  for (const route of routes) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(path);
    if (m) return { route, pathParameters: Object.fromEntries(route.params.map((p, i) => [p, decodePathSegment(m[i + 1]!)])) };
  }
  return null;
}

/** Builds the API Gateway HTTP API payload 2.0 event for a request. */
export function toHttpApiEvent(
  req: http.IncomingMessage,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string>,
  /** The JWT authorizer's claims, each a string as API Gateway passes them. */
  claims?: Record<string, string>,
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && name !== 'cookie') headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const now = new Date();
  const textual = /json|text|xml|form-urlencoded/i.test(headers['content-type'] ?? '') || body.length === 0;
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    cookies: req.headers.cookie?.split(';').map((c) => c.trim()),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: Object.keys(pathParameters).length ? pathParameters : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      ...(claims ? { authorizer: { jwt: { claims, scopes: null } } } : {}),
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length ? (textual ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: body.length > 0 && !textual,
  };
}

function corsHeaders(req: http.IncomingMessage): Record<string, string> {
  if (!req.headers.origin) return {};
  return {
    'access-control-allow-origin': HTTP_API_CORS.allowOrigins.includes('*') ? '*' : req.headers.origin,
    'access-control-expose-headers': HTTP_API_CORS.exposeHeaders.join(','),
  };
}

/** Writes a Lambda result the way API Gateway does, including its inference for non-structured results. */
function writeResult(res: http.ServerResponse, result: unknown, extra: Record<string, string>) {
  const structured =
    result && typeof result === 'object' && 'statusCode' in result
      ? (result as APIGatewayProxyStructuredResultV2)
      : { statusCode: 200, headers: { 'content-type': 'application/json' }, body: typeof result === 'string' ? result : JSON.stringify(result) };
  const headers: http.OutgoingHttpHeaders = { ...extra };
  for (const [k, v] of Object.entries(structured.headers ?? {})) headers[k] = String(v);
  if (structured.cookies?.length) headers['set-cookie'] = structured.cookies;
  const body = structured.body ? Buffer.from(structured.body, structured.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  res.writeHead(structured.statusCode ?? 200, headers).end(body);
}

const MAX_BODY = 10 * 1024 * 1024; // API Gateway's payload limit

/** Verifies a token's signature, issuer, audience and expiry, returning its claims (shared/auth/verify.ts). */
export type ClaimsVerifier = (token: string | undefined) => Promise<JWTPayload>;

/** Writes a problem+json answer of the gateway's own, with the headers the problem calls for. */
function writeProblem(res: http.ServerResponse, problem: HttpProblem, path: string, headers: Record<string, string>, members: Record<string, unknown> = {}) {
  res.writeHead(problem.status, { 'content-type': 'application/problem+json', ...problem.headers, ...headers }).end(JSON.stringify({ ...problem.toBody(path), ...members }));
}

/**
 * A refusal by the JWT authorizer, before any handler. API Gateway's own body is
 * {"message":"Unauthorized"}; this one is problem+json and keeps that member, so a client reading
 * either works against both.
 */
function unauthorized(res: http.ServerResponse, cors: Record<string, string>, err: AuthError, path: string) {
  const description = err.reason === 'expired-token' ? 'the token has expired' : err.reason === 'missing-token' ? 'no bearer token' : 'the token is not valid';
  const challenge = `Bearer${err.reason === 'missing-token' ? '' : ` error="invalid_token", error_description="${description}"`}`;
  writeProblem(res, new HttpProblem(401, 'Unauthorized', description, undefined, 'unauthorized'), path, { 'www-authenticate': challenge, ...cors }, { message: 'Unauthorized' });
}

/**
 * Every environment of the route's function stayed busy past the bound: refused, never run. On AWS
 * a throttled Lambda behind an HTTP API comes back as a 5xx from API Gateway too; either way a
 * client retries after a while (docs/decisions.md).
 */
const throttled = (routeKey: string) =>
  new HttpProblem(503, 'Service Unavailable', `the function behind ${routeKey} is at its concurrency limit; the request was not run, retry it after a second`, undefined, 'throttled', {
    'retry-after': '1',
  });

/** At most one line about throttled requests this often: under overload there is one per request. */
const THROTTLE_LOG_EVERY_MS = 10_000;

/** An HTTP server that plays API Gateway's HTTP API in front of the catalog's handlers. */
export async function startHttpGateway(opts: {
  host: string;
  port: number;
  /** The JWT authorizer on every non-public route of the catalog. */
  verifyClaims: ClaimsVerifier;
  /** How long a request waits for an environment of its function before it is throttled (503). */
  throttleWaitMs?: number;
  /** The functions whose routes it serves: the catalog's. */
  functions?: FunctionSpec[];
  /** Plays API Gateway's per-route throttling with the catalog's budgets (default: unless LOCAL_ROUTE_THROTTLING=off). */
  routeThrottling?: boolean;
  onError: (err: unknown) => void;
  log?: (line: string) => void;
  /** Told of every request refused for capacity (503, never run) or by a rate limit (the handler's 429): the console counts them. */
  onRefused?: (why: 'throttled' | 'rate-limited') => void;
}) {
  const routes = compileRoutes(opts.functions);
  const buckets = opts.routeThrottling ?? routeThrottlingOn() ? routeBuckets((key) => throttleOf(key as RouteKey)) : undefined;
  const maxWaitMs = opts.throttleWaitMs ?? LOCAL_THROTTLE_WAIT_MS;
  const throttles = { count: 0, functions: new Set<string>(), loggedAt: 0 };
  const noteThrottled = (functionId: string) => {
    throttles.count++;
    throttles.functions.add(functionId);
    opts.onRefused?.('throttled');
    const now = Date.now();
    if (now - throttles.loggedAt < THROTTLE_LOG_EVERY_MS) return;
    opts.log?.(`${throttles.count} HTTP request(s) throttled (${[...throttles.functions].join(', ')}: every environment busy for ${maxWaitMs} ms)${throttles.loggedAt ? ' since the last such line' : ''}`);
    Object.assign(throttles, { count: 0, functions: new Set<string>(), loggedAt: now });
  };
  const server = http.createServer(async (req, res) => {
    const cors = corsHeaders(req);
    try {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const method = req.method ?? 'GET';
      if (method === 'OPTIONS' && req.headers['access-control-request-method']) {
        res
          .writeHead(204, {
            ...cors,
            'access-control-allow-methods': HTTP_API_CORS.allowMethods.join(','),
            'access-control-allow-headers': HTTP_API_CORS.allowHeaders.join(','),
            'access-control-max-age': String(HTTP_API_CORS.maxAgeSeconds),
          })
          .end();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY) {
          res.writeHead(413, { 'content-type': 'application/json', ...cors }).end('{"message":"Request Entity Too Large"}');
          return;
        }
        chunks.push(chunk as Buffer);
      }
      const match = matchRoute(routes, method, path);
      if (!match) {
        res.writeHead(404, { 'content-type': 'application/json', ...cors }).end('{"message":"Not Found"}');
        return;
      }
      // The route's budget, all callers together, before any authorizer or function: API Gateway's answer.
      if (buckets && !buckets.take(match.route.routeKey)) {
        res.writeHead(429, { 'content-type': 'application/json', ...cors }).end('{"message":"Too Many Requests"}');
        return;
      }
      let claims: Record<string, string> | undefined;
      if (ROUTE_ACCESS[match.route.routeKey as RouteKey] !== 'public') {
        try {
          claims = flattenClaims(await opts.verifyClaims(bearerToken(req.headers.authorization)));
        } catch (err) {
          if (!(err instanceof AuthError) || err.reason === 'unavailable') throw err;
          unauthorized(res, cors, err, path);
          return;
        }
      }
      const event = toHttpApiEvent(req, Buffer.concat(chunks), match.route.routeKey, match.pathParameters, claims);
      // A client that hangs up while its request waits for an environment: the request is dropped.
      const clientGone = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) clientGone.abort();
      });
      let result: unknown;
      try {
        result = await invoke(match.route.spec, event, { signal: clientGone.signal, maxWaitMs });
      } catch (err) {
        if (!(err instanceof InvocationThrottled)) throw err;
        noteThrottled(err.functionId);
        writeProblem(res, throttled(match.route.routeKey), path, cors);
        return;
      }
      writeResult(res, result, { ...cors, 'apigw-requestid': event.requestContext.requestId });
      if ((result as { statusCode?: unknown } | null)?.statusCode === 429) opts.onRefused?.('rate-limited');
    } catch (err) {
      if (err instanceof InvocationAbandoned) return;
      opts.onError(err);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json', ...cors }).end('{"message":"Internal Server Error"}');
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
        server.closeIdleConnections();
      }),
  };
}
