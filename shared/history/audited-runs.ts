/**
 * A person's request for work on the event logs (a rebuild, a check, a replay), recorded in the
 * audit trail: with the run's row, in one transaction, so an entry exists exactly when the request
 * was taken (a refused one, RunConflict, changes nothing and records nothing); or, for a run kept
 * in Redis, which has no transaction to join, an entry before and its outcome after
 * (auditedOperation).
 */
import type pg from 'pg';
import type { ServiceName } from '../config';
import { withTransaction } from '../db/pool';
import type { Queryable } from '../db/pool';
import { auditEntry } from '../audit/entry';
import type { AuditActor } from '../audit/entry';
import { auditedOperation } from '../audit/operation';
import { appendAudit } from '../audit/store';
import type { Run } from './runs';

export interface RunRequest {
  actor: AuditActor;
  /** The route key, or the CLI command. */
  route: string;
  /** What the run is on: a projection, or the queue a replay goes to. */
  target: string;
  params: Record<string, unknown>;
}

const changeOf = (r: RunRequest, run: Run) => ({ request: r.params, run: run.id });

/** Takes the run (`take`, with the transaction) and records who asked, in the same transaction. */
export function requestRunAudited(pool: pg.Pool, r: RunRequest, take: (db: Queryable) => Promise<Run>): Promise<Run> {
  return withTransaction(pool, async (tx) => {
    const run = await take(tx);
    void appendAudit(tx, auditEntry(r.actor, { route: r.route, targets: [r.target], change: changeOf(r, run), status: 202 }));
    return run;
  });
}

/** Takes a run kept outside PostgreSQL, between an entry in `service`'s trail and its outcome. */
export function requestOutsideRunAudited(service: ServiceName, r: RunRequest, take: () => Promise<Run>): Promise<Run> {
  return auditedOperation({ service, actor: r.actor, route: r.route, targets: [r.target], request: r.params }, async () => {
    const run = await take();
    return { result: run, change: changeOf(r, run), status: 202 };
  });
}
