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

/** How long a publisher may hold rows it claimed before another may take them over. */
const CLAIM_SECONDS = 30;

/**
 * Publishes unpublished outbox rows in commit order and marks them published. Rows are claimed
 * first with a short lease (one statement, SKIP LOCKED), so the immediate publish and the relay
 * never send the same row at once, and a publisher that dies mid-way only delays its rows by the
 * lease. A row published but not yet marked when its publisher died is sent again: consumers
 * deduplicate by event id. Pass eventIds to publish just those (right after a commit); omit them
 * to sweep (the relay). Returns how many rows were published.
 */
export async function publishOutbox(pool: pg.Pool, opts: { eventIds?: string[]; limit?: number } = {}): Promise<number> {
  if (opts.eventIds && opts.eventIds.length === 0) return 0;
  const { rows } = await pool.query<{ seq: string; envelope: AnyEnvelope }>(
    `UPDATE outbox SET claimed_until = now() + make_interval(secs => $3), attempts = attempts + 1
      WHERE seq IN (SELECT seq FROM outbox
                     WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
                       AND ($1::uuid[] IS NULL OR event_id = ANY($1))
                     ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING seq, envelope`,
    [opts.eventIds ?? null, opts.eventIds ? opts.eventIds.length : (opts.limit ?? 500), CLAIM_SECONDS],
  );
  if (rows.length === 0) return 0;
  rows.sort((a, b) => Number(a.seq) - Number(b.seq));
  const seqs = rows.map((r) => r.seq);
  try {
    await publishEvents(rows.map((r) => r.envelope));
  } catch (err) {
    await pool
      .query('UPDATE outbox SET claimed_until = NULL, last_error = $2 WHERE seq = ANY($1::bigint[])', [
        seqs,
        String((err as Error).message).slice(0, 500),
      ])
      .catch(() => undefined); // the lease runs out on its own
    throw err;
  }
  await pool.query('UPDATE outbox SET published_at = now(), claimed_until = NULL, last_error = NULL WHERE seq = ANY($1::bigint[])', [seqs]);
  return rows.length;
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
