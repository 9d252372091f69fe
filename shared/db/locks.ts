import type { Queryable } from './pool';

/**
 * Serialises, until the transaction ends, all work a service does on the given orders. Handlers
 * that may create an order's first row (a reservation, a payment, a tombstone) need it: FOR UPDATE
 * cannot lock a row that does not exist yet. Taken in one statement, in key order, so that two
 * transactions locking overlapping sets never deadlock.
 */
export async function lockOrderScopes(tx: Queryable, orderIds: string[]): Promise<void> {
  if (orderIds.length === 0) return;
  await tx.query(
    `SELECT pg_advisory_xact_lock(k) FROM (
       SELECT DISTINCT hashtextextended(id::text, 0) AS k FROM unnest($1::uuid[]) AS id ORDER BY 1
     ) keys`,
    [orderIds],
  );
}
