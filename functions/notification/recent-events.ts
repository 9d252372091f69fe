import { getConfig } from '../../shared/config';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { getRedis } from '../../shared/redis';
import { reachesBack } from './domain/resume';
import type { Since } from './domain/resume';
import { notificationKeys } from './redis-keys';

/** The log is bounded in length and in time: enough for a client to reconnect after a drop, not an archive. */
export const RECENT_EVENTS_MAX = 2_000;
export const RECENT_EVENTS_TTL_SECONDS = 6 * 60 * 60;
const PAGE = 250;

/** Appends a batch's events, in publication order, trimming the oldest beyond the cap. */
export async function appendRecentEvents(events: readonly AnyEnvelope[]): Promise<void> {
  if (events.length === 0) return;
  const key = notificationKeys((await getConfig()).namespace).recentEvents;
  const tx = (await getRedis()).multi();
  for (const event of events) tx.xadd(key, 'MAXLEN', '~', RECENT_EVENTS_MAX, '*', 'id', event.id, 'event', JSON.stringify(event));
  tx.expire(key, RECENT_EVENTS_TTL_SECONDS);
  await tx.exec();
}

/**
 * The tail of the log, oldest first, read newest first page by page until it reaches back to the
 * boundary (or the log ends).
 */
export async function recentEventsBackTo(since: Since): Promise<AnyEnvelope[]> {
  const key = notificationKeys((await getConfig()).namespace).recentEvents;
  const redis = await getRedis();
  const log: AnyEnvelope[] = [];
  let end = '+';
  for (;;) {
    const page = await redis.xrevrange(key, end, '-', 'COUNT', PAGE);
    const events = page.map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1]!) as AnyEnvelope).reverse();
    log.unshift(...events);
    if (page.length < PAGE || reachesBack(events, since)) return log;
    end = `(${page.at(-1)![0]}`;
  }
}
