/**
 * The saga metrics come from the order database: orders settled in a minute, per outcome, and
 * creation-to-outcome latency. Checked on rows written into a minute long past (inside a
 * transaction rolled back afterwards), so the runtime's own orders never count.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { settledOrders } from '../../functions/order/metrics';
import { closeTestClients, db } from '../support/system';

afterAll(closeTestClients);

const minute = { from: new Date('2001-02-03T04:05:00Z'), to: new Date('2001-02-03T04:06:00Z') };
const at = (offsetSeconds: number) => new Date(minute.from.getTime() + offsetSeconds * 1000);

describe('order metrics', () => {
  it('counts each outcome in its minute once, with creation-to-outcome latency', async () => {
    const client = await db('order').connect();
    try {
      await client.query('BEGIN');
      const insert = (status: string, created: Date, updated: Date) =>
        client.query(
          `INSERT INTO orders (id, customer_id, status, total_cents, currency, payment_token, created_at, updated_at)
           VALUES ($1, $2, $3, 100, 'USD', 'tok_visa', $4, $5)`,
          [randomUUID(), randomUUID(), status, created, updated],
        );
      await insert('CONFIRMED', at(-2), at(10)); // 12 s saga
      await insert('CONFIRMED', at(30), at(30.25)); // 250 ms
      await insert('FAILED', at(1), at(2)); // 1 s
      await insert('CANCELLED', at(-300), at(5)); // the deadline
      await insert('CONFIRMED', at(-5), at(60)); // the next minute: not this one
      await insert('PENDING', at(0), at(1)); // no outcome yet
      await insert('CANCELLED', at(-86_400 * 3), at(20)); // a confirmed order cancelled days later: not a saga outcome

      const settled = await settledOrders(client, minute.from, minute.to, 300);
      expect(settled.counts).toEqual({ CONFIRMED: 2, FAILED: 1, CANCELLED: 1 });
      expect(settled.latencies.CONFIRMED.sort((a, b) => a - b)).toEqual([250, 12_000]);
      expect(settled.latencies.FAILED).toEqual([1_000]);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
