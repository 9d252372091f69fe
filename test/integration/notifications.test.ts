import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Reply } from '../../functions/notification/domain/protocol';
import { notificationKeys } from '../../functions/notification/redis-keys';
import { encodeConnection } from '../../functions/notification/domain/access';
import { DEFAULTS } from '../../shared/config';
import { orderIdOf } from '../../shared/events/envelope';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { inHistoryOrder } from '../../shared/events/history';
import type { Principal } from '../../shared/auth/principal';
import { openWsClient } from '../support/websocket';
import { OPERATOR, api, closeTestClients, createProduct, placeOrder, system, timeline, tokenOf, waitFor, waitForStatus } from '../support/system';

const redis = new Redis(process.env.REDIS_URL ?? DEFAULTS.redisUrl);
const keys = () => notificationKeys(system().namespace);
const clients: WebSocket[] = [];

afterAll(async () => {
  for (const ws of clients) ws.terminate();
  redis.disconnect();
  await closeTestClients();
});

/** The WebSocket API's URL with a principal's access token (?token=, as browsers must send it). */
const wsUrl = async (principal: Principal = OPERATOR) => `${system().wsUrl}/?token=${await tokenOf(principal)}`;

/**
 * A WebSocket client of the running system: it keeps every event it receives (frames are JSON
 * arrays of envelopes) and the replies to its requests (JSON objects), one request at a time.
 * Connected as the operator unless told otherwise.
 */
async function watch(principal: Principal = OPERATOR) {
  const client = await openWsClient<Reply, AnyEnvelope>(await wsUrl(principal));
  clients.push(client.ws);
  const { events } = client;
  return {
    ws: client.ws,
    events,
    of: (orderId: string) => events.filter((e) => orderIdOf(e) === orderId),
    has: (predicate: (e: AnyEnvelope) => boolean) => events.some(predicate),
    async request<T extends Reply['type']>(message: object, type: T): Promise<Extract<Reply, { type: T }>> {
      const reply = await client.request(message);
      expect(reply.type).toBe(type);
      return reply as Extract<Reply, { type: T }>;
    },
  };
}

const statusOf = (e: AnyEnvelope) => (e.type === 'order.updated' ? e.data.status : null);
const isStatus = (orderId: string, status: string) => (e: AnyEnvelope) => orderIdOf(e) === orderId && statusOf(e) === status;

describe('real-time notifications over WebSocket', () => {
  it("pushes an order's events from order.created to its final status, causes before effects, with its correlation id", async () => {
    const client = await watch();
    const p = await createProduct({ stock: 5 });
    const correlationId = `ws-${randomUUID()}`;
    const res = await placeOrder([{ productId: p.id, quantity: 1 }], 'tok_visa', { 'x-correlation-id': correlationId });
    expect(res.status).toBe(201);
    const orderId: string = res.body.id;

    await waitFor(async () => client.has(isStatus(orderId, 'CONFIRMED')), 'the CONFIRMED status to arrive');
    const history = (await timeline(orderId)).map((e) => e.id);
    await waitFor(async () => history.every((id) => client.has((e) => e.id === id)), 'every event of the order');

    const received = client.of(orderId);
    expect(received[0]!.type).toBe('order.created');
    expect(received.at(-1)!).toMatchObject({ type: 'order.updated', data: { status: 'CONFIRMED' } });
    expect(new Set(received.map((e) => e.id))).toEqual(new Set(history));
    expect(received.every((e) => e.correlationId === correlationId)).toBe(true);
    const seen = new Set<string>();
    for (const e of received) {
      if (e.causationId && history.includes(e.causationId)) expect(seen.has(e.causationId), `${e.type} arrived before its cause`).toBe(true);
      seen.add(e.id);
    }
    const versions = received.filter((e) => e.source === 'order').map((e) => (e.data as { orderVersion: number }).orderVersion);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  });

  it("gives a client subscribed to one order that order's events and none of another's", async () => {
    const subscriber = await watch();
    const everything = await watch();
    const p = await createProduct({ stock: 10 });
    const watched: string = (await placeOrder([{ productId: p.id, quantity: 1 }])).body.id;
    await waitForStatus(watched, ['CONFIRMED']);

    const reply = await subscriber.request({ action: 'subscribe', orderId: watched }, 'subscribed');
    expect(reply).toMatchObject({ orderId: watched, subscriptions: 1 });
    subscriber.events.length = 0;

    const other: string = (await placeOrder([{ productId: p.id, quantity: 1 }])).body.id;
    await waitFor(async () => everything.has(isStatus(other, 'CONFIRMED')), 'the other order to be confirmed');
    // Published after the other order's events: once it arrives, so would have they.
    expect((await api('PATCH', `/orders/${watched}`, { status: 'PROCESSING' })).status).toBe(200);
    await waitFor(async () => subscriber.has(isStatus(watched, 'PROCESSING')), 'the watched order to move on');

    expect(everything.of(other).length).toBeGreaterThan(2);
    expect(subscriber.events.length).toBeGreaterThan(0);
    expect(subscriber.events.filter((e) => orderIdOf(e) !== watched)).toEqual([]);
  });

  it('catches a client up on the order it subscribes to, so subscribing after placing it misses nothing', async () => {
    const control = await watch();
    const p = await createProduct({ stock: 3 });
    const orderId: string = (await placeOrder([{ productId: p.id, quantity: 1 }])).body.id;
    await waitFor(async () => control.has(isStatus(orderId, 'CONFIRMED')), 'the order to be confirmed');

    const late = await watch();
    const reply = await late.request({ action: 'subscribe', orderId }, 'subscribed');
    // Its events so far come with the reply, in history order (by version and causation, as a
    // resume's: docs/decisions.md), then only its own live ones. Live frames come in the order the
    // log received them, which two services publishing at the same moment can make differ.
    const published = inHistoryOrder(control.of(orderId)).map((e) => e.id);
    expect(reply).toMatchObject({ orderId, subscriptions: 1, replayed: published.length });
    expect(reply.events.map((e: AnyEnvelope) => e.id)).toEqual(published);
    expect(late.events.filter((e) => orderIdOf(e) !== orderId)).toEqual([]);
  });

  it('removes a client that vanished without a $disconnect at the first push that answers 410, and the others still receive', async () => {
    const vanished = await watch();
    const survivor = await watch();
    const { connectionId } = await vanished.request({ action: 'ping' }, 'pong');
    expect(await redis.hexists(keys().connections, connectionId)).toBe(1);

    vanished.ws.terminate(); // no close frame
    await waitFor(async () => (await redis.hexists(keys().connections, connectionId)) === 0, 'the local gateway to report the disconnect');
    // On API Gateway, $disconnect is best effort: model the one that never came.
    await redis.hset(keys().connections, connectionId, encodeConnection({ expiresAt: Date.now() + 3_600_000, principal: OPERATOR }));

    const p = await createProduct();
    await waitFor(async () => survivor.has((e) => e.type === 'inventory.updated' && e.data.productId === p.id), 'the survivor to receive');
    await waitFor(async () => (await redis.hexists(keys().connections, connectionId)) === 0, 'the dead connection to be removed');
  });

  it('delivers the same event to 200 concurrent clients', async () => {
    const crowd = await Promise.all(Array.from({ length: 200 }, () => watch()));
    const p = await createProduct();
    const isIt = (e: AnyEnvelope) => e.type === 'inventory.updated' && e.data.productId === p.id;
    await waitFor(async () => crowd.every((c) => c.has(isIt)), 'all 200 clients to receive the product event', 30_000);
    expect(new Set(crowd.map((c) => c.events.find(isIt)!.id)).size).toBe(1);
    for (const c of crowd) c.ws.close();
  });

  it('lets a client that reconnects resume from the last event it saw', async () => {
    const control = await watch();
    const first = await watch();
    const p = await createProduct();
    const orderId: string = (await placeOrder([{ productId: p.id, quantity: 1 }])).body.id;
    await waitFor(async () => first.of(orderId).length > 0, 'the first event');
    const lastSeen = first.of(orderId)[0]!;
    expect(lastSeen.type).toBe('order.created');
    first.ws.close();

    await waitFor(async () => control.has(isStatus(orderId, 'CONFIRMED')), 'the order to be confirmed');
    const again = await watch();
    const reply = await again.request({ action: 'resume', since: lastSeen.id }, 'resumed');

    // A resume sends what was missed in history order (by version and causation, as the order's
    // timeline does); live frames come in the order the log received them, which a late relay can
    // make differ (two services publishing at the same moment).
    const missed = inHistoryOrder(control.of(orderId).filter((e) => e.id !== lastSeen.id)).map((e) => e.id);
    // Subscribed to nothing, it is owed every event since (other tests' too), this order's among them.
    expect(reply).toMatchObject({ complete: true });
    expect(reply.count).toBeGreaterThanOrEqual(missed.length);
    // The missed events are posted before the reply, so they are already here.
    expect(again.of(orderId).map((e) => e.id).slice(0, missed.length)).toEqual(missed);
  });

  it('answers ping with pong and an unknown action with an error, keeping the connection', async () => {
    const client = await watch();
    expect(await client.request({ action: 'ping' }, 'pong')).toMatchObject({ connectionId: expect.stringMatching(/^[A-Za-z0-9+/]{15}=$/) });
    await client.request({ action: 'dance' }, 'error');
    await client.request({ action: 'ping' }, 'pong');
  });
});
