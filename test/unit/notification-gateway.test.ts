import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { APIGatewayProxyWebsocketEventV2, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { FRAME_BYTES, MESSAGE_BYTES, startWsGateway } from '../../local/ws-gateway';
import type { RouteInvoker } from '../../local/ws-gateway';
import { handshakeStatus } from '../support/websocket';

type Call = { route: string; event: APIGatewayProxyWebsocketEventV2 };

/** The local WebSocket gateway with recording route handlers, and the real SDK client on its management endpoint. */
async function gateway(routes: Partial<Record<string, RouteInvoker>> = {}, limits: { idleTimeoutMs?: number; maxConnectionMs?: number } = {}) {
  const calls: Call[] = [];
  const errors: unknown[] = [];
  const gw = await startWsGateway({
    host: '127.0.0.1',
    port: 0,
    routes: ['$connect', '$disconnect', '$default', 'echo', 'oneway'],
    twoWayRoutes: ['$default', 'echo'],
    ...limits,
    invokeRoute: async (route, event) => {
      calls.push({ route, event });
      return (routes[route] ?? (async () => ({ statusCode: 200 })))(route, event);
    },
    onError: (err) => errors.push(err),
  });
  const mgmt = new ApiGatewayManagementApiClient({
    endpoint: gw.callbackUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  stops.push(async () => {
    mgmt.destroy();
    await gw.close();
  });
  return { gw, mgmt, calls, errors };
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

/** A client that records every message; `connectionId` is learned from the $connect call. */
async function client(url: string) {
  const ws = new WebSocket(url);
  const messages: string[] = [];
  const closed = new Promise<{ code: number }>((resolve) => ws.on('close', (code) => resolve({ code })));
  ws.on('message', (data) => messages.push(data.toString()));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { ws, messages, closed };
}

const until = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('local WebSocket gateway', () => {
  it('invokes $connect with an API Gateway event and an opaque base64 connection id', async () => {
    const { gw, calls } = await gateway();
    await client(`${gw.url}/?token=abc`);
    const connect = calls.find((c) => c.route === '$connect')!;
    expect(connect.event.requestContext).toMatchObject({ routeKey: '$connect', eventType: 'CONNECT' });
    expect(connect.event.requestContext.connectionId).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    expect(connect.event.queryStringParameters).toEqual({ token: 'abc' });
  });

  it('refuses the upgrade when $connect answers non-2xx', async () => {
    const { gw } = await gateway({ $connect: async () => ({ statusCode: 403 }) });
    const ws = new WebSocket(gw.url);
    const status = await new Promise<number>((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(403);
    expect(gw.connectionCount()).toBe(0);
  });

  it("sends a message to $default and the handler's body back to the client", async () => {
    const { gw, calls } = await gateway({ $default: async (_r, e) => ({ statusCode: 200, body: `echo ${e.body}` }) });
    const c = await client(gw.url);
    c.ws.send('{"action":"anything"}');
    await until(() => c.messages.length === 1, 'the reply');
    expect(c.messages[0]).toBe('echo {"action":"anything"}');
    expect(calls.at(-1)!.event.requestContext).toMatchObject({ routeKey: '$default', eventType: 'MESSAGE' });
  });

  it('drops the reply of a route that is not two-way, as API Gateway does without a route response', async () => {
    const reply = async (r: string) => ({ statusCode: 200, body: `reply from ${r}` });
    const { gw, calls } = await gateway({ oneway: reply, echo: reply });
    const c = await client(gw.url);
    c.ws.send('{"action":"oneway"}');
    c.ws.send('{"action":"echo"}');
    await until(() => c.messages.length === 1, 'the two-way reply');
    await until(() => calls.filter((x) => x.event.requestContext.eventType === 'MESSAGE').length === 2, 'both invocations');
    await new Promise((r) => setTimeout(r, 100));
    expect(c.messages).toEqual(['reply from echo']);
  });

  it("the catalog's WebSocket $default is two-way: its replies (pong, subscribed, resumed) reach the client", async () => {
    const { FUNCTIONS } = await import('../../functions/catalog');
    const ws = FUNCTIONS.find((f) => f.trigger.kind === 'websocket' && f.trigger.routes.includes('$default'))!;
    expect(ws.trigger.kind === 'websocket' && ws.trigger.twoWay).toBe(true);
  });

  it('delivers PostToConnection from the real SDK client, and a message over 32 KB arrives whole', async () => {
    const { gw, mgmt, calls } = await gateway();
    const c = await client(gw.url);
    const id = calls[0]!.event.requestContext.connectionId;
    const big = JSON.stringify(['x'.repeat(FRAME_BYTES * 2)]);
    await mgmt.send(new PostToConnectionCommand({ ConnectionId: id, Data: '[1]' }));
    await mgmt.send(new PostToConnectionCommand({ ConnectionId: id, Data: big }));
    await until(() => c.messages.length === 2, 'both messages');
    expect(c.messages).toEqual(['[1]', big]);
    const info = await mgmt.send(new GetConnectionCommand({ ConnectionId: id }));
    expect(info.ConnectedAt).toBeInstanceOf(Date);
  });

  it('answers 410 Gone for an unknown or closed connection, and 413 over 128 KB', async () => {
    const { gw, mgmt, calls } = await gateway();
    await expect(mgmt.send(new PostToConnectionCommand({ ConnectionId: 'L0SM9cOFvHcCIhw=', Data: '[]' }))).rejects.toBeInstanceOf(GoneException);
    const c = await client(gw.url);
    const id = calls[0]!.event.requestContext.connectionId;
    await expect(mgmt.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'x'.repeat(MESSAGE_BYTES + 1) }))).rejects.toMatchObject({
      name: 'PayloadTooLargeException',
    });
    c.ws.close();
    await until(() => calls.some((x) => x.route === '$disconnect'), '$disconnect');
    await expect(mgmt.send(new GetConnectionCommand({ ConnectionId: id }))).rejects.toBeInstanceOf(GoneException);
  });

  it('answers 410 to a post made while $connect still runs, as API Gateway does', async () => {
    let posted: unknown;
    const { gw } = await gateway({
      $connect: async (_r, e) => {
        const mgmt = new ApiGatewayManagementApiClient({ endpoint: gw.callbackUrl, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
        posted = await mgmt.send(new PostToConnectionCommand({ ConnectionId: e.requestContext.connectionId, Data: 'hi' })).catch((err) => err);
        return { statusCode: 200 };
      },
    });
    await client(gw.url);
    expect(posted).toBeInstanceOf(GoneException);
  });

  it('DeleteConnection closes the socket and runs $disconnect', async () => {
    const { gw, mgmt, calls } = await gateway();
    const c = await client(gw.url);
    const id = calls[0]!.event.requestContext.connectionId;
    await mgmt.send(new DeleteConnectionCommand({ ConnectionId: id }));
    expect((await c.closed).code).toBe(1001);
    await until(() => calls.some((x) => x.route === '$disconnect' && x.event.requestContext.connectionId === id), '$disconnect');
  });

  it('closes an idle connection, and any connection past its maximum age, with 1001', async () => {
    const idle = await gateway({}, { idleTimeoutMs: 150 });
    const c = await client(idle.gw.url);
    expect((await c.closed).code).toBe(1001);

    const old = await gateway({}, { idleTimeoutMs: 10_000, maxConnectionMs: 300 });
    const busy = await client(old.gw.url);
    const pinger = setInterval(() => busy.ws.send('{"action":"ping"}'), 50);
    expect((await busy.closed).code).toBe(1001);
    clearInterval(pinger);
    await until(() => old.calls.some((x) => x.route === '$disconnect'), '$disconnect');
  });

  it('selects routes on $request.body.action, falling to $default', async () => {
    const { gw, calls } = await gateway();
    const c = await client(gw.url);
    c.ws.send('{"action":"echo"}');
    c.ws.send('{"action":"unknown"}');
    c.ws.send('not json');
    await until(() => calls.filter((x) => x.event.requestContext.eventType === 'MESSAGE').length === 3, 'three messages');
    expect(calls.filter((x) => x.event.requestContext.eventType === 'MESSAGE').map((x) => x.route).sort()).toEqual(['$default', '$default', 'echo']);
  });

  it('closes a connection that sends a message over 128 KB with 1009', async () => {
    const { gw } = await gateway();
    const c = await client(gw.url);
    c.ws.send('x'.repeat(MESSAGE_BYTES + 1));
    expect((await c.closed).code).toBe(1009);
  });
});

describe("local WebSocket gateway's $connect authorizer", () => {
  /** A gateway whose authorizer decides by the token: "good" allows, "deny" denies, "boom" fails, anything else is Unauthorized. */
  async function guarded() {
    const connects: APIGatewayProxyWebsocketEventV2[] = [];
    const later: APIGatewayProxyWebsocketEventV2[] = [];
    const authorizerEvents: APIGatewayRequestAuthorizerEvent[] = [];
    const errors: unknown[] = [];
    const gw = await startWsGateway({
      host: '127.0.0.1',
      port: 0,
      routes: ['$connect', '$disconnect', '$default'],
      twoWayRoutes: ['$default'],
      authorizer: {
        identitySource: ['route.request.querystring.token'],
        invoke: async (event) => {
          authorizerEvents.push(event);
          const token = event.queryStringParameters?.token;
          if (token === 'boom') throw new Error('issuer unreachable');
          if (token !== 'good' && token !== 'deny') throw new Error('Unauthorized');
          return {
            principalId: 'user-1',
            policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: token === 'good' ? 'Allow' : 'Deny', Resource: event.methodArn }] },
            context: { sub: 'user-1', role: 'customer' },
          };
        },
      },
      invokeRoute: async (route, event) => {
        if (route === '$connect') connects.push(event);
        else later.push(event);
        return { statusCode: 200 };
      },
      onError: (err) => errors.push(err),
    });
    stops.push(() => gw.close());
    return { gw, connects, later, authorizerEvents, errors };
  }

  it('answers 401 without invoking the authorizer when the identity source is missing', async () => {
    const { gw, authorizerEvents, connects } = await guarded();
    expect(await handshakeStatus(gw.url)).toBe(401);
    expect(await handshakeStatus(`${gw.url}/?token=`)).toBe(401);
    expect(authorizerEvents).toEqual([]);
    expect(connects).toEqual([]);
  });

  it('refuses with 401 on "Unauthorized", 403 on a Deny, 500 on any other failure, never reaching $connect', async () => {
    const { gw, connects, errors } = await guarded();
    expect(await handshakeStatus(`${gw.url}/?token=forged`)).toBe(401);
    expect(await handshakeStatus(`${gw.url}/?token=deny`)).toBe(403);
    expect(await handshakeStatus(`${gw.url}/?token=boom`)).toBe(500);
    expect(connects).toEqual([]);
    expect(errors.length).toBe(1);
  });

  it('passes the REQUEST event as API Gateway does, and the context at requestContext.authorizer to $connect and every later route', async () => {
    const { gw, connects, later, authorizerEvents } = await guarded();
    const { ws } = await client(`${gw.url}/?token=good`);
    ws.send('{"action":"ping"}');
    await until(() => later.length === 1, 'the message');
    ws.close();
    await until(() => later.length === 2, 'the disconnect');
    for (const event of later) expect((event.requestContext as unknown as { authorizer: Record<string, unknown> }).authorizer).toMatchObject({ sub: 'user-1', role: 'customer' });
    const event = authorizerEvents[0]!;
    expect(event.type).toBe('REQUEST');
    expect(event.methodArn).toMatch(/^arn:aws:execute-api:[^:]+:\d{12}:[^/]+\/[^/]+\/\$connect$/);
    expect(event.queryStringParameters).toEqual({ token: 'good' });
    expect(connects).toHaveLength(1);
    expect((connects[0]!.requestContext as unknown as { authorizer: Record<string, unknown> }).authorizer).toMatchObject({
      principalId: 'user-1',
      sub: 'user-1',
      role: 'customer',
    });
  });
});
