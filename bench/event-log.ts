/**
 * What the event log's gap-free positions cost writers (docs/decisions.md, "The outbox is the event
 * log"): transactions of WRITERS concurrent clients, each appending two events and committing, for
 * SECONDS per design, on a scratch database migrated like a service's (removed afterwards):
 *
 *   seq only      the outbox before positions (no xact column, no index on it)
 *   sequencer     this design: xact stamped by the writer, positions given after commit
 *   counter row   the textbook gap-free sequence: each writer takes the next numbers from one row,
 *                 whose lock it holds until it commits
 *
 * `npx tsx bench/event-log.ts` (WRITERS=8 MEASURE_SECONDS=10). Prints numbers; asserts nothing.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { DEFAULTS, withDatabase } from '../shared/config';
import { migrateService } from '../shared/db/migrate';
import { sequenceLog } from '../shared/messaging/event-log';

const WRITERS = Number(process.env.WRITERS ?? 8);
const SECONDS = Number(process.env.MEASURE_SECONDS ?? 10);
const server = process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl;
const name = `bench_evlog_${randomUUID().slice(0, 8)}_db`;
const url = withDatabase(server, name);

const envelope = (id: string) => JSON.stringify({ id, type: 'order.updated', source: 'order', data: { orderId: randomUUID(), orderVersion: 2, status: 'CONFIRMED' } });

async function run(pool: pg.Pool, label: string, txn: (c: pg.PoolClient) => Promise<void>, background?: () => Promise<void>) {
  const until = Date.now() + SECONDS * 1000;
  let done = 0;
  const latencies: number[] = [];
  let stop = false;
  const bg = background ? (async () => {
    while (!stop) await background();
  })() : Promise.resolve();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      const c = await pool.connect();
      try {
        while (Date.now() < until) {
          const t = performance.now();
          await c.query('BEGIN');
          await txn(c);
          await c.query('COMMIT');
          latencies.push(performance.now() - t);
          done++;
        }
      } finally {
        c.release();
      }
    }),
  );
  stop = true;
  await bg;
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.floor(q * (latencies.length - 1))]!.toFixed(2);
  console.log(`${label.padEnd(12)} ${(done / SECONDS).toFixed(0).padStart(6)} txn/s   p50 ${p(0.5)} ms   p99 ${p(0.99)} ms`);
}

await migrateService('order', url);
const pool = new pg.Pool({ connectionString: url, max: WRITERS + 2 });
try {
  await pool.query(`CREATE TABLE plain_outbox (LIKE outbox INCLUDING DEFAULTS EXCLUDING INDEXES); ALTER TABLE plain_outbox DROP COLUMN xact;
                    ALTER TABLE plain_outbox ADD PRIMARY KEY (seq); CREATE UNIQUE INDEX ON plain_outbox (event_id);
                    CREATE TABLE counter (one boolean PRIMARY KEY, next bigint NOT NULL); INSERT INTO counter VALUES (true, 0);
                    CREATE TABLE counted_outbox (LIKE plain_outbox INCLUDING DEFAULTS INCLUDING INDEXES); ALTER TABLE counted_outbox ADD COLUMN position bigint UNIQUE;`);
  const insert = (table: string, extra = '') => async (c: pg.PoolClient) => {
    const ids = [randomUUID(), randomUUID()];
    await c.query(
      `INSERT INTO ${table} (event_id, type, order_id, envelope${extra ? ', position' : ''})
       SELECT e, 'order.updated', gen_random_uuid(), v${extra} FROM unnest($1::uuid[], $2::jsonb[]) WITH ORDINALITY AS x(e, v, n)`,
      [ids, ids.map(envelope)],
    );
  };
  console.log(`${WRITERS} writers, 2 events per transaction, ${SECONDS} s each, PostgreSQL at ${new URL(server).host}`);
  await run(pool, 'seq only', insert('plain_outbox'));
  let sequenced = 0;
  await run(pool, 'sequencer', insert('outbox'), async () => {
    sequenced = await sequenceLog(pool);
    await new Promise((r) => setTimeout(r, 50));
  });
  await run(pool, 'counter row', async (c) => {
    // The textbook gap-free sequence: take two numbers from the row (its lock held to COMMIT).
    const { rows } = await c.query<{ next: string }>('UPDATE counter SET next = next + 2 RETURNING next');
    await insert('counted_outbox', ` , ${Number(rows[0]!.next) - 2} + n`)(c);
  });
  const t = performance.now();
  const before = sequenced;
  const after = await sequenceLog(pool);
  console.log(`sequencer catch-up: ${after - before} events left after the run, numbered in ${(performance.now() - t).toFixed(0)} ms`);
  const total = await pool.query<{ n: string }>('SELECT count(*) AS n FROM outbox');
  const t2 = performance.now();
  await pool.query('SELECT 1'); // warm
  console.log(`outbox rows ${total.rows[0]!.n}; an idle sequencer round: ${await (async () => {
    const s = performance.now();
    await sequenceLog(pool);
    return (performance.now() - s).toFixed(2);
  })()} ms (${(performance.now() - t2).toFixed(0)} ms with a warm-up query)`);
} finally {
  await pool.end();
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
