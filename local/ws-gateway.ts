import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyStructuredResultV2,
  APIGatewayProxyWebsocketEventV2,
  APIGatewayRequestAuthorizerEvent,
} from 'aws-lambda';
import { WebSocket, WebSocketServer } from 'ws';
import { FUNCTIONS } from '../functions/catalog';
import type { FunctionSpec } from '../functions/catalog';
import { invoke } from './lambda';

/** API Gateway WebSocket quotas. */
export const FRAME_BYTES = 32 * 1024;
export const MESSAGE_BYTES = 128 * 1024;
const IDLE_MS = 10 * 60 * 1000;
const MAX_CONNECTION_MS = 2 * 60 * 60 * 1000;
/** Past this much unsent data for one client, posts answer 429 as API Gateway does when a client's buffer is full. */
const CLIENT_BUFFER_BYTES = 4 * 1024 * 1024;
/** API Gateway's close code for connections it ends (idle, too old, deleted through the management API). */
const GOING_AWAY = 1001;

export type RouteInvoker = (route: string, event: APIGatewayProxyWebsocketEventV2) => Promise<unknown>;

/** The $connect route's Lambda REQUEST authorizer: where the identity is, and how it is run. */
export interface ConnectAuthorizer {
  /** API Gateway identity sources: `route.request.querystring.<name>` or `route.request.header.<name>`. */
  identitySource: readonly string[];
  invoke: (event: APIGatewayRequestAuthorizerEvent) => Promise<unknown>;
}

export interface WsGatewayOptions {
  host: string;
  port: number;
  idleTimeoutMs?: number;
  maxConnectionMs?: number;
  /** The API's route keys; by default the catalog's websocket routes. */
  routes?: readonly string[];
  /** Routes whose handler reply goes back to the client (route responses); by default the catalog's two-way ones. */
  twoWayRoutes?: readonly string[];
  /** How a route's handler is run; by default the catalog's websocket function, invoked as Lambda would. */
  invokeRoute?: RouteInvoker;
  /** The $connect authorizer; none: every connection is let in (the runtime passes the catalog's). */
  authorizer?: ConnectAuthorizer;
  onError: (err: unknown) => void;
}

interface Connection {
  id: string;
  socket: WebSocket;
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  userAgent: string;
  /** What the $connect authorizer returned, passed with every later route of the connection as on API Gateway. */
  authorizer?: Record<string, unknown>;
  idleTimer?: NodeJS.Timeout;
  maxTimer?: NodeJS.Timeout;
}

/** Connection ids as API Gateway makes them: opaque, base64, like "L0SM9cOFvHcCIhw=". */
export function newConnectionId(): string {
  return randomBytes(11).toString('base64');
}

const catalogRoutes = new Map<string, FunctionSpec>(
  FUNCTIONS.flatMap((spec) => (spec.trigger.kind === 'websocket' ? spec.trigger.routes.map((r) => [r, spec] as const) : [])),
);

/** Message routes of two-way websocket triggers: the only ones whose replies API Gateway passes on. */
const catalogTwoWayRoutes = FUNCTIONS.flatMap((spec) =>
  spec.trigger.kind === 'websocket' && spec.trigger.twoWay ? spec.trigger.routes.filter((r) => r !== '$connect' && r !== '$disconnect') : [],
);

/** The catalog's $connect authorizer, invoked as Lambda would, or undefined when it names none. */
export function catalogAuthorizer(): ConnectAuthorizer | undefined {
  const spec = FUNCTIONS.find((f) => f.trigger.kind === 'websocket-authorizer');
  if (!spec || spec.trigger.kind !== 'websocket-authorizer') return undefined;
  return { identitySource: spec.trigger.identitySource, invoke: (event) => invoke(spec, event) };
}

/** The value an identity source names in a handshake, as API Gateway reads it. */
function identityValue(source: string, headers: Record<string, string>, query: Record<string, string>): string | undefined {
  const m = /^route\.request\.(querystring|header)\.(.+)$/.exec(source);
  if (!m) return undefined;
  return m[1] === 'querystring' ? query[m[2]!] : headers[m[2]!.toLowerCase()];
}

/** True when an authorizer's policy allows the connection: an Allow and no Deny, as API Gateway evaluates it. */
function allows(result: APIGatewayAuthorizerResult): boolean {
  const statements = result?.policyDocument?.Statement ?? [];
  const effects = statements.map((st) => (st as { Effect?: string }).Effect);
  return effects.includes('Allow') && !effects.includes('Deny');
}

async function invokeCatalogRoute(route: string, event: APIGatewayProxyWebsocketEventV2): Promise<unknown> {
  const spec = catalogRoutes.get(route);
  return spec ? invoke(spec, event) : { statusCode: 200 }; // API Gateway answers a route without integration itself
}

/**
 * API Gateway's route selection on `$request.body.action`: a JSON message whose action names a
 * custom route goes there; anything else goes to $default.
 */
export function selectRoute(body: string, routes: readonly string[]): string {
  try {
    const action = (JSON.parse(body) as { action?: unknown } | null)?.action;
    if (typeof action === 'string' && !action.startsWith('$') && routes.includes(action)) return action;
  } catch {
    // not JSON: $default
  }
  return '$default';
}

function statusOf(result: unknown): number {
  return result && typeof result === 'object' && 'statusCode' in result ? Number((result as APIGatewayProxyStructuredResultV2).statusCode ?? 200) : 200;
}

/** A two-way route's response body, as API Gateway takes it from a Lambda proxy result. */
function bodyOf(result: unknown): string | undefined {
  if (result === undefined || result === null) return undefined;
  if (typeof result === 'string') return result;
  if (typeof result === 'object' && 'statusCode' in result) {
    const r = result as APIGatewayProxyStructuredResultV2;
    if (!r.body) return undefined;
    return r.isBase64Encoded ? Buffer.from(r.body, 'base64').toString('utf8') : r.body;
  }
  return JSON.stringify(result);
}

function headersOf(req: http.IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  return headers;
}

/** Sends a message as API Gateway does: split into frames of at most 32 KB. Resolves once written. */
function sendFramed(socket: WebSocket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => (err ? reject(err) : resolve());
    if (data.length <= FRAME_BYTES) {
      socket.send(data, { binary: false }, done);
      return;
    }
    for (let at = 0; at < data.length; at += FRAME_BYTES) {
      const last = at + FRAME_BYTES >= data.length;
      socket.send(data.subarray(at, at + FRAME_BYTES), { binary: false, fin: last }, last ? done : undefined);
    }
  });
}

function awsError(res: http.ServerResponse, status: number, type: string, message: string) {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type }).end(JSON.stringify({ message }));
}

/**
 * Plays API Gateway's WebSocket API in front of the catalog's websocket handlers, and its
 * Management API (POST, GET, DELETE /@connections/{id}) on the same port, so the real AWS SDK
 * client, pointed at this endpoint, reaches the sockets.
 */
export async function startWsGateway(opts: WsGatewayOptions) {
  const idleMs = opts.idleTimeoutMs ?? IDLE_MS;
  const maxMs = opts.maxConnectionMs ?? MAX_CONNECTION_MS;
  const routes = opts.routes ?? [...catalogRoutes.keys()];
  const twoWay = new Set(opts.twoWayRoutes ?? catalogTwoWayRoutes);
  const invokeRoute = opts.invokeRoute ?? invokeCatalogRoute;
  const connections = new Map<string, Connection>();
  const inFlight = new Set<Promise<unknown>>();
  let domainName = '';

  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    return p;
  };

  const requestContext = (
    id: string,
    connectedAt: number,
    routeKey: string,
    eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT',
  ): APIGatewayProxyWebsocketEventV2['requestContext'] => {
    const now = new Date();
    return {
      routeKey,
      eventType,
      messageId: randomBytes(11).toString('base64'),
      extendedRequestId: randomUUID(),
      requestTime: now.toUTCString(),
      messageDirection: 'IN',
      stage: 'local',
      connectedAt,
      requestTimeEpoch: now.getTime(),
      requestId: randomUUID(),
      domainName,
      connectionId: id,
      apiId: 'local',
    };
  };

  function invokeDisconnect(id: string, connectedAt: number, code: number, reason: string, authorizer?: Record<string, unknown>) {
    const event = {
      requestContext: {
        ...requestContext(id, connectedAt, '$disconnect', 'DISCONNECT'),
        ...(authorizer ? { authorizer } : {}),
        disconnectStatusCode: code,
        disconnectReason: reason,
      },
      isBase64Encoded: false,
    } as APIGatewayProxyWebsocketEventV2;
    track(invokeRoute('$disconnect', event)).catch(opts.onError);
  }

  function disconnect(conn: Connection, code: number, reason: string) {
    if (connections.get(conn.id) !== conn) return;
    connections.delete(conn.id);
    clearTimeout(conn.idleTimer);
    clearTimeout(conn.maxTimer);
    invokeDisconnect(conn.id, conn.connectedAt, code, reason, conn.authorizer);
  }

  /** Only client messages count as activity, as on API Gateway. */
  function touch(conn: Connection) {
    conn.lastActiveAt = Date.now();
    clearTimeout(conn.idleTimer);
    conn.idleTimer = setTimeout(() => conn.socket.close(GOING_AWAY, 'Going away'), idleMs);
  }

  async function onMessage(conn: Connection, data: Buffer, isBinary: boolean) {
    touch(conn);
    const body = isBinary ? data.toString('base64') : data.toString('utf8');
    const routeKey = selectRoute(body, routes);
    const event: APIGatewayProxyWebsocketEventV2 = {
      requestContext: { ...requestContext(conn.id, conn.connectedAt, routeKey, 'MESSAGE'), ...(conn.authorizer ? { authorizer: conn.authorizer } : {}) } as APIGatewayProxyWebsocketEventV2['requestContext'],
      body,
      isBase64Encoded: isBinary,
    };
    let reply: string | undefined;
    try {
      reply = bodyOf(await track(invokeRoute(routeKey, event)));
    } catch (err) {
      opts.onError(err);
      reply = JSON.stringify({ message: 'Internal server error', connectionId: conn.id, requestId: event.requestContext.requestId });
    }
    // API Gateway passes a handler's reply on only for a route with a route response (two-way).
    if (!twoWay.has(routeKey)) reply = undefined;
    if (reply !== undefined && conn.socket.readyState === WebSocket.OPEN) await sendFramed(conn.socket, Buffer.from(reply)).catch(() => undefined);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MESSAGE_BYTES }); // larger messages close with 1009

  async function onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer) {
    const id = newConnectionId();
    const connectedAt = Date.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    const headers = headersOf(req);
    const event = {
      requestContext: {
        ...requestContext(id, connectedAt, '$connect', 'CONNECT'),
        identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      },
      headers,
      queryStringParameters: Object.keys(query).length ? query : undefined,
      isBase64Encoded: false,
    } as APIGatewayProxyWebsocketEventV2;
    const refuse = (status: number) => {
      const text = http.STATUS_CODES[status] ?? 'Error';
      socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify({ message: text })}`);
    };
    let authorizer: Record<string, unknown> | undefined;
    if (opts.authorizer) {
      // As API Gateway: a missing identity source is a 401 without invoking the authorizer; an
      // authorizer failing with "Unauthorized" a 401, a Deny a 403, any other failure a 500.
      const sources = opts.authorizer.identitySource;
      if (sources.some((s) => !identityValue(s, headers, query))) return refuse(401);
      const started = Date.now();
      const authEvent = {
        type: 'REQUEST',
        methodArn: `arn:aws:execute-api:${process.env.AWS_REGION ?? 'us-east-1'}:000000000000:local/local/$connect`,
        headers,
        multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
        queryStringParameters: query,
        multiValueQueryStringParameters: Object.fromEntries([...url.searchParams.keys()].map((k) => [k, url.searchParams.getAll(k)])),
        stageVariables: {},
        requestContext: event.requestContext,
      } as unknown as APIGatewayRequestAuthorizerEvent;
      let result: APIGatewayAuthorizerResult;
      try {
        result = (await track(opts.authorizer.invoke(authEvent))) as APIGatewayAuthorizerResult;
      } catch (err) {
        if ((err as Error)?.message === 'Unauthorized') return refuse(401);
        opts.onError(err);
        return refuse(500);
      }
      if (!allows(result)) return refuse(403);
      // What API Gateway passes to the integration: the principal, the context's values, the latency.
      authorizer = { ...result.context, principalId: result.principalId, integrationLatency: Date.now() - started };
      (event.requestContext as unknown as { authorizer: Record<string, unknown> }).authorizer = authorizer;
    }
    let status: number;
    try {
      status = statusOf(await track(invokeRoute('$connect', event)));
    } catch (err) {
      opts.onError(err);
      status = 500;
    }
    // A non-2xx answer from $connect refuses the handshake.
    if (status < 200 || status > 299) return refuse(status);
    if (socket.destroyed) {
      // The client left while $connect ran: API Gateway still reports the disconnect.
      invokeDisconnect(id, connectedAt, 1006, 'Client left during $connect', authorizer);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn: Connection = {
        id,
        socket: ws,
        connectedAt,
        lastActiveAt: connectedAt,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
        authorizer,
        maxTimer: setTimeout(() => ws.close(GOING_AWAY, 'Going away'), maxMs),
      };
      connections.set(id, conn);
      touch(conn);
      ws.on('message', (data, isBinary) => void onMessage(conn, data as Buffer, isBinary).catch(opts.onError));
      ws.on('close', (code, reason) => disconnect(conn, code, reason.toString() || 'Connection closed'));
      ws.on('error', () => undefined); // a broken socket is reported by its close
    });
  }

  /** The Management API: /@connections/{id}. */
  async function onManagement(req: http.IncomingMessage, res: http.ServerResponse) {
    const match = /^\/@connections\/([^/]+)$/.exec(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (!match) return awsError(res, 404, 'NotFoundException', 'Not Found');
    // The Management API takes IAM-signed requests only; the SDK signs with whatever credentials it has.
    if (!req.headers.authorization) return awsError(res, 403, 'ForbiddenException', 'Missing Authentication Token');
    const id = decodeURIComponent(match[1]!);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size <= MESSAGE_BYTES) chunks.push(chunk as Buffer);
    }
    const conn = connections.get(id);
    const open = conn && conn.socket.readyState === WebSocket.OPEN;
    switch (req.method) {
      case 'POST': {
        if (size > MESSAGE_BYTES) return awsError(res, 413, 'PayloadTooLargeException', 'Request entity too large');
        if (!open) return awsError(res, 410, 'GoneException', `Connection ${id} is gone`);
        if (conn.socket.bufferedAmount > CLIENT_BUFFER_BYTES) return awsError(res, 429, 'LimitExceededException', 'Client buffer is full');
        try {
          await sendFramed(conn.socket, Buffer.concat(chunks));
        } catch {
          return awsError(res, 410, 'GoneException', `Connection ${id} is gone`);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end();
        return;
      }
      case 'GET':
        if (!open) return awsError(res, 410, 'GoneException', `Connection ${id} is gone`);
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            connectedAt: new Date(conn.connectedAt).toISOString(),
            identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent },
            lastActiveAt: new Date(conn.lastActiveAt).toISOString(),
          }),
        );
        return;
      case 'DELETE':
        if (!open) return awsError(res, 410, 'GoneException', `Connection ${id} is gone`);
        conn.socket.close(GOING_AWAY, 'Going away');
        res.writeHead(204).end();
        return;
      default:
        return awsError(res, 404, 'NotFoundException', 'Not Found');
    }
  }

  const server = http.createServer((req, res) => {
    onManagement(req, res).catch((err) => {
      opts.onError(err);
      if (!res.headersSent) awsError(res, 500, 'InternalServerErrorException', 'Internal server error');
    });
  });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined);
    onUpgrade(req, socket, head).catch((err) => {
      opts.onError(err);
      socket.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  // The management endpoint is called from this machine: a wildcard listen address is reached on loopback.
  const callbackHost = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  domainName = `${callbackHost}:${port}`;

  return {
    url: `ws://${opts.host}:${port}`,
    /** What WEBSOCKET_CALLBACK_URL is set to: the stage's callback URL on AWS. */
    callbackUrl: `http://${callbackHost}:${port}`,
    connectionCount: () => connections.size,
    /** Ends every connection (each one's $disconnect runs) and stops listening. */
    async close() {
      const sockets = [...connections.values()].map((c) => c.socket);
      for (const s of sockets) s.close(GOING_AWAY, 'Going away');
      await Promise.race([
        Promise.all(sockets.map((s) => (s.readyState === WebSocket.CLOSED ? undefined : new Promise((r) => s.once('close', r))))),
        new Promise((r) => setTimeout(r, 2_000)),
      ]);
      for (const s of sockets) s.terminate();
      for (const conn of [...connections.values()]) disconnect(conn, 1006, 'Gateway stopped');
      await Promise.allSettled([...inFlight]);
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
