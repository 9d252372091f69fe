/**
 * A database that stops answering mid-transaction without closing anything (a link that drops
 * packets, `npm run chaos -- --faults network-cut-payment-db`): pg gives up after its query_timeout,
 * the error counts as the database being unavailable (a consumer waits it out in place instead of
 * parking the message as poison, which the fault run once found), and the connection is discarded
 * rather than handed to the next caller with the silent query still in flight. The database is the
 * shared server, reached through a link of this file's own that can go silent.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../shared/config';
import { withTransaction } from '../../shared/db/pool';
import { isInfrastructureError } from '../../shared/messaging/errors';
import { startSilentLink } from '../support/silent-link';
import type { SilentLink } from '../support/silent-link';

const server = new URL(process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl);
let link: SilentLink;
let pool: pg.Pool;

beforeAll(async () => {
  link = await startSilentLink({ host: server.hostname, port: Number(server.port || 5432) });
  const through = new URL(server);
  through.hostname = '127.0.0.1';
  through.port = String(link.port);
  // A short bound, so that the test waits a second rather than the services' seven.
  pool = new pg.Pool({ connectionString: through.toString(), max: 1, query_timeout: 1_000, connectionTimeoutMillis: 5_000 });
  pool.on('error', () => undefined);
});

afterAll(async () => {
  await pool?.end().catch(() => undefined);
  await link?.close();
});

describe('a transaction on a database that stops answering', () => {
  it('fails as the database being unavailable, and its connection is discarded, not reused', async () => {
    await pool.query('SELECT 1'); // the one connection, open and idle
    expect(pool.totalCount).toBe(1);

    const failure = await withTransaction(pool, async (tx) => {
      await tx.query('SELECT 1');
      link.silence();
      await tx.query('SELECT 2');
    }).catch((err: unknown) => err);
    expect(failure).toMatchObject({ message: 'Query read timeout' });
    expect(isInfrastructureError(failure)).toBe(true);
    // Discarded: no ROLLBACK queued behind the silent query, no client back in the pool.
    expect(pool.totalCount).toBe(0);

    // Once the link answers again, a new connection serves the next transaction.
    link.restore();
    await expect(withTransaction(pool, async (tx) => (await tx.query<{ n: number }>('SELECT 3 AS n')).rows[0]!.n)).resolves.toBe(3);
  }, 30_000);
});
