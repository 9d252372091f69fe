import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis';
import { LEASE_SECONDS, RunConflict } from './runs';
import type { Run, RunKind } from './runs';

/**
 * The run records of a projection kept in Redis (a service with no database: the notification
 * service's recent-event log), with the same shape and rules as history_runs (runs.ts): one active
 * run per subject, a worker's lease. Such a projection is small and rebuilt in one go, so a run whose
 * worker died starts over (cleanly: its shadow is rebuilt from nothing) rather than resuming.
 */
export const historyRunKeys = (namespace: string) => {
  // The notification keys' hash tag: one cluster slot, so a script may touch both.
  const prefix = `history:{${namespace || 'eventflow'}}`;
  return {
    /** A pattern matching every one of these keys (for Redis ACLs and clean-up). */
    all: `${prefix}:*`,
    run: (id: string) => `${prefix}:run:${id}`,
    active: (subject: string) => `${prefix}:active:${subject}`,
    runs: (subject: string) => `${prefix}:runs:${subject}`,
    taking: (subject: string) => `${prefix}:taking:${subject}`,
    /** A running run's lease: the worker's id, expiring by Redis's own clock, not by any environment's. */
    lease: (id: string) => `${prefix}:lease:${id}`,
  };
};

/** Finished runs are kept this long (the page shows the last one). */
const KEPT_SECONDS = 30 * 86_400;

/** A record as stored; earlier releases kept the lease's end in it (`leaseUntil`), by the writer's clock. */
type Stored = Run & { leaseUntil?: number | null };

async function read(redis: RedisClient, namespace: string, id: string): Promise<Stored | null> {
  const raw = await redis.get(historyRunKeys(namespace).run(id));
  return raw ? (JSON.parse(raw) as Stored) : null;
}

async function write(redis: RedisClient, namespace: string, run: Stored): Promise<void> {
  await redis.set(historyRunKeys(namespace).run(run.id), JSON.stringify(strip(run)), 'EX', KEPT_SECONDS);
}

const strip = ({ leaseUntil: _l, ...run }: Stored): Run => run;

/** Gives the run's lease to its worker for LEASE_SECONDS, by Redis's clock. */
async function lease(redis: RedisClient, namespace: string, run: Run): Promise<void> {
  await redis.set(historyRunKeys(namespace).lease(run.id), run.worker ?? '', 'PX', LEASE_SECONDS * 1000);
}

export async function requestRedisRun(
  redis: RedisClient,
  namespace: string,
  req: { kind: RunKind; subject: string; requestedBy?: string; take?: boolean },
): Promise<Run> {
  const k = historyRunKeys(namespace);
  const now = new Date().toISOString();
  const run: Stored = {
    id: randomUUID(),
    kind: req.kind,
    subject: req.subject,
    params: {},
    status: req.take ? 'running' : 'requested',
    requestedBy: req.requestedBy ?? null,
    worker: req.take ? randomUUID() : null,
    checkpoint: 0,
    doneEvents: 0,
    totalEvents: null,
    result: null,
    error: null,
    createdAt: now,
    startedAt: req.take ? now : null,
    updatedAt: now,
    finishedAt: null,
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await redis.set(k.active(req.subject), run.id, 'NX')) {
      if (req.take) await lease(redis, namespace, run);
      await write(redis, namespace, run);
      await redis.lpush(k.runs(req.subject), run.id);
      await redis.ltrim(k.runs(req.subject), 0, 19);
      return strip(run);
    }
    const activeId = await redis.get(k.active(req.subject));
    const active = activeId ? await read(redis, namespace, activeId) : null;
    if (active && (active.status === 'requested' || active.status === 'running')) throw new RunConflict(strip(active));
    // A pointer left behind by a run that ended: clear it and try again.
    if (activeId) await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, k.active(req.subject), activeId);
  }
  throw new Error(`could not record a run of ${req.subject}`);
}

/** Takes the subject's active run if it waits for a worker or its worker's lease ran out. */
export async function takeRedisRun(redis: RedisClient, namespace: string, subject: string): Promise<Run | null> {
  const k = historyRunKeys(namespace);
  if (!(await redis.set(k.taking(subject), '1', 'PX', 5_000, 'NX'))) return null;
  try {
    const id = await redis.get(k.active(subject));
    const run = id ? await read(redis, namespace, id) : null;
    if (!run) return null;
    // A running run is free once its lease key has expired: Redis's clock decides, so a worker
    // whose clock runs ahead cannot take a run from one whose lease still holds.
    const free = run.status === 'requested' || (run.status === 'running' && !(await redis.exists(k.lease(run.id))));
    if (!free) return null;
    const now = new Date().toISOString();
    const taken: Stored = { ...strip(run), status: 'running', worker: randomUUID(), startedAt: run.startedAt ?? now, updatedAt: now };
    await lease(redis, namespace, taken);
    await write(redis, namespace, taken);
    return strip(taken);
  } finally {
    await redis.del(k.taking(subject));
  }
}

/** Records progress and renews the lease; false if another worker holds the run now. */
export async function recordRedisProgress(redis: RedisClient, namespace: string, run: Run, p: { doneEvents: number; totalEvents: number }): Promise<boolean> {
  const current = await read(redis, namespace, run.id);
  if (!current || current.worker !== run.worker || current.status !== 'running') return false;
  await lease(redis, namespace, current);
  await write(redis, namespace, { ...current, ...p, checkpoint: p.doneEvents, updatedAt: new Date().toISOString() });
  return true;
}

export async function finishRedisRun(redis: RedisClient, namespace: string, run: Run, outcome: { result: Record<string, unknown> } | { error: string }): Promise<void> {
  const current = await read(redis, namespace, run.id);
  if (!current || current.worker !== run.worker) return;
  const now = new Date().toISOString();
  await write(redis, namespace, {
    ...current,
    status: 'error' in outcome ? 'failed' : 'done',
    result: 'result' in outcome ? outcome.result : null,
    error: 'error' in outcome ? outcome.error : null,
    updatedAt: now,
    finishedAt: now,
  });
  await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, historyRunKeys(namespace).active(run.subject), run.id);
  await redis.del(historyRunKeys(namespace).lease(run.id));
}

/** The subject's latest runs, newest first. */
export async function latestRedisRuns(redis: RedisClient, namespace: string, subject: string, count = 5): Promise<Run[]> {
  const ids = await redis.lrange(historyRunKeys(namespace).runs(subject), 0, count - 1);
  const runs = await Promise.all(ids.map((id) => read(redis, namespace, id)));
  return runs.filter((r): r is Stored => r !== null).map(strip);
}
