/** A failure that retrying later can fix (a dependency was unreachable). It fails the whole batch. */
export class TransientError extends Error {
  override name = 'TransientError';
}

const TRANSIENT_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * SQLSTATEs that mean "the database cannot do this right now", not "this input is bad": retrying
 * later can succeed. Classing one of these as permanent would park a good message in the DLQ.
 */
const TRANSIENT_SQL_STATES = new Set([
  '57P01', // admin shutdown
  '57P02', // crash shutdown
  '57P03', // cannot connect now (starting up, shutting down)
  '57014', // query canceled (statement_timeout)
  '55P03', // lock not available (lock_timeout)
  '25006', // read-only transaction (a replica, just after a failover)
  '40001', // serialization failure
  '40P01', // deadlock detected
  '53000', // insufficient resources
  '53100', // disk full
  '53200', // out of memory
  '53300', // too many connections
  '58000', // system error
  '58030', // I/O error
]);

/**
 * Transient SQLSTATEs that come of contention between transactions, not of the database being
 * unavailable: another attempt soon succeeds, and a message that keeps meeting them may be at fault.
 */
const CONTENTION_SQL_STATES = new Set(['40001', '40P01', '55P03', '57014']);

/**
 * Whether an error says a dependency as a whole is unavailable (a database read-only, full or
 * unreachable; a socket refused or reset; the broker blocking or not confirming), rather than that
 * this message met contention (a deadlock, a serialization failure, a lock or statement timeout).
 * Such a failure is no sign of a poison message: a consumer waits it out in place
 * (shared/messaging/consumer.ts) rather than returning the batch, each return counting toward the
 * queue's delivery limit.
 */
export function isInfrastructureError(err: unknown): boolean {
  if (!isTransient(err)) return false;
  const code = (err as { code?: unknown }).code;
  return !(typeof code === 'string' && CONTENTION_SQL_STATES.has(code));
}

function isTransientSqlState(code: string): boolean {
  return code.startsWith('08') /* connection exception */ || TRANSIENT_SQL_STATES.has(code);
}

/**
 * Whether an error is worth retrying. Everything else about a message is permanent: retrying the
 * batch would fail the same way and hold up the messages around it.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof TransientError) return true;
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown; name?: unknown };
  // The broker refused a user something (shared/messaging/identity.ts): no retry grants a permission.
  if (e.name === 'BrokerRefusal' || e.name === 'BrokerLoginRefused') return false;
  if (typeof e.code === 'string' && (TRANSIENT_SYSTEM_CODES.has(e.code) || isTransientSqlState(e.code))) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return (
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      message,
    ) ||
    // pg's own bound (query_timeout, shared/db/pool.ts): the server, which ends a slow statement
    // itself (57014), did not answer at all, so the database is unreachable, not the work at fault.
    isQueryReadTimeout(err) ||
    e.name === 'IllegalOperationError' || // amqplib: channel or connection closed
    e.name === 'MaxRetriesPerRequestError' || // ioredis: Redis unreachable
    // Redis refusing the login: a restarted local Redis until its ACL users are set again
    // (local/identities/provision.ts); worth riding out in place rather than failing a batch.
    /^(WRONGPASS|NOAUTH)\b/.test(message) ||
    /Channel (closed|ended)|Connection closed|Connection is closed|Socket closed|Stream isn't writeable/i.test(message)
  );
}

/** pg gave up waiting for any answer to a query (its query_timeout): the connection is not to be trusted again. */
export function isQueryReadTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'Query read timeout';
}
