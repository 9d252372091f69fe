import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULTS, withDatabase } from '../../shared/config';
import { statementName } from '../../shared/db/prepared-statements';

// A database of its own: these tests drop connections and change a table's columns.
const database = `prepared_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const url = withDatabase(DEFAULTS.databaseServerUrl, database);
const saved = { ...process.env };
let admin: pg.Client;

interface PreparedRow {
  name: string;
  statement: string;
  executions: number;
}

/** The pool module as a process with this setting gets it: one connection, so every query sees the same session. */
async function poolModule(prepared: 'true' | 'false' | undefined) {
  vi.resetModules();
  process.env.ORDER_DATABASE_URL = url;
  process.env.DB_POOL_MAX = '1';
  if (prepared === undefined) delete process.env.DB_PREPARED_STATEMENTS;
  else process.env.DB_PREPARED_STATEMENTS = prepared;
  const m = await import('../../shared/db/pool');
  opened.push(m);
  return { ...m, pool: await m.getPool('order') };
}
const opened: { closePools(): Promise<void> }[] = [];

/** Prepared statements of the pool's one session, asked through that session (a statement without parameters stays unnamed). */
async function preparedIn(pool: pg.Pool): Promise<PreparedRow[]> {
  const { rows } = await pool.query<PreparedRow>(
    'SELECT name, statement, (generic_plans + custom_plans)::int AS executions FROM pg_prepared_statements WHERE NOT from_sql ORDER BY prepare_time',
  );
  return rows;
}

const SELECT = 'SELECT v FROM items WHERE id = $1';

beforeAll(async () => {
  admin = new pg.Client({ connectionString: DEFAULTS.databaseServerUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  await setup.query('CREATE TABLE items (id int PRIMARY KEY, v text NOT NULL)');
  await setup.query("INSERT INTO items VALUES (1, 'one'), (2, 'two')");
  await setup.end();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((m) => m.closePools()));
  process.env = { ...saved };
});

afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();
});

describe('prepared statements', () => {
  it('are on by default: each parameterized statement is parsed once per connection and reused', async () => {
    const { pool, withTransaction } = await poolModule(undefined);
    for (let i = 0; i < 5; i++) expect((await pool.query(SELECT, [1])).rows).toEqual([{ v: 'one' }]);
    await withTransaction(pool, async (tx) => {
      expect((await tx.query(SELECT, [2])).rows).toEqual([{ v: 'two' }]);
      expect((await tx.query({ text: SELECT, values: [1] })).rows).toEqual([{ v: 'one' }]);
    });
    // One statement for the text, under the name derived from it, run all seven times.
    expect(await preparedIn(pool)).toEqual([{ name: statementName(SELECT), statement: SELECT, executions: 7 }]);
  });

  it('are planned for their own values every time, never with a cached generic plan', async () => {
    const { pool } = await poolModule(undefined);
    expect((await pool.query('SHOW plan_cache_mode')).rows).toEqual([{ plan_cache_mode: 'force_custom_plan' }]);
    // Past five executions PostgreSQL would otherwise consider a generic plan, made for no values.
    for (let i = 0; i < 12; i++) await pool.query(SELECT, [1]);
    const { rows } = await pool.query<{ generic_plans: number; custom_plans: number }>(
      'SELECT generic_plans::int, custom_plans::int FROM pg_prepared_statements WHERE name = $1',
      [statementName(SELECT)],
    );
    expect(rows).toEqual([{ generic_plans: 0, custom_plans: 12 }]);
  });

  it('are not used when the setting is off (behind RDS Proxy)', async () => {
    const { pool } = await poolModule('false');
    for (let i = 0; i < 3; i++) await pool.query(SELECT, [1]);
    expect(await preparedIn(pool)).toEqual([]);
  });

  it('leave a name that failed to parse free, so the statement is parsed again next time', async () => {
    const { pool } = await poolModule('true');
    const text = 'SELECT later FROM items WHERE id = $1';
    await expect(pool.query(text, [1])).rejects.toMatchObject({ code: '42703' }); // no such column
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    await setup.query("ALTER TABLE items ADD COLUMN later text NOT NULL DEFAULT 'now'");
    await setup.end();
    // Had the failed Parse been recorded, this would Bind a statement the server never made (26000).
    expect((await pool.query(text, [1])).rows).toEqual([{ later: 'now' }]);
    expect((await preparedIn(pool)).map((r) => r.statement)).toEqual([text]);
  });

  it('are prepared again on a new connection after the old one is lost (a server restart)', async () => {
    const { pool } = await poolModule('true');
    await pool.query(SELECT, [1]);
    const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    // The pool drops the dead client; the next query runs on a new session, which has no statements yet.
    await vi.waitFor(async () => expect((await pool.query(SELECT, [2])).rows).toEqual([{ v: 'two' }]), { timeout: 5_000, interval: 100 });
    const again = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    expect(again.rows[0]!.pid).not.toBe(rows[0]!.pid);
    expect(await preparedIn(pool)).toEqual([{ name: statementName(SELECT), statement: SELECT, executions: 1 }]);
  });

  it('survive a change of the columns a statement returns: one retryable failure, then a fresh statement', async () => {
    const { pool, withTransaction } = await poolModule('true');
    const text = 'SELECT * FROM items WHERE id = $1';
    const read = () => withTransaction(pool, async (tx) => (await tx.query(text, [1])).rows[0] as Record<string, unknown>);
    expect(Object.keys(await read())).not.toContain('added');
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    await setup.query('ALTER TABLE items ADD COLUMN added int NOT NULL DEFAULT 7');
    await setup.end();
    // PostgreSQL refuses the old statement (cached plan must not change result type): a failure worth
    // retrying (the module graph is the one poolModule imported, hence the name, not instanceof)...
    await expect(read()).rejects.toMatchObject({ name: 'TransientError', cause: { code: '0A000' } });
    // ...and the retry, on the same connection, prepares it anew under another name.
    expect(await read()).toMatchObject({ id: 1, added: 7 });
    expect(await read()).toMatchObject({ id: 1, added: 7 });
    const rows = (await preparedIn(pool)).filter((r) => r.statement === text);
    expect(rows.map((r) => r.name === statementName(text))).toEqual([true, false]);
    expect(rows[1]!.executions).toBe(2);
  });

  it('keep transactions whole: withTransaction commits, rolls back, and statements first prepared in a rolled-back one stay usable', async () => {
    const { pool, withTransaction } = await poolModule('true');
    const insert = 'INSERT INTO items (id, v) VALUES ($1, $2)';
    const count = async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM items WHERE id >= $1', [100])).rows[0]!.n;
    // The insert is first prepared inside a transaction that rolls back: prepared statements are
    // not transactional, so node-postgres' record that it is parsed stays true.
    await expect(
      withTransaction(pool, async (tx) => {
        await tx.query(insert, [100, 'rolled back']);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await count()).toBe(0);
    await withTransaction(pool, async (tx) => {
      await tx.query(insert, [101, 'a']);
      await tx.query(insert, [102, 'b']);
    });
    expect(await count()).toBe(2);
    // A failing statement (a duplicate key) aborts its transaction and nothing of it stays.
    await expect(
      withTransaction(pool, async (tx) => {
        await tx.query(insert, [103, 'c']);
        await tx.query(insert, [101, 'again']);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await count()).toBe(2);
    const insertRow = (await preparedIn(pool)).find((r) => r.statement === insert);
    expect(insertRow).toMatchObject({ name: statementName(insert), executions: 5 });
  });
});
