import type { Logger } from '@aws-lambda-powertools/logger';
import type pg from 'pg';
import type { Queryable } from '../db/pool';
import { orderIdOf } from '../events/envelope';
import type { AnyEnvelope } from '../events/envelope';
import { publishEvents } from './broker';

/** Stores events in the outbox, inside the caller's transaction. */
export async function appendToOutbox(tx: Queryable, events: AnyEnvelope[]): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO outbox (event_id, type, order_id, envelope)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::jsonb[])`,
    [events.map((e) => e.id), events.map((e) => e.type), events.map(orderIdOf), events.map((e) => JSON.stringify(e))],
  );
}

/**
 * Publishes unpublished outbox rows in commit order and marks them published, holding row locks
 * (SKIP LOCKED) so the immediate publish and the relay never send the same row at once.
 * Pass eventIds to publish just those (right after a commit); omit them to sweep (the relay).
 * Returns how many rows were published.
 */
export async function publishOutbox(pool: pg.Pool, opts: { eventIds?: string[]; limit?: number } = {}): Promise<number> {
  if (opts.eventIds && opts.eventIds.length === 0) return 0;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ seq: string; envelope: AnyEnvelope }>(
      `SELECT seq, envelope FROM outbox
        WHERE published_at IS NULL AND ($1::uuid[] IS NULL OR event_id = ANY($1))
        ORDER BY seq FOR UPDATE SKIP LOCKED LIMIT $2`,
      [opts.eventIds ?? null, opts.limit ?? 500],
    );
    if (rows.length === 0) {
      await client.query('COMMIT');
      return 0;
    }
    const seqs = rows.map((r) => r.seq);
    try {
      await publishEvents(rows.map((r) => r.envelope));
    } catch (err) {
      await client.query(
        'UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE seq = ANY($1::bigint[])',
        [seqs, String((err as Error).message).slice(0, 500)],
      );
      await client.query('COMMIT');
      throw err;
    }
    await client.query('UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE seq = ANY($1::bigint[])', [seqs]);
    await client.query('COMMIT');
    return rows.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Sweeps the whole outbox backlog; the relay's job. */
export async function relayOutbox(pool: pg.Pool, batch = 500): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await publishOutbox(pool, { limit: batch });
    total += n;
    if (n < batch) return total;
  }
}

/**
 * Publishes events right after their transaction committed, for low latency. A failure is only
 * logged: the rows stay unpublished and the relay sends them.
 */
export async function publishCommitted(pool: pg.Pool, eventIds: string[], logger: Logger): Promise<void> {
  await publishOutbox(pool, { eventIds }).catch((err) =>
    logger.warn('immediate publish failed; the outbox relay will send the events', { error: (err as Error).message }),
  );
}
