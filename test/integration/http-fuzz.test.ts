import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../functions/catalog';
import { SERVICES } from '../../shared/config';
import type { ServiceName } from '../../shared/config';
import { UNTHROTTLED_ENV } from '../../shared/http/rate-limits';
import { connectAmqp } from '../../shared/messaging/broker';
import { DEFAULTS, brokerName } from '../../shared/config';
import { dlqOf } from '../../shared/messaging/topology';
import { sequenceLog } from '../../shared/messaging/event-log';
import { QUEUES, deploymentLayout, partitionQueues } from '../../functions/topology';
import type { QueueId } from '../../functions/topology';
import { mintAccessToken } from '../../local/auth/tokens';
import { startIsolatedSystem } from '../support/isolated-system';
import { PATIENT_HTTP_ENV } from '../support/runtime-process';
import type { IsolatedSystem } from '../support/isolated-system';

/**
 * Generated requests to every route of the catalog (a new route is fuzzed without asking): bodies,
 * headers, query strings and path parameters, signed in and not. Whatever comes in, the answer is
 * never a 5xx, an error is always problem+json, and a refused request changes nothing: row counts
 * in every table of every service database and the depth of every queue are the same before and
 * after each batch. Requests are built to be refused (valid bodies with one field broken, garbage),
 * except reads, which may succeed and change nothing either.
 *
 * A runtime of its own: no other test's orders move the counts, and the rate limits are raised so
 * that what is checked is the input rules, not the limits (test/integration/rate-limit.test.ts).
 * Likewise the wait for an environment: a batch of 50 puts up to twenty-odd requests on the order
 * API at once, several deep on its four environments (twice two cores) and, in the first batch, behind
 * their cold starts, on a machine other test files share. Past the default 1 s bound those would
 * be throttled, a 503 that answers capacity, not input; so they wait instead (PATIENT_HTTP_ENV).
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 50);
const BATCH = Number(process.env.FUZZ_BATCH ?? 50);

let sys: IsolatedSystem;
let productId: string;
let tokens: { customer: string; operator: string; expired: string; stranger: string };
let snapshotQueries: Record<ServiceName, string>;
let amqp: Awaited<ReturnType<typeof connectAmqp>> | undefined;

beforeAll(async () => {
  sys = await startIsolatedSystem({ ...UNTHROTTLED_ENV, ...PATIENT_HTTP_ENV });
  amqp = await connectAmqp(process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl);
  const issuer = sys.issuerUrl;
  const operatorSub = randomUUID();
  tokens = {
    customer: await mintAccessToken({ sub: randomUUID(), role: 'customer', issuer }),
    operator: await mintAccessToken({ sub: operatorSub, role: 'operator', issuer }),
    expired: await mintAccessToken({ sub: randomUUID(), role: 'customer', issuer, expiresInSeconds: -600 }),
    stranger: await mintAccessToken({ sub: randomUUID(), role: 'operator', issuer: 'http://127.0.0.1:9/elsewhere' }),
  };
  // One product, so that some generated requests name a real one.
  const res = await fetch(`${sys.httpUrl}/products`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.operator}` },
    body: JSON.stringify({ sku: `FUZZ-${randomUUID().slice(0, 8)}`, name: 'Fuzz target', priceCents: 500, stock: 10 }),
  });
  if (res.status !== 201) throw new Error(`product not created: ${res.status} ${await res.text()}`);
  productId = ((await res.json()) as { id: string }).id;
  await sys.until(async () => (await sys.db('order').query('SELECT 1 FROM catalog_products WHERE id = $1', [productId])).rowCount, 'the order service to learn of the product');

  // Every table of every service database, counted in one statement per database.
  snapshotQueries = {} as Record<ServiceName, string>;
  for (const service of SERVICES) {
    const { rows } = await sys.db(service).query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, relname) AS name FROM pg_stat_user_tables ORDER BY 1`,
    );
    snapshotQueries[service] = rows.map((r) => `SELECT '${r.name}' AS t, count(*)::int AS n FROM ${r.name}`).join(' UNION ALL ');
  }
  // Wait until what the product set off has settled.
  let last = '';
  await sys.until(async () => {
    const now = JSON.stringify(await snapshot());
    const settled = now === last;
    last = now;
    await new Promise((r) => setTimeout(r, 500));
    return settled;
  }, 'the system to settle after the product was created');
  // Number what the product set off in each event log now: the scheduled relay (or a read of the
  // log) would otherwise do it in the middle of some batch, a change no request made.
  for (const service of SERVICES) await sequenceLog(sys.db(service));
}, 180_000);

afterAll(async () => {
  await amqp?.close();
  await sys?.stop();
});

async function snapshot() {
  const counts: Record<string, number> = {};
  for (const service of SERVICES) {
    for (const row of (await sys.db(service).query<{ t: string; n: number }>(snapshotQueries[service])).rows) counts[`${service}:${row.t}`] = row.n;
  }
  const channel = await amqp!.createChannel();
  try {
    const layout = deploymentLayout();
    for (const id of Object.keys(QUEUES) as QueueId[]) {
      const queues = partitionQueues(id, sys.namespace, layout);
      for (const q of [...queues, dlqOf(brokerName(QUEUES[id].name, sys.namespace))]) counts[`queue:${q}`] = (await channel.checkQueue(q)).messageCount;
    }
  } finally {
    await channel.close();
  }
  return counts;
}

// ---- what is generated ----

/** Characters that have broken parsers and databases before, among ordinary ones. */
const nasty = fc.constantFrom('\u0000', '\u0001', '\u001b', '\n', '\r', '\t', '\u007f', '\u0085', '\ud800', '\udfff', '\ufeff', '\u202e', '\uffff', '"', "'", '\\', '%', '/', '?', '#', '&', '=', '+', ';', ',', '{', '}', '[', ']', '..', '😀', 'é', ' ');
const unit = fc.oneof({ arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 3 }, { arbitrary: nasty, weight: 2 });
const text = fc.string({ unit, maxLength: 40 });
/** Text with at least one character no field accepts. */
const badText = fc.tuple(text, fc.constantFrom('\u0000', '\u0007', '\n', '\u007f', '\u009b', '\ud800', '\udc00'), text).map(([a, b, c]) => a + b + c);

const uuid = fc.uuid();

/** A path segment as a client could send it: percent-encoded, raw, or broken encoding. */
function encodeSegment(s: string): string {
  // "." and ".." are dot segments URLs remove, in any encoding: the request would not reach the route.
  if (s === '.' || s === '..') return `x${s}`;
  // Lone surrogates have no UTF-8: encode them as the bytes a careless client would (CESU-8).
  return [...s]
    .map((ch) => {
      const code = ch.charCodeAt(0);
      if (code >= 0xd800 && code <= 0xdfff && ch.length === 1) {
        return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
      }
      return encodeURIComponent(ch);
    })
    .join('');
}
const segment = (valid: fc.Arbitrary<string>) =>
  fc.oneof(
    valid,
    uuid,
    text.filter((s) => s.length > 0).map(encodeSegment),
    fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%2F', '%ED%A0%80', 'null', 'undefined', '-1', '0', '1e309', 'ORDER_QUEUE', 'order_queue.dlq'),
  );

function pathFor(template: string): fc.Arbitrary<string> {
  const params = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  const valid = (name: string) =>
    name === 'queue' ? fc.constantFrom(...Object.values(QUEUES).map((q) => q.name)) : fc.constantFrom(productId, randomUUID());
  return fc.tuple(...params.map((p) => segment(valid(p)))).map((values) => {
    let i = 0;
    return template.replace(/\{[^}]+\}/g, () => values[i++]!);
  });
}

// Mostly names some route takes, so that values get checked too (an unknown name is refused first).
const queryKey = fc.oneof({ arbitrary: fc.constantFrom('limit', 'cursor', 'status', 'customerId', 'orderId'), weight: 6 }, { arbitrary: text.filter((s) => s.length > 0), weight: 1 });
const queryValue = fc.oneof(
  text,
  uuid,
  fc.integer({ min: -5, max: 500 }).map(String),
  fc.constantFrom('CONFIRMED', 'LOST', '1.5', '1e2', '0x10', '', 'NaN', 'Infinity'),
  // Cursors of the wrong shape, as a client editing one would send them.
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')),
);
const queryString = fc.oneof(
  { arbitrary: fc.constant(''), weight: 4 },
  { arbitrary: fc.array(fc.tuple(queryKey, queryValue), { maxLength: 4 }).map((pairs) => {
    const q = new URLSearchParams(pairs);
    const s = q.toString();
    return s ? `?${s}` : '';
  }), weight: 4 },
  // Raw, including broken percent-encoding.
  { arbitrary: fc.constantFrom('?limit=%zz', '?cursor=%', '?%00=1', '?limit=1&limit=2', '?status=%E0%A4%A', '?&&&', '?=', '?limit'), weight: 1 },
);

/** A body that would be valid for the route, so that breaking one part of it tests that part. */
function template(routeKey: string): Record<string, unknown> | null {
  switch (routeKey) {
    case ROUTES.createOrder:
      return { customerId: randomUUID(), items: [{ productId, quantity: 1 }], paymentToken: 'tok_visa' };
    case ROUTES.createProduct:
      return { sku: `F-${randomUUID().slice(0, 8)}`, name: 'fuzzed', priceCents: 1, stock: 1, lowStockThreshold: 0 };
    case ROUTES.updateProduct:
      return { name: 'fuzzed', priceCents: 1, stock: 5 };
    case ROUTES.updateOrder:
      return { status: 'PROCESSING' };
    default:
      return null;
  }
}

/** Every JSON Pointer-like path into a value, as key lists. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...pathsOf(v, [...prefix, i])]);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
  return [];
}

function setAt(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  const copy: any = Array.isArray(value) ? [...value] : { ...(value as object) };
  copy[head!] = setAt(copy[head!], rest, replacement);
  return copy;
}

/** A valid body broken in one way no route accepts: an unknown field, a bad character, a wrong type. */
function brokenBody(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const paths = pathsOf(valid);
  const strings = paths.filter((p) => typeof p.reduce<any>((v, k) => v[k], valid) === 'string');
  return fc.oneof(
    fc.tuple(text, fc.jsonValue()).map(([k, v]) => ({ ...valid, [`x${k}`]: v })),
    fc.tuple(fc.constantFrom(...strings), badText).map(([p, s]) => setAt(valid, p, s)),
    fc.tuple(fc.constantFrom(...paths), fc.oneof(fc.constant(null), fc.boolean(), fc.dictionary(text, fc.jsonValue(), { maxKeys: 2 }), fc.constant([]))).map(([p, v]) =>
      setAt(valid, p, v),
    ),
  );
}

type Body = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; text: string } | { kind: 'bytes'; bytes: Uint8Array };

function bodyFor(routeKey: string): fc.Arbitrary<Body> {
  const valid = template(routeKey);
  const json = (a: fc.Arbitrary<unknown>) => a.map((value): Body => ({ kind: 'json', value }));
  return fc.oneof(
    { arbitrary: fc.constant<Body>({ kind: 'none' }), weight: 5 },
    { arbitrary: json(fc.jsonValue({ maxDepth: 3 })), weight: 10 },
    { arbitrary: fc.oneof(text, fc.constantFrom('{', '{"a":', '[1,]', 'null', '""', '{"__proto__":{"x":1}}', '{"a":1,"a":2}')).map((t): Body => ({ kind: 'raw', text: t })), weight: 5 },
    { arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): Body => ({ kind: 'bytes', bytes })), weight: 5 },
    // Nested far deeper than any body of ours, within the size limit.
    { arbitrary: fc.constantFrom('['.repeat(30_000) + ']'.repeat(30_000), '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)).map((t): Body => ({ kind: 'raw', text: t })), weight: 1 },
    // Over the body limit now and then.
    { arbitrary: fc.constant<Body>({ kind: 'raw', text: JSON.stringify({ pad: 'x'.repeat(70_000) }) }), weight: 2 },
    ...(valid ? [{ arbitrary: json(brokenBody(valid)), weight: 30 }] : []),
  );
}

const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/problem+json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'json', '', undefined);
const headerText = fc.string({ unit: fc.oneof(fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }).filter((c) => c >= ' ' && c !== '\u007f'), fc.constantFrom('\t', 'é', '\u00ff')), maxLength: 60 });
// Mostly signed in, so that most requests get past the authorizer to the handlers.
const auth = fc.constantFrom<keyof typeof tokens | 'none' | 'garbage' | 'basic'>(
  'operator', 'operator', 'operator', 'customer', 'customer', 'none', 'expired', 'stranger', 'garbage', 'basic',
);

interface Generated {
  routeKey: string;
  method: string;
  path: string;
  body: Body;
  /** Who signs the request: kept apart from the headers so that a counterexample stays readable. */
  auth: keyof typeof tokens | 'none' | 'garbage' | 'basic';
  headers: Record<string, string>;
}

const routeKeys = Object.values(ROUTES);

const request: fc.Arbitrary<Generated> = fc.constantFrom(...routeKeys).chain((routeKey) => {
  const [method, template] = routeKey.split(' ') as [string, string];
  return fc
    .record({
      path: pathFor(template),
      query: queryString,
      body: method === 'GET' ? fc.constant<Body>({ kind: 'none' }) : bodyFor(routeKey),
      contentType,
      auth,
      idempotencyKey: fc.option(fc.oneof(headerText, uuid), { nil: undefined }),
      correlationId: fc.option(headerText, { nil: undefined }),
    })
    .map(({ path, query, body, contentType: ct, auth: a, idempotencyKey, correlationId }) => {
      const headers: Record<string, string> = {};
      if (ct !== undefined) headers['content-type'] = ct;
      if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
      if (correlationId !== undefined) headers['x-correlation-id'] = correlationId;
      return { routeKey, method, path: path + query, body, auth: a, headers };
    });
});

async function send(r: Generated) {
  const body =
    r.body.kind === 'json' ? JSON.stringify(r.body.value) ?? 'null' : r.body.kind === 'raw' ? r.body.text : r.body.kind === 'bytes' ? r.body.bytes : undefined;
  const headers = { ...r.headers };
  if (r.auth === 'garbage') headers.authorization = 'Bearer not.a.token';
  else if (r.auth === 'basic') headers.authorization = 'Basic Zm9vOmJhcg==';
  else if (r.auth !== 'none') headers.authorization = `Bearer ${tokens[r.auth]}`;
  const res = await fetch(`${sys.httpUrl}${r.path}`, { method: r.method, headers, body });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), text };
}

/** What the answer to any request must be; returns why not, or null. */
function violation(r: Generated, res: { status: number; contentType: string | null; text: string }): string | null {
  if (res.status >= 500) return `answered ${res.status}`;
  if (res.status < 400) {
    if (r.method !== 'GET' && r.routeKey !== ROUTES.redriveQueue) return `a request built to be refused was accepted (${res.status})`;
    return null;
  }
  // API Gateway's own refusals (its JWT authorizer) are not ours to shape: {"message": …}.
  if ((res.status === 401 || res.status === 403) && res.contentType?.startsWith('application/json')) {
    return typeof JSON.parse(res.text).message === 'string' ? null : 'a gateway refusal without its message';
  }
  if (res.contentType !== 'application/problem+json') return `error ${res.status} as ${res.contentType}`;
  const problem = JSON.parse(res.text);
  if (problem.status !== res.status || typeof problem.title !== 'string' || typeof problem.type !== 'string') return `a malformed problem: ${res.text}`;
  return null;
}

const describeRequest = (r: Generated) =>
  `${r.method} ${r.path} (auth: ${r.auth}) ${JSON.stringify(r.headers)} ${r.body.kind === 'json' ? JSON.stringify(r.body.value) : r.body.kind === 'raw' ? JSON.stringify(r.body.text.slice(0, 200)) : r.body.kind}`;

describe('every route, fuzzed', () => {
  it(`answers ${RUNS} batches of ${BATCH} generated requests without a 5xx, errors as problem+json, and refusals change nothing`, async () => {
    let sent = 0;
    let snapshotMs = 0;
    const started = Date.now();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        let t = Date.now();
        const before = await snapshot();
        snapshotMs += Date.now() - t;
        const answers = await Promise.all(batch.map(send));
        sent += batch.length;
        batch.forEach((r, i) => {
          const res = answers[i]!;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const why = violation(r, res);
          if (why) throw new Error(`${why}: ${describeRequest(r)} → ${res.status} ${res.text.slice(0, 300)}`);
        });
        t = Date.now();
        const after = await snapshot();
        snapshotMs += Date.now() - t;
        expect(after).toEqual(before);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    // Every route was reached, refusals of several kinds came back.
    expect(sent).toBe(RUNS * BATCH);
    // (413 is rarer: a path, query and token must pass before the body is read; test/integration/http-input.test.ts checks it.)
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([400, 401, 403, 404, 415]));
    console.log(`fuzz: ${sent} requests in ${Date.now() - started} ms (${snapshotMs} ms counting); statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
  }, 240_000);
});
