import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, withDatabase } from '../../shared/config';
import { migrateService } from '../../shared/db/migrate';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { CSV_COLUMNS, archiveMonth, monthsToArchive, parseCsv } from '../../shared/history/archive';
import { archiveTarget } from '../../shared/messaging/retention';
import { sequenceLog, readLog } from '../../shared/messaging/event-log';

/**
 * The event log's guarantees on a database of this file's own (migrated like a service's): no role
 * may change or remove an event, and positions are gap-free and follow what readers can see.
 */
const server = process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl;
const name = `t_evlog_${randomUUID().slice(0, 8)}_db`;
const role = `t_evlog_${randomUUID().slice(0, 8)}`;
const url = withDatabase(server, name);
let admin: pg.Client;
let pool: pg.Pool;

beforeAll(async () => {
  await migrateService('order', url);
  admin = new pg.Client({ connectionString: server });
  await admin.connect();
  pool = new pg.Pool({ connectionString: url, max: 12 });
  pool.on('error', () => undefined);
  // A role given every privilege on the log, as a careless grant would: the log still refuses.
  await pool.query(`CREATE ROLE ${role} LOGIN`);
  await pool.query(`GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON outbox TO ${role}`);
  await pool.query(`GRANT USAGE ON SEQUENCE outbox_seq_seq TO ${role}`);
});

afterAll(async () => {
  await pool?.end();
  await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin?.query(`DROP ROLE IF EXISTS ${role}`);
  await admin?.end();
});

const event = (orderId: string | null = randomUUID()) => {
  const id = randomUUID();
  return { id, orderId, envelope: JSON.stringify({ id, type: 'order.updated', data: { orderId } }) };
};

async function append(db: pg.ClientBase | pg.Pool, e = event()) {
  await db.query('INSERT INTO outbox (event_id, type, order_id, envelope) VALUES ($1, $2, $3, $4)', [e.id, 'order.updated', e.orderId, e.envelope]);
  return e;
}

async function asRole<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const u = new URL(url);
  u.username = role;
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('the event log is append-only', () => {
  it('lets the application insert, and refuses update, delete and truncate to every role, the owner included', async () => {
    const mine = await asRole((c) => append(c));
    expect((await pool.query('SELECT 1 FROM outbox WHERE event_id = $1', [mine.id])).rowCount).toBe(1);
    for (const sql of ["UPDATE outbox SET type = 'x'", 'DELETE FROM outbox', 'TRUNCATE outbox CASCADE']) {
      await expect(asRole((c) => c.query(sql)), `${sql} as a granted role`).rejects.toMatchObject({ code: '42501' });
      // The superuser that owns the table: the trigger holds for it too.
      await expect(pool.query(sql), `${sql} as the owner`).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('append-only') });
    }
    await sequenceLog(pool);
    await expect(pool.query('UPDATE event_log SET seq = seq')).rejects.toMatchObject({ code: '42501' });
    expect((await pool.query('SELECT 1 FROM outbox WHERE event_id = $1', [mine.id])).rowCount).toBe(1);
  });

  it('lets rows go only for a month whose export is on record, and only when the transaction says it archives', async () => {
    const old = event();
    await pool.query(`INSERT INTO outbox (event_id, type, order_id, envelope, created_at) VALUES ($1, 'order.updated', $2, $3, '2020-01-15T00:00:00Z')`, [old.id, old.orderId, old.envelope]);
    const drop = async () => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query("SET LOCAL eventflow.archiving = 'on'");
        const r = await c.query('DELETE FROM outbox WHERE event_id = $1', [old.id]);
        await c.query('COMMIT');
        return r.rowCount;
      } catch (err) {
        await c.query('ROLLBACK');
        throw err;
      } finally {
        c.release();
      }
    };
    await expect(drop()).rejects.toMatchObject({ code: '42501' });
    await pool.query(`INSERT INTO event_log_archives (month, events, location) VALUES ('2020-01-01', 1, 'test')`);
    // Recorded but not yet wholly exported: still refused.
    await expect(drop()).rejects.toMatchObject({ code: '42501' });
    await pool.query(`UPDATE event_log_archives SET exported_at = now() WHERE month = '2020-01-01'`);
    await expect(pool.query('DELETE FROM outbox WHERE event_id = $1', [old.id])).rejects.toMatchObject({ code: '42501' });
    expect(await drop()).toBe(1);
  });
});

describe('positions', () => {
  it('are gap-free and cover exactly the committed events, with writers rolling back and a sequencer running among them', async () => {
    const start = await sequenceLog(pool);
    const committed: string[] = [];
    let sequencing = true;
    const sequencer = (async () => {
      while (sequencing) await sequenceLog(pool);
    })();
    // 8 writers, each event of one order under that order's lock, as the services write; every
    // third transaction rolls back after taking its seq.
    const orders = Array.from({ length: 5 }, () => randomUUID());
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; i < 40; i++) {
          const c = await pool.connect();
          try {
            const orderId = orders[(w + i) % orders.length]!;
            await c.query('BEGIN');
            await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [orderId]);
            const e = await append(c, event(orderId));
            if (i % 3 === 2) {
              await c.query('ROLLBACK');
            } else {
              await c.query('COMMIT');
              committed.push(e.id);
            }
          } finally {
            c.release();
          }
        }
      }),
    );
    sequencing = false;
    await sequencer;
    const last = await sequenceLog(pool);
    const entries = await readLog(pool, { after: start, limit: 10_000 });
    expect(entries.map((e) => e.position)).toEqual(Array.from({ length: last - start }, (_, i) => start + i + 1));
    expect(entries.map((e) => e.event.id).sort()).toEqual([...committed].sort());
    // One order's events come in the order they were written (its lock made seq follow commit order).
    for (const orderId of orders) {
      const seqs = entries.filter((e) => e.event.data && (e.event.data as { orderId?: string }).orderId === orderId).map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    // Seqs burnt by the rollbacks are the gaps a position does not have.
    const seqs = entries.map((e) => e.seq).sort((a, b) => a - b);
    expect(seqs.at(-1)! - seqs[0]! + 1).toBeGreaterThan(seqs.length);
  });

  it('does not number an event whose transaction is still open, and numbers it once it commits', async () => {
    const before = await sequenceLog(pool);
    const open = await pool.connect();
    try {
      await open.query('BEGIN');
      const slow = await append(open);
      const quick = await append(pool);
      const mid = await sequenceLog(pool);
      expect(mid).toBe(before + 1);
      expect((await readLog(pool, { after: before, limit: 10 })).map((e) => e.event.id)).toEqual([quick.id]);
      await open.query('COMMIT');
      expect(await sequenceLog(pool)).toBe(before + 2);
      expect((await readLog(pool, { after: mid, limit: 10 })).map((e) => e.event.id)).toEqual([slow.id]);
    } finally {
      open.release();
    }
  });
});

describe('older months', () => {
  it('are exported as gzipped CSV with a manifest, recorded, and only then dropped; a month with an unpublished event stays', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'evlog-archive-'));
    try {
      const insertAt = async (at: string, note: string) => {
        const e = event();
        const envelope = JSON.stringify({ id: e.id, type: 'order.updated', data: { orderId: e.orderId, note } });
        await pool.query(`INSERT INTO outbox (event_id, type, order_id, envelope, created_at) VALUES ($1, 'order.updated', $2, $3, $4)`, [e.id, e.orderId, envelope, at]);
        return e.id;
      };
      const march = [await insertAt('2021-03-02T10:00:00Z', 'a "quoted", comma\nand a line'), await insertAt('2021-03-31T23:59:59Z', 'last')];
      const aprilId = await insertAt('2021-04-10T00:00:00Z', 'pending');
      await pool.query('INSERT INTO outbox_pending (seq) SELECT seq FROM outbox WHERE event_id = $1', [aprilId]);
      await sequenceLog(pool);
      // The month of the oldest row (by the primary key), once it is past the months kept.
      const oldest = (await pool.query(`SELECT to_char(date_trunc('month', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS m FROM outbox ORDER BY seq LIMIT 1`)).rows[0].m;
      expect(await monthsToArchive(pool, 12)).toEqual([]);
      expect(await monthsToArchive(pool, 12, new Date('2100-01-01T00:00:00Z'))).toEqual([oldest]);

      const target = archiveTarget({ EVENT_LOG_ARCHIVE_DIR: dir })!;
      expect(await archiveMonth(pool, 'order', '2021-04-01', target)).toBeNull();
      // One event a part, one part a call: the export goes on where it stopped, then the rows go.
      const budget = { partSize: 1, maxParts: 1, maxDropBatches: 1 };
      const steps = [];
      for (let i = 0; i < 6; i++) {
        const step = await archiveMonth(pool, 'order', '2021-03-01', target, budget);
        steps.push(step!.state);
        if (step!.state === 'dropped') break;
        if (step!.state === 'exporting') expect((await pool.query('SELECT 1 FROM outbox WHERE event_id = ANY($1::uuid[])', [march])).rowCount).toBe(2);
      }
      expect(steps).toEqual(['exporting', 'exporting', 'dropped']);

      const parts = [];
      for (const n of ['00001', '00002']) {
        const text = gunzipSync(await readFile(path.join(dir, `event-log/order/2021-03/part-${n}.csv.gz`))).toString('utf8');
        const [header, ...rows] = parseCsv(text);
        expect(header).toEqual([...CSV_COLUMNS]);
        parts.push({ text, rows });
      }
      const rows = parts.flatMap((p) => p.rows);
      expect(rows.map((r) => r[2])).toEqual(march);
      expect(Number(rows[1]![0])).toBeGreaterThan(Number(rows[0]![0]));
      expect(JSON.parse(rows[0]![6]!).data.note).toBe('a "quoted", comma\nand a line');
      const manifest = JSON.parse(await readFile(path.join(dir, 'event-log/order/2021-03/manifest.json'), 'utf8'));
      expect(manifest).toMatchObject({ service: 'order', month: '2021-03', events: 2, columns: [...CSV_COLUMNS] });
      expect(manifest.parts.map((p: { sha256: string }) => p.sha256)).toEqual(parts.map((p) => createHash('sha256').update(p.text).digest('hex')));

      expect((await pool.query('SELECT 1 FROM outbox WHERE event_id = ANY($1::uuid[])', [march])).rowCount).toBe(0);
      expect((await pool.query(`SELECT dropped_at FROM event_log_archives WHERE month = '2021-03-01'`)).rows[0].dropped_at).not.toBeNull();
      expect((await pool.query('SELECT 1 FROM outbox WHERE event_id = $1', [aprilId])).rowCount).toBe(1);
      expect(await monthsToArchive(pool, 12, new Date('2021-06-01T00:00:00Z'))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
