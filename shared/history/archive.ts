import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type pg from 'pg';
import type { Queryable } from '../db/pool';
import { sequenceLog } from '../messaging/event-log';

/**
 * Older months of the event log, exported and then dropped (docs/decisions.md, "The event log is
 * kept; old months are exported before they go"). A month is exported as one gzipped CSV object
 * (RFC 4180: a header, then position, seq, event_id, type, order_id, created_at, envelope; the
 * envelope as JSON), with its row count, position range and sha-256 recorded in event_log_archives;
 * only then may its rows be deleted (the log's trigger checks that record), in bounded batches.
 */
export const CSV_COLUMNS = ['position', 'seq', 'event_id', 'type', 'order_id', 'created_at', 'envelope'] as const;

export interface ArchiveTarget {
  /** Where the archive goes (s3://bucket/prefix, or a folder), for the record. */
  describe(key: string): string;
  put(key: string, body: Buffer, contentType: string): Promise<void>;
}

/** A CSV field: quoted when it holds a comma, a quote or a line break; quotes doubled. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const csvLine = (values: readonly unknown[]) => `${values.map(csvField).join(',')}\r\n`;

/** Parses what csvLine wrote (for tests and for reading an archive back). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      (row = []), (field = ''), i++;
    } else field += c;
  }
  if (field || row.length) row.push(field), rows.push(row);
  return rows;
}

const monthEnd = (month: string) => {
  const d = new Date(`${month}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d.toISOString().slice(0, 10);
};

/**
 * The oldest month of the log, if it is older than the cutoff (`keepMonths` whole months before the
 * current one, UTC) and not yet dropped. Found by the oldest row (the primary key), not by scanning.
 */
export async function monthsToArchive(db: Queryable, keepMonths: number, now = new Date()): Promise<string[]> {
  const cutoff = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - keepMonths, 1));
  const { rows } = await db.query<{ month: string; created_at: Date }>(
    `SELECT to_char(event_log_month(created_at), 'YYYY-MM-DD') AS month, created_at FROM outbox ORDER BY seq LIMIT 1`,
  );
  const oldest = rows[0];
  return oldest && oldest.created_at < cutoff ? [oldest.month] : [];
}

export interface MonthExport {
  month: string;
  events: number;
  firstPosition: number | null;
  lastPosition: number | null;
  checksum: string;
  body: Buffer;
}

/** One month of the log as gzipped CSV, in position order. */
export async function exportMonth(db: Queryable, month: string): Promise<MonthExport> {
  const { rows } = await db.query<{ position: number; seq: number; event_id: string; type: string; order_id: string | null; created_at: Date; envelope: unknown }>(
    `SELECT l.position, o.seq, o.event_id, o.type, o.order_id, o.created_at, o.envelope
       FROM outbox o JOIN event_log l ON l.seq = o.seq
      WHERE o.created_at >= $1::date AND o.created_at < $2::date ORDER BY l.position`,
    [month, monthEnd(month)],
  );
  const csv = csvLine(CSV_COLUMNS) + rows.map((r) => csvLine([r.position, r.seq, r.event_id, r.type, r.order_id, r.created_at, r.envelope])).join('');
  return {
    month,
    events: rows.length,
    firstPosition: rows[0]?.position ?? null,
    lastPosition: rows.at(-1)?.position ?? null,
    checksum: createHash('sha256').update(csv).digest('hex'),
    body: gzipSync(csv),
  };
}

const DROP_BATCH = 1_000;

/**
 * Exports a month to the target, records it, then deletes its rows in bounded batches. A month
 * with an event not yet published (a pending row) is left alone: it is still to be delivered.
 */
export async function archiveMonth(pool: pg.Pool, service: string, month: string, target: ArchiveTarget): Promise<{ month: string; events: number; location: string; dropped: number } | null> {
  const { rows: pending } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM outbox_pending p JOIN outbox o USING (seq) WHERE o.created_at >= $1::date AND o.created_at < $2::date`,
    [month, monthEnd(month)],
  );
  if (pending[0]!.n > 0) return null;
  await sequenceLog(pool);
  const recorded = await pool.query<{ location: string; events: number }>(`SELECT location, events FROM event_log_archives WHERE month = $1`, [month]);
  let location = recorded.rows[0]?.location;
  let events = Number(recorded.rows[0]?.events ?? 0);
  if (!location) {
    const exported = await exportMonth(pool, month);
    const key = `event-log/${service}/${month.slice(0, 7)}.csv.gz`;
    await target.put(key, exported.body, 'text/csv');
    await target.put(
      `event-log/${service}/${month.slice(0, 7)}.manifest.json`,
      Buffer.from(JSON.stringify({ service, month: month.slice(0, 7), events: exported.events, firstPosition: exported.firstPosition, lastPosition: exported.lastPosition, sha256: exported.checksum, columns: CSV_COLUMNS })),
      'application/json',
    );
    location = target.describe(key);
    events = exported.events;
    await pool.query(
      `INSERT INTO event_log_archives (month, events, first_position, last_position, checksum, location) VALUES ($1, $2, $3, $4, $5, $6)`,
      [month, exported.events, exported.firstPosition, exported.lastPosition, exported.checksum, location],
    );
  }
  // Every row of the month is in the export, or nothing goes.
  const { rows: now } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM outbox o JOIN event_log l ON l.seq = o.seq WHERE o.created_at >= $1::date AND o.created_at < $2::date`,
    [month, monthEnd(month)],
  );
  const { rows: all } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE created_at >= $1::date AND created_at < $2::date`, [month, monthEnd(month)]);
  const dropping = await pool.query<{ dropped_at: Date | null }>('SELECT dropped_at FROM event_log_archives WHERE month = $1', [month]);
  const resumed = dropping.rows[0]?.dropped_at === null && all[0]!.n < events;
  if (all[0]!.n !== now[0]!.n || (all[0]!.n !== events && !resumed)) {
    throw new Error(`the ${month.slice(0, 7)} log holds ${all[0]!.n} events, its export ${events}: not dropped`);
  }
  let dropped = 0;
  for (;;) {
    const n = await dropBatch(pool, month);
    dropped += n;
    if (n < DROP_BATCH) break;
  }
  await pool.query('UPDATE event_log_archives SET dropped_at = now() WHERE month = $1', [month]);
  return { month, events, location, dropped };
}

async function dropBatch(pool: pg.Pool, month: string): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SET LOCAL eventflow.archiving = 'on'");
    const { rows } = await client.query<{ seq: number }>(
      `SELECT seq FROM outbox WHERE created_at >= $1::date AND created_at < $2::date ORDER BY seq LIMIT $3`,
      [month, monthEnd(month), DROP_BATCH],
    );
    const seqs = rows.map((r) => r.seq);
    await client.query('DELETE FROM event_log WHERE seq = ANY($1::bigint[])', [seqs]);
    await client.query('DELETE FROM outbox WHERE seq = ANY($1::bigint[])', [seqs]);
    await client.query('COMMIT');
    return seqs.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
