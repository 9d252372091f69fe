import { getConfig } from '../../shared/config';
import { getRedis } from '../../shared/redis';
import { notificationKeys } from './redis-keys';
import type { Principal } from '../../shared/auth/principal';
import { decodeConnection, encodeConnection } from './domain/access';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { loggedEvent } from './recent-events';

/** API Gateway ends every WebSocket connection after 2 hours, so no record needs to outlive that. */
export const MAX_CONNECTION_MS = 2 * 60 * 60 * 1000;

export interface LiveConnection {
  connectionId: string;
  orderIds: Set<string>;
  /** Who opened it (the $connect authorizer's principal): what it may receive. */
  principal: Principal | null;
}

async function keys() {
  return notificationKeys((await getConfig()).namespace);
}

/**
 * Records a connection and who opened it. Its record expires when API Gateway would have ended it,
 * so one whose $disconnect never came (best effort on AWS) does not live forever.
 */
export async function addConnection(connectionId: string, connectedAt: number, principal: Principal): Promise<void> {
  const k = await keys();
  const redis = await getRedis();
  const record = encodeConnection({ expiresAt: connectedAt + MAX_CONNECTION_MS, principal });
  // The newest connection ends last; the whole hash expires 2 h after it.
  await redis.multi().hset(k.connections, connectionId, record).pexpire(k.connections, MAX_CONNECTION_MS).exec();
}

/** Who opened a connection; null when it is not recorded (gone) or has no principal. */
export async function principalOfConnection(connectionId: string): Promise<Principal | null> {
  const value = await (await getRedis()).hget((await keys()).connections, connectionId);
  return value ? decodeConnection(value).principal : null;
}

export async function removeConnection(connectionId: string): Promise<void> {
  const k = await keys();
  const redis = await getRedis();
  await redis.multi().hdel(k.connections, connectionId).del(k.subscriptions(connectionId)).exec();
}

/** The connections that may still be alive, with their subscriptions; records past their expiry are swept. */
export async function liveConnections(now = Date.now()): Promise<LiveConnection[]> {
  const k = await keys();
  const redis = await getRedis();
  const all = await redis.hgetall(k.connections);
  const live: { id: string; principal: Principal | null }[] = [];
  const expired: string[] = [];
  for (const [id, value] of Object.entries(all)) {
    const record = decodeConnection(value);
    if (record.expiresAt > now) live.push({ id, principal: record.principal });
    else expired.push(id);
  }
  if (expired.length) await Promise.all(expired.map(removeConnection));
  // Auto-pipelining sends these in one round trip.
  const subscriptions = await Promise.all(live.map(({ id }) => redis.smembers(k.subscriptions(id))));
  return live.map(({ id, principal }, i) => ({ connectionId: id, orderIds: new Set(subscriptions[i]), principal }));
}

export async function subscriptionsOf(connectionId: string): Promise<Set<string>> {
  const k = await keys();
  return new Set(await (await getRedis()).smembers(k.subscriptions(connectionId)));
}

/**
 * Subscribes a connection to an order and reads, in the same transaction, who opened the
 * connection and the order's log so far: one round trip, and the log is read after the
 * subscription took effect (see subscribeAndCatchUp in websocket.ts for why that order matters).
 */
export async function subscribeAndReadLog(
  connectionId: string,
  orderId: string,
): Promise<{ principal: Principal | null; subscriptions: number; events: AnyEnvelope[] }> {
  const k = await keys();
  const redis = await getRedis();
  const key = k.subscriptions(connectionId);
  // Every key carries the namespace's hash tag, so the transaction is valid on a cluster too.
  const replies = await redis
    .multi()
    .hget(k.connections, connectionId)
    .sadd(key, orderId)
    .pexpire(key, MAX_CONNECTION_MS)
    .scard(key)
    .lrange(k.orderEvents(orderId), 0, -1)
    .exec();
  if (!replies) throw new Error('the subscription transaction was discarded');
  const failed = replies.find(([err]) => err);
  if (failed) throw failed[0];
  const record = replies[0]![1] as string | null;
  return {
    principal: record ? decodeConnection(record).principal : null,
    subscriptions: Number(replies[3]![1]),
    events: (replies[4]![1] as string[]).map(loggedEvent),
  };
}

/** Removes one order, or all of them (the connection then receives every event again). Returns how many are left. */
export async function unsubscribe(connectionId: string, orderId?: string): Promise<number> {
  const k = await keys();
  const redis = await getRedis();
  const key = k.subscriptions(connectionId);
  if (!orderId) {
    await redis.del(key);
    return 0;
  }
  const [, count] = (await redis.multi().srem(key, orderId).scard(key).exec()) ?? [];
  return Number(count?.[1] ?? 0);
}
