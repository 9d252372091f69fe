/**
 * `npm run bench:batch`: what a full batch costs each queue consumer, the figure that says how many
 * partitions a deployment needs (an Amazon MQ event source mapping runs one batch at a time, so a
 * partition's throughput is its batch size over the time a batch takes).
 *
 * N orders are written straight into the order database with their order.created in the outbox,
 * as order-api would have while the consumers were away, and published at once: every queue then
 * holds a backlog, so every consumer invocation gets a full batch. The runtime drains it; per
 * consumer this reports the events it handled, the CPU its environments spent per event and per
 * batch of 100, and how fast it drained (events/s while its queue had a backlog).
 *
 *   npm run bench:batch -- [--orders 5000] [--private-stack] [--env PARTITIONS=2]
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DEFAULTS, brokerName, databaseName, withDatabase } from '../shared/config';
import { createEvent } from '../shared/events/envelope';
import { connectAmqp } from '../shared/messaging/broker';
import { routingKeyOf } from '../shared/messaging/routing';
import { EXCHANGES } from '../shared/messaging/topology';
import { deploymentLayout, resolveTopology } from '../functions/topology';
import { startPrivateStack } from '../scripts/private-stack';
import { startRuntimeProcess } from '../test/support/runtime-process';
import { UNTHROTTLED_ENV } from '../shared/http/rate-limits';
import { createProductSet } from './products';
import { benchAccess } from './access';
import { brokerUserOf } from '../functions/identities';
import { brokerUrlOf } from '../local/identities/urls';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '5000' },
    'private-stack': { type: 'boolean', default: false },
    env: { type: 'string', multiple: true, default: [] },
  },
});
const ORDERS = Number(values.orders);
const extraEnv = Object.fromEntries(values.env!.map((kv) => kv.split('=') as [string, string]));
Object.assign(process.env, extraEnv);

const TICKS = 100; // USER_HZ

/** CPU seconds of each function's environments in this run's namespace, from /proc. */
function cpuByFunction(namespace: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const at = cmd.findIndex((a) => a.includes('local/environment'));
      if (at < 0) continue;
      if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`EVENTFLOW_NAMESPACE=${namespace}`)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const id = cmd[at + 1]!;
      out.set(id, (out.get(id) ?? 0) + (Number(f[11]) + Number(f[12])) / TICKS);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const stack = values['private-stack'] ? await startPrivateStack() : null;
if (stack) Object.assign(process.env, stack.env);
const server = process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl;
const { system, stop } = await startRuntimeProcess({ env: { SCHEDULE_SECONDS: '60', ...UNTHROTTLED_ENV, ...extraEnv } });
const db = (s: 'order' | 'payment' | 'inventory') => new pg.Pool({ connectionString: withDatabase(server, databaseName(s, system.namespace)), max: 2 });
const orderDb = db('order');
// The backlog goes out as the order service's relay would send it: as its broker user, with its user-id.
const amqp = await connectAmqp(brokerUrlOf({ rabbitmqUrl: process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl, namespace: system.namespace }, 'order'));
try {
  const products = await createProductSet(system.httpUrl, (await benchAccess(system)).headers, orderDb, { plentiful: 20, plentifulStock: 10_000_000, scarce: 0, scarceStock: 0 });
  const catalog = new Map((await orderDb.query<{ id: string; name: string; price_cents: number }>('SELECT id, name, price_cents FROM catalog_products')).rows.map((r) => [r.id, r]));

  // The backlog: N orders as order-api writes them, their order.created events ready to publish.
  const events = [];
  const rows = [];
  for (let i = 0; i < ORDERS; i++) {
    const p = catalog.get(products.plentiful[i % products.plentiful.length]!)!;
    const id = randomUUID();
    const item = { productId: p.id, name: p.name, quantity: 1, unitPriceCents: p.price_cents, lineTotalCents: p.price_cents };
    const e = createEvent(
      'order.created',
      { orderId: id, orderVersion: 1, customerId: randomUUID(), items: [item], totalCents: p.price_cents, currency: 'USD', paymentToken: i % 10 === 9 ? 'tok_chargeDeclined' : 'tok_visa' },
      { correlationId: `batch-${i}`, causationId: null },
    );
    events.push(e);
    rows.push({ id, p, e });
  }
  await orderDb.query(
    `WITH o AS (
       INSERT INTO orders (id, customer_id, status, total_cents, currency, payment_token, correlation_id)
       SELECT id, customer, 'PENDING', total, 'USD', token, corr FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[]) AS x(id, customer, total, token, corr)
     ), i AS (
       INSERT INTO order_items (order_id, line_no, product_id, name, quantity, unit_price_cents, line_total_cents)
       SELECT id, 1, p, nm, 1, price, price FROM unnest($1::uuid[], $6::uuid[], $7::text[], $3::int[]) AS y(id, p, nm, price)
     )
     INSERT INTO outbox (event_id, type, order_id, envelope) SELECT * FROM unnest($8::uuid[], $9::text[], $1::uuid[], $10::jsonb[])`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.e.data.customerId),
      rows.map((r) => r.p.price_cents),
      rows.map((r) => r.e.data.paymentToken),
      rows.map((r) => r.e.correlationId),
      rows.map((r) => r.p.id),
      rows.map((r) => r.p.name),
      rows.map((r) => r.e.id),
      rows.map((r) => r.e.type),
      rows.map((r) => JSON.stringify(r.e)),
    ],
  );

  const channel = await amqp.createConfirmChannel();
  const exchange = brokerName(EXCHANGES.order, system.namespace);
  const cpu0 = cpuByFunction(system.namespace);
  const t0 = Date.now();
  const userId = brokerUserOf('order', system.namespace);
  for (const e of events) channel.publish(exchange, routingKeyOf(e), Buffer.from(JSON.stringify(e)), { persistent: true, messageId: e.id, contentType: 'application/json', userId });
  await channel.waitForConfirms();
  const publishedAt = Date.now();

  const queues = resolveTopology(system.namespace, deploymentLayout()).queues.map((q) => q.name).filter((q) => !q.endsWith('.dlq'));
  // When each queue last held a backlog: its drain time.
  const drainedAt = new Map<string, number>();
  for (;;) {
    const now = Date.now();
    let backlog = 0;
    for (const q of queues) {
      const depth = (await channel.checkQueue(q)).messageCount;
      backlog += depth;
      if (depth > 0 || !drainedAt.has(q)) drainedAt.set(q, now);
    }
    const pending = (await orderDb.query<{ n: number }>(`SELECT count(*)::int AS n FROM orders WHERE status = 'PENDING'`)).rows[0]!.n;
    if (pending === 0 && backlog === 0) break;
    if (now - t0 > 600_000) throw new Error(`${pending} orders still pending after 10 minutes`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const cpu1 = cpuByFunction(system.namespace);
  const seconds = (Date.now() - t0) / 1000;
  let published = 0;
  for (const s of ['order', 'payment', 'inventory'] as const) {
    const pool = s === 'order' ? orderDb : db(s);
    published += (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')).rows[0]!.n;
    if (pool !== orderDb) await pool.end();
  }
  const handled: Record<string, number> = {
    // every event of every service, the products' set-up included
    'notification-consumer': published,
    'inventory-consumer': ORDERS,
    'payment-consumer': ORDERS,
    // inventory.reserved, payment.initiated, payment.processed or payment.failed (and catalog updates, few)
    'order-consumer': 3 * ORDERS,
  };
  console.log(`${ORDERS} orders' order.created published in ${((publishedAt - t0) / 1000).toFixed(1)} s; every order settled after ${seconds.toFixed(1)} s`);
  console.log(`partitions: ${JSON.stringify(deploymentLayout())}`);
  console.log('| consumer | events | CPU per event | CPU per batch of 100 | drained in | events/s |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [fn, n] of Object.entries(handled)) {
    const spent = (cpu1.get(fn) ?? 0) - (cpu0.get(fn) ?? 0);
    const queue = queues.find((q) => q.includes(fn.replace('-consumer', '_queue')))!;
    const drained = ((drainedAt.get(queue) ?? Date.now()) - t0) / 1000;
    console.log(`| ${fn} | ${n} | ${((spent / n) * 1e6).toFixed(0)} µs | ${((spent / n) * 100 * 1e3).toFixed(1)} ms | ${drained.toFixed(1)} s | ${(n / drained).toFixed(0)} |`);
  }
} finally {
  await amqp.close().catch(() => undefined);
  await orderDb.end();
  await stop();
  await stack?.close();
}
