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

/** What every service prunes: inbox ids no duplicate can still come for. */
export function sharedRules(settings: RetentionSettings): PruneRule[] {
  return [{ table: 'inbox', column: 'received_at', seconds: settings.inboxDays * 86_400 }];
}

/**
 * Events the broker has not confirmed after this long are reported: a pending row is an event still
 * to publish, so it is never pruned (that would lose the event); it leaves once published.
 */
const STALE_PENDING_SECONDS = 15 * 60;

/**
 * A service's scheduled pruner: the shared rules and the service's own, each in bounded batches,
 * and a warning for events waiting too long to be published.
 */
export function createPruner(service: ServiceName, ownRules: (settings: RetentionSettings) => PruneRule[] = () => []) {
  const logger = createLogger(service);
  return async (_event?: ScheduledEvent): Promise<{ deleted: Record<string, number>; stalePending: number; archived: unknown[] }> => {
    const settings = retentionSettings();
    const pool = await getPool(service);
    const deleted: Record<string, number> = {};
    for (const rule of [...sharedRules(settings), ...ownRules(settings)]) deleted[rule.table] = await pruneOlderThan(pool, rule);
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox_pending p JOIN outbox o USING (seq) WHERE o.created_at < now() - make_interval(secs => $1)`,
      [STALE_PENDING_SECONDS],
    );
    const stalePending = rows[0]!.n;
    if (Object.values(deleted).some((n) => n > 0)) logger.info('working sets pruned', { deleted });
    if (stalePending > 0) logger.warn('events unpublished for more than 15 minutes; the relay keeps trying', { stalePending });
    // The event log itself: months older than EVENT_LOG_KEEP_MONTHS are exported, then dropped
    // (one month a run), where an archive is configured.
    const archived: unknown[] = [];
    const target = archiveTarget();
    if (target) {
      const [month] = await monthsToArchive(pool, settings.eventLogKeepMonths);
      const done = month ? await archiveMonth(pool, service, month, target) : null;
      if (done) {
        archived.push(done);
        logger.info('event log month exported and dropped', done);
      }
    }
    return { deleted, stalePending, archived };
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
