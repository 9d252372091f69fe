import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ROUTES } from '../../functions/catalog';
import type { RouteKey } from '../../functions/catalog';
import { auditEntry } from '../../shared/audit/entry';
import { appendAudit } from '../../shared/audit/store';
import type { AuditRow } from '../../shared/audit/store';
import { verifyAudit } from '../../shared/audit/verify';
import type { Principal } from '../../shared/auth/principal';
import { DEFAULTS, SERVICES, databaseName, withDatabase } from '../../shared/config';
import type { ServiceName } from '../../shared/config';
import { migrateService } from '../../shared/db/migrate';
import { freshNamespace } from '../support/runtime-process';
import { api, as, closeTestClients, db, system, waitFor, waitForStatus } from '../support/system';

/**
 * The audit trail against the suite's runtime: every state-changing route records who, what,
 * when, from where, the outcome and the correlation id, in the database that changed, exactly when
 * the change happened; GET /audit reads it across the databases; the chains stay whole under
 * concurrent writers, and `npm run audit -- verify` finds an entry edited behind the application's
 * back. Each test acts as people of its own (fresh subjects), so entries other files write meanwhile
 * never enter its counts.
 */

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const operator: Principal = { sub: randomUUID(), role: 'operator' };
const customer: Principal = { sub: randomUUID(), role: 'customer' };

afterAll(closeTestClients);

/** The stored row (the change read as JSON the tests look into). */
type Row = Omit<AuditRow, 'change'> & { change: any };

const entriesFor = async (service: ServiceName, target: string) =>
  (await db(service).query<Row>('SELECT * FROM audit_log WHERE $1 = ANY(targets) ORDER BY at, seq', [target])).rows;
const entriesBy = async (service: ServiceName, subject: string) =>
  (await db(service).query<Row>('SELECT * FROM audit_log WHERE subject = $1 ORDER BY at, seq', [subject])).rows;

/** A request as `who`, with a correlation id of the test's own. */
async function call(who: Principal, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const correlationId = `audit-${randomUUID()}`;
  const res = await api(method, path, body, { ...(await as(who)), 'x-correlation-id': correlationId, ...headers });
  return { ...res, correlationId };
}

async function newProduct(stock = 10) {
  const res = await call(operator, 'POST', '/products', { sku: `AU-${randomUUID().slice(0, 8)}`, name: 'Audited lamp', priceCents: 1000, stock, lowStockThreshold: 2 });
  expect(res.status).toBe(201);
  await waitFor(async () => (await db('order').query('SELECT 1 FROM catalog_products WHERE id = $1', [res.body.id])).rowCount, 'the catalog copy');
  return res;
}

const order = (who: Principal, productId: string, headers: Record<string, string> = {}) =>
  call(who, 'POST', '/orders', { items: [{ productId, quantity: 1 }], paymentToken: 'tok_visa' }, headers);

/** Who, when, where and the correlation id, as every entry must carry them. */
function expectStamped(row: Row, who: Principal, correlationId: string, started: number) {
  expect(row.subject).toBe(who.sub);
  expect(row.role).toBe(who.role);
  expect(row.source).toMatch(/127\.0\.0\.1|::1/);
  expect(row.correlation_id).toBe(correlationId);
  expect(row.at.getTime()).toBeGreaterThanOrEqual(started - 1_000);
  expect(row.at.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
}

/**
 * Every state-changing route of the catalog, with what its entry records. Typed by the catalog: a
 * new route that is not a GET does not compile until it is covered here. The redrive is covered in
 * test/integration/operations.test.ts, in a runtime of its own: redriving this suite's DLQs would
 * take other files' parked messages.
 */
type Command = Exclude<RouteKey, `GET ${string}` | typeof ROUTES.redriveQueue>;
const COVERED: Record<Command, true> = {
  [ROUTES.createProduct]: true,
  [ROUTES.updateProduct]: true,
  [ROUTES.createOrder]: true,
  [ROUTES.cancelOrder]: true,
  [ROUTES.updateOrder]: true,
  [ROUTES.rebuildProjection]: true,
  [ROUTES.startReplay]: true,
};

describe('every change a person makes is recorded, in the database that changed', () => {
  let productId: string;

  it('covers every state-changing route of the catalog', () => {
    const commands = Object.values(ROUTES).filter((r) => !r.startsWith('GET ') && r !== ROUTES.redriveQueue);
    expect(Object.keys(COVERED).sort()).toEqual(commands.sort());
  });

  it('products: created (what was set) and edited (before and after of the stock, price and threshold), by whom, from where', async () => {
    const started = Date.now();
    const created = await newProduct();
    productId = created.body.id;
    const edit = await call(operator, 'PATCH', `/products/${productId}`, { stock: 25, priceCents: 1500, lowStockThreshold: 5 });
    expect(edit.status).toBe(200);

    const rows = await entriesFor('inventory', productId);
    expect(rows.map((r) => [r.route, r.status])).toEqual([
      ['POST /products', 201],
      ['PATCH /products/{id}', 200],
    ]);
    expectStamped(rows[0]!, operator, created.correlationId, started);
    expectStamped(rows[1]!, operator, edit.correlationId, started);
    expect(rows[0]!.targets).toEqual([productId]);
    expect(rows[0]!.change).toEqual({ after: { sku: created.body.sku, name: 'Audited lamp', priceCents: 1000, stock: 10, lowStockThreshold: 2 } });
    expect(rows[1]!.change).toEqual({ before: { priceCents: 1000, stock: 10, lowStockThreshold: 2 }, after: { priceCents: 1500, stock: 25, lowStockThreshold: 5 } });
    // Nowhere else.
    for (const s of ['order', 'payment'] as const) expect(await entriesFor(s, productId)).toEqual([]);
  });

  it('orders: placed by a customer (201), moved by an operator, cancelled by its customer; each with its before and after', async () => {
    const started = Date.now();
    const placed = await order(customer, productId);
    expect(placed.status).toBe(201);
    await waitForStatus(placed.body.id, ['CONFIRMED']);
    const moved = await call(operator, 'PATCH', `/orders/${placed.body.id}`, { status: 'PROCESSING' });
    expect(moved.status).toBe(200);
    const second = await order(customer, productId);
    const cancelled = await call(customer, 'DELETE', `/orders/${second.body.id}`);
    expect(cancelled.status).toBe(200);

    const first = await entriesFor('order', placed.body.id);
    expect(first.map((r) => [r.route, r.status, r.subject])).toEqual([
      ['POST /orders', 201, customer.sub],
      ['PATCH /orders/{id}', 200, operator.sub],
    ]);
    expectStamped(first[0]!, customer, placed.correlationId, started);
    expectStamped(first[1]!, operator, moved.correlationId, started);
    expect(first[0]!.change).toEqual({ after: { status: 'PENDING', customerId: customer.sub, totalCents: placed.body.totalCents, currency: placed.body.currency, lines: 1 } });
    expect(first[1]!.change).toEqual({ before: { status: 'CONFIRMED' }, after: { status: 'PROCESSING' } });

    const other = await entriesFor('order', second.body.id);
    expect(other.map((r) => r.route)).toEqual(['POST /orders', 'DELETE /orders/{id}']);
    expectStamped(other[1]!, customer, cancelled.correlationId, started);
    expect(other[1]!.change.after).toEqual({ status: 'CANCELLED' });
    expect(['PENDING', 'CONFIRMED']).toContain(other[1]!.change.before.status);
  });

  it('history: a rebuild and a replay requested by an operator, in the database that keeps the run; one refused as a second run records nothing', async () => {
    const who: Principal = { sub: randomUUID(), role: 'operator' };
    const started = Date.now();
    const check = await call(who, 'POST', '/history/projections/orders/rebuild', { mode: 'check' });
    expect(check.status).toBe(202);
    const again = await call(who, 'POST', '/history/projections/orders/rebuild', { mode: 'check' });
    // A window with no events: the worker replays nothing into the running consumer.
    const replay = await call(who, 'POST', '/history/replays', { service: 'payment', from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z', queue: 'order_queue' });
    expect(replay.status).toBe(202);

    const rebuilds = await entriesBy('order', who.sub);
    // The second request either found the first still active (409: nothing recorded) or, if it had finished already, started one of its own.
    expect(rebuilds).toHaveLength(again.status === 409 ? 1 : 2);
    expect(rebuilds[0]).toMatchObject({ route: 'POST /history/projections/{projection}/rebuild', targets: ['orders'], status: 202 });
    expect(rebuilds[0]!.change).toEqual({ request: { mode: 'check' }, run: check.body.run.id });
    expectStamped(rebuilds[0]!, who, check.correlationId, started);
    const replays = await entriesBy('payment', who.sub);
    expect(replays).toHaveLength(1);
    expect(replays[0]).toMatchObject({ route: 'POST /history/replays', targets: ['order_queue'], status: 202 });
    expect(replays[0]!.change.run).toBe(replay.body.run.id);
    expectStamped(replays[0]!, who, replay.correlationId, started);
  });

  it('a refused request changed nothing and records nothing; neither does a replayed Idempotency-Key', async () => {
    const who: Principal = { sub: randomUUID(), role: 'customer' };
    const placed = await order(who, productId);
    const cancelled = await call(who, 'DELETE', `/orders/${placed.body.id}`);
    expect(cancelled.status).toBe(200);
    const before = await entriesBy('order', who.sub);
    expect(before).toHaveLength(2);

    const refusals = [
      await call(who, 'DELETE', `/orders/${placed.body.id}`), // 409: already cancelled
      await call(operator, 'PATCH', `/orders/${placed.body.id}`, { status: 'SHIPPED' }), // 409: not a step from CANCELLED
      await call(who, 'PATCH', `/orders/${placed.body.id}`, { status: 'PROCESSING' }), // 403: operators only
      await call(who, 'POST', '/orders', { items: [{ productId: randomUUID(), quantity: 1 }], paymentToken: 'tok_visa' }), // 422
      await call(who, 'POST', '/orders', { items: [], paymentToken: 'tok_visa' }), // 400
      await call(who, 'POST', '/orders', { customerId: randomUUID(), items: [{ productId, quantity: 1 }], paymentToken: 'tok_visa' }), // 403
      await call(operator, 'PATCH', `/products/${randomUUID()}`, { stock: 1 }), // 404
      await call(operator, 'PATCH', `/products/${productId}`, {}), // 400
    ];
    expect(refusals.map((r) => r.status)).toEqual([409, 409, 403, 422, 400, 403, 404, 400]);
    expect(await entriesBy('order', who.sub)).toEqual(before);
    expect((await entriesFor('order', placed.body.id)).map((r) => r.route)).toEqual(['POST /orders', 'DELETE /orders/{id}']);
    expect((await entriesFor('inventory', productId)).filter((r) => r.at.getTime() > before[1]!.at.getTime())).toEqual([]);

    // One key, five requests at once, then once more: one order, one entry.
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 5 }, () => order(who, productId, { 'idempotency-key': key })));
    const again = await order(who, productId, { 'idempotency-key': key });
    const ids = new Set([...answers, again].map((a) => a.body.id));
    expect(ids.size).toBe(1);
    expect(answers.every((a) => a.status === 201)).toBe(true);
    const [orderId] = [...ids] as [string];
    expect((await entriesFor('order', orderId)).map((r) => r.route)).toEqual(['POST /orders']);
    expect(await entriesBy('order', who.sub)).toHaveLength(3);
  });

  it('entries exist exactly when changes do: one per order placed in a burst, the chains whole', async () => {
    const who: Principal = { sub: randomUUID(), role: 'customer' };
    const answers = await Promise.all(Array.from({ length: 30 }, () => order(who, productId)));
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(201));
    const { rows: orders } = await db('order').query<{ id: string }>('SELECT id FROM orders WHERE customer_id = $1 ORDER BY id', [who.sub]);
    const rows = await entriesBy('order', who.sub);
    expect(rows.map((r) => r.targets[0]).sort()).toEqual(orders.map((o) => o.id));
    expect(orders).toHaveLength(30);
    const report = await verifyAudit(db('order'));
    expect(report.breaks).toEqual([]);
    expect(report.entries).toBeGreaterThanOrEqual(30);
  });
});

describe('one chain, many writers', () => {
  it('appends from concurrent transactions take turns: every seq once, each entry linked to the one before', async () => {
    const pool = new pg.Pool({ connectionString: withDatabase(process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl, databaseName('order', system().namespace)), max: 8 });
    try {
      // One target: one chain, so all of them contend for its head.
      const target = `contended-${randomUUID()}`;
      const actor = { subject: `writer-${randomUUID()}`, role: 'operator', source: null, correlationId: 'concurrency' };
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = 0; i < 25; i++) {
            const client = await pool.connect();
            try {
              await client.query('BEGIN');
              await appendAudit(client, auditEntry(actor, { route: 'TEST append', targets: [target], status: 200 }));
              // Holding the head a moment makes the others queue behind it.
              if (i % 5 === 0) await client.query('SELECT pg_sleep(0.005)');
              await client.query('COMMIT');
            } finally {
              client.release();
            }
          }
        }),
      );
      const { rows } = await pool.query<{ chain: number; seq: number }>('SELECT chain, seq FROM audit_log WHERE $1 = ANY(targets) ORDER BY seq', [target]);
      expect(rows).toHaveLength(200);
      expect(new Set(rows.map((r) => r.chain)).size).toBe(1);
      expect(new Set(rows.map((r) => Number(r.seq))).size).toBe(200);
      expect((await verifyAudit(pool)).breaks).toEqual([]);

      // A transaction that rolls back leaves no entry and no mark on the chain.
      const head = (await pool.query('SELECT seq, hash FROM audit_heads WHERE chain = $1', [rows[0]!.chain])).rows[0];
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await appendAudit(client, auditEntry(actor, { route: 'TEST rolled back', targets: [target], status: 200 }));
        await client.query('ROLLBACK');
      } finally {
        client.release();
      }
      expect((await pool.query('SELECT seq, hash FROM audit_heads WHERE chain = $1', [rows[0]!.chain])).rows[0]).toEqual(head);
      expect((await pool.query("SELECT 1 FROM audit_log WHERE route = 'TEST rolled back' AND $1 = ANY(targets)", [target])).rowCount).toBe(0);
    } finally {
      await pool.end();
    }
  });
});

describe('GET /audit', () => {
  const who: Principal = { sub: randomUUID(), role: 'operator' };
  let productId: string;
  let orderId: string;
  let middle: string;

  beforeAll(async () => {
    // Entries in two databases by one person: a product (inventory), then orders it placed and moved (order).
    productId = (await call(who, 'POST', '/products', { sku: `AQ-${randomUUID().slice(0, 8)}`, name: 'Queried', priceCents: 700, stock: 50 })).body.id;
    await waitFor(async () => (await db('order').query('SELECT 1 FROM catalog_products WHERE id = $1', [productId])).rowCount, 'the catalog copy');
    for (let i = 0; i < 5; i++) {
      const placed = await call(who, 'POST', '/orders', { customerId: randomUUID(), items: [{ productId, quantity: 1 }], paymentToken: 'tok_visa' });
      orderId = placed.body.id;
      if (i === 2) middle = new Date().toISOString();
    }
    await waitForStatus(orderId, ['CONFIRMED']);
    await call(who, 'PATCH', `/orders/${orderId}`, { status: 'PROCESSING' });
    await call(who, 'PATCH', `/products/${productId}`, { priceCents: 800 });
  });

  const list = async (query: string) => {
    const res = await call(operator, 'GET', `/audit?${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as { items: { id: string; at: string; service: string; route: string; targets: string[]; subject: string; change: any; status: number }[]; nextCursor: string | null };
  };

  it("one person's entries across the databases, newest first, each naming its database", async () => {
    const { items, nextCursor } = await list(`subject=${who.sub}&limit=100`);
    expect(nextCursor).toBeNull();
    expect(items.map((e) => [e.service, e.route])).toEqual([
      ['inventory', 'PATCH /products/{id}'],
      ['order', 'PATCH /orders/{id}'],
      ...Array(5).fill(['order', 'POST /orders']),
      ['inventory', 'POST /products'],
    ]);
    const keys = items.map((e) => `${e.at} ${e.id}`);
    expect(keys).toEqual([...keys].sort().reverse());
    expect(items[0]!.change).toEqual({ before: { priceCents: 700 }, after: { priceCents: 800 } });
  });

  it('by target, by route, by time', async () => {
    expect((await list(`target=${orderId}`)).items.map((e) => e.route)).toEqual(['PATCH /orders/{id}', 'POST /orders']);
    expect((await list(`target=${productId}`)).items.map((e) => e.route)).toEqual(['PATCH /products/{id}', 'POST /products']);
    const routed = await list(`subject=${who.sub}&route=${encodeURIComponent('POST /orders')}&limit=100`);
    expect(routed.items).toHaveLength(5);
    const later = await list(`subject=${who.sub}&from=${encodeURIComponent(middle)}&limit=100`);
    const earlier = await list(`subject=${who.sub}&to=${encodeURIComponent(middle)}&limit=100`);
    expect(later.items.length + earlier.items.length).toBe(8);
    expect(later.items.every((e) => e.at >= middle)).toBe(true);
    expect(earlier.items.every((e) => e.at < middle)).toBe(true);
    expect(earlier.items.at(-1)!.route).toBe('POST /products');
  });

  it('cursor pages give every entry once, in order, across the databases', async () => {
    const whole = (await list(`subject=${who.sub}&limit=100`)).items.map((e) => e.id);
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof list>> = await list(`subject=${who.sub}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(3);
      paged.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(whole);
  });

  it('refuses what it cannot answer with a problem naming the field', async () => {
    const bad = async (query: string, pointer: string) => {
      const res = await call(operator, 'GET', `/audit?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer), query).toContain(pointer);
    };
    await bad('cursor=nope', '/cursor');
    await bad('from=yesterday', '/from');
    await bad(`from=${encodeURIComponent('2030-01-02T00:00:00Z')}&to=${encodeURIComponent('2030-01-01T00:00:00Z')}`, '/to');
    await bad('limit=0', '/limit');
    await bad('who=me', '/who');
    expect((await call(customer, 'GET', '/audit')).status).toBe(403);
  });
});

describe('npm run audit -- verify', () => {
  let namespace: string;
  const admin = () => new pg.Client({ connectionString: process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl });
  const url = (service: ServiceName) => withDatabase(process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl, databaseName(service, namespace));
  let pool: pg.Pool;

  beforeAll(async () => {
    // Databases of its own: the entries this test tampers with must not break anyone else's chain.
    namespace = freshNamespace('audit');
    for (const s of SERVICES) await migrateService(s, url(s));
    pool = new pg.Pool({ connectionString: url('inventory'), max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    const client = admin();
    await client.connect();
    for (const s of SERVICES) await client.query(`DROP DATABASE IF EXISTS "${databaseName(s, namespace)}" WITH (FORCE)`);
    await client.end();
  });

  const verify = async () => {
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'local/audit.ts', 'verify'], { cwd: root, env: { ...process.env, EVENTFLOW_NAMESPACE: namespace } });
      return { code: 0, stdout };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout + e.stderr };
    }
  };

  it('passes an intact trail, refuses edits through the application, and fails at the very entry edited behind its back', async () => {
    const actor = { subject: 'ops@example.com', role: 'operator', source: '198.51.100.4', correlationId: 'verify' };
    const target = randomUUID();
    const ids: string[] = [];
    for (let stock = 1; stock <= 5; stock++) {
      const e = auditEntry(actor, { route: 'PATCH /products/{id}', targets: [target], change: { before: { stock: stock - 1 }, after: { stock } }, status: 200 });
      ids.push(e.id);
      await appendAudit(pool, e);
    }
    for (let i = 0; i < 5; i++) await appendAudit(pool, auditEntry(actor, { route: 'POST /products', targets: [randomUUID()], change: { after: { stock: i } }, status: 201 }));

    const intact = await verify();
    expect(intact.stdout).toMatch(new RegExp(`${databaseName('inventory', namespace)}: 10 entries in \\d+ chain\\(s\\): intact`));
    expect(intact.code).toBe(0);

    // The table refuses changes, whoever asks.
    await expect(pool.query('UPDATE audit_log SET status = 500 WHERE id = $1', [ids[2]])).rejects.toMatchObject({ code: '42501' });
    await expect(pool.query('DELETE FROM audit_log WHERE id = $1', [ids[2]])).rejects.toMatchObject({ code: '42501' });
    await expect(pool.query('TRUNCATE audit_log')).rejects.toMatchObject({ code: '42501' });

    // A superuser who switches the guard off and edits the third entry's change: verify names it.
    const { rows } = await pool.query<{ chain: number; seq: number }>('SELECT chain, seq FROM audit_log WHERE id = $1', [ids[2]]);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SET LOCAL session_replication_role = 'replica'");
      await client.query(`UPDATE audit_log SET change = '{"before":{"stock":2},"after":{"stock":300}}' WHERE id = $1`, [ids[2]]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const tampered = await verify();
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain(`chain ${rows[0]!.chain}, entry ${rows[0]!.seq} (${ids[2]}): its contents do not match its hash`);
    expect(tampered.stdout).toMatch(new RegExp(`${databaseName('inventory', namespace)}: .*1 broken`));
    expect(tampered.stdout).toMatch(new RegExp(`${databaseName('order', namespace)}: 0 entries in 0 chain\\(s\\): intact`));
  });

  it('finds entries removed from the middle or the end of a chain', async () => {
    // Another database than the one the test before left broken.
    const ns = new pg.Pool({ connectionString: url('payment'), max: 2 });
    onTestFinished(() => ns.end());
    const actor = { subject: 'ops@example.com', role: 'operator', source: null, correlationId: 'removal' };
    const target = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const e = auditEntry(actor, { route: 'TEST', targets: [target], status: 200 });
      ids.push(e.id);
      await appendAudit(ns, e);
    }
    const chainOfTarget = (await ns.query<{ chain: number }>('SELECT chain FROM audit_log WHERE id = $1', [ids[0]])).rows[0]!.chain;
    const remove = async (id: string) => {
      const client = await ns.connect();
      try {
        await client.query('BEGIN');
        await client.query("SET LOCAL session_replication_role = 'replica'");
        await client.query('DELETE FROM audit_log WHERE id = $1', [id]);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    };
    const breakOf = async () => (await verifyAudit(ns)).breaks.find((b) => b.chain === chainOfTarget);
    await remove(ids[3]!);
    expect((await breakOf())?.problem).toMatch(/removed from its end/);
    await remove(ids[1]!);
    expect(await breakOf()).toMatchObject({ id: ids[2], problem: expect.stringMatching(/missing before it/) });
  });
});
