import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { api, closeTestClients, createProduct, customer, db, system } from '../support/system';

afterAll(closeTestClients);

async function ordersOf(customerId: string) {
  return (await db('order').query('SELECT count(*)::int AS n FROM orders WHERE customer_id = $1', [customerId])).rows[0].n;
}

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String), type: expect.any(String) });
}

describe('bad input is refused with problem+json and changes nothing', () => {
  it('refuses order bodies that are not JSON, not JSON at all, or of the wrong shape', async () => {
    const customerId = customer();
    const p = await createProduct();
    const good = { customerId, items: [{ productId: p.id, quantity: 1 }], paymentToken: 'tok_visa' };

    expectProblem(await api('POST', '/orders', '{"customerId": ', { 'content-type': 'application/json' }), 400);
    expectProblem(await api('POST', '/orders', 'customerId=1', { 'content-type': 'text/plain' }), 415);

    const missing = await api('POST', '/orders', { customerId });
    expectProblem(missing, 400);
    expect(missing.body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(['/items', '/paymentToken']);

    const zero = await api('POST', '/orders', { ...good, items: [{ productId: p.id, quantity: 0 }] });
    expectProblem(zero, 400);
    expect(zero.body.errors).toEqual([{ pointer: '/items/0/quantity', detail: expect.stringMatching(/>=\s*1|at least|too small/i) }]);

    expectProblem(await api('POST', '/orders', { ...good, items: [] }), 400);
    expectProblem(await api('POST', '/orders', { ...good, customerId: 'bob' }), 400);
    expectProblem(await api('POST', '/orders', { ...good, totalCents: 1 }), 400); // a client never sets a price
    expectProblem(await api('POST', '/orders', { ...good, items: [{ productId: p.id, quantity: 1.5 }] }), 400);
    expectProblem(await api('POST', '/orders', { ...good, items: [good.items[0], good.items[0]] }), 400);

    const unknown = await api('POST', '/orders', { ...good, items: [good.items[0], { productId: randomUUID(), quantity: 1 }] });
    expectProblem(unknown, 422);
    expect(unknown.body.errors).toEqual([{ pointer: '/items/1/productId', detail: 'unknown product' }]);

    const token = await api('POST', '/orders', { ...good, paymentToken: 'tok_mystery' });
    expectProblem(token, 422);
    expect(token.body.errors).toEqual([{ pointer: '/paymentToken', detail: 'unknown payment token' }]);

    expect(await ordersOf(customerId)).toBe(0);
  });

  it('refuses bad paths, queries and updates', async () => {
    expectProblem(await api('GET', '/orders/not-a-uuid'), 400);
    expectProblem(await api('GET', `/orders/${randomUUID()}`), 404);
    expectProblem(await api('GET', `/orders/${randomUUID()}/events`), 404);
    expectProblem(await api('DELETE', `/orders/${randomUUID()}`), 404);
    expectProblem(await api('GET', '/orders?limit=0'), 400);
    expectProblem(await api('GET', '/orders?status=LOST'), 400);
    expectProblem(await api('GET', '/orders?cursor=garbage'), 400);
    expectProblem(await api('PATCH', `/orders/${randomUUID()}`, { status: 'TELEPORTED' }), 400);
    expectProblem(await api('GET', '/payments?orderId=42'), 400);
    expect((await api('GET', '/nowhere')).status).toBe(404);
  });

  it('refuses bad products and impossible stock changes', async () => {
    expectProblem(await api('POST', '/products', { sku: 'has space', name: 'x', priceCents: 1, stock: 1 }), 400);
    expectProblem(await api('POST', '/products', { sku: 'OK-1', name: 'x', priceCents: -1, stock: 1 }), 400);
    const p = await createProduct({ stock: 3 });
    expectProblem(await api('POST', '/products', { sku: p.sku, name: 'again', priceCents: 1, stock: 1 }), 409);
    expectProblem(await api('PATCH', `/products/${p.id}`, {}), 400);
    expectProblem(await api('PATCH', `/products/${p.id}`, { stock: -1 }), 400);
    expect((await api('GET', `/products/${p.id}`)).body).toMatchObject({ stock: 3, version: 1 });
  });
});

describe('every request part is checked before anything is stored', () => {
  const pointers = (res: { body: any }) => res.body.errors.map((e: { pointer: string }) => e.pointer);

  it('refuses NUL, control characters and lone surrogates with a 400 naming the field, and stores nothing', async () => {
    const sku = `T-${randomUUID().slice(0, 8)}`;
    const product = (name: string) => ({ sku, name, priceCents: 100, stock: 1 });
    for (const name of ['nul\u0000inside', 'new\nline', 'bell\u0007', 'c1\u0085', 'lone \ud800 high', 'lone \udc00 low']) {
      const res = await api('POST', '/products', product(name));
      expectProblem(res, 400);
      expect(pointers(res), JSON.stringify(name)).toEqual(['/name']);
    }
    // The same refusal written as JSON escapes rather than raw characters.
    const escaped = await api('POST', '/products', `{"sku":"${sku}","name":"x\\u0000y","priceCents":1,"stock":1}`, { 'content-type': 'application/json' });
    expectProblem(escaped, 400);
    expect(pointers(escaped)).toEqual(['/name']);
    const lone = await api('POST', '/products', `{"sku":"${sku}","name":"x\\ud83dy","priceCents":1,"stock":1}`, { 'content-type': 'application/json' });
    expectProblem(lone, 400);
    expect(pointers(lone)).toEqual(['/name']);
    expect((await db('inventory').query('SELECT count(*)::int AS n FROM products WHERE sku = $1', [sku])).rows[0].n).toBe(0);

    const p = await createProduct();
    const customerId = customer();
    const order = await api('POST', '/orders', { customerId, items: [{ productId: p.id, quantity: 1 }], paymentToken: 'tok_\u0000visa' });
    expectProblem(order, 400);
    expect(pointers(order)).toEqual(['/paymentToken']);
    const update = await api('PATCH', `/products/${p.id}`, { name: 'ok\u001b[31m' });
    expectProblem(update, 400);
    expect(pointers(update)).toEqual(['/name']);
    expect((await api('GET', `/products/${p.id}`)).body).toMatchObject({ name: 'Test product', version: 1 });
    expect(await ordersOf(customerId)).toBe(0);

    const query = await api('GET', `/orders?customerId=${encodeURIComponent('\u0000')}`);
    expectProblem(query, 400);
    expect(pointers(query)).toEqual(['/customerId']);
    const path = await api('GET', `/orders/${encodeURIComponent('\u0001')}`);
    expectProblem(path, 400);
    expect(pointers(path)).toEqual(['/id']);
    const key = await api('POST', '/orders', { customerId, items: [{ productId: p.id, quantity: 1 }], paymentToken: 'tok_visa' }, { 'idempotency-key': 'caf\u00e9' });
    expectProblem(key, 400);
    expect(await ordersOf(customerId)).toBe(0);
  });

  it('refuses unknown fields in bodies and queries', async () => {
    const p = await createProduct();
    const unknown = await api('PATCH', `/products/${p.id}`, { name: 'fine', reserved: 0 });
    expectProblem(unknown, 400);
    expect(unknown.body.errors).toEqual([{ pointer: '', detail: expect.stringMatching(/reserved/) }]);
    const nested = await api('POST', '/orders', { customerId: customer(), items: [{ productId: p.id, quantity: 1, priceCents: 1 }], paymentToken: 'tok_visa' });
    expectProblem(nested, 400);
    expect(pointers(nested)).toEqual(['/items/0']);
    for (const [path, name] of [
      ['/orders?sort=asc', 'sort'],
      ['/products?offset=10', 'offset'],
      ['/payments?limit=5&evil=1', 'evil'],
      ['/queues/order_queue/dead-letters?all=true', 'all'],
      [`/orders/${randomUUID()}?expand=items`, 'expand'],
      [`/products/${p.id}?fields=name`, 'fields'],
      ['/health?verbose=1', 'verbose'],
      ['/stats/orders?since=1', 'since'],
    ]) {
      const res = await api('GET', path!);
      expectProblem(res, 400);
      expect(res.body.errors, path).toEqual([{ pointer: `/${name}`, detail: expect.stringContaining(`"${name}"`) }]);
    }
  });

  it('answers 400 for JSON nested past 32 levels, even 30,000 deep', async () => {
    const deep = await api('POST', '/orders', '['.repeat(30_000) + ']'.repeat(30_000), { 'content-type': 'application/json' });
    expectProblem(deep, 400);
    expect(deep.body.errors).toEqual([{ pointer: '/0'.repeat(32), detail: 'nested deeper than 32 levels' }]);
  });

  it('answers 413 for a body over the application limit, and stores nothing', async () => {
    const customerId = customer();
    const big = { customerId, items: [{ productId: randomUUID(), quantity: 1 }], paymentToken: 'tok_visa', padding: 'x'.repeat(70 * 1024) };
    const res = await api('POST', '/orders', big);
    expectProblem(res, 413);
    expect(res.body.detail).toMatch(/65536/);
    expectProblem(await api('POST', '/products', { sku: 'BIG-1', name: 'é'.repeat(40 * 1024), priceCents: 1, stock: 1 }), 413);
    expect(await ordersOf(customerId)).toBe(0);
  });

  it('answers 400 for a cursor that decodes to the wrong types, on every list', async () => {
    const forged = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
    for (const list of ['/orders', '/payments', '/products']) {
      for (const key of [[{}, []], [1, 2], ['2026-01-01T00:00:00Z', 'not-a-uuid'], ['x'], 'x']) {
        const res = await api('GET', `${list}?cursor=${forged(key)}`);
        expectProblem(res, 400);
        expect(res.body.errors, `${list} ${JSON.stringify(key)}`).toEqual([{ pointer: '/cursor', detail: 'invalid cursor' }]);
      }
    }
  });

  it('answers 400 for ids that are not UUIDs and for broken percent-encoding, never 500', async () => {
    for (const [method, path] of [
      ['GET', '/orders/%E0%A4%A'],
      ['GET', '/orders/%'],
      ['GET', '/products/12345'],
      ['PATCH', '/products/%00'],
      ['DELETE', '/orders/%2F'],
      ['GET', '/orders/%ZZ/events'],
    ] as const) {
      const res = await api(method, path, method === 'PATCH' ? { name: 'x' } : undefined);
      expectProblem(res, 400);
    }
  });
});

describe('Idempotency-Key on POST /orders', () => {
  it('answers a retry with the same order and creates nothing', async () => {
    const p = await createProduct();
    const customerId = customer();
    const body = { customerId, items: [{ productId: p.id, quantity: 2 }], paymentToken: 'tok_visa' };
    const key = { 'idempotency-key': randomUUID() };
    const first = await api('POST', '/orders', body, key);
    const again = await api('POST', '/orders', body, key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await ordersOf(customerId)).toBe(1);

    const different = await api('POST', '/orders', { ...body, items: [{ productId: p.id, quantity: 3 }] }, key);
    expectProblem(different, 422);
    expect(await ordersOf(customerId)).toBe(1);
  });

  it('creates one order when the same key races itself', async () => {
    const p = await createProduct({ stock: 100 });
    const customerId = customer();
    const body = { customerId, items: [{ productId: p.id, quantity: 1 }], paymentToken: 'tok_visa' };
    const key = { 'idempotency-key': randomUUID() };
    const all = await Promise.all(Array.from({ length: 10 }, () => api('POST', '/orders', body, key)));
    expect(all.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(new Set(all.map((r) => r.body.id)).size).toBe(1);
    expect(await ordersOf(customerId)).toBe(1);
  });
});

describe('listing', () => {
  it('pages through a customer\'s orders with a cursor and filters by status', async () => {
    const p = await createProduct({ stock: 50 });
    const customerId = customer();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await api('POST', '/orders', { customerId, items: [{ productId: p.id, quantity: 1 }], paymentToken: 'tok_visa' })).body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await api('GET', `/orders?customerId=${customerId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((o: { id: string }) => o.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const failed = await api('GET', `/orders?customerId=${customerId}&status=FAILED`);
    expect(failed.body).toEqual({ items: [], nextCursor: null });
  });
});

describe('CORS, as the HTTP API is configured for the dashboard', () => {
  it('answers preflights and exposes the headers clients need', async () => {
    const origin = 'http://127.0.0.1:3000';
    const preflight = await fetch(`${system().httpUrl}/orders`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,idempotency-key' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('idempotency-key');

    const res = await fetch(`${system().httpUrl}/products?limit=1`, { headers: { origin } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toContain('location');
  });
});

