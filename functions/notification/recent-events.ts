import { getConfig } from '../../shared/config';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { getRedis } from '../../shared/redis';
import { reachesBack } from './domain/resume';
import type { Since } from './domain/resume';
import { notificationKeys } from './redis-keys';
import { planAppend } from './domain/recent-log';
import { withoutPaymentToken } from '../../shared/events/redact';

/** The log is bounded in length and in time: enough for a client to reconnect after a drop, not an archive. */
export const RECENT_EVENTS_MAX = 2_000;
export const RECENT_EVENTS_TTL_SECONDS = 6 * 60 * 60;
const PAGE = 250;

/** An order's own log: long enough for any saga, kept long enough for a client to subscribe late. */
export const ORDER_EVENTS_MAX = 64;
export const ORDER_EVENTS_TTL_SECONDS = 15 * 60;

/**
 * Appends a batch's events, in publication order, to the log of recent events and to the log of
 * the order each is about, trimming the oldest beyond the caps: what domain/recent-log.ts's fold
 * says the batch adds.
 */
export async function appendRecentEvents(events: readonly AnyEnvelope[]): Promise<void> {
  if (events.length === 0) return;
  const keys = notificationKeys((await getConfig()).namespace);
  const plan = planAppend(events);
  const tx = (await getRedis()).multi();
  for (const { id, json } of plan.entries) tx.xadd(keys.recentEvents, 'MAXLEN', '~', RECENT_EVENTS_MAX, '*', 'id', id, 'event', json);
  tx.expire(keys.recentEvents, RECENT_EVENTS_TTL_SECONDS);
  // Owners are kept as long as the log that may still hold their orders' events.
  for (const [orderId, customerId] of plan.owners) tx.set(keys.orderOwner(orderId), customerId, 'EX', RECENT_EVENTS_TTL_SECONDS);
  for (const [orderId, jsons] of plan.byOrder) {
    const key = keys.orderEvents(orderId);
    tx.rpush(key, ...jsons).ltrim(key, -ORDER_EVENTS_MAX, -1).expire(key, ORDER_EVENTS_TTL_SECONDS);
  }
  await tx.exec();
}

/** An event as an order's log holds it, made fit for a client (no payment token). */
export const loggedEvent = (json: string): AnyEnvelope => withoutPaymentToken(JSON.parse(json) as AnyEnvelope);

/** The customers who placed these orders, as far as the recent order.created events say (one round trip). */
export async function ownersOf(orderIds: readonly string[]): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  if (orderIds.length === 0) return owners;
  const keys = notificationKeys((await getConfig()).namespace);
  // One hash tag per namespace: every key is in one slot, so MGET works on a cluster too.
  const values = await (await getRedis()).mget(...orderIds.map((id) => keys.orderOwner(id)));
  orderIds.forEach((id, i) => {
    if (values[i]) owners.set(id, values[i]!);
  });
  return owners;
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
    const events = page.map(([, fields]) => withoutPaymentToken(JSON.parse(fields[fields.indexOf('event') + 1]!) as AnyEnvelope)).reverse();
    log.unshift(...events);
    if (page.length < PAGE || reachesBack(events, since)) return log;
    end = `(${page.at(-1)![0]}`;
  }
}
