import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS, databaseName, withDatabase } from '../../shared/config';
import { lockOrderScopes } from '../../shared/db/locks';
import { pruneOlderThan } from '../../shared/messaging/retention';
import { db, system } from '../support/system';

/**
 * The order locks of the payment and inventory consumers (shared/db/locks.ts) against the real
 * database: they serialise overlapping work, including on orders that have no row yet, survive the
 * pruner deleting a lock row that someone waits for, never deadlock, and take no advisory lock
 * (which would pin an RDS Proxy connection). Random order ids: the shared runtime's own orders
 * never meet them.
 */

const clients: pg.Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
});

async function client(): Promise<pg.Client> {
  const url = withDatabase(process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl, databaseName('inventory', system().namespace));
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  clients.push(c);
  return c;
}

/** Whether the promise is still pending after a while (a transaction that waits on a lock). */
async function stillWaiting(p: Promise<unknown>, ms = 300): Promise<boolean> {
  const tick = Symbol('waiting');
  return (await Promise.race([p, new Promise((r) => setTimeout(() => r(tick), ms))])) === tick;
}

const ids = (n: number) => Array.from({ length: n }, () => randomUUID());

describe('order locks', () => {
  it('make a second transaction on an overlapping set wait until the first ends, for orders with no row yet too', async () => {
    const [a, b] = [await client(), await client()];
    const [x, y, z] = ids(3);
    await a.query('BEGIN');
    await lockOrderScopes(a, [x!, y!]);
    await b.query('BEGIN');
    const second = lockOrderScopes(b, [z!, y!]);
    expect(await stillWaiting(second)).toBe(true);
    await a.query('COMMIT');
    await second;
    await b.query('COMMIT');
    const { rows } = await db('inventory').query('SELECT count(*)::int AS n FROM order_locks WHERE order_id = ANY($1::uuid[])', [[x, y, z]]);
    expect(rows[0].n).toBe(3);
  });

  it('let disjoint sets through at once, and take no advisory lock', async () => {
    const [a, b] = [await client(), await client()];
    await a.query('BEGIN');
    await lockOrderScopes(a, ids(5));
    await b.query('BEGIN');
    await lockOrderScopes(b, ids(5));
    const { rows } = await a.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`);
    expect(rows[0]!.n).toBe(0);
    await a.query('COMMIT');
    await b.query('COMMIT');
  });

  it('hold when the pruner deletes the lock row a transaction waits for: the row is taken again, and a third waits for it', async () => {
    const [a, b, c, pruner] = [await client(), await client(), await client(), await client()];
    const [x] = ids(1);
    // The row committed, as a past event of the order left it (the pruner sees committed rows only).
    await lockOrderScopes(db('inventory'), [x!]);
    await a.query('BEGIN');
    await lockOrderScopes(a, [x!]);
    // The pruner's delete waits for a; b waits for a too.
    await pruner.query('BEGIN');
    const deleted = pruner.query('DELETE FROM order_locks WHERE order_id = $1', [x]);
    expect(await stillWaiting(deleted)).toBe(true);
    await b.query('BEGIN');
    const second = lockOrderScopes(b, [x!]);
    expect(await stillWaiting(second)).toBe(true);
    await a.query('COMMIT');
    expect((await deleted).rowCount).toBe(1);
    await pruner.query('COMMIT');
    await second;
    // b holds a new row for x: c waits for b.
    await c.query('BEGIN');
    const third = lockOrderScopes(c, [x!]);
    expect(await stillWaiting(third)).toBe(true);
    await b.query('COMMIT');
    await third;
    await c.query('COMMIT');
  });

  it('serialise read-modify-write on shared orders from many transactions without a lost update or a deadlock', async () => {
    const workers = await Promise.all(Array.from({ length: 8 }, () => client()));
    const orders = ids(6);
    const counts = new Map(orders.map((o) => [o, 0]));
    const rounds = 15;
    await Promise.all(
      workers.map(async (w, i) => {
        for (let r = 0; r < rounds; r++) {
          // Each round a different overlapping subset, in whatever order it was drawn.
          const subset = orders.filter((_, k) => (k + i + r) % 3 !== 0).reverse();
          await w.query('BEGIN');
          await lockOrderScopes(w, subset);
          // Read, wait, write: without the lock two workers would read the same value.
          const seen = subset.map((o) => counts.get(o)!);
          await new Promise((res) => setTimeout(res, 2));
          subset.forEach((o, k) => counts.set(o, seen[k]! + 1));
          await w.query('COMMIT');
        }
      }),
    );
    const expected = new Map(orders.map((o) => [o, 0]));
    for (let i = 0; i < workers.length; i++) {
      for (let r = 0; r < rounds; r++) orders.forEach((o, k) => (k + i + r) % 3 !== 0 && expected.set(o, expected.get(o)! + 1));
    }
    expect(counts).toEqual(expected);
  });

  it('are pruned past the window like the inbox', async () => {
    const [old, fresh] = ids(2);
    await db('inventory').query(`INSERT INTO order_locks (order_id, locked_at) VALUES ($1, now() - interval '8 days'), ($2, now())`, [old, fresh]);
    await pruneOlderThan(db('inventory'), { table: 'order_locks', column: 'locked_at', seconds: 7 * 86_400 });
    const { rows } = await db('inventory').query<{ order_id: string }>('SELECT order_id FROM order_locks WHERE order_id = ANY($1::uuid[])', [[old, fresh]]);
    expect(rows.map((r) => r.order_id)).toEqual([fresh]);
  });
});
