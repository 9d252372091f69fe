import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type pg from 'pg';
import type { Queryable } from '../db/pool';
import { orderIdOf } from '../events/envelope';
import type { AnyEnvelope } from '../events/envelope';
import { BrokerBlocked, pingBroker, publishEvents } from './broker';
import { isRefusal, noteRefusal } from './refusals';
import { trackSilence } from '../silence';

/** How long a publisher may hold rows it claimed before another may take them over. */
export const CLAIM_SECONDS = 30;

/** A publisher's lease on outbox rows: its rows are its own until it marks or releases them, or the lease runs out. */
export const newClaim = (): string => randomUUID();

/**
 * Stores events in the outbox, inside the caller's transaction, already claimed by `claim`: the
 * caller publishes them right after the commit, and the relay takes them over only if that never
 * happens (the process died) once the lease has run out.
 */
export async function appendToOutbox(tx: Queryable, events: AnyEnvelope[], claim: string): Promise<void> {
  if (events.length === 0) return;
  const { ctes, params } = outboxInsert(events, claim, 1);
  await tx.query(`WITH ${ctes} SELECT 1`, params);
}

/**
 * Common table expressions that store events in the outbox and claim them (outbox_pending), with
 * parameters numbered from `first`, for a statement that stores them together with the state
 * change (see runStatementUnitOfWork). `when` is an SQL condition that must hold for them to be
 * stored.
 */
export function outboxInsert(events: AnyEnvelope[], claim: string, first: number, when = 'true'): { ctes: string; params: unknown[] } {
  const p = (i: number) => `$${first + i}`;
  return {
    ctes: `outbox_rows AS (
             INSERT INTO outbox (event_id, type, order_id, envelope)
             SELECT e, t, o, v FROM unnest(${p(0)}::uuid[], ${p(1)}::text[], ${p(2)}::uuid[], ${p(3)}::jsonb[]) AS x(e, t, o, v)
              WHERE ${when}
             RETURNING seq
           ),
           outbox_claims AS (
             INSERT INTO outbox_pending (seq, claim_id, claimed_until, attempts)
             SELECT seq, ${p(4)}::uuid, now() + make_interval(secs => ${p(5)}::int), 1 FROM outbox_rows
           )`,
    params: [events.map((e) => e.id), events.map((e) => e.type), events.map(orderIdOf), events.map((e) => JSON.stringify(e)), claim, CLAIM_SECONDS],
  };
}

/**
 * Publishes events claimed by `claim`, in order, and marks them published (their pending rows go)
 * once the broker has confirmed them all. On failure the claim is released (only this claim's
 * rows: a lease that ran out may belong to another publisher now), so the relay sends them at its
 * next sweep; an event published but not marked is sent again then, and consumers deduplicate by
 * event id.
 */
export async function publishClaimed(pool: pg.Pool, events: AnyEnvelope[], claim: string): Promise<void> {
  if (events.length === 0) return;
  const ids = events.map((e) => e.id);
  try {
    await publishEvents(events);
  } catch (err) {
    await releaseClaim(pool, ids, claim, (err as Error).message);
    throw err;
  }
  markPublished(pool, ids);
}

/**
 * Gives up a claim on events (only this claim's rows: a lease that ran out may belong to another
 * publisher now), with the reason, so that the relay sends them at its next sweep.
 */
async function releaseClaim(pool: pg.Pool, ids: string[], claim: string, reason: string): Promise<void> {
  await pool
    .query(
      `UPDATE outbox_pending p SET claim_id = NULL, claimed_until = NULL, last_error = $3
         FROM outbox o WHERE p.seq = o.seq AND o.event_id = ANY($1::uuid[]) AND p.claim_id = $2`,
      [ids, claim, reason.slice(0, 500)],
    )
    .catch(() => undefined); // the lease runs out on its own
}

/** How long published events wait to be marked together (they are leased for CLAIM_SECONDS). */
const MARK_DELAY_MS = 100;
const marks = new Map<pg.Pool, { ids: string[]; timer: NodeJS.Timeout }>();

/**
 * Marks events published (their pending rows go), together with the others confirmed within the
 * next 100 ms: one statement and one commit for many orders instead of one each. Until then their
 * lease keeps the relay away; should the environment end first (or the statement fail), the relay
 * sends them again once the lease runs out, and consumers deduplicate by event id.
 */
function markPublished(pool: pg.Pool, ids: string[]) {
  const pending = marks.get(pool);
  if (pending) {
    pending.ids.push(...ids);
    return;
  }
  const batch = {
    ids: [...ids],
    timer: setTimeout(() => {
      marks.delete(pool);
      pool.query('DELETE FROM outbox_pending p USING outbox o WHERE p.seq = o.seq AND o.event_id = ANY($1::uuid[])', [batch.ids]).catch(() => undefined);
    }, MARK_DELAY_MS),
  };
  marks.set(pool, batch);
}

/**
 * Publishes events whose lease is free or has run out, in commit order: the relay's job. They are
 * claimed first (one statement, SKIP LOCKED), so two relays never send the same event at once.
 * Returns how many events were published.
 */
export async function publishOutbox(pool: pg.Pool, opts: { limit?: number } = {}): Promise<number> {
  const claim = newClaim();
  const { rows } = await pool.query<{ seq: string; envelope: AnyEnvelope }>(
    `WITH claimed AS (
       UPDATE outbox_pending SET claim_id = $3, claimed_until = now() + make_interval(secs => $2), attempts = attempts + 1
        WHERE seq IN (SELECT seq FROM outbox_pending
                       WHERE claimed_until IS NULL OR claimed_until < now()
                       ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING seq
     )
     SELECT o.seq, o.envelope FROM outbox o JOIN claimed USING (seq) ORDER BY o.seq`,
    [opts.limit ?? 500, CLAIM_SECONDS, claim],
  );
  if (rows.length === 0) return 0;
  await publishClaimed(pool, rows.map((r) => r.envelope), claim);
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
 * After an immediate publish failed for want of an answer (no connection, no confirm), this
 * environment leaves its events to the relay instead of trying again: a broker behind a link that
 * drops packets answers nothing, so every publish would wait out its connect or confirm bound (5 s),
 * holding each request and batch that long. Meanwhile, at most this often, a publish starts a round
 * trip to the broker behind it, unawaited (pingBroker), whose answer says the broker is back. What
 * waits is already committed in the outbox (the relay sends it); a refusal (a permission) and a
 * blocked broker (a resource alarm) fail at once and change nothing here.
 */
export const BROKER_PROBE_EVERY_MS = 1_000;
const brokerSilence = trackSilence(BROKER_PROBE_EVERY_MS);

/** Why events were left to the relay without trying (outbox_pending.last_error). */
export const LEFT_TO_RELAY = 'not sent at once: the broker did not answer the last publish from this environment; the relay sends it';

/**
 * Publishes events right after their transaction committed, for low latency. A failure is only
 * logged: the rows stay unpublished and the relay sends them.
 */
export async function publishCommitted(pool: pg.Pool, events: AnyEnvelope[], claim: string, logger: Logger): Promise<void> {
  if (events.length === 0) return;
  if (brokerSilence.silent) {
    brokerSilence.probeIfDue(pingBroker, () => logger.info('the broker answers again: events are published at once again'));
    await releaseClaim(pool, events.map((e) => e.id), claim, LEFT_TO_RELAY);
    return;
  }
  await publishClaimed(pool, events, claim).catch((err) => {
    if (isRefusal(err)) return noteRefusal(logger, err, events.length);
    if (!(err instanceof BrokerBlocked)) brokerSilence.markSilent();
    logger.warn('immediate publish failed; the outbox relay will send the events', { error: (err as Error).message, events: events.length });
  });
}
