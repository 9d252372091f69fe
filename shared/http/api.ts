import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Cause } from '../events/envelope';
import { isTransient } from '../messaging/errors';
import { brokerBlocked } from '../messaging/broker';
import { annotateCorrelation, observe } from '../observability';
import { HttpProblem, badRequest } from './problem';
import { assertStorableText, bodyText } from './input';
import { unknownQueryParams } from './query-params';
import { createRateLimiter } from './rate-limiter';
import { readRateLimits } from './rate-limits';
import { authorizeRoute } from './authorize';
import { principalOfEvent } from '../auth/access';
import type { RouteAccess } from '../auth/access';
import type { Principal } from '../auth/principal';

export interface HttpRequest {
  routeKey: string;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  body: unknown;
  requestId: string;
  correlationId: string;
  /** The caller (from the JWT authorizer's claims); null on public routes called without a token. */
  principal: Principal | null;
  /** Where the request came from: API Gateway's source address (the TCP peer; clients cannot set it). */
  sourceIp: string | null;
}

export interface HttpResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type RouteHandler = (req: HttpRequest) => Promise<HttpResult>;

const JSON_TYPE = /^application\/([a-z.+-]*\+)?json(\s*;.*)?$/i;
const CORRELATION = /^[A-Za-z0-9._:-]{1,100}$/;

function parseBody(event: APIGatewayProxyEventV2): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const contentType = event.headers?.['content-type'] ?? '';
  if (!JSON_TYPE.test(contentType)) {
    throw new HttpProblem(415, 'Unsupported Media Type', 'the request body must be application/json', undefined, 'unsupported-media-type');
  }
  const text = bodyText(event.body, Boolean(event.isBase64Encoded));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest('the request body is not valid JSON', [{ pointer: '', detail: 'malformed JSON' }]);
  }
  assertStorableText(body, 'the request body');
  return body;
}

/** Path parameters and query string, refused when they hold text that may not be stored or a parameter the route does not take. */
function screenedParts(event: APIGatewayProxyEventV2, queryParams: readonly string[]) {
  const params = (event.pathParameters ?? {}) as Record<string, string>;
  const query = event.queryStringParameters ?? {};
  assertStorableText(params, 'the path');
  assertStorableText(query, 'the query');
  const unknown = unknownQueryParams(queryParams, query);
  if (unknown.length) throw badRequest(`the query is invalid: ${unknown.map((e) => e.detail).join('; ')}`, unknown);
  return { params, query };
}

function respond(status: number, body: unknown, headers: Record<string, string>, contentType = 'application/json') {
  return {
    statusCode: status,
    headers: { 'content-type': contentType, ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  } satisfies APIGatewayProxyStructuredResultV2;
}

/** What the API knows of each route besides its handler: who may call it and the query parameters it takes. */
export interface RouteRules {
  access(routeKey: string): RouteAccess | undefined;
  queryParams(routeKey: string): readonly string[];
}

/** What a client is told to wait before trying a command again while the broker blocks publishers. */
export const BROKER_BLOCKED_RETRY_AFTER_SECONDS = 5;

/**
 * A command (anything but GET) while the broker blocks this environment's publishes (a memory or
 * disk alarm): refused with 503 and Retry-After before it changes anything. Taken, it would
 * commit, wait in the outbox and not settle until the alarm clears, while the backlog grows on the
 * broker that is short of memory or disk; refused, the client knows at once and tries again later.
 */
function refuseWhileBrokerBlocked(routeKey: string): void {
  if (routeKey.startsWith('GET ')) return;
  const reason = brokerBlocked();
  if (reason === null) return;
  throw new HttpProblem(503, 'Service Unavailable', `the message broker is blocking publishers (${reason}); retry shortly`, undefined, 'broker-blocked', {
    'retry-after': String(BROKER_BLOCKED_RETRY_AFTER_SECONDS),
  });
}

/**
 * A Lambda handler for an API Gateway HTTP API (payload 2.0) that serves several routes of one
 * service, dispatched on event.routeKey. Errors become RFC 9457 problem+json: HttpProblem as given,
 * an unreachable dependency as 503, anything else as 500 (logged, detail withheld).
 * On Lambda, a function missing its configuration fails here, at cold start.
 */
export function createHttpApi(opts: { logger: Logger; routes: Record<string, RouteHandler>; rules: RouteRules }) {
  const { logger, routes, rules } = opts;
  // Read at cold start: an invalid limit fails it rather than the first request.
  const rateLimit = createRateLimiter(readRateLimits(), logger);
  const core = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const requestId = event.requestContext?.requestId ?? 'unknown';
    const supplied = event.headers?.['x-correlation-id'];
    const correlationId = supplied && CORRELATION.test(supplied) ? supplied : requestId;
    logger.appendKeys({ correlationId, routeKey: event.routeKey });
    annotateCorrelation([correlationId]);
    const headers = { 'x-correlation-id': correlationId };
    try {
      const route = routes[event.routeKey];
      if (!route) throw new HttpProblem(404, 'Not Found', `no route ${event.routeKey}`);
      // Counted before anything is parsed: refused requests are abuse too.
      await rateLimit({ routeKey: event.routeKey, sub: principalOfEvent(event)?.sub, sourceIp: event.requestContext?.http?.sourceIp });
      const principal = authorizeRoute(event, rules.access(event.routeKey));
      refuseWhileBrokerBlocked(event.routeKey);
      const { params, query } = screenedParts(event, rules.queryParams(event.routeKey));
      const result = await route({
        routeKey: event.routeKey,
        params,
        query,
        headers: event.headers ?? {},
        body: parseBody(event),
        requestId,
        correlationId,
        principal,
        sourceIp: event.requestContext?.http?.sourceIp ?? null,
      });
      return respond(result.status, result.body, { ...headers, ...result.headers });
    } catch (err) {
      const instance = event.rawPath;
      if (err instanceof HttpProblem) {
        if (err.status >= 500) logger.error('request failed', { error: err });
        // A refused command changed nothing, so the audit trail (which records changes, in their
        // transactions) has no entry for it; who tried what, from where, is kept in the log instead.
        else if (!event.routeKey.startsWith('GET ')) {
          const who = principalOfEvent(event);
          logger.info('command refused', { status: err.status, path: event.rawPath, subject: who?.sub ?? null, role: who?.role ?? null, sourceIp: event.requestContext?.http?.sourceIp ?? null, detail: err.detail });
        }
        return respond(err.status, err.toBody(instance), { ...headers, ...err.headers }, 'application/problem+json');
      }
      if (isTransient(err)) {
        logger.error('dependency unavailable', { error: err as Error });
        const p = new HttpProblem(503, 'Service Unavailable', 'a dependency is unavailable; retry shortly', undefined, 'unavailable');
        return respond(503, p.toBody(instance), { ...headers, 'retry-after': '1' }, 'application/problem+json');
      }
      logger.error('unhandled error', { error: err as Error });
      const p = new HttpProblem(500, 'Internal Server Error', `the request failed; reference ${requestId}`);
      return respond(500, p.toBody(instance), headers, 'application/problem+json');
    }
  };
  // Traced (correlation id annotated) and measured like every other handler: shared/observability.ts.
  return observe(middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>(core)).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );
}

/** The cause stamped on events a request leads to: its correlation id, and no event before it. */
export const causeOf = (req: HttpRequest): Cause => ({ correlationId: req.correlationId, causationId: null });

export const ok = (body: unknown, headers?: Record<string, string>): HttpResult => ({ status: 200, body, headers });
export const created = (body: unknown, location: string, headers?: Record<string, string>): HttpResult => ({
  status: 201,
  body,
  headers: { location, ...headers },
});
