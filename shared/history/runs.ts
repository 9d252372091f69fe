import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Queryable } from '../db/pool';

/**
 * Operator jobs on the event log, recorded in the database they work on (history_runs): a rebuild
 * or check of a projection, a replay of the log. One active run per subject; a worker holds a run
 * under a lease and writes its checkpoint as it goes, so a run whose worker died is resumed by the
 * next worker once the lease has run out.
 */
export type RunKind = 'rebuild' | 'check' | 'replay';
export type RunStatus = 'requested' | 'running' | 'done' | 'failed';

export interface Run {
  id: string;
  kind: RunKind;
  subject: string;
  params: Record<string, unknown>;
  status: RunStatus;
  requestedBy: string | null;
  /** The worker holding it (its lease), while running. */
  worker: string | null;
  checkpoint: number;
  doneEvents: number;
  totalEvents: number | null;
  result: Record<string, unknown> | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  updatedAt: string;
  finishedAt: string | null;
}

interface RunRow {
  id: string;
  kind: RunKind;
  subject: string;
  params: Record<string, unknown>;
  status: RunStatus;
  requested_by: string | null;
  worker: string | null;
  checkpoint: number;
  done_events: number;
  total_events: number | null;
  result: Record<string, unknown> | null;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  updated_at: Date;
  finished_at: Date | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toRun(r: RunRow): Run {
  return {
    id: r.id,
    kind: r.kind,
    subject: r.subject,
    params: r.params,
    status: r.status,
    requestedBy: r.requested_by,
    worker: r.worker,
    checkpoint: Number(r.checkpoint),
    doneEvents: Number(r.done_events),
    totalEvents: r.total_events === null ? null : Number(r.total_events),
    result: r.result,
    error: r.error,
    createdAt: r.created_at.toISOString(),
    startedAt: iso(r.started_at),
    updatedAt: r.updated_at.toISOString(),
    finishedAt: iso(r.finished_at),
  };
}

/** Another run of the same subject is active: the new one is refused. */
export class RunConflict extends Error {
  constructor(readonly active: Run) {
    super(`a ${active.kind} of ${active.subject} is already ${active.status} (run ${active.id}, started ${active.startedAt ?? active.createdAt})`);
    this.name = 'RunConflict';
  }
}

/**
 * Records a new run, refused (RunConflict) while another run of the same subject is active. With
 * `take`, the caller runs it itself (the command line): it starts running under the caller's lease.
 */
export async function requestRun(
  db: Queryable,
  run: { kind: RunKind; subject: string; params?: Record<string, unknown>; requestedBy?: string; take?: boolean },
): Promise<Run> {
  const { rows } = await db.query<RunRow>(
    `INSERT INTO history_runs (id, kind, subject, params, status, requested_by, worker, lease_until, started_at)
     SELECT $1, $2, $3, $4, CASE WHEN $6 THEN 'running' ELSE 'requested' END, $5,
            CASE WHEN $6 THEN gen_random_uuid() END, CASE WHEN $6 THEN now() + make_interval(secs => $7) END, CASE WHEN $6 THEN now() END
     ON CONFLICT (subject) WHERE status IN ('requested', 'running') DO NOTHING RETURNING *`,
    [randomUUID(), run.kind, run.subject, JSON.stringify(run.params ?? {}), run.requestedBy ?? null, run.take ?? false, LEASE_SECONDS],
  );
  if (rows[0]) return toRun(rows[0]);
  const active = await activeRun(db, run.subject);
  if (active) throw new RunConflict(active);
  return requestRun(db, run); // it finished meanwhile
}

export async function activeRun(db: Queryable, subject: string): Promise<Run | null> {
  const { rows } = await db.query<RunRow>(`SELECT * FROM history_runs WHERE subject = $1 AND status IN ('requested', 'running')`, [subject]);
  return rows[0] ? toRun(rows[0]) : null;
}

/** The latest runs of each subject (newest first), `perSubject` each. */
export async function latestRuns(db: Queryable, subjects: string[], perSubject = 1): Promise<Run[]> {
  const { rows } = await db.query<RunRow>(
    `SELECT * FROM (
       SELECT *, row_number() OVER (PARTITION BY subject ORDER BY created_at DESC) AS n FROM history_runs WHERE subject = ANY($1)
     ) r WHERE n <= $2 ORDER BY created_at DESC`,
    [subjects, perSubject],
  );
  return rows.map(toRun);
}

export async function findRun(db: Queryable, id: string): Promise<Run | null> {
  const { rows } = await db.query<RunRow>('SELECT * FROM history_runs WHERE id = $1', [id]);
  return rows[0] ? toRun(rows[0]) : null;
}

/** How long a worker owns a run without renewing; past it another worker resumes the run. */
export const LEASE_SECONDS = 30;

/**
 * Takes the oldest run of these subjects that is requested, or running with its lease run out (its
 * worker died), under a lease of this worker. Null when there is none.
 */
export async function takeRun(db: pg.Pool, subjects: string[]): Promise<Run | null> {
  const { rows } = await db.query<RunRow>(
    `UPDATE history_runs SET status = 'running', worker = gen_random_uuid(), lease_until = now() + make_interval(secs => $2),
            started_at = COALESCE(started_at, now()), updated_at = now()
      WHERE id = (SELECT id FROM history_runs
                   WHERE subject = ANY($1) AND (status = 'requested' OR (status = 'running' AND lease_until < now()))
                   ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING *`,
    [subjects, LEASE_SECONDS],
  );
  return rows[0] ? toRun(rows[0]) : null;
}

/**
 * Records progress (and renews the lease) in the caller's transaction, which also holds the work
 * done up to the checkpoint: both commit together or neither does. False when the lease was lost
 * (another worker took the run over): the caller must stop and roll back.
 */
export async function recordProgress(tx: Queryable, run: Pick<Run, 'id' | 'worker'>, p: { checkpoint: number; doneEvents: number; totalEvents: number | null }): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE history_runs SET checkpoint = $2, done_events = $3, total_events = $4, lease_until = now() + make_interval(secs => $5), updated_at = now()
      WHERE id = $1 AND status = 'running' AND worker = $6`,
    [run.id, p.checkpoint, p.doneEvents, p.totalEvents, LEASE_SECONDS, run.worker],
  );
  return rowCount === 1;
}

export async function finishRun(db: Queryable, id: string, outcome: { result: Record<string, unknown> } | { error: string }): Promise<void> {
  const failed = 'error' in outcome;
  await db.query(
    `UPDATE history_runs SET status = $2, result = $3, error = $4, lease_until = NULL, updated_at = now(), finished_at = now() WHERE id = $1`,
    [id, failed ? 'failed' : 'done', failed ? null : JSON.stringify(outcome.result), failed ? outcome.error.slice(0, 2000) : null],
  );
}

/** Gives a run back for another worker (its time ran out): it resumes from the checkpoint at once. */
export async function releaseRun(db: Queryable, run: Pick<Run, 'id' | 'worker'>): Promise<void> {
  await db.query(`UPDATE history_runs SET lease_until = now(), updated_at = now() WHERE id = $1 AND status = 'running' AND worker = $2`, [run.id, run.worker]);
}
