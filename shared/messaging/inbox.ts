import type { Queryable } from '../db/pool';
import { orderIdOf } from '../events/envelope';
import type { AnyEnvelope } from '../events/envelope';

/**
 * Records events in the service's inbox, in the caller's transaction, and returns those that were
 * not there yet, in the order given: a redelivered event finds its row and is left out. Envelopes
 * are kept only by services that read them back (the order service's timeline).
 */
export async function recordInInbox(tx: Queryable, events: AnyEnvelope[], keepEnvelopes: boolean): Promise<AnyEnvelope[]> {
  if (events.length === 0) return [];
  const { rows } = await tx.query<{ event_id: string }>(
    `INSERT INTO inbox (event_id, type, order_id, envelope)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::jsonb[])
     ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
    [events.map((e) => e.id), events.map((e) => e.type), events.map(orderIdOf), events.map((e) => (keepEnvelopes ? JSON.stringify(e) : null))],
  );
  const fresh = new Set(rows.map((r) => r.event_id));
  return events.filter((e) => fresh.has(e.id));
}
