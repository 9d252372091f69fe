import type { Context } from 'aws-lambda';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { createLogger, withKeys } from '../../shared/logger';
import { consumeBatch } from '../../shared/messaging/consumer';
import { retryDeadline, retryInPlace } from '../../shared/messaging/retry';
import { instrument } from '../../shared/observability';
import { liveConnections, removeConnection } from './connections';
import { deliver } from './delivery';
import { packFrames } from './domain/frames';
import { visibleEvents } from './domain/subscriptions';
import { isGone, postToConnection } from './management-api';
import { appendRecentEvents, ownersOf } from './recent-events';
import { orderIdsIn, ownersNamedIn, receivable } from './domain/access';
import { withoutPaymentToken } from '../../shared/events/redact';

const logger = createLogger('notification');
const REDIS_RETRY_MS = 45_000;

/**
 * notification_queue's consumer: every event of every exchange, pushed to every WebSocket
 * connection that wants it. The batch is in publication order; each connection gets it as few
 * frames, sent in order, and the next batch only comes once this one is out, so a client sees
 * each order's events in the order they were published.
 */
export const handler = instrument(async (input: unknown, context?: Context) => {
  if (context) logger.addContext(context);
  const events: AnyEnvelope[] = [];
  const batch = await consumeBatch(input, logger, async (event) => {
    // No client is ever shown a payment token: not in frames, not in the logs clients catch up from.
    events.push(withoutPaymentToken(event));
  });
  if (events.length === 0) return { ...batch, connections: 0 };

  // Redis restarting or failing over is ridden out in place, most of the invocation long: every
  // redelivery of the batch would count against the queue's delivery limit.
  const until = retryDeadline(REDIS_RETRY_MS, context?.getRemainingTimeInMillis());
  const log = withKeys(logger, {});
  // Logged before pushing, so a client that reconnects can resume from an event it never got.
  await retryInPlace(() => appendRecentEvents(events), until, log);
  const connections = await retryInPlace(() => liveConnections(), until, log);
  // Whose orders these are: the batch's own order.created, else the owners recorded earlier (only
  // needed when a customer is connected).
  const named = ownersNamedIn(events);
  const unknown = orderIdsIn(events).filter((id) => !named.has(id));
  const customers = connections.some((c) => c.principal?.role === 'customer');
  const owners = customers && unknown.length ? new Map([...(await retryInPlace(() => ownersOf(unknown), until, log)), ...named]) : named;
  // Connections of one audience (every operator; one customer) with the same subscriptions share their frames.
  const framesFor = new Map<string, string[]>();
  const deliveries = connections
    .map(({ connectionId, orderIds, principal }) => {
      const audience = !principal ? 'nobody' : principal.role === 'operator' ? 'operators' : `customer ${principal.sub}`;
      const key = `${audience}|${[...orderIds].sort().join(',')}`;
      let frames = framesFor.get(key);
      if (!frames) framesFor.set(key, (frames = packFrames(visibleEvents(orderIds, receivable(principal, owners, events)))));
      return { connectionId, frames };
    })
    .filter((d) => d.frames.length > 0);
  const report = await deliver(deliveries, postToConnection, isGone);
  await Promise.all(report.gone.map((id) => removeConnection(id).catch(() => undefined))); // swept later if this fails
  for (const { connectionId, error } of report.failed) {
    logger.warn('push to a connection failed; it can resume', { connectionId, error: (error as Error).message });
  }
  logger.info('batch pushed', { events: events.length, connections: deliveries.length, gone: report.gone.length, failed: report.failed.length });
  return { ...batch, connections: deliveries.length, delivered: report.delivered, gone: report.gone.length, failed: report.failed.length };
});
