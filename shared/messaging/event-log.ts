import type pg from 'pg';
import { withTransaction } from '../db/pool';
import type { Queryable } from '../db/pool';
import type { AnyEnvelope } from '../events/envelope';

/**
 * A service's event log: its outbox, append-only (shared/db/migrations/0001_event_log.sql), each
 * event with a gap-free position given after commit. See docs/decisions.md, "The outbox is the
 * event log".
 */

/** Most rows one sequencing statement numbers; a bigger backlog takes several. */
const SEQUENCE_BATCH = 5_000;

/**
 * Gives positions to every event that has become visible since the last run, in seq order, and
 * returns the last position given. One sequencer at a time (the head row's lock); writers never
 * wait for it. Cheap when there is nothing new: one indexed probe.
 */
export async function sequenceLog(pool: pg.Pool): Promise<number> {
  for (;;) {
    const { last, numbered } = await withTransaction(pool, async (tx) => {
      // Lock first, then look with a snapshot taken after the lock: a snapshot taken before it
      // would miss what the sequencer we waited for has just numbered.
      const head = await tx.query<{ position: number; horizon: string }>('SELECT position, horizon::text FROM event_log_head FOR UPDATE');
      const { position, horizon } = head.rows[0]!;
      const { rows } = await tx.query<{ numbered: number; last: number }>(
        `WITH fresh AS (
           SELECT o.seq FROM outbox o
            WHERE o.xact >= $1::xid8 AND NOT EXISTS (SELECT 1 FROM event_log l WHERE l.seq = o.seq)
            ORDER BY o.seq LIMIT $3
         ),
         numbered AS (
           INSERT INTO event_log (position, seq)
           SELECT $2::bigint + row_number() OVER (ORDER BY seq), seq FROM fresh
           RETURNING position
         ),
         counted AS (SELECT count(*)::int AS n FROM numbered)
         UPDATE event_log_head SET
           position = $2::bigint + (SELECT n FROM counted),
           -- Every transaction below this snapshot's xmin has ended: its rows are numbered now
           -- (unless the batch was cut, when the next round goes on from the same horizon).
           horizon = CASE WHEN (SELECT n FROM counted) < $3 THEN pg_snapshot_xmin(pg_current_snapshot()) ELSE horizon END
         RETURNING (SELECT n FROM counted) AS numbered, position AS last`,
        [horizon, position, SEQUENCE_BATCH],
      );
      return rows[0]!;
    });
    if (numbered < SEQUENCE_BATCH) return last;
  }
}

export interface LogEntry {
  position: number;
  seq: number;
  createdAt: Date;
  event: AnyEnvelope;
}

export interface LogQuery {
  /** Read after this position (0: from the start). */
  after: number;
  /** Up to and including this position. */
  through?: number;
  limit: number;
  types?: readonly string[];
  orderId?: string;
  /** created_at bounds (the writer's transaction start). */
  from?: Date;
  to?: Date;
}

/** Reads the log in position order. Sequence first (sequenceLog) to read up to what is committed. */
export async function readLog(db: Queryable, q: LogQuery): Promise<LogEntry[]> {
  const { rows } = await db.query<{ position: number; seq: number; created_at: Date; envelope: AnyEnvelope }>(
    `SELECT l.position, l.seq, o.created_at, o.envelope
       FROM event_log l JOIN outbox o ON o.seq = l.seq
      WHERE l.position > $1 AND ($2::bigint IS NULL OR l.position <= $2)
        AND ($3::text[] IS NULL OR o.type = ANY($3))
        AND ($4::uuid IS NULL OR o.order_id = $4)
        AND ($5::timestamptz IS NULL OR o.created_at >= $5)
        AND ($6::timestamptz IS NULL OR o.created_at < $6)
      ORDER BY l.position LIMIT $7`,
    [q.after, q.through ?? null, q.types?.length ? q.types : null, q.orderId ?? null, q.from ?? null, q.to ?? null, q.limit],
  );
  return rows.map((r) => ({ position: Number(r.position), seq: Number(r.seq), createdAt: r.created_at, event: r.envelope }));
}

/** The last position given (0 for an empty log); sequence first to include what just committed. */
export async function logHead(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ position: number }>('SELECT position FROM event_log_head');
  return Number(rows[0]?.position ?? 0);
}
