import type { APIGatewayProxyStructuredResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { createLogger } from '../../shared/logger';
import { instrument } from '../../shared/observability';
import { addConnection, principalOfConnection, removeConnection, subscribeAndReadLog, subscriptionsOf, unsubscribe } from './connections';
import type { Principal } from '../../shared/auth/principal';
import { orderIdsIn, receivable } from './domain/access';
import { principalOfContext } from './domain/authorizer';
import { FRAME_LIMIT_BYTES, packFrames } from './domain/frames';
import type { ClientMessage, Reply } from './domain/protocol';
import { parseClientMessage } from './domain/protocol';
import { parseSince, selectMissed } from './domain/resume';
import { postToConnection } from './management-api';
import { ownersOf, recentEventsBackTo } from './recent-events';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { inHistoryOrder } from '../../shared/events/history';

const logger = createLogger('notification');

/** The events of a log this caller may receive (a customer: its own orders' only). */
async function forCaller(principal: Principal | null, events: AnyEnvelope[]): Promise<AnyEnvelope[]> {
  if (principal?.role === 'operator') return events;
  return receivable(principal, principal ? await ownersOf(orderIdsIn(events)) : new Map(), events);
}

/** Sends what the client missed since a point, as event frames, before the reply that says how much. */
async function resume(connectionId: string, principal: Principal | null, since: string): Promise<Reply> {
  const boundary = parseSince(since);
  const [log, orderIds] = await Promise.all([recentEventsBackTo(boundary), subscriptionsOf(connectionId)]);
  // Filtered before selecting, so the boundary is still found and the cap counts only what it may see.
  const visible = new Set((await forCaller(principal, log)).map((e) => e.id));
  const missed = selectMissed(log, boundary, orderIds, undefined, (e) => visible.has(e.id));
  for (const frame of packFrames(missed.events)) await postToConnection(connectionId, frame);
  return { type: 'resumed', since, count: missed.events.length, complete: missed.complete, through: missed.through };
}

/**
 * Subscribes, then gives the client what the order already published (its own log, in history order), in the reply
 * itself when it fits one frame (as it does for any saga), else as frames before the reply: a
 * client that subscribes right after placing an order misses nothing. The consumer logs an event
 * before it reads who is subscribed, and this reads the log after subscribing, so every event
 * arrives one way or the other (or both: clients drop ids they have seen).
 */
async function subscribeAndCatchUp(connectionId: string, orderId: string): Promise<Reply> {
  const { principal, subscriptions, events } = await subscribeAndReadLog(connectionId, orderId);
  // Another customer's order answers as one with no events yet: its existence is not given away.
  // The order's log is in arrival order, which a late relay can upset: the reply tells its history.
  const earlier = inHistoryOrder(await forCaller(principal, events));
  const frames = packFrames(earlier);
  if (frames.length <= 1 && Buffer.byteLength(frames[0] ?? '') < FRAME_LIMIT_BYTES - 256) {
    return { type: 'subscribed', orderId, subscriptions, replayed: earlier.length, events: earlier };
  }
  for (const frame of frames) await postToConnection(connectionId, frame);
  return { type: 'subscribed', orderId, subscriptions, replayed: earlier.length, events: [] };
}

async function answer(connectionId: string, message: ClientMessage): Promise<Reply> {
  switch (message.action) {
    case 'ping':
      return { type: 'pong', connectionId, at: new Date().toISOString() };
    case 'subscribe':
      return subscribeAndCatchUp(connectionId, message.orderId);
    case 'unsubscribe':
      return { type: 'unsubscribed', orderId: message.orderId ?? null, subscriptions: await unsubscribe(connectionId, message.orderId) };
    case 'resume':
      return resume(connectionId, await principalOfConnection(connectionId), message.since);
  }
}

/**
 * The WebSocket API's three routes. $connect and $disconnect keep the live connections in Redis;
 * $default answers the client's messages, and its body goes back to the client (a two-way route).
 * Nothing is posted to a connection from $connect: it exists only once $connect has returned.
 */
export const handler = instrument(async (event: APIGatewayProxyWebsocketEventV2, context?: Context): Promise<APIGatewayProxyStructuredResultV2> => {
  if (context) logger.addContext(context);
  const { routeKey, connectionId, connectedAt } = event.requestContext;
  logger.appendKeys({ connectionId, routeKey });
  try {
    if (routeKey === '$connect') {
      // The $connect authorizer's principal (API Gateway passes its context); none: not let in.
      const principal = principalOfContext((event.requestContext as { authorizer?: unknown }).authorizer);
      if (!principal) return { statusCode: 401 };
      await addConnection(connectionId, connectedAt, principal);
      return { statusCode: 200 };
    }
    if (routeKey === '$disconnect') {
      await removeConnection(connectionId);
      return { statusCode: 200 };
    }
    const body = event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    const parsed = parseClientMessage(body);
    const reply = parsed.ok ? await answer(connectionId, parsed.message) : parsed.reply;
    return { statusCode: parsed.ok ? 200 : 400, body: JSON.stringify(reply) };
  } finally {
    logger.removeKeys(['connectionId', 'routeKey']);
  }
});
