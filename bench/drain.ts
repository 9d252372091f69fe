/**
 * Waits, bounded, until a namespace is quiet: no order PENDING, no message ready in any queue of
 * its topology (the runtime's partition layout, PARTITIONS included), nothing left unpublished in any outbox, twice in a row a poll apart (a batch in
 * flight holds its messages unacknowledged, out of the ready count). Gives up when the backlog
 * stops shrinking for stallMs, or after timeoutMs in all.
 */
import type { Channel, ChannelModel } from 'amqplib';
import type pg from 'pg';
import { resolveTopology, deploymentLayout } from '../functions/topology';

export interface DrainOptions {
  namespace: string;
  amqp: ChannelModel;
  db: { order: pg.Pool; payment: pg.Pool; inventory: pg.Pool };
  timeoutMs: number;
  stallMs: number;
  pollMs?: number;
  onProgress?: (state: QuietState) => void;
}

export interface QuietState {
  pending: number;
  /** Ready messages per queue (DLQs included). */
  queued: Record<string, number>;
  unpublished: number;
}

export interface DrainResult {
  quiet: boolean;
  ms: number;
  last: QuietState;
  reason?: string;
}

const backlogOf = (s: QuietState) => s.pending + s.unpublished + Object.entries(s.queued).filter(([q]) => !q.endsWith('.dlq')).reduce((a, [, n]) => a + n, 0);

/** Quiet: nothing pending, queued (outside the DLQs, which keep what they hold) or unpublished. */
export const isQuiet = (s: QuietState) => backlogOf(s) === 0;

export async function readQuietState(opts: Pick<DrainOptions, 'namespace' | 'amqp' | 'db'>): Promise<QuietState> {
  const channel: Channel = await opts.amqp.createChannel();
  channel.on('error', () => undefined);
  try {
    const queued: Record<string, number> = {};
    for (const q of resolveTopology(opts.namespace, deploymentLayout()).queues) queued[q.name] = (await channel.checkQueue(q.name)).messageCount;
    const count = async (db: pg.Pool, sql: string) => (await db.query<{ n: number }>(sql)).rows[0]!.n;
    const unpublished = 'SELECT count(*)::int AS n FROM outbox_pending';
    const [pending, o, p, i] = await Promise.all([
      count(opts.db.order, `SELECT count(*)::int AS n FROM orders WHERE status = 'PENDING'`),
      count(opts.db.order, unpublished),
      count(opts.db.payment, unpublished),
      count(opts.db.inventory, unpublished),
    ]);
    return { pending, queued, unpublished: o + p + i };
  } finally {
    await channel.close().catch(() => undefined);
  }
}

export async function drain(opts: DrainOptions): Promise<DrainResult> {
  const started = Date.now();
  const pollMs = opts.pollMs ?? 500;
  let best = Number.POSITIVE_INFINITY;
  let bestAt = started;
  let quietPolls = 0;
  for (;;) {
    const state = await Promise.race([
      readQuietState(opts),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('reading queue depths and pending orders took over 30 s')), 30_000).unref()),
    ]);
    opts.onProgress?.(state);
    const backlog = backlogOf(state);
    if (backlog === 0) {
      if (++quietPolls >= 2) return { quiet: true, ms: Date.now() - started, last: state };
    } else {
      quietPolls = 0;
    }
    if (backlog < best) {
      best = backlog;
      bestAt = Date.now();
    }
    if (Date.now() - bestAt > opts.stallMs) {
      return { quiet: false, ms: Date.now() - started, last: state, reason: `the backlog (${backlog}) has not shrunk for ${opts.stallMs / 1000} s` };
    }
    if (Date.now() - started > opts.timeoutMs) {
      return { quiet: false, ms: Date.now() - started, last: state, reason: `still not quiet after ${opts.timeoutMs / 1000} s (backlog ${backlog})` };
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
