import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, ROUTE_ACCESS } from '../../functions/catalog';
import type { RouteKey } from '../../functions/catalog';
import type { Principal } from '../../shared/auth/principal';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { orderIdOf } from '../../shared/events/envelope';
import { DASHBOARD_CLIENT_ID, mintAccessToken } from '../../local/auth/tokens';
import { createVerifier } from '../../shared/auth/verify';
import { bearer } from '../support/auth';
import { handshakeStatus, openWsClient } from '../support/websocket';
import { ALICE, BOB, OPERATOR, api, as, closeTestClients, createProduct, system, tokenOf, waitFor, waitForStatus } from '../support/system';

afterAll(closeTestClients);

/**
 * A request for every route of the catalog: typed by RouteKey, so a new route does not compile
 * until it is given one here, and then its access is checked like the others'.
 */
const SAMPLES: Record<RouteKey, { path: () => string; body?: unknown }> = {
  [ROUTES.health]: { path: () => '/health' },
  [ROUTES.listProducts]: { path: () => '/products' },
  [ROUTES.getProduct]: { path: () => `/products/${randomUUID()}` },
  [ROUTES.createProduct]: { path: () => '/products', body: { sku: `A-${randomUUID().slice(0, 8)}`, name: 'Access probe', priceCents: 100, stock: 1, lowStockThreshold: 0 } },
  [ROUTES.updateProduct]: { path: () => `/products/${randomUUID()}`, body: { priceCents: 200 } },
  [ROUTES.createOrder]: { path: () => '/orders', body: { items: [], paymentToken: 'tok_visa' } },
  [ROUTES.listOrders]: { path: () => '/orders' },
  [ROUTES.getOrder]: { path: () => `/orders/${randomUUID()}` },
  [ROUTES.getOrderEvents]: { path: () => `/orders/${randomUUID()}/events` },
  [ROUTES.cancelOrder]: { path: () => `/orders/${randomUUID()}` },
  [ROUTES.updateOrder]: { path: () => `/orders/${randomUUID()}`, body: { status: 'PROCESSING' } },
  [ROUTES.listPayments]: { path: () => '/payments' },
  [ROUTES.orderStats]: { path: () => '/stats/orders' },
  [ROUTES.listQueues]: { path: () => '/queues' },
  [ROUTES.listDeadLetters]: { path: () => '/queues/order/dead-letters?limit=1' },
  [ROUTES.redriveQueue]: { path: () => '/queues/no-such-queue/redrive' },
  [ROUTES.listAudit]: { path: () => '/audit?limit=1' },
  [ROUTES.listProjections]: { path: () => '/history/projections' },
  [ROUTES.rebuildProjection]: { path: () => '/history/projections/no-such-projection/rebuild', body: {} },
  [ROUTES.listReplays]: { path: () => '/history/replays' },
  // Invalid (from after to): an operator's call is refused before anything starts.
  [ROUTES.startReplay]: { path: () => '/history/replays', body: { service: 'payment', from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z', queue: 'payment_queue' } },
};

const call = (route: RouteKey, headers: Record<string, string>) => {
  const [method] = route.split(' ') as [string];
  const sample = SAMPLES[route];
  return api(method, sample.path(), sample.body, headers);
};

const routes = Object.values(ROUTES);

describe('npm run token', () => {
  it("prints a token alone on stdout that the running issuer's JWKS verifies and the API accepts", async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'local/token.ts', '--user', 'bob@eventflow.test', '--issuer', system().issuerUrl], { cwd: root });
    expect(stdout.endsWith('\n')).toBe(true);
    const token = stdout.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    await expect(createVerifier({ issuer: system().issuerUrl, audience: DASHBOARD_CLIENT_ID })(token)).resolves.toEqual(BOB);
    expect((await api('GET', '/orders', undefined, bearer(token))).status).toBe(200);
  });
});

describe('who may call each route (from the catalog)', () => {
  it.each(routes)('%s: anonymous callers only on public routes', async (route) => {
    const res = await call(route, { authorization: '' });
    if (ROUTE_ACCESS[route] === 'public') expect(res.status).not.toBe(401);
    else {
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });

  it.each(routes)('%s: customers on public and customer routes, refused (403) on operator routes', async (route) => {
    const res = await call(route, await as(ALICE));
    if (ROUTE_ACCESS[route] === 'operator') {
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status: 403, title: 'Forbidden' });
    } else expect([401, 403]).not.toContain(res.status);
  });

  it.each(routes)('%s: operators everywhere', async (route) => {
    const res = await call(route, await as(OPERATOR));
    expect([401, 403]).not.toContain(res.status);
  });

  it('refuses expired, tampered, wrong-audience, wrong-issuer and foreign-key tokens before any handler', async () => {
    const issuer = system().issuerUrl;
    const stranger = { ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey)), kid: 'stranger' };
    const [h, p, s] = (await tokenOf(ALICE)).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, 'cognito:groups': ['operator'] })).toString('base64url')}.${s}`;
    const bad = {
      expired: await mintAccessToken({ ...OPERATOR, issuer, expiresInSeconds: -60 }),
      tampered,
      'wrong audience': await mintAccessToken({ ...OPERATOR, issuer, audience: 'someone-else' }),
      'wrong issuer': await mintAccessToken({ ...OPERATOR, issuer: 'http://127.0.0.1:9/' }),
      'foreign key': await mintAccessToken({ ...OPERATOR, issuer, key: stranger }),
      'not a JWT': 'abc.def.ghi',
    };
    for (const [what, token] of Object.entries(bad)) {
      const res = await api('GET', '/orders', undefined, bearer(token));
      expect(res.status, what).toBe(401);
      expect(res.body, what).toMatchObject({ status: 401, title: 'Unauthorized' });
    }
    expect((await api('GET', '/queues', undefined, bearer(tampered))).status).toBe(401);
  });

  it('refuses a validly signed ID token (401), and a token that does not say it is an access token, on every protected route', async () => {
    const issuer = system().issuerUrl;
    // As a Cognito ID token: the same user, groups and client (in aud), token_use "id". The local
    // gateway lets it through as API Gateway's JWT authorizer would; the handler refuses it.
    const idToken = await mintAccessToken({ ...OPERATOR, issuer, tokenUse: 'id' });
    const unmarked = await mintAccessToken({ ...OPERATOR, issuer, tokenUse: null });
    for (const route of routes.filter((r) => ROUTE_ACCESS[r] !== 'public')) {
      for (const [what, token] of Object.entries({ 'ID token': idToken, 'no token_use': unmarked })) {
        const res = await call(route, bearer(token));
        expect(res.status, `${route}, ${what}`).toBe(401);
        expect(res.body, `${route}, ${what}`).toMatchObject({ status: 401, title: 'Unauthorized', detail: expect.stringMatching(/only access tokens/) });
      }
    }
    // A public route takes it as no token at all.
    expect((await api('GET', '/products', undefined, bearer(idToken))).status).toBe(200);
    // The same access token with token_use "access" is let in.
    expect((await api('GET', '/orders', undefined, bearer(await mintAccessToken({ ...OPERATOR, issuer })))).status).toBe(200);
  });
});

describe("a customer's own orders", () => {
  let productId: string;
  let aliceOrder: string;
  beforeAll(async () => {
    productId = (await createProduct({ stock: 50 })).id;
    const res = await api('POST', '/orders', { items: [{ productId, quantity: 1 }], paymentToken: 'tok_visa' }, await as(ALICE));
    expect(res.status).toBe(201);
    aliceOrder = res.body.id;
  });

  it('places an order for the caller, refuses one for another customer, and makes an operator name the customer', async () => {
    const mine = await api('GET', `/orders/${aliceOrder}`, undefined, await as(ALICE));
    expect(mine.body.customerId).toBe(ALICE.sub);
    const same = await api('POST', '/orders', { customerId: ALICE.sub, items: [{ productId, quantity: 1 }], paymentToken: 'tok_visa' }, await as(ALICE));
    expect(same.status).toBe(201);
    const other = await api('POST', '/orders', { customerId: BOB.sub, items: [{ productId, quantity: 1 }], paymentToken: 'tok_visa' }, await as(ALICE));
    expect(other.status).toBe(403);
    const unnamed = await api('POST', '/orders', { items: [{ productId, quantity: 1 }], paymentToken: 'tok_visa' }, await as(OPERATOR));
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.errors).toEqual([expect.objectContaining({ pointer: '/customerId' })]);
    const forBob = await api('POST', '/orders', { customerId: BOB.sub, items: [{ productId, quantity: 1 }], paymentToken: 'tok_visa' }, await as(OPERATOR));
    expect(forBob.status).toBe(201);
    expect(forBob.body.customerId).toBe(BOB.sub);
  });

  it("hides another customer's order as missing (404) and lists only the caller's", async () => {
    const bob = await as(BOB);
    expect((await api('GET', `/orders/${aliceOrder}`, undefined, bob)).status).toBe(404);
    expect((await api('GET', `/orders/${aliceOrder}/events`, undefined, bob)).status).toBe(404);
    expect((await api('DELETE', `/orders/${aliceOrder}`, undefined, bob)).status).toBe(404);
    expect((await api('GET', `/orders/${aliceOrder}`, undefined, await as(OPERATOR))).status).toBe(200);

    const listed = await api('GET', '/orders?limit=100', undefined, await as(ALICE));
    expect(listed.body.items.map((o: { id: string }) => o.id)).toContain(aliceOrder);
    expect(listed.body.items.every((o: { customerId: string }) => o.customerId === ALICE.sub)).toBe(true);
    const asked = await api('GET', `/orders?customerId=${BOB.sub}`, undefined, await as(ALICE));
    expect(asked.body.items).toEqual([]);
    const bobs = await api('GET', '/orders?limit=100', undefined, bob);
    expect(bobs.body.items.map((o: { id: string }) => o.id)).not.toContain(aliceOrder);
  });

  it('shows the customer its timeline without the payment token, and lets it cancel its own order', async () => {
    await waitForStatus(aliceOrder, ['CONFIRMED']);
    const events = await api('GET', `/orders/${aliceOrder}/events`, undefined, await as(ALICE));
    expect(events.status).toBe(200);
    expect(events.body.items[0].type).toBe('order.created');
    expect(JSON.stringify(events.body)).not.toContain('paymentToken');
    const cancelled = await api('DELETE', `/orders/${aliceOrder}`, undefined, await as(ALICE));
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');
  });
});

/** A WebSocket client holding a principal's token; keeps every event and reply it receives. */
const connect = async (principal: Principal) => openWsClient<Record<string, any>, AnyEnvelope>(`${system().wsUrl}/?token=${await tokenOf(principal)}`);

describe('WebSocket access', () => {
  it('refuses a connection without a valid token at $connect (401)', async () => {
    const issuer = system().issuerUrl;
    const url = (token: string) => `${system().wsUrl}/?token=${encodeURIComponent(token)}`;
    const [h, p, s] = (await tokenOf(ALICE)).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, 'cognito:groups': ['operator'] })).toString('base64url')}.${s}`;
    expect(await handshakeStatus(system().wsUrl)).toBe(401);
    expect(await handshakeStatus(url(await mintAccessToken({ ...ALICE, issuer, expiresInSeconds: -60 })))).toBe(401);
    expect(await handshakeStatus(url(tampered))).toBe(401);
    expect(await handshakeStatus(url(await mintAccessToken({ ...ALICE, issuer, audience: 'someone-else' })))).toBe(401);
    expect(await handshakeStatus(url(await mintAccessToken({ ...ALICE, issuer: 'http://127.0.0.1:9/' })))).toBe(401);
    expect(await handshakeStatus(url(await mintAccessToken({ ...ALICE, issuer, tokenUse: 'id' })))).toBe(401);
    expect(await handshakeStatus(url(await tokenOf(ALICE)))).toBe(101);
  });

  it("delivers a customer only its own orders' events, an operator every event, and nobody a payment token", async () => {
    const alice = await connect(ALICE);
    const bob = await connect(BOB);
    const operator = await connect(OPERATOR);
    try {
      const productId = (await createProduct({ stock: 20 })).id;
      const place = async (who: Principal) =>
        (await api('POST', '/orders', { items: [{ productId, quantity: 1 }], paymentToken: 'tok_visa' }, await as(who))).body.id as string;
      const aliceOrder = await place(ALICE);
      const bobOrder = await place(BOB);
      await waitForStatus(aliceOrder, ['CONFIRMED']);
      await waitForStatus(bobOrder, ['CONFIRMED']);
      const confirmed = (c: { events: AnyEnvelope[] }, id: string) => c.events.some((e) => orderIdOf(e) === id && e.type === 'order.updated');
      await waitFor(async () => confirmed(alice, aliceOrder) && confirmed(bob, bobOrder) && confirmed(operator, aliceOrder) && confirmed(operator, bobOrder), 'every client to hear its orders settle');

      expect(alice.events.every((e) => orderIdOf(e) !== null)).toBe(true);
      expect(new Set(alice.events.map(orderIdOf))).not.toContain(bobOrder);
      expect(alice.events.filter((e) => orderIdOf(e) !== aliceOrder).every((e) => orderIdOf(e) !== bobOrder)).toBe(true);
      expect(new Set(bob.events.map(orderIdOf))).not.toContain(aliceOrder);
      // The operator hears events about no order too (the stock of the product moved).
      expect(operator.events.some((e) => orderIdOf(e) === null)).toBe(true);
      expect(alice.events.find((e) => orderIdOf(e) === aliceOrder && e.type === 'order.created')).toBeDefined();
      for (const c of [alice, bob, operator]) expect(c.raw.join('\n')).not.toContain('paymentToken');

      // Catching up obeys the same rule: another customer's order replays nothing.
      const own = await alice.request({ action: 'subscribe', orderId: aliceOrder });
      expect(own.events.length).toBeGreaterThan(0);
      const foreign = await bob.request({ action: 'subscribe', orderId: aliceOrder });
      expect(foreign).toMatchObject({ type: 'subscribed', replayed: 0, events: [] });
      // Resuming from before both orders: Bob gets his own events only.
      await bob.request({ action: 'unsubscribe' });
      const before = new Date(Date.now() - 120_000).toISOString();
      const count = bob.events.length;
      const resumed = await bob.request({ action: 'resume', since: before });
      expect(resumed.type).toBe('resumed');
      await waitFor(async () => bob.events.length >= count + resumed.count, 'the resumed events');
      const replayed = bob.events.slice(count);
      expect(replayed.some((e) => orderIdOf(e) === bobOrder)).toBe(true);
      expect(replayed.every((e) => orderIdOf(e) !== null && orderIdOf(e) !== aliceOrder)).toBe(true);
      for (const c of [alice, bob, operator]) expect(c.raw.join('\n')).not.toContain('paymentToken');
    } finally {
      for (const c of [alice, bob, operator]) c.ws.terminate();
    }
  });
});
