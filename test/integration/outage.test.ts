import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, brokerName, databaseName, withDatabase } from '../../shared/config';
import { connectAmqp } from '../../shared/messaging/broker';
import { QUEUES, dlqOf } from '../../shared/messaging/topology';
import { startRuntimeProcess } from '../support/runtime-process';

/**
 * A database outage in the middle of the saga, on a runtime of its own (taking a database away
 * would disturb the other test files): the consumer's batches fail and are redelivered, nothing is
 * parked, and once the database is back the order completes with its payment taken once.
 */
let runtime: Awaited<ReturnType<typeof startRuntimeProcess>>;
const admin = new pg.Client({ connectionString: process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl });
const pools: pg.Pool[] = [];

const dbOf = (service: 'order' | 'payment' | 'inventory') => databaseName(service, runtime.system.namespace);
function pool(service: 'order' | 'payment' | 'inventory') {
  const p = new pg.Pool({ connectionString: withDatabase(process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl, dbOf(service)), max: 2 });
  pools.push(p);
  return p;
}

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${runtime.system.httpUrl}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function until<T>(probe: () => Promise<T | null | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  runtime = await startRuntimeProcess();
  await admin.connect();
}, 120_000);

afterAll(async () => {
  await admin.query(`ALTER DATABASE "${dbOf('payment')}" ALLOW_CONNECTIONS true`).catch(() => undefined);
  await Promise.all(pools.map((p) => p.end()));
  await admin.end();
  await runtime.stop();
});

describe('a database outage mid-saga', () => {
  it('holds the events until the database is back, then takes effect once', async () => {
    const product = await call('POST', '/products', { sku: `OUT-${randomUUID().slice(0, 8)}`, name: 'Outage', priceCents: 700, stock: 3 });
    expect(product.status).toBe(201);
    const orders = pool('order');
    await until(async () => (await orders.query('SELECT 1 FROM catalog_products WHERE id = $1', [product.body.id])).rowCount, 'the catalog copy');

    // The payment database goes away: it refuses connections and drops the ones it had.
    await admin.query(`ALTER DATABASE "${dbOf('payment')}" ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [dbOf('payment')]);

    const order = await call('POST', '/orders', {
      customerId: randomUUID(),
      items: [{ productId: product.body.id, quantity: 2 }],
      paymentToken: 'tok_visa',
    });
    expect(order.status).toBe(201);
    const reservations = pool('inventory');
    await until(
      async () => (await reservations.query(`SELECT 1 FROM reservations WHERE order_id = $1 AND status = 'ACTIVE'`, [order.body.id])).rowCount,
      'inventory, which is up, to reserve',
    );
    const health = await call('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body.checks.postgres.payment.status).toBe('down');
    await new Promise((r) => setTimeout(r, 1_500)); // a few failed deliveries of the payment batch
    expect((await call('GET', `/orders/${order.body.id}`)).body.status).toBe('PENDING');

    await admin.query(`ALTER DATABASE "${dbOf('payment')}" ALLOW_CONNECTIONS true`);
    const settled = await until(async () => {
      const o = (await call('GET', `/orders/${order.body.id}`)).body;
      return o.status !== 'PENDING' && o;
    }, 'the order to settle after the outage');
    expect(settled.status).toBe('CONFIRMED');
    const payments = await pool('payment').query('SELECT status FROM payments WHERE order_id = $1', [order.body.id]);
    expect(payments.rows).toEqual([{ status: 'PROCESSED' }]);

    // Redelivered, not parked: the payment queue's DLQ stayed empty.
    const connection = await connectAmqp(process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl);
    try {
      const channel = await connection.createChannel();
      const dlq = await channel.checkQueue(dlqOf(brokerName(QUEUES.payment.name, runtime.system.namespace)));
      expect(dlq.messageCount).toBe(0);
    } finally {
      await connection.close();
    }
  });
});
