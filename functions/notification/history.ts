import type { ScheduledEvent } from 'aws-lambda';
import { SERVICES, getConfig } from '../../shared/config';
import { getPool } from '../../shared/db/pool';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { finishRedisRun, recordRedisProgress, takeRedisRun } from '../../shared/history/redis-runs';
import type { Run } from '../../shared/history/runs';
import { createLogger } from '../../shared/logger';
import { readLog, sequenceLog } from '../../shared/messaging/event-log';
import { instrument } from '../../shared/observability';
import { getRedis } from '../../shared/redis';
import { compareRecentLog, mergeLogs, planAppend } from './domain/recent-log';
import { ORDER_EVENTS_MAX, ORDER_EVENTS_TTL_SECONDS, RECENT_EVENTS_MAX, RECENT_EVENTS_TTL_SECONDS } from './recent-events';
import { notificationKeys } from './redis-keys';

const logger = createLogger('notification');
export const SUBJECT = 'recent-events';
/** Events this young may still be on their way to the consumer: not compared. */
const IN_FLIGHT_MS = 15_000;

/**
 * Swaps the rebuilt stream in, atomically: entries the consumer appended to the live stream after
 * `marker` (the live stream's last entry when the logs were read) that the shadow lacks are added
 * to it first, so nothing published meanwhile is lost; then the shadow takes the live stream's name.
 */
const SWAP = `
local newer = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+')
local added = 0
for _, e in ipairs(newer) do
  local f = e[2]
  local id, json
  for i = 1, #f, 2 do
    if f[i] == 'id' then id = f[i + 1] elseif f[i] == 'event' then json = f[i + 1] end
  end
  if id and redis.call('SISMEMBER', KEYS[3], id) == 0 then
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'id', id, 'event', json)
    added = added + 1
  end
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('RENAME', KEYS[2], KEYS[1])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
redis.call('DEL', KEYS[3])
return added`;

/** Recreates an order's own log only where it is gone (a cache refilled by traffic otherwise). */
const FILL_ORDER_LOG = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 1, #ARGV - 1 do redis.call('RPUSH', KEYS[1], ARGV[i]) end
redis.call('EXPIRE', KEYS[1], ARGV[#ARGV])
return 1`;

const entriesOf = (stream: [string, string[]][]) =>
  stream.map(([, f]) => {
    const json = f[f.indexOf('event') + 1]!;
    return { id: f[f.indexOf('id') + 1]!, json, at: (JSON.parse(json) as AnyEnvelope).occurredAt };
  });

/**
 * Builds the recent-event log again from the three services' event logs (the last RECENT_EVENTS_MAX
 * events of the last RECENT_EVENTS_TTL_SECONDS, merged in publication order), compares it with the
 * live one and, for a rebuild, swaps it in; the order owners and any order's own log that is gone
 * are written again too.
 */
export async function rebuildRecentEvents(run: Run): Promise<Record<string, unknown>> {
  const { namespace } = await getConfig();
  const redis = await getRedis();
  const keys = notificationKeys(namespace);
  // Taken before the logs are read: whatever the consumer appends after it is merged at the swap.
  const last = await redis.xrevrange(keys.recentEvents, '+', '-', 'COUNT', 1);
  const marker = last[0]?.[0] ?? '0-0';
  const since = new Date(Date.now() - RECENT_EVENTS_TTL_SECONDS * 1000);
  const logs: AnyEnvelope[][] = [];
  for (const service of SERVICES) {
    const pool = await getPool(service);
    const head = await sequenceLog(pool);
    const entries = await readLog(pool, { after: Math.max(0, head - RECENT_EVENTS_MAX), through: head, limit: RECENT_EVENTS_MAX, from: since });
    logs.push(entries.map((e) => e.event));
  }
  const merged = mergeLogs(logs).slice(-RECENT_EVENTS_MAX);
  const plan = planAppend(merged);
  await recordRedisProgress(redis, namespace, run, { doneEvents: merged.length, totalEvents: merged.length });

  const shadow = redis.multi().del(keys.recentEventsRebuild, keys.recentEventsRebuildIds);
  for (const { id, json } of plan.entries) shadow.xadd(keys.recentEventsRebuild, '*', 'id', id, 'event', json);
  if (plan.entries.length) shadow.sadd(keys.recentEventsRebuildIds, ...plan.entries.map((e) => e.id));
  await shadow.exec();

  const live = entriesOf(await redis.xrange(keys.recentEvents, '-', '+'));
  const rebuilt = entriesOf(await redis.xrange(keys.recentEventsRebuild, '-', '+'));
  // What the consumer has not taken yet is on its way, not missing: the last seconds are not compared.
  const until = new Date(Date.now() - IN_FLIGHT_MS).toISOString();
  const comparison = compareRecentLog(live, rebuilt, until);
  let swapped = false;
  let mergedMeanwhile = 0;
  let orderLogsRecreated = 0;
  if (run.kind === 'rebuild') {
    if (comparison.differences.length > 0) {
      mergedMeanwhile = Number(await redis.eval(SWAP, 3, keys.recentEvents, keys.recentEventsRebuild, keys.recentEventsRebuildIds, marker, RECENT_EVENTS_MAX, RECENT_EVENTS_TTL_SECONDS));
      swapped = true;
    }
    const owners = redis.multi();
    for (const [orderId, customerId] of plan.owners) owners.set(keys.orderOwner(orderId), customerId, 'EX', RECENT_EVENTS_TTL_SECONDS);
    await owners.exec();
    const recent = new Date(Date.now() - ORDER_EVENTS_TTL_SECONDS * 1000).toISOString();
    for (const [orderId, jsons] of plan.byOrder) {
      if ((JSON.parse(jsons.at(-1)!) as AnyEnvelope).occurredAt < recent) continue;
      orderLogsRecreated += Number(await redis.eval(FILL_ORDER_LOG, 1, keys.orderEvents(orderId), ...jsons.slice(-ORDER_EVENTS_MAX), ORDER_EVENTS_TTL_SECONDS));
    }
  }
  await redis.del(keys.recentEventsRebuild, keys.recentEventsRebuildIds);
  return {
    projection: SUBJECT,
    mode: run.kind,
    equal: comparison.differences.length === 0,
    differences: comparison.differences.length,
    swapped,
    comparedFrom: comparison.from,
    comparedUntil: comparison.until,
    liveEntries: comparison.liveEntries,
    rebuiltEntries: comparison.rebuiltEntries,
    // Ids only, so a long list is cheap: the log holds at most 2,000 events.
    listed: comparison.differences.slice(0, 1_000).map((d) => ({ figure: `${d.kind} ${d.id}` })),
    mergedMeanwhile,
    orderLogsRecreated,
  };
}

/** Runs a taken run to its end and records the outcome. */
export async function runRecentEvents(run: Run): Promise<void> {
  const { namespace } = await getConfig();
  const redis = await getRedis();
  try {
    await finishRedisRun(redis, namespace, run, { result: await rebuildRecentEvents(run) });
  } catch (err) {
    await finishRedisRun(redis, namespace, run, { error: (err as Error).message });
    throw err;
  }
}

/** The notification service's history worker, on a schedule: takes a requested rebuild or check of the recent-event log. */
export const handler = instrument(async (_event?: ScheduledEvent) => {
  const { namespace } = await getConfig();
  const run = await takeRedisRun(await getRedis(), namespace, SUBJECT);
  if (!run) return { finished: 0 };
  logger.info('history run started', { runId: run.id, kind: run.kind, projection: SUBJECT });
  await runRecentEvents(run);
  return { finished: 1 };
});
