/**
 * `npm run bench:storage`: what one settled order leaves in each table of each service database,
 * in bytes (heap, indexes and TOAST: pg_total_relation_size), measured as the growth over a run of
 * ORDERS orders (one line each; every tenth declined) placed over HTTP against a runtime of its own,
 * after all have settled and the tables were vacuumed. Prints numbers; asserts nothing.
 *
 *   npm run bench:storage -- [--orders 1000] [--concurrency 8]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DEFAULTS, SERVICES, databaseName, withDatabase } from '../shared/config';
import type { ServiceName } from '../shared/config';
import { UNTHROTTLED_ENV } from '../shared/http/rate-limits';
import { PATIENT_HTTP_ENV, startRuntimeProcess } from '../test/support/runtime-process';
import { benchAccess } from './access';
import { createProductSet } from './products';

const { values } = parseArgs({ options: { orders: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '8' } } });
const ORDERS = Number(values.orders);
const CONCURRENCY = Number(values.concurrency);
const server = process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl;

const { system, stop } = await startRuntimeProcess({ env: { SCHEDULE_SECONDS: '5', ...UNTHROTTLED_ENV, ...PATIENT_HTTP_ENV } });
const pools = Object.fromEntries(SERVICES.map((s) => [s, new pg.Pool({ connectionString: withDatabase(server, databaseName(s, system.namespace)), max: 2 })])) as Record<ServiceName, pg.Pool>;

async function sizes(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const s of SERVICES) {
    await pools[s].query('VACUUM');
    const { rows } = await pools[s].query<{ name: string; bytes: string }>(
      `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname IN ('public', 'gateway')`,
    );
    for (const r of rows) out.set(`${s}_db.${r.name}`, Number(r.bytes));
  }
  return out;
}

try {
  const access = await benchAccess(system);
  const products = await createProductSet(system.httpUrl, access.headers, pools.order, { plentiful: 20, plentifulStock: 10_000_000, scarce: 0, scarceStock: 0 });
  const before = await sizes();
  let next = 0;
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < ORDERS) {
        const i = next++;
        const res = await fetch(`${system.httpUrl}/orders`, {
          method: 'POST',
          headers: { ...access.headers, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
          body: JSON.stringify({ customerId: randomUUID(), items: [{ productId: products.plentiful[i % products.plentiful.length], quantity: 1 }], paymentToken: i % 10 === 9 ? 'tok_chargeDeclined' : 'tok_visa' }),
        });
        if (res.status !== 201) throw new Error(`order refused: ${res.status} ${await res.text()}`);
        ids.push(((await res.json()) as { id: string }).id);
      }
    }),
  );
  for (const deadline = Date.now() + 300_000; ; ) {
    const { rows } = await pools.order.query<{ n: number }>(`SELECT count(*)::int AS n FROM orders WHERE status = 'PENDING'`);
    if (rows[0]!.n === 0) break;
    if (Date.now() > deadline) throw new Error(`${rows[0]!.n} orders still pending`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await new Promise((r) => setTimeout(r, 6_000)); // the relays' last sequencing and marks
  const after = await sizes();
  const rows = [...after].map(([table, bytes]) => ({ table, perOrder: (bytes - (before.get(table) ?? 0)) / ORDERS })).filter((r) => r.perOrder > 0.5);
  rows.sort((a, b) => b.perOrder - a.perOrder);
  console.log(`${ORDERS} orders settled (1 line each, every tenth declined); growth per order, heap + indexes + TOAST after VACUUM:`);
  for (const r of rows) console.log(`${r.table.padEnd(40)} ${r.perOrder.toFixed(0).padStart(7)} B`);
  const total = rows.reduce((a, r) => a + r.perOrder, 0);
  console.log(`${'total'.padEnd(40)} ${total.toFixed(0).padStart(7)} B`);
  for (const s of SERVICES) {
    const sum = rows.filter((r) => r.table.startsWith(`${s}_db.`)).reduce((a, r) => a + r.perOrder, 0);
    console.log(`  ${s}_db ${sum.toFixed(0)} B`);
  }
} finally {
  await Promise.all(Object.values(pools).map((p) => p.end()));
  await stop();
}
