/**
 * Named (server-side) prepared statements for every parameterized query of a client: PostgreSQL
 * parses and analyses each distinct statement once per connection instead of on every call.
 * node-postgres keeps, per connection, the names it has parsed (connection.parsedStatements): it
 * records a name only once the server has answered ParseComplete, so a statement that fails to
 * parse is parsed again next time, and a new connection (after a restart) starts empty.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { TransientError } from '../messaging/errors';

/**
 * Most distinct statements one connection prepares; past it, statements go unnamed. EventFlow has
 * a few dozen: this only bounds the server's memory should SQL ever embed a value in its text.
 */
export const MAX_PREPARED_PER_CONNECTION = 200;

const names = new Map<string, string>();
const MAX_NAMES_CACHED = 1_000;

/** The statement's name: the same text always gets the same one (≤ 63 bytes, PostgreSQL's limit). */
export function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    if (names.size >= MAX_NAMES_CACHED) names.clear();
    name = `ef_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * PostgreSQL refuses to run a prepared statement whose result columns changed since it was parsed
 * (a migration added a column to a table it reads with *); SQLSTATE 0A000 is also used for
 * unrelated "not supported" errors, hence the message.
 */
function resultTypeChanged(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === '0A000' && typeof e.message === 'string' && /cached plan must not change result type/.test(e.message);
}

type Callback = (err: Error | undefined, res?: unknown) => void;
type Query = (config: unknown, values?: unknown, callback?: unknown) => unknown;

/** Makes every parameterized query of this client (hence of its pool) a named prepared statement. */
export function prepareStatements(client: pg.ClientBase): void {
  const query = client.query.bind(client) as Query;
  const prepared = new Set<string>();
  // Statements whose result type changed go on under a new name: the old one can no longer run,
  // and deallocating it is impossible from inside the transaction that failed.
  const renamed = new Map<string, string>();
  let renames = 0;

  const named = (config: unknown, values: unknown): { text: string; name: string } | undefined => {
    // Query objects (with submit) and configs that name themselves or choose a mode pass as they are;
    // statements without parameters (BEGIN, COMMIT) stay unnamed.
    if (typeof config === 'string') {
      if (!Array.isArray(values) || values.length === 0) return undefined;
      return { text: config, name: renamed.get(config) ?? statementName(config) };
    }
    if (!config || typeof config !== 'object') return undefined;
    const c = config as Partial<pg.QueryConfig> & { submit?: unknown; queryMode?: unknown };
    const vals = Array.isArray(values) ? values : c.values;
    if (typeof c.submit === 'function' || c.name || c.queryMode || typeof c.text !== 'string' || !Array.isArray(vals) || vals.length === 0) return undefined;
    return { text: c.text, name: renamed.get(c.text) ?? statementName(c.text) };
  };

  const replacement = (config: unknown, values?: unknown, callback?: unknown): unknown => {
    const statement = named(config, values);
    if (!statement || (!prepared.has(statement.name) && prepared.size >= MAX_PREPARED_PER_CONNECTION)) return query(config, values, callback);
    prepared.add(statement.name);
    const fresh = (err: unknown): unknown => {
      if (!resultTypeChanged(err)) return err;
      renamed.set(statement.text, `${statementName(statement.text)}_${++renames}`);
      return new TransientError(`prepared statement ${statement.name} is stale (its tables changed); it is prepared anew on the next try`, { cause: err });
    };
    const { callback: own, ...rest } = (typeof config === 'string' ? { text: config } : config) as pg.QueryConfig & { callback?: unknown };
    const cb = [values, callback, own].find((f): f is Callback => typeof f === 'function');
    const withName = { ...rest, name: statement.name, values: Array.isArray(values) ? values : rest.values };
    if (cb) return query(withName, (err: Error | undefined, res?: unknown) => cb(err && (fresh(err) as Error), res));
    return (query(withName) as Promise<unknown>).catch((err: unknown) => {
      throw fresh(err);
    });
  };
  client.query = replacement as unknown as typeof client.query;
}
