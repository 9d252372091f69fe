import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import type { ScheduledEvent } from 'aws-lambda';
import type { ServiceName } from '../config';
import { getPool } from '../db/pool';
import { LAMBDA_ENV, LOCAL_ENV, RETENTION_ENV, onLambda } from '../env';
import { archiveMonth, monthsToArchive } from '../history/archive';
import type { ArchiveTarget } from '../history/archive';
import { createLogger } from '../logger';

/** How long the working sets are kept (docs/decisions.md, "Retention"). */
export interface RetentionSettings {
  inboxDays: number;
  idempotencyKeyHours: number;
  eventLogKeepMonths: number;
}

export const RETENTION_DEFAULTS: RetentionSettings = { inboxDays: 7, idempotencyKeyHours: 24, eventLogKeepMonths: 12 };

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
}

export function retentionSettings(env: NodeJS.ProcessEnv = process.env): RetentionSettings {
  return {
    inboxDays: positive(RETENTION_ENV.inboxDays, env[RETENTION_ENV.inboxDays], RETENTION_DEFAULTS.inboxDays),
    idempotencyKeyHours: positive(RETENTION_ENV.idempotencyKeyHours, env[RETENTION_ENV.idempotencyKeyHours], RETENTION_DEFAULTS.idempotencyKeyHours),
    eventLogKeepMonths: Math.floor(positive(RETENTION_ENV.eventLogKeepMonths, env[RETENTION_ENV.eventLogKeepMonths], RETENTION_DEFAULTS.eventLogKeepMonths)),
  };
}

/** Rows of `table` whose `column` is older than `seconds` are a working set's past: they go. */
export interface PruneRule {
  table: string;
  column: string;
  seconds: number;
}

/** Rows one statement deletes: short transactions, short locks, no long vacuum debt at once. */
export const PRUNE_BATCH = 1_000;
/** Statements per table per run; what is left waits for the next run. */
export const PRUNE_MAX_BATCHES = 100;

const ident = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${name}`);
  return name;
};

/** Deletes rows past the rule's window in bounded batches; returns how many went. */
export async function pruneOlderThan(pool: pg.Pool, rule: PruneRule, batch = PRUNE_BATCH, maxBatches = PRUNE_MAX_BATCHES): Promise<number> {
  const table = ident(rule.table);
  const column = ident(rule.column);
  let deleted = 0;
  for (let i = 0; i < maxBatches; i++) {
    const { rowCount } = await pool.query(
      `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
         SELECT ctid FROM ${table} WHERE ${column} < now() - make_interval(secs => $1) LIMIT $2))`,
      [rule.seconds, batch],
    );
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < batch) break;
  }
  return deleted;
}

/** A table whose rows past a window are only history: `window` names the setting. */
export interface WorkingSet {
  table: string;
  column: string;
  window: 'inboxDays' | 'idempotencyKeyHours';
}

const SECONDS_PER = { inboxDays: 86_400, idempotencyKeyHours: 3_600 } as const;

/** The prune rule of a working set under these settings. */
export const ruleOf = (w: WorkingSet, settings: RetentionSettings): PruneRule => ({ table: w.table, column: w.column, seconds: settings[w.window] * SECONDS_PER[w.window] });

/**
 * Events the broker has not confirmed after this long are reported: a pending row is an event still
 * to publish, so it is never pruned (that would lose the event); it leaves once published.
 */
const STALE_PENDING_SECONDS = 15 * 60;

/**
 * The scheduled pruner: for each service, its working sets in bounded batches, a warning for events
 * waiting too long to be published, and (where an archive is configured) the oldest month of its
 * event log past EVENT_LOG_KEEP_MONTHS exported, then dropped.
 */
export function createPruner(workingSets: Readonly<Record<ServiceName, readonly WorkingSet[]>>) {
  const logger = createLogger('platform');
  return async (_event?: ScheduledEvent) => {
    const settings = retentionSettings();
    const target = archiveTarget();
    const report: Record<string, { deleted: Record<string, number>; stalePending: number; archived: unknown }> = {};
    for (const service of Object.keys(workingSets) as ServiceName[]) {
      const pool = await getPool(service);
      const deleted: Record<string, number> = {};
      for (const w of workingSets[service]) deleted[w.table] = await pruneOlderThan(pool, ruleOf(w, settings));
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox_pending p JOIN outbox o USING (seq) WHERE o.created_at < now() - make_interval(secs => $1)`,
        [STALE_PENDING_SECONDS],
      );
      const stalePending = rows[0]!.n;
      if (Object.values(deleted).some((n) => n > 0)) logger.info('working sets pruned', { service, deleted });
      if (stalePending > 0) logger.warn('events unpublished for more than 15 minutes; the relay keeps trying', { service, stalePending });
      let archived = null;
      if (target) {
        const [month] = await monthsToArchive(pool, settings.eventLogKeepMonths);
        archived = month ? await archiveMonth(pool, service, month, target) : null;
        if (archived) logger.info('event log month archived', { service, ...archived });
      }
      report[service] = { deleted, stalePending, archived };
    }
    return report;
  };
}

/** Where older months of the event log go: S3 on AWS, a folder locally if one is named; else nowhere (kept). */
export function archiveTarget(env: NodeJS.ProcessEnv = process.env): ArchiveTarget | null {
  const bucket = env[LAMBDA_ENV.eventLogArchiveBucket];
  if (bucket) {
    return {
      describe: (key) => `s3://${bucket}/${key}`,
      async put(key, body, contentType) {
        // Loaded on demand: only the pruners ever export, and only where a bucket is configured.
        const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
        await new S3Client({}).send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, ContentEncoding: key.endsWith('.gz') ? 'gzip' : undefined }),
        );
      },
    };
  }
  const dir = onLambda(env) ? undefined : env[LOCAL_ENV.eventLogArchiveDir];
  if (!dir) return null;
  return {
    describe: (key) => path.join(dir, key),
    async put(key, body) {
      await mkdir(path.dirname(path.join(dir, key)), { recursive: true });
      await writeFile(path.join(dir, key), body);
    },
  };
}
