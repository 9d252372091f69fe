import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { closeTestClients, db, waitFor } from '../support/system';

afterAll(closeTestClients);

/**
 * The pruners of the suite's runtime (every 2 s here) remove what is past its window and nothing
 * else: inbox ids older than INBOX_RETENTION_DAYS (7), Idempotency-Keys older than
 * IDEMPOTENCY_KEY_RETENTION_HOURS (24); the event log and anything younger stay.
 */
describe('retention', () => {
  it('prunes inbox ids and idempotency keys past their window, and keeps the rest and the event log', async () => {
    const inboxOld = [randomUUID(), randomUUID()];
    const inboxNew = randomUUID();
    for (const service of ['payment', 'inventory', 'order'] as const) {
      await db(service).query(
        `INSERT INTO inbox (event_id, type, order_id, received_at)
         SELECT e, 'order.created', gen_random_uuid(), at FROM unnest($1::uuid[], $2::timestamptz[]) AS x(e, at)`,
        [[...inboxOld, inboxNew], [new Date(Date.now() - 8 * 86_400_000), new Date(Date.now() - 8 * 86_400_000), new Date(Date.now() - 6 * 86_400_000)]],
      );
    }
    const keyOld = `old-${randomUUID()}`;
    const keyNew = `new-${randomUUID()}`;
    await db('order').query(
      `INSERT INTO idempotency_keys (key, request_hash, order_id, created_at) VALUES ($1, 'h', gen_random_uuid(), now() - interval '25 hours'), ($2, 'h', gen_random_uuid(), now() - interval '23 hours')`,
      [keyOld, keyNew],
    );
    const logBefore = Number((await db('order').query('SELECT count(*) AS n FROM outbox')).rows[0].n);

    for (const service of ['payment', 'inventory', 'order'] as const) {
      await waitFor(
        async () => (await db(service).query('SELECT 1 FROM inbox WHERE event_id = ANY($1::uuid[])', [inboxOld])).rowCount === 0,
        `the ${service} pruner to remove inbox ids older than 7 days`,
        30_000,
      );
      expect((await db(service).query('SELECT 1 FROM inbox WHERE event_id = $1', [inboxNew])).rowCount).toBe(1);
    }
    await waitFor(async () => (await db('order').query('SELECT 1 FROM idempotency_keys WHERE key = $1', [keyOld])).rowCount === 0, 'the old key to go', 30_000);
    expect((await db('order').query('SELECT 1 FROM idempotency_keys WHERE key = $1', [keyNew])).rowCount).toBe(1);
    expect(Number((await db('order').query('SELECT count(*) AS n FROM outbox')).rows[0].n)).toBeGreaterThanOrEqual(logBefore);
  });
});
