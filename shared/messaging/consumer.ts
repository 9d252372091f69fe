import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type pg from 'pg';
import { getConfig } from '../config';
import type { ServiceName } from '../config';
import { getPool } from '../db/pool';
import { decodeEvent, orderIdOf } from '../events/envelope';
import type { AnyEnvelope } from '../events/envelope';
import type { EventType } from '../events/types';
import { withKeys } from '../logger';
import type { Log } from '../logger';
import { sendToExchange } from './broker';
import { isInfrastructureError, isTransient } from './errors';
import { recordInInbox } from './inbox';
import { retryDeadline, retryInPlace } from './retry';
import { newClaim, publishCommitted } from './outbox';
import { RmqEventSchema, decodeHeader, parseQueueKey } from './rmq-event';
import type { RmqEvent, RmqMessage } from './rmq-event';
import { partitionKeyOf } from './routing';
import { senderProblem } from './sender';
import { dlqOf, parkExchangeOf } from './topology';
import { inTransaction } from './unit-of-work';
import type { UnitOfWork } from './unit-of-work';

/**
 * Moves a message that can never succeed to its queue's DLQ (through the queue's parking exchange),
 * with the reason, so the batch can go on. The parked copy carries this consumer's user-id; the
 * original sender's, which the broker validated, goes with it as x-eventflow-sender, for a redrive
 * to send it back as that sender (shared/messaging/dlq.ts).
 */
async function park(queue: string, raw: Buffer, reason: string, message: RmqMessage, logger: Log) {
  const messageId = decodeHeader(message.basicProperties.messageId) ?? '';
  logger.error('message parked in DLQ', { queue, dlq: dlqOf(queue), reason, messageId });
  await sendToExchange(parkExchangeOf(queue), raw, {
    'x-eventflow-reason': reason.slice(0, 1000),
    'x-eventflow-queue': queue,
    'x-eventflow-parked-at': new Date().toISOString(),
    'x-eventflow-message-id': messageId,
    'x-eventflow-sender': decodeHeader(message.basicProperties.userId) ?? '',
  });
}

interface Item {
  queue: string;
  raw: Buffer;
  message: RmqMessage;
  event: AnyEnvelope;
}

export interface BatchOptions {
  /** Lanes processed at once (default 1: the whole batch in order). */
  concurrency?: number;
  /** Messages with the same lane key are processed one after another, in batch order. */
  laneOf?: (event: AnyEnvelope) => string;
  /**
   * How long a message that fails transiently is retried in place before the whole batch fails
   * (default 0). Each redelivery counts against the queue's delivery limit, so riding out a short
   * outage here keeps its messages out of the DLQ.
   */
  transientRetryMs?: number;
}

/**
 * Decodes an aws:rmq batch in order; what is not a valid event, or was not sent by the service that
 * owns its type, is parked in its DLQ at once.
 */
export async function decodeBatch(input: unknown, logger: Logger): Promise<{ items: Item[]; parked: number }> {
  const event: RmqEvent = RmqEventSchema.parse(input);
  const { namespace } = await getConfig();
  const items: Item[] = [];
  let parked = 0;
  for (const [key, messages] of Object.entries(event.rmqMessagesByQueue)) {
    const { queue } = parseQueueKey(key);
    for (const message of messages) {
      const raw = Buffer.from(message.data, 'base64');
      const decoded = decodeEvent(raw);
      const refused = decoded.ok ? senderProblem(decoded.event, decodeHeader(message.basicProperties.userId), namespace) : decoded.reason;
      if (decoded.ok && !refused) {
        items.push({ queue, raw, message, event: decoded.event });
      } else {
        await park(queue, raw, refused!, message, withKeys(logger, {}));
        parked++;
      }
    }
  }
  return { items, parked };
}

const logKeysOf = (ev: AnyEnvelope) => ({ correlationId: ev.correlationId, eventId: ev.id, eventType: ev.type, orderId: orderIdOf(ev) ?? undefined });

/**
 * Runs process for each decoded message, isolating messages from one another: one whose
 * processing fails permanently is parked in the DLQ and the rest go on. Only a transient failure
 * (a dependency unreachable) is thrown, which makes the event source redeliver the whole batch,
 * and only once every lane has stopped. With a concurrency above 1, messages of different lanes
 * (say, different orders) are processed in parallel, each lane in order.
 */
async function processItems(
  items: Item[],
  logger: Logger,
  process: (event: AnyEnvelope, log: Log) => Promise<void>,
  opts: BatchOptions,
): Promise<{ processed: number; parked: number }> {
  const laneOf = opts.laneOf ?? (() => '');
  const lanes = new Map<string, Item[]>();
  for (const item of items) {
    const lane = laneOf(item.event);
    if (!lanes.has(lane)) lanes.set(lane, []);
    lanes.get(lane)!.push(item);
  }
  let processed = 0;
  let parked = 0;
  let failure: { err: unknown } | undefined;
  const until = Date.now() + (opts.transientRetryMs ?? 0);
  const pending = [...lanes.values()];
  const worker = async () => {
    for (let lane = pending.shift(); lane && !failure; lane = pending.shift()) {
      for (const { queue, raw, message, event: ev } of lane) {
        if (failure) return;
        const log = withKeys(logger, logKeysOf(ev));
        try {
          await retryInPlace(() => process(ev, log), until, log);
          processed++;
        } catch (err) {
          if (isTransient(err)) {
            failure ??= { err };
            return;
          }
          try {
            await park(queue, raw, `processing failed: ${(err as Error).message}`, message, log);
            parked++;
          } catch (parkErr) {
            // Not parked, so not acknowledged either: the whole batch must come again.
            failure ??= { err: parkErr };
            return;
          }
        }
      }
    }
  };
  // Every lane is let finish (or stop) before the invocation ends: no work outlives its batch.
  await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 1, lanes.size)) }, worker));
  if (failure) throw failure.err;
  return { processed, parked };
}

/** decodeBatch, then processItems: a whole aws:rmq batch, each message isolated from the others. */
export async function consumeBatch(
  input: unknown,
  logger: Logger,
  process: (event: AnyEnvelope, log: Log) => Promise<void>,
  opts: BatchOptions = {},
): Promise<{ processed: number; parked: number }> {
  const { items, parked } = await decodeBatch(input, logger);
  const result = await processItems(items, logger, process, opts);
  return { processed: result.processed, parked: parked + result.parked };
}

/**
 * What a service does with a batch of its queue's events. `apply` gets only events it has never
 * applied, in batch order, inside the batch's transaction, and must touch the database with a
 * fixed number of statements whatever the batch size (load what the batch needs, decide in a pure
 * function, write). `afterCommit` runs once the batch has committed and its events are out, for
 * work that must not sit inside a transaction (a call to a card gateway), with every handled event
 * of the batch, new or redelivered, so that work a crash interrupted is taken up again.
 */
export interface BatchHandler {
  handles: readonly EventType[];
  /** Whether the inbox keeps each event's envelope (for a service that reads them back). */
  keepEnvelopes?: boolean;
  apply(uow: UnitOfWork, events: AnyEnvelope[], log: Logger): Promise<void>;
  afterCommit?(events: AnyEnvelope[], log: Logger): Promise<void>;
}

const RETRYABLE_IN_PLACE = new Set(['40001', '40P01']);

/** In-place retry budget of a consumer invocation for transient failures (see BatchOptions). */
const TRANSIENT_RETRY_MS = 10_000;

/**
 * Applies events exactly once, all in one transaction: one inbox insert tells which are new (a
 * redelivered event finds its row and does nothing), the handler applies those, and everything it
 * emits goes to the outbox in one insert, claimed by `claim` for publishing. Throws if anything
 * fails; nothing is applied then. Returns the events emitted. Serialization failures and deadlocks are retried at once.
 */
export async function applyOnce(pool: pg.Pool, events: AnyEnvelope[], handler: BatchHandler, claim: string, logger: Logger): Promise<AnyEnvelope[]> {
  const unique = [...new Map(events.map((e) => [e.id, e])).values()];
  for (let attempt = 1; ; attempt++) {
    try {
      const { events: emitted } = await inTransaction(pool, null, claim, async (uow) => {
        const fresh = await recordInInbox(uow.tx, unique, handler.keepEnvelopes ?? false);
        if (fresh.length < unique.length) logger.info('duplicate events ignored', { duplicates: unique.length - fresh.length });
        if (fresh.length > 0) await handler.apply(uow, fresh, logger);
      });
      return emitted;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt < 3 && code && RETRYABLE_IN_PLACE.has(code)) continue;
      throw err;
    }
  }
}

/** What an invocation keeps, after waiting out an outage, to publish, log and return before its timeout. */
const OUTAGE_RESERVE_MS = 10_000;

/**
 * applyOnce for the whole batch, waiting out an infrastructure failure (the database read-only,
 * full or unreachable: isInfrastructureError) in place for as long as the invocation may, rather
 * than failing the batch after TRANSIENT_RETRY_MS. A failed batch goes back to its queue, and every
 * return counts toward the queue's delivery limit (DELIVERY_LIMIT) on RabbitMQ before 4.3, so a
 * failover or a full disk that outlasted a few short attempts would push good messages into the
 * DLQ. Any other failure is thrown at once, for the caller to apply the messages one by one.
 */
async function applyBatchWaitingOutOutages(pool: pg.Pool, events: AnyEnvelope[], handler: BatchHandler, claim: string, logger: Logger, context?: Context): Promise<AnyEnvelope[]> {
  // Bounded by the invocation's own time; called without one (a test), by the usual in-place budget.
  const until = retryDeadline(context ? Number.POSITIVE_INFINITY : TRANSIENT_RETRY_MS, context?.getRemainingTimeInMillis(), OUTAGE_RESERVE_MS);
  for (let pause = 250, waited = false; ; pause = Math.min(pause * 2, 5_000)) {
    try {
      const emitted = await applyOnce(pool, events, handler, claim, logger);
      if (waited) logger.info('the database takes writes again; batch applied');
      return emitted;
    } catch (err) {
      if (!isInfrastructureError(err) || Date.now() + pause >= until) throw err;
      if (!waited) logger.warn('the database cannot take the batch now; waiting in place rather than returning it', { error: (err as Error).message });
      waited = true;
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

/**
 * A Lambda handler for a service queue: every event handled once. The batch is applied in one
 * transaction; if that fails (a message that cannot succeed, a dependency down), nothing of it
 * stays and the messages are applied one by one instead, each in its own transaction, so that the
 * bad one is parked and the rest go through.
 */
export function createEventConsumer(opts: { service: ServiceName; logger: Logger; handler: BatchHandler }) {
  const { service, logger, handler } = opts;
  const handled = new Set<string>(handler.handles);
  return async (input: RmqEvent, context?: Context): Promise<{ processed: number; parked: number }> => {
    if (context) logger.addContext(context);
    const pool = await getPool(service);
    const { dbPoolMax } = await getConfig();
    const retryUntil = retryDeadline(TRANSIENT_RETRY_MS, context?.getRemainingTimeInMillis());
    const { items, parked } = await decodeBatch(input, logger);
    // Events bound to this queue for another consumer's sake have no handler here: nothing to do.
    const mine = items.filter((i) => handled.has(i.event.type));
    // One claim for everything this invocation commits, published together at its end.
    const claim = newClaim();
    const emitted: AnyEnvelope[] = [];
    let result: { processed: number; parked: number };
    try {
      try {
        emitted.push(...(await applyBatchWaitingOutOutages(pool, mine.map((i) => i.event), handler, claim, logger, context)));
        result = { processed: mine.length, parked };
      } catch (err) {
        logger.warn('batch transaction failed; applying its messages one by one', { error: (err as Error).message });
        const oneByOne = await processItems(
          mine,
          logger,
          async (event) => {
            emitted.push(...(await applyOnce(pool, [event], handler, claim, logger)));
          },
          {
            // Each order's events in order; different orders in parallel, one database connection each.
            concurrency: dbPoolMax,
            laneOf: partitionKeyOf,
            // Ride out a short outage in place, leaving time to publish before the invocation times out.
            transientRetryMs: retryUntil - Date.now(),
          },
        );
        result = { processed: oneByOne.processed, parked: parked + oneByOne.parked };
      }
    } finally {
      // What committed goes out now, even if the batch failed and will be redelivered.
      await publishCommitted(pool, emitted, claim, logger);
    }
    if (handler.afterCommit && mine.length > 0) {
      // Follow-up work never fails the batch (its events are applied); what cannot finish now is
      // taken up by the next delivery of the same events or by a schedule.
      await retryInPlace(() => handler.afterCommit!(mine.map((i) => i.event), logger), retryUntil, withKeys(logger, {})).catch((err) =>
        logger.warn('follow-up work did not finish; it will be taken up again', { error: (err as Error).message }),
      );
    }
    return result;
  };
}
