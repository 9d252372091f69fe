/**
 * Auditing an operator action whose change is not a PostgreSQL transaction (moving messages on the
 * broker, publishing a replay, rewriting a projection in Redis): there is no transaction for the
 * entry to join. So the entry comes first: a "started" entry (status null) is committed before
 * anything changes, and the outcome follows as a second entry with the same correlation id and
 * targets (the same chain): the status, and what changed (or, on failure, what had changed so far
 * and why it stopped). A crash in between leaves the started entry alone, which says exactly that:
 * it began, outcome unknown. No change is ever made without an entry before it.
 */
import type { ServiceName } from '../config';
import { getPool } from '../db/pool';
import { HttpProblem } from '../http/problem';
import type { Logger } from '@aws-lambda-powertools/logger';
import { isTransient } from '../messaging/errors';
import { auditEntry } from './entry';
import type { AuditActor } from './entry';
import { appendAudit } from './store';

export interface AuditedOperation {
  /** The database whose trail records it (shared/audit's callers decide; see docs/decisions.md). */
  service: ServiceName;
  actor: AuditActor;
  /** The route key, or the CLI command (`CLI dlq redrive`). */
  route: string;
  targets: string[];
  /** What was asked (a time range, a target queue); recorded on the started entry. */
  request?: unknown;
}

/** The outcome a successful run reports: its status (200 unless said) and what it changed. */
export interface OperationResult<T> {
  result: T;
  change: unknown;
  status?: number;
}

/**
 * Runs `run` between a started entry and an outcome entry. `progress` is the run's own record of
 * what it has changed so far (say `{ moved: 3 }`), written with the error if it fails. The run's
 * error is rethrown after its outcome is recorded.
 */
export async function auditedOperation<T>(
  op: AuditedOperation,
  run: (progress: Record<string, unknown>) => Promise<OperationResult<T>>,
  log?: Pick<Logger, 'error'>,
): Promise<T> {
  const pool = await getPool(op.service);
  // One statement: atomic on its own, no BEGIN and COMMIT needed.
  const append = (status: number | null, change: unknown) => appendAudit(pool, auditEntry(op.actor, { route: op.route, targets: op.targets, change, status }));
  await append(null, op.request === undefined ? null : { request: op.request });
  const progress: Record<string, unknown> = {};
  let outcome: { status: number; change: unknown };
  let failed = false;
  let failure: unknown;
  let result: T | undefined;
  try {
    const done = await run(progress);
    result = done.result;
    outcome = { status: done.status ?? 200, change: done.change };
  } catch (err) {
    failed = true;
    failure = err;
    const status = err instanceof HttpProblem ? err.status : isTransient(err) ? 503 : 500;
    outcome = { status, change: { ...progress, error: String((err as Error)?.message ?? err).slice(0, 500) } };
  }
  try {
    await append(outcome.status, outcome.change);
  } catch (err) {
    // The change is made and its started entry stands; the outcome goes to the log, loudly.
    log?.error('audit: the outcome of an operator action could not be recorded', { route: op.route, targets: op.targets, outcome, error: (err as Error).message });
  }
  if (failed) throw failure;
  return result as T;
}
