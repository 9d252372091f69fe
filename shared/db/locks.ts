import type { Queryable } from './pool';

/**
 * Serialises, until the transaction ends, all work a service does on one order. Handlers that
 * may create the order's first row (a reservation, a payment, a tombstone) need it: FOR UPDATE
 * cannot lock a row that does not exist yet.
 */
export async function lockOrderScope(tx: Queryable, orderId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [orderId]);
}
