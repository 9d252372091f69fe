import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type pg from 'pg';
import type { Queryable } from '../db/pool';
import { sequenceLog } from '../messaging/event-log';

/**
 * Older months of the event log, exported and then dropped (docs/decisions.md, "The event log is
 * kept; old months are exported before they go"). A month is exported as gzipped CSV parts
 * (RFC 4180: a header, then position, seq, event_id, type, order_id, created_at, envelope; the
 * envelope as JSON) and a manifest listing them with their counts, position ranges and sha-256,
 * recorded in event_log_archives; only then may its rows be deleted (the log's trigger checks that
 * record), in bounded batches.
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

export interface ArchiveBudget {
  /** Events per part (one object). */
  partSize: number;
  /** Parts written per call; the next call goes on. */
  maxParts: number;
  /** Delete statements (of DROP_BATCH rows) per call. */
  maxDropBatches: number;
}

export const ARCHIVE_BUDGET: ArchiveBudget = { partSize: 100_000, maxParts: 5, maxDropBatches: 100 };

const DROP_BATCH = 1_000;

interface ArchiveRow {
  location: string;
  events: number;
  parts: { key: string; events: number; sha256: string; firstPosition: number; lastPosition: number }[];
  exported_through: number;
  first_position: number | null;
  exported_at: Date | null;
  dropped_at: Date | null;
}

export type ArchiveStep =
  | { month: string; state: 'exporting'; events: number; parts: number }
  | { month: string; state: 'dropping' | 'dropped'; events: number; parts: number; dropped: number; location: string };

/**
 * One step of archiving a month, within a budget: export its next parts (gzipped CSV, in position
 * order) and record each; once all are out, write the manifest and mark the month exported; then
 * delete its rows in batches (the log's trigger allows it only now). Called again, it goes on where
 * it stopped. A month with an event not yet published is left alone (null): it is still to be sent.
 */
export async function archiveMonth(pool: pg.Pool, service: string, month: string, target: ArchiveTarget, budget: ArchiveBudget = ARCHIVE_BUDGET): Promise<ArchiveStep | null> {
  const end = monthEnd(month);
  const { rows: pending } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM outbox_pending p JOIN outbox o USING (seq) WHERE o.created_at >= $1::date AND o.created_at < $2::date`,
    [month, end],
  );
  if (pending[0]!.n > 0) return null;
  const prefix = `event-log/${service}/${month.slice(0, 7)}`;
  await pool.query('INSERT INTO event_log_archives (month, location) VALUES ($1, $2) ON CONFLICT (month) DO NOTHING', [month, target.describe(prefix)]);
  const read = async () => (await pool.query<ArchiveRow>('SELECT * FROM event_log_archives WHERE month = $1', [month])).rows[0]!;
  let a = await read();

  if (!a.exported_at) {
    await sequenceLog(pool);
    for (let n = 0; n < budget.maxParts; n++) {
      const { rows } = await pool.query<{ position: number; seq: number; event_id: string; type: string; order_id: string | null; created_at: Date; envelope: unknown }>(
        `SELECT l.position, o.seq, o.event_id, o.type, o.order_id, o.created_at, o.envelope
           FROM event_log l JOIN outbox o ON o.seq = l.seq
          WHERE l.position > $3 AND o.created_at >= $1::date AND o.created_at < $2::date ORDER BY l.position LIMIT $4`,
        [month, end, a.exported_through, budget.partSize],
      );
      if (rows.length === 0) {
        // Every row of the month has a position (the months archived are long closed): all are out.
        const { rows: unnumbered } = await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM outbox o WHERE o.created_at >= $1::date AND o.created_at < $2::date AND NOT EXISTS (SELECT 1 FROM event_log l WHERE l.seq = o.seq)`,
          [month, end],
        );
        if (unnumbered[0]!.n > 0) throw new Error(`${unnumbered[0]!.n} events of ${month.slice(0, 7)} have no position yet; not exported`);
        const manifest = JSON.stringify({ service, month: month.slice(0, 7), events: a.events, firstPosition: a.first_position, lastPosition: a.exported_through || null, columns: CSV_COLUMNS, parts: a.parts });
        await target.put(`${prefix}/manifest.json`, Buffer.from(manifest), 'application/json');
        await pool.query(`UPDATE event_log_archives SET exported_at = now(), last_position = NULLIF(exported_through, 0), checksum = $2 WHERE month = $1`, [
          month,
          createHash('sha256').update(manifest).digest('hex'),
        ]);
        a = await read();
        break;
      }
      const csv = csvLine(CSV_COLUMNS) + rows.map((r) => csvLine([r.position, r.seq, r.event_id, r.type, r.order_id, r.created_at, r.envelope])).join('');
      const key = `${prefix}/part-${String(a.parts.length + 1).padStart(5, '0')}.csv.gz`;
      await target.put(key, gzipSync(csv), 'text/csv');
      const part = { key, events: rows.length, sha256: createHash('sha256').update(csv).digest('hex'), firstPosition: rows[0]!.position, lastPosition: rows.at(-1)!.position };
      await pool.query(
        `UPDATE event_log_archives SET parts = parts || $2::jsonb, events = events + $3, exported_through = $4, first_position = COALESCE(first_position, $5) WHERE month = $1`,
        [month, JSON.stringify([part]), rows.length, part.lastPosition, part.firstPosition],
      );
      a = await read();
    }
    if (!a.exported_at) return { month, state: 'exporting', events: Number(a.events), parts: a.parts.length };
  }

  let dropped = 0;
  if (!a.dropped_at) {
    // Only rows that went out go: a month holding more than its export is not touched.
    const { rows: held } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE created_at >= $1::date AND created_at < $2::date`, [month, end]);
    const { rows: left } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox o JOIN event_log l ON l.seq = o.seq WHERE o.created_at >= $1::date AND o.created_at < $2::date AND l.position <= $3`,
      [month, end, a.exported_through],
    );
    if (held[0]!.n !== left[0]!.n) throw new Error(`${month.slice(0, 7)} holds ${held[0]!.n - left[0]!.n} events its export does not: not dropped`);
    for (let i = 0; i < budget.maxDropBatches; i++) {
      const n = await dropBatch(pool, month);
      dropped += n;
      if (n < DROP_BATCH) {
        await pool.query('UPDATE event_log_archives SET dropped_at = now() WHERE month = $1', [month]);
        return { month, state: 'dropped', events: Number(a.events), parts: a.parts.length, dropped, location: a.location };
      }
    }
    return { month, state: 'dropping', events: Number(a.events), parts: a.parts.length, dropped, location: a.location };
  }
  return { month, state: 'dropped', events: Number(a.events), parts: a.parts.length, dropped, location: a.location };
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
