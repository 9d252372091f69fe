import pg from 'pg';
import { getConfig } from '../config';
import { TransientError, isQueryReadTimeout } from '../messaging/errors';
import { prepareStatements } from './prepared-statements';
import type { ServiceName } from '../config';

// bigint columns (sums of cents) come back as numbers; amounts stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

const pools = new Map<ServiceName, Promise<pg.Pool>>();

/** Longest a statement may run (the databases' statement_timeout); every statement EventFlow issues takes milliseconds. */
export const STATEMENT_TIMEOUT_MS = 5_000;

/** The connection pool of a service's own database, created once per process. */
export function getPool(service: ServiceName): Promise<pg.Pool> {
  let pool = pools.get(service);
  if (!pool) {
    pool = getConfig().then((config) => {
      const p = new pg.Pool({
        connectionString: config.databaseUrls[service],
        max: config.dbPoolMax,
        ssl: config.databaseTls ? { rejectUnauthorized: true } : undefined,
        connectionTimeoutMillis: 5_000,
        idleTimeoutMillis: 30_000,
        // The server ends any statement after STATEMENT_TIMEOUT_MS (a database setting, see
        // shared/db/migrations/0000_messaging_timeouts.sql); if it never answers at all (a network
        // that drops packets), the client gives up a little later.
        query_timeout: STATEMENT_TIMEOUT_MS + 2_000,
        keepAlive: true,
        // Prepared statements are parsed once, but each execution is still planned for its own
        // values: a generic plan, cached after five executions, is made for no values at all, and
        // for `id = ANY($1)` on a table still small when it was made it chose sequential scans
        // that then read the whole table on every call as it grew (docs/decisions.md).
        options: config.dbPreparedStatements ? '-c plan_cache_mode=force_custom_plan' : undefined,
      });
      // 'connect' fires once per new client, before anyone gets it; pool.query goes through a client too.
      if (config.dbPreparedStatements) p.on('connect', prepareStatements);
      // An idle client losing its connection must not crash the process; the next query reconnects.
      p.on('error', () => undefined);
      return p;
    });
    pools.set(service, pool);
  }
  return pool;
}

export type Queryable = Pick<pg.PoolClient, 'query'>;

/** Runs fn in one transaction: all of its writes commit together or none do. */
export async function withTransaction<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  // Whatever keeps us from getting a connection (down, restarting, refusing connections, full) is
  // about the database's availability, not about the work: worth retrying later.
  const client = await pool.connect().catch((err: Error) => {
    throw new TransientError(`database unavailable: ${err.message}`, { cause: err });
  });
  // pg emits 'error' on a checked-out client whose server goes away (a restart, a failover), and
  // the pool listens only to idle ones: without a listener here that error would end the process.
  // The query in flight fails on its own; the client is then discarded instead of reused.
  let lost: Error | undefined;
  const onError = (err: Error) => (lost = err);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A connection that answered nothing within query_timeout (a network dropping packets) still
    // has that query in flight: a ROLLBACK would queue behind it, and the pool would hand it to the
    // next caller. It is discarded instead; the server ends the transaction with the session.
    if (!lost && isQueryReadTimeout(err)) lost = err as Error;
    if (!lost) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.off('error', onError);
    client.release(lost);
  }
}

export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map(async (p) => (await p).end()));
}
