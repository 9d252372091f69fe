import type { Logger } from '@aws-lambda-powertools/logger';
import { withKeys } from '../logger';
import type { Log } from '../logger';
import type { Context } from 'aws-lambda';
import type pg from 'pg';
import { getConfig } from '../config';
import type { ServiceName } from '../config';
import { getPool, withTransaction } from '../db/pool';
import { causedBy, createEvent, decodeEvent, orderIdOf } from '../events/envelope';
import type { AnyEnvelope, Envelope } from '../events/envelope';
import type { EventData, EventType } from '../events/types';
import { sendToQueue } from './broker';
import { isTransient } from './errors';
import { appendToOutbox, publishCommitted } from './outbox';
import { RmqEventSchema, decodeHeader, parseQueueKey } from './rmq-event';
import type { RmqEvent, RmqMessage } from './rmq-event';
import { dlqOf } from './topology';

/** Moves a message that can never succeed to its queue's DLQ, with the reason, so the batch can go on. */
async function park(queue: string, raw: Buffer, reason: string, message: RmqMessage, logger: Log) {
  const messageId = decodeHeader(message.basicProperties.messageId) ?? '';
  logger.error('message parked in DLQ', { queue, dlq: dlqOf(queue), reason, messageId });
  await sendToQueue(dlqOf(queue), raw, {
    'x-eventflow-reason': reason.slice(0, 1000),
    'x-eventflow-queue': queue,
    'x-eventflow-parked-at': new Date().toISOString(),
    'x-eventflow-message-id': messageId,
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

/** Decodes an aws:rmq batch in order; what is not a valid event is parked in its DLQ at once. */
export async function decodeBatch(input: unknown, logger: Logger): Promise<{ items: Item[]; parked: number }> {
  const event: RmqEvent = RmqEventSchema.parse(input);
  const items: Item[] = [];
  let parked = 0;
  for (const [key, messages] of Object.entries(event.rmqMessagesByQueue)) {
    const { queue } = parseQueueKey(key);
    for (const message of messages) {
      const raw = Buffer.from(message.data, 'base64');
      const decoded = decodeEvent(raw);
      if (decoded.ok) {
        items.push({ queue, raw, message, event: decoded.event });
      } else {
        await park(queue, raw, decoded.reason, message, withKeys(logger, {}));
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
 * (a dependency unreachable) is thrown, which makes the event source redeliver the whole batch.
 * With a concurrency above 1, messages of different lanes (say, different orders) are processed
 * in parallel, each lane in order.
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
  let transient: unknown;
  const retryUntil = Date.now() + (opts.transientRetryMs ?? 0);
  const pending = [...lanes.values()];
  const worker = async () => {
    for (let lane = pending.shift(); lane && !transient; lane = pending.shift()) {
      for (const { queue, raw, message, event: ev } of lane) {
        if (transient) return;
        const log = withKeys(logger, logKeysOf(ev));
        for (let pause = 100; ; pause = Math.min(pause * 2, 2_000)) {
          try {
            await process(ev, log);
            processed++;
          } catch (err) {
            if (isTransient(err)) {
              if (!transient && Date.now() + pause < retryUntil) {
                log.warn('transient failure; retrying in place', { error: (err as Error).message, pauseMs: pause });
                await new Promise((r) => setTimeout(r, pause));
                continue;
              }
              transient ??= err;
              return;
            }
            await park(queue, raw, `processing failed: ${(err as Error).message}`, message, log);
            parked++;
          }
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 1, lanes.size)) }, worker));
  if (transient) throw transient;
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

export interface EventContext {
  tx: pg.PoolClient;
  /** Queues an event caused by the one being handled; it is stored in the outbox in the same transaction. */
  emit<T extends EventType>(type: T, data: EventData<T>): void;
  logger: Log;
}

export type EventHandlers = { [T in EventType]?: (event: Envelope<T>, ctx: EventContext) => Promise<void> };

type AnyHandler = (event: AnyEnvelope, ctx: EventContext) => Promise<void>;

const RETRYABLE_IN_PLACE = new Set(['40001', '40P01']);

/** In-place retry budget of a consumer invocation for transient failures (see BatchOptions). */
const TRANSIENT_RETRY_MS = 10_000;

/**
 * Applies one event exactly once (applyBatchOnce with a batch of one), retrying in place when the
 * database reports a serialization failure or a deadlock. Returns the ids of the events emitted.
 */
export async function applyOnce(pool: pg.Pool, event: AnyEnvelope, handler: AnyHandler, log: Log): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await applyBatchOnce(pool, [{ event, handler }], () => log);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt < 3 && code && RETRYABLE_IN_PLACE.has(code)) continue;
      throw err;
    }
  }
}

/**
 * Applies events exactly once, all in one transaction: one inbox insert tells which are new (a
 * redelivered event finds its row and does nothing), their handlers run in order, and everything
 * they emit goes to the outbox in one insert. For a batch, one commit and a handful of statements
 * instead of per message. Throws if any handler fails; nothing is applied then. Returns the ids of
 * the events emitted.
 */
export async function applyBatchOnce(
  pool: pg.Pool,
  events: { event: AnyEnvelope; handler: AnyHandler }[],
  logFor: (event: AnyEnvelope) => Log,
): Promise<string[]> {
  const unique = [...new Map(events.map((e) => [e.event.id, e])).values()];
  return withTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ event_id: string }>(
      `INSERT INTO inbox (event_id, type, order_id, envelope)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::jsonb[])
       ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
      [
        unique.map((e) => e.event.id),
        unique.map((e) => e.event.type),
        unique.map((e) => orderIdOf(e.event)),
        unique.map((e) => JSON.stringify(e.event)),
      ],
    );
    const fresh = new Set(rows.map((r) => r.event_id));
    const emitted: AnyEnvelope[] = [];
    for (const { event, handler } of unique) {
      const log = logFor(event);
      if (!fresh.has(event.id)) {
        log.info('duplicate event ignored');
        continue;
      }
      const cause = causedBy(event);
      await handler(event, { tx, logger: log, emit: (type, data) => emitted.push(createEvent(type, data, cause) as AnyEnvelope) });
    }
    await appendToOutbox(tx, emitted);
    return emitted.map((e) => e.id);
  });
}

/**
 * A Lambda handler for a service queue: every event handled once. The batch is applied in one
 * transaction; if that fails (a message that cannot succeed, a dependency down), nothing of it
 * stays and the messages are applied one by one instead, each in its own transaction, so that the
 * bad one is parked and the rest go through.
 */
export function createEventConsumer(opts: { service: ServiceName; logger: Logger; handlers: EventHandlers }) {
  const { service, logger, handlers } = opts;
  const handlerOf = (event: AnyEnvelope) => handlers[event.type] as AnyHandler | undefined;
  return async (input: RmqEvent, context?: Context): Promise<{ processed: number; parked: number }> => {
    if (context) logger.addContext(context);
    const pool = await getPool(service);
    const { dbPoolMax } = await getConfig();
    const { items, parked } = await decodeBatch(input, logger);
    // Events bound to this queue for another consumer's sake have no handler here: nothing to do.
    const handled = items.filter((i) => handlerOf(i.event));
    const emitted: string[] = [];
    try {
      try {
        const batch = handled.map((i) => ({ event: i.event, handler: handlerOf(i.event)! }));
        emitted.push(...(await applyBatchOnce(pool, batch, (e) => withKeys(logger, logKeysOf(e)))));
        return { processed: handled.length, parked };
      } catch (err) {
        logger.warn('batch transaction failed; applying its messages one by one', { error: (err as Error).message });
      }
      const result = await processItems(
        handled,
        logger,
        async (event, log) => {
          emitted.push(...(await applyOnce(pool, event, handlerOf(event)!, log)));
        },
        {
          // Each order's events in order; different orders in parallel, one database connection each.
          concurrency: dbPoolMax,
          laneOf: (e) => orderIdOf(e) ?? ('productId' in e.data ? e.data.productId : e.id),
          // Ride out a short outage in place, leaving time to publish before the invocation times out.
          transientRetryMs: Math.min(TRANSIENT_RETRY_MS, (context?.getRemainingTimeInMillis() ?? Infinity) - 10_000),
        },
      );
      return { processed: result.processed, parked: parked + result.parked };
    } finally {
      // What committed goes out now, even if the batch failed and will be redelivered.
      await publishCommitted(pool, emitted, logger);
    }
  };
}
