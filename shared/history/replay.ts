import type { ConfirmChannel } from 'amqplib';
import type pg from 'pg';
import { withTransaction } from '../db/pool';
import { wireMessageOf } from '../messaging/broker';
import { readLog, sequenceLog } from '../messaging/event-log';
import { bucketOf, partitionKeyOf, partitionOfBucket, topicMatches } from '../messaging/routing';
import { finishRun, recordProgress, releaseRun } from './runs';
import type { Run } from './runs';

/**
 * Replaying a service's log to one queue (docs/decisions.md, "Replays go to one queue"): the events
 * written in [from, to), of the types and order asked for, in log order (per order, in the order
 * they were written), each with its original id and as its original sender, through the queue's
 * redrive exchange to the partition of its order, at a bounded rate; only the events the queue's
 * own bindings take. Consumers deduplicate by event id, so an event the target already took
 * changes nothing; one it lost (a database restored from an older backup) is taken again.
 */
export interface ReplayRoute {
  /** The queue's redrive exchange: direct, each partition bound with its own name. */
  exchange: string;
  /** The queue's partitions, in order. */
  partitions: string[];
  /** The topic patterns the queue binds for the service's events: what it receives at all. */
  patterns: string[];
  /** The broker user that first sent the service's events, as the replay sends them again. */
  sender: string;
}

export interface ReplayParams {
  from: string;
  to: string;
  types: string[];
  orderId?: string;
  ratePerSecond: number;
}

export interface ReplayProgress {
  processed: number;
  published: number;
  total: number;
  position: number;
}

const BATCH = 500;

/** How many events the replay selects (for its progress). */
async function countSelected(db: pg.Pool, p: ReplayParams, through: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::bigint AS n FROM event_log l JOIN outbox o ON o.seq = l.seq
      WHERE l.position <= $1 AND o.created_at >= $2 AND o.created_at < $3 AND o.type = ANY($4) AND ($5::uuid IS NULL OR o.order_id = $5)`,
    [through, p.from, p.to, p.types, p.orderId ?? null],
  );
  return Number(rows[0]!.n);
}

/**
 * Runs (or resumes from its checkpoint) a replay under the worker's lease until it is done or the
 * deadline comes (then it is given back). Returns whether it finished.
 */
export async function runReplay(
  run: Run,
  p: ReplayParams,
  deps: { db: pg.Pool; channel: ConfirmChannel; route: ReplayRoute; namespace: string },
  opts: { deadline: number; onProgress?: (progress: ReplayProgress) => void },
): Promise<boolean> {
  const { db, channel, route } = deps;
  try {
    // The log as it stands when the replay starts: what is written later is not in its window's past.
    const through = run.totalEvents === null ? await sequenceLog(db) : Number(run.params.through ?? (await sequenceLog(db)));
    const total = run.totalEvents ?? (await countSelected(db, p, through));
    if (run.params.through === undefined) await db.query(`UPDATE history_runs SET params = params || jsonb_build_object('through', $2::bigint) WHERE id = $1`, [run.id, through]);
    let position = run.checkpoint;
    let processed = run.doneEvents;
    let published = Number(run.params.published ?? 0);
    const started = Date.now();
    const startedWith = published;
    for (;;) {
      const entries = await readLog(db, { after: position, through, limit: BATCH, types: p.types, orderId: p.orderId, from: new Date(p.from), to: new Date(p.to) });
      for (const { event } of entries) {
        processed++;
        const m = wireMessageOf(event, deps.namespace);
        // Only what the queue's bindings take: the rest would never have reached it.
        if (!route.patterns.some((pattern) => topicMatches(pattern, m.routingKey))) continue;
        const partition = route.partitions[partitionOfBucket(bucketOf(partitionKeyOf(event)), route.partitions.length)]!;
        channel.publish(route.exchange, partition, m.content, { ...m.options, userId: route.sender, headers: { ...m.options.headers, 'x-eventflow-replay': run.id } });
        published++;
        // Bounded rate: never ahead of ratePerSecond since this invocation started.
        const ahead = (published - startedWith) / p.ratePerSecond - (Date.now() - started) / 1000;
        if (ahead > 0.05) {
          await channel.waitForConfirms();
          await new Promise((r) => setTimeout(r, ahead * 1000));
        }
      }
      await channel.waitForConfirms();
      position = entries.length < BATCH ? through : entries.at(-1)!.position;
      const done = position >= through;
      const kept = await withTransaction(db, async (tx) => {
        await tx.query(`UPDATE history_runs SET params = params || jsonb_build_object('published', $2::bigint) WHERE id = $1`, [run.id, published]);
        return recordProgress(tx, run, { checkpoint: position, doneEvents: processed, totalEvents: total });
      });
      if (!kept) return false;
      opts.onProgress?.({ processed, published, total, position });
      if (done) break;
      if (Date.now() > opts.deadline) {
        await releaseRun(db, run);
        return false;
      }
    }
    await finishRun(db, run.id, { result: { published, selected: total, notReceived: total - published, through, exchange: route.exchange, queues: route.partitions } });
    return true;
  } catch (err) {
    await finishRun(db, run.id, { error: (err as Error).message }).catch(() => undefined);
    throw err;
  }
}
