import type { Queryable } from './pool';

/**
 * Serialises, until the transaction ends, all work a service does on the given orders. Handlers
 * that may create an order's first row (a reservation, a payment, a tombstone) need it: FOR UPDATE
 * cannot lock a row that does not exist yet, so each order has a lock row of its own
 * (shared/db/migrations/0004_order_locks.sql: row locks, which an RDS Proxy does not pin a session
 * for, taken in key order so that overlapping sets never deadlock).
 */
export async function lockOrderScopes(tx: Queryable, orderIds: string[]): Promise<void> {
  if (orderIds.length === 0) return;
  await tx.query('SELECT lock_orders($1::uuid[])', [orderIds]);
}
