import type pg from 'pg';
import type { ServiceName } from '../config';
import { withTransaction } from '../db/pool';
import type { Queryable } from '../db/pool';
import type { AnyEnvelope } from '../events/envelope';
import { readLog, sequenceLog } from '../messaging/event-log';
import type { LogEntry } from '../messaging/event-log';
import { finishRun, recordProgress, releaseRun } from './runs';
import type { Run } from './runs';

/**
 * Rebuilding a projection kept in PostgreSQL tables from an event log, while traffic flows
 * (docs/decisions.md, "Projections are rebuilt from the log beside the live copy"):
 *
 * 1. fold the log into shadow tables (`<table>_rebuild`, same columns), batch by batch, each batch
 *    committed with the run's checkpoint (its last log position), so a worker that dies leaves a
 *    run the next one resumes exactly;
 * 2. catch up with what arrived meanwhile until only a few events are left;
 * 3. in one transaction that holds the live tables against writers (readers go on): fold the last
 *    events, compare live and shadow where they must agree (row counts, a checksum per table, every
 *    difference listed) and, for a rebuild, make the live tables equal to the shadow (rows deleted,
 *    inserted, updated: only the differences are written), or for a check, change nothing.
 */

/** A live table, its shadow, and what of a row must agree. */
export interface ShadowTable {
  live: string;
  shadow: string;
  key: string[];
  columns: string[];
  /** The row as compared, an SQL expression over alias `t` (e.g. `ROW(t.id, t.status)`); by default every column. */
  compared?: string;
}

export interface TableProjection<S> {
  name: string;
  /** The database its tables (and its runs) live in. */
  owner: ServiceName;
  /** The log it folds. */
  source: ServiceName;
  types: readonly string[];
  /** Parents first (rows are deleted children first, written parents first). */
  tables: ShadowTable[];
  keyOf(event: AnyEnvelope): string | null;
  evolve(state: S | null, event: AnyEnvelope): S | null;
  /** The shadow's current states of these keys. */
  load(tx: Queryable, keys: string[]): Promise<Map<string, S>>;
  /** Writes states into the shadow (insert or replace; null: the key has no row). */
  save(tx: Queryable, states: Map<string, S | null>): Promise<void>;
  /** What the log alone cannot say, settled under the final lock (since: when the fold started). */
  finish?(tx: Queryable, since: Date): Promise<void>;
}

export interface TableComparison {
  table: string;
  liveRows: number;
  rebuiltRows: number;
  liveChecksum: string;
  rebuiltChecksum: string;
  differences: number;
  /** The first differences: missing (in the log, not live), extra (live, not in the log), different. */
  listed: { key: string; kind: 'missing' | 'extra' | 'different'; live: string | null; rebuilt: string | null }[];
}

export interface RebuildProgress {
  phase: 'building' | 'catching up' | 'comparing';
  done: number;
  total: number;
}

const BATCH = 1_000;
/** Events left at most when the final, locked step starts. */
const CATCH_UP_SLACK = 200;
/** How many differences each table's comparison lists. */
const LISTED = 100;
/** The final step may take longer than the databases' 5 s statement limit: it reads every row. */
const FINAL_STATEMENT_TIMEOUT = '300s';

class LeaseLost extends Error {
  constructor(id: string) {
    super(`run ${id} was taken over by another worker`);
  }
}

const rowOf = (t: ShadowTable, alias = 't') => t.compared ?? `ROW(${t.columns.map((c) => `${alias}.${c}`).join(', ')})`;

async function apply<S>(tx: Queryable, p: TableProjection<S>, entries: LogEntry[]): Promise<void> {
  const byKey = new Map<string, AnyEnvelope[]>();
  for (const { event } of entries) {
    const key = p.keyOf(event);
    if (key) byKey.set(key, [...(byKey.get(key) ?? []), event]);
  }
  if (byKey.size === 0) return;
  const current = await p.load(tx, [...byKey.keys()]);
  const next = new Map<string, S | null>();
  for (const [key, events] of byKey) next.set(key, events.reduce<S | null>((s, e) => p.evolve(s, e), current.get(key) ?? null));
  await p.save(tx, next);
}

export async function compareTable(tx: Queryable, t: ShadowTable): Promise<TableComparison> {
  const keys = t.key.map((k, i) => `t.${k} AS k${i}`).join(', ');
  const on = t.key.map((_, i) => `l.k${i} = s.k${i}`).join(' AND ');
  const keyText = `concat_ws('/', ${t.key.map((_, i) => `coalesce(l.k${i}, s.k${i})::text`).join(', ')})`;
  const checksum = (table: string) =>
    `(SELECT md5(coalesce(string_agg(md5((${rowOf(t)})::text), '' ORDER BY ${t.key.map((k) => `t.${k}`).join(', ')}), '')) FROM ${table} t)`;
  const { rows: sums } = await tx.query<{ live_rows: number; rebuilt_rows: number; live_sum: string; rebuilt_sum: string }>(
    `SELECT (SELECT count(*) FROM ${t.live})::bigint AS live_rows, (SELECT count(*) FROM ${t.shadow})::bigint AS rebuilt_rows,
            ${checksum(t.live)} AS live_sum, ${checksum(t.shadow)} AS rebuilt_sum`,
  );
  const { rows } = await tx.query<{ key: string; kind: 'missing' | 'extra' | 'different'; live: string | null; rebuilt: string | null; total: number }>(
    `WITH l AS (SELECT ${keys}, ${rowOf(t)} AS v, true AS present FROM ${t.live} t),
          s AS (SELECT ${keys}, ${rowOf(t)} AS v, true AS present FROM ${t.shadow} t)
     SELECT ${keyText} AS key,
            CASE WHEN l.present IS NULL THEN 'missing' WHEN s.present IS NULL THEN 'extra' ELSE 'different' END AS kind,
            l.v::text AS live, s.v::text AS rebuilt, count(*) OVER ()::bigint AS total
       FROM l FULL JOIN s ON ${on}
      WHERE l.present IS NULL OR s.present IS NULL OR l.v IS DISTINCT FROM s.v
      ORDER BY 1 LIMIT ${LISTED}`,
  );
  const s = sums[0]!;
  return {
    table: t.live,
    liveRows: Number(s.live_rows),
    rebuiltRows: Number(s.rebuilt_rows),
    liveChecksum: s.live_sum,
    rebuiltChecksum: s.rebuilt_sum,
    differences: Number(rows[0]?.total ?? 0),
    listed: rows.map(({ total: _t, ...d }) => d),
  };
}

/** Makes the live tables equal to their shadows, writing only the rows that differ. */
async function swapIn(tx: Queryable, tables: ShadowTable[]): Promise<void> {
  const match = (t: ShadowTable) => t.key.map((k) => `s.${k} = t.${k}`).join(' AND ');
  for (const t of [...tables].reverse()) {
    await tx.query(`DELETE FROM ${t.live} t WHERE NOT EXISTS (SELECT 1 FROM ${t.shadow} s WHERE ${match(t)})`);
  }
  for (const t of tables) {
    const cols = t.columns.join(', ');
    const set = t.columns.filter((c) => !t.key.includes(c)).map((c) => `${c} = EXCLUDED.${c}`).join(', ');
    await tx.query(
      `INSERT INTO ${t.live} (${cols}) SELECT ${cols} FROM ${t.shadow}
       ON CONFLICT (${t.key.join(', ')}) DO UPDATE SET ${set}
       WHERE (${t.columns.map((c) => `${t.live}.${c}`).join(', ')}) IS DISTINCT FROM (${t.columns.map((c) => `EXCLUDED.${c}`).join(', ')})`,
    );
  }
}

/**
 * Runs (or resumes) a rebuild or check of a table projection under the worker's lease, until it is
 * done or `deadline` (epoch ms) comes, when the run is given back with its checkpoint for the next
 * worker. Returns whether it finished.
 */
export async function runTableRebuild<S>(
  run: Run,
  p: TableProjection<S>,
  pools: { owner: pg.Pool; source: pg.Pool },
  opts: { deadline: number; onProgress?: (progress: RebuildProgress) => void },
): Promise<boolean> {
  const { owner, source } = pools;
  let checkpoint = run.checkpoint;
  const since = new Date(run.startedAt ?? Date.now());
  try {
    if (checkpoint === 0) await owner.query(`TRUNCATE ${p.tables.map((t) => t.shadow).join(', ')}`);
    let phase: RebuildProgress['phase'] = 'building';
    for (;;) {
      const head = await sequenceLog(source);
      if (head - checkpoint <= CATCH_UP_SLACK) break;
      const entries = await readLog(source, { after: checkpoint, through: head, limit: BATCH, types: p.types });
      const next = entries.length < BATCH ? head : entries.at(-1)!.position;
      await withTransaction(owner, async (tx) => {
        await apply(tx, p, entries);
        if (!(await recordProgress(tx, run, { checkpoint: next, doneEvents: next, totalEvents: head }))) throw new LeaseLost(run.id);
      });
      checkpoint = next;
      opts.onProgress?.({ phase, done: checkpoint, total: head });
      if (checkpoint >= head) phase = 'catching up';
      if (Date.now() > opts.deadline) {
        await releaseRun(owner, run);
        return false;
      }
    }

    opts.onProgress?.({ phase: 'comparing', done: checkpoint, total: checkpoint });
    const started = Date.now();
    const comparison = await withTransaction(owner, async (tx) => {
      await tx.query(`SET LOCAL statement_timeout = '${FINAL_STATEMENT_TIMEOUT}'`);
      // EXCLUSIVE: readers go on; writers, and transactions locking rows to write them, wait.
      await tx.query(`LOCK TABLE ${p.tables.map((t) => t.live).join(', ')} IN EXCLUSIVE MODE`);
      const lockedAt = Date.now();
      // Every writer of the live tables has committed or waits: what they wrote is in the log now.
      const head = await sequenceLog(source);
      while (checkpoint < head) {
        const entries = await readLog(source, { after: checkpoint, through: head, limit: BATCH, types: p.types });
        await apply(tx, p, entries);
        checkpoint = entries.length < BATCH ? head : entries.at(-1)!.position;
      }
      await p.finish?.(tx, since);
      const tables = [];
      for (const t of p.tables) tables.push(await compareTable(tx, t));
      const differences = tables.reduce((n, t) => n + t.differences, 0);
      if (run.kind === 'rebuild' && differences > 0) await swapIn(tx, p.tables);
      const result = {
        projection: p.name,
        mode: run.kind,
        position: checkpoint,
        equal: differences === 0,
        differences,
        swapped: run.kind === 'rebuild' && differences > 0,
        tables,
        writesHeldMs: Date.now() - lockedAt,
        finalStepMs: Date.now() - started,
      };
      if (!(await recordProgress(tx, run, { checkpoint, doneEvents: checkpoint, totalEvents: checkpoint }))) throw new LeaseLost(run.id);
      await finishRun(tx, run.id, { result });
      return result;
    });
    return Boolean(comparison);
  } catch (err) {
    if (err instanceof LeaseLost) return false;
    await finishRun(owner, run.id, { error: (err as Error).message }).catch(() => undefined);
    throw err;
  }
}
