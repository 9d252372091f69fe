/**
 * `npm run bench:audit`: what the audit entry adds to the hottest command, placing an order. The
 * order insert (functions/order/store.ts insertOrder: order, lines, Idempotency-Key, order.created
 * and, now, the audit entry, in one statement) runs against a scratch order database of its own,
 * with and without the entry, on named prepared statements with custom plans as the runtime runs
 * it; nothing else (no HTTP, no broker), so the difference is the entry's own.
 *
 * 1. One connection, alternating blocks of `--statements` with and without, `--rounds` times:
 *    the backend's CPU per statement (/proc/<backend pid>/stat) and the wall time per statement.
 * 2. `--concurrency` connections at once, `--statements` in all per block, the three in turn for
 *    `--rounds`: without, with (entries spread over the chains as the service spreads them) and
 *    with every entry in one chain (what a single chain per database would cost): statements per
 *    second and latency percentiles.
 * Then the audit trail's size per entry, tables and indexes.
 *
 *   npm run bench:audit -- [--statements 2000] [--rounds 3] [--concurrency 16]
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { auditEntry } from '../shared/audit/entry';
import { DEFAULTS, databaseName, withDatabase } from '../shared/config';
import { migrateService } from '../shared/db/migrate';
import { prepareStatements } from '../shared/db/prepared-statements';
import { createEvent } from '../shared/events/envelope';
import type { AnyEnvelope } from '../shared/events/envelope';
import { newClaim } from '../shared/messaging/outbox';
import { recordedInsert } from '../shared/messaging/unit-of-work';
import { insertOrder } from '../functions/order/store';
import { freshNamespace } from '../test/support/runtime-process';
import { median, quantile } from './stats';

const { values } = parseArgs({
  options: {
    statements: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
  },
});
const STATEMENTS = Number(values.statements);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const TICKS = 100; // USER_HZ

type Variant = 'without' | 'with' | 'one chain';

const server = process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl;
const namespace = freshNamespace('benchaudit');
const url = withDatabase(server, databaseName('order', namespace));
await migrateService('order', url);
const pool = new pg.Pool({ connectionString: url, max: CONCURRENCY, options: '-c plan_cache_mode=force_custom_plan' });
pool.on('connect', prepareStatements);
// The scratch database is dropped with FORCE at the end: a connection it ends must not end the run.
pool.on('error', () => undefined);

const productId = randomUUID();
const customerId = randomUUID();

/** One POST /orders' statement, as order-api runs it (an Idempotency-Key, as the dashboard sends). */
async function placeOrder(db: pg.PoolClient, variant: Variant) {
  const id = randomUUID();
  const cause = { correlationId: randomUUID(), causationId: null };
  const items = [{ productId, name: 'Bench lamp', quantity: 2, unitPriceCents: 1250, lineTotalCents: 2500 }];
  const events: AnyEnvelope[] = [
    createEvent('order.created', { orderId: id, orderVersion: 1, customerId, items, totalCents: 2500, currency: 'USD', paymentToken: 'tok_visa' }, cause) as AnyEnvelope,
  ];
  const entry =
    variant === 'without'
      ? null
      : auditEntry(
          { subject: customerId, role: 'customer', source: '203.0.113.9', correlationId: cause.correlationId },
          { route: 'POST /orders', targets: [variant === 'one chain' ? 'one-chain' : id], change: { after: { status: 'PENDING', customerId, totalCents: 2500, currency: 'USD', lines: 1 } }, status: 201 },
        );
  const claim = newClaim();
  const stored = await insertOrder(
    db,
    { id, customerId, items, totalCents: 2500, currency: 'USD', paymentToken: 'tok_visa', correlationId: cause.correlationId, createdAt: events[0]!.occurredAt },
    { key: randomUUID(), requestHash: 'h' },
    (first, when) => recordedInsert(events, entry, claim, first, when),
  );
  if (!stored) throw new Error('nothing stored');
}

function backendCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

const us = (s: number) => `${Math.round(s * 1e6)} µs`;

try {
  // Warm up: the connection, the prepared statements, the tables' first pages.
  const client = await pool.connect();
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  for (let i = 0; i < 300; i++) await placeOrder(client, i % 2 ? 'with' : 'without');

  console.log(`one connection, ${STATEMENTS} statements per block, ${ROUNDS} rounds alternating`);
  const sequential: Record<'without' | 'with', { cpu: number[]; wall: number[] }> = { without: { cpu: [], wall: [] }, with: { cpu: [], wall: [] } };
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of round % 2 ? (['with', 'without'] as const) : (['without', 'with'] as const)) {
      const cpu0 = backendCpuSeconds(pid);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < STATEMENTS; i++) await placeOrder(client, variant);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9 / STATEMENTS;
      const cpu = (backendCpuSeconds(pid) - cpu0) / STATEMENTS;
      sequential[variant].cpu.push(cpu);
      sequential[variant].wall.push(wall);
      console.log(`  round ${round + 1} ${variant.padEnd(7)}: backend CPU ${us(cpu)}/statement, wall ${us(wall)}/statement`);
    }
  }
  client.release();
  for (const v of ['without', 'with'] as const) console.log(`  median ${v.padEnd(7)}: backend CPU ${us(median(sequential[v].cpu))}, wall ${us(median(sequential[v].wall))}`);

  console.log(`\n${CONCURRENCY} connections at once, ${STATEMENTS} statements in all per block, ${ROUNDS} rounds in turn`);
  const clients = await Promise.all(Array.from({ length: CONCURRENCY }, () => pool.connect()));
  // Every connection warmed (its prepared statements parsed) before anything is measured.
  await Promise.all(clients.map(async (c) => {
    for (let i = 0; i < 10; i++) await placeOrder(c, i % 2 ? 'with' : 'without');
  }));
  const variants = ['without', 'with', 'one chain'] as const;
  const rates: Record<Variant, number[]> = { without: [], with: [], 'one chain': [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of [...variants.slice(round % 3), ...variants.slice(0, round % 3)]) {
      const latencies: number[] = [];
      const t0 = Date.now();
      await Promise.all(
        clients.map(async (c) => {
          for (let i = 0; i < STATEMENTS / CONCURRENCY; i++) {
            const s = process.hrtime.bigint();
            await placeOrder(c, variant);
            latencies.push(Number(process.hrtime.bigint() - s) / 1e6);
          }
        }),
      );
      const rate = latencies.length / ((Date.now() - t0) / 1000);
      rates[variant].push(rate);
      latencies.sort((a, b) => a - b);
      console.log(`  round ${round + 1} ${variant.padEnd(9)}: ${Math.round(rate)} statements/s, latency p50 ${quantile(latencies, 0.5).toFixed(2)} ms, p99 ${quantile(latencies, 0.99).toFixed(2)} ms`);
    }
  }
  for (const c of clients) c.release();
  for (const v of variants) console.log(`  median ${v.padEnd(9)}: ${Math.round(median(rates[v]))} statements/s`);

  const { rows } = await pool.query<{ entries: number; heap: number; indexes: number }>(
    `SELECT count(*)::int AS entries, pg_table_size('audit_log')::int AS heap, pg_indexes_size('audit_log')::int AS indexes FROM audit_log`,
  );
  const r = rows[0]!;
  console.log(`\naudit trail: ${r.entries} entries, ${Math.round(r.heap / r.entries)} bytes each in the table and ${Math.round(r.indexes / r.entries)} in its indexes`);
} finally {
  await pool.end();
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${databaseName('order', namespace)}" WITH (FORCE)`);
  await admin.end();
}
