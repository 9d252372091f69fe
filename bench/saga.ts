/**
 * `npm run bench`: end-to-end saga throughput and latency on this machine.
 * Starts its own runtime in a fresh namespace, places N orders with C in flight over HTTP, and
 * reads the outcome from the order database (server-side timestamps, so the measurement does not
 * poll the API it measures). Loopback only, bounded in count and time, cleans up after itself.
 *   ORDERS (default 1000)  CONCURRENCY (default 32)  RUNS (default 3)
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { DEFAULTS, databaseName, withDatabase } from '../shared/config';
import { startRuntimeProcess } from '../test/support/runtime-process';

const ORDERS = Number(process.env.ORDERS ?? 1000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);
const RUNS = Number(process.env.RUNS ?? 3);

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function post(url: string, body: unknown) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as { id: string };
  if (res.status !== 201) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function run(round: number) {
  const { system, stop } = await startRuntimeProcess({ env: { SCHEDULE_SECONDS: '60', ...(process.env.DB_POOL_MAX ? { DB_POOL_MAX: process.env.DB_POOL_MAX } : {}) } });
  const orderDb = new pg.Pool({
    connectionString: withDatabase(process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl, databaseName('order', system.namespace)),
    max: 2,
  });
  try {
    const products = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(`${system.httpUrl}/products`, { sku: `BENCH-${i}`, name: `Bench ${i}`, priceCents: 1000 + i, stock: 1_000_000 }),
      ),
    );
    const known = async () => (await orderDb.query('SELECT count(*)::int AS n FROM catalog_products')).rows[0].n;
    while ((await known()) < products.length) await new Promise((r) => setTimeout(r, 50));

    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < ORDERS) {
          const i = next++;
          await post(`${system.httpUrl}/orders`, {
            customerId: randomUUID(),
            items: [{ productId: products[i % products.length]!.id, quantity: 1 }],
            paymentToken: i % 10 === 9 ? 'tok_chargeDeclined' : 'tok_visa',
          });
        }
      }),
    );
    const accepted = Date.now();
    const deadline = Date.now() + 300_000;
    for (;;) {
      const { rows } = await orderDb.query(`SELECT count(*)::int AS n FROM orders WHERE status = 'PENDING'`);
      if (rows[0].n === 0) break;
      if (Date.now() > deadline) throw new Error(`${rows[0].n} orders still pending after 5 minutes`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const { rows } = await orderDb.query<{ ms: number; status: string; settled: Date }>(
      `SELECT status, updated_at AS settled, EXTRACT(EPOCH FROM (updated_at - created_at)) * 1000 AS ms FROM orders`,
    );
    const lat = rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
    const lastSettled = Math.max(...rows.map((r) => r.settled.getTime()));
    const result = {
      round,
      orders: rows.length,
      confirmed: rows.filter((r) => r.status === 'CONFIRMED').length,
      failed: rows.filter((r) => r.status === 'FAILED').length,
      acceptPerSec: (ORDERS / ((accepted - started) / 1000)),
      settledPerSec: (ORDERS / ((lastSettled - started) / 1000)),
      p50: quantile(lat, 0.5),
      p99: quantile(lat, 0.99),
    };
    console.log(
      `run ${round}: ${result.orders} orders (${result.confirmed} confirmed, ${result.failed} failed), ` +
        `accepted ${result.acceptPerSec.toFixed(0)}/s, settled ${result.settledPerSec.toFixed(0)}/s, ` +
        `PENDING→settled p50 ${result.p50.toFixed(0)} ms p99 ${result.p99.toFixed(0)} ms`,
    );
    return result;
  } finally {
    await orderDb.end();
    await stop();
  }
}

const results = [];
for (let i = 1; i <= RUNS; i++) results.push(await run(i));
console.log(
  `median of ${RUNS} runs (${ORDERS} orders, ${CONCURRENCY} in flight): ` +
    `accepted ${median(results.map((r) => r.acceptPerSec)).toFixed(0)}/s, settled ${median(results.map((r) => r.settledPerSec)).toFixed(0)}/s, ` +
    `p50 ${median(results.map((r) => r.p50)).toFixed(0)} ms, p99 ${median(results.map((r) => r.p99)).toFixed(0)} ms`,
);
