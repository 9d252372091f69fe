import type { Channel, ChannelModel, ConsumeMessage, MessageProperties } from 'amqplib';
import type { RmqEvent, RmqHeaderValue, RmqMessage } from '../shared/messaging/rmq-event';
import { queueKey } from '../shared/messaging/rmq-event';

export const LOCAL_BROKER_ARN = 'arn:aws:mq:local:000000000000:broker:eventflow-local:b-00000000-0000-0000-0000-000000000000';

/** AMQP header values as Lambda renders them: strings (and bytes) as {bytes:[...]}, numbers as numbers. */
function encodeHeader(value: unknown): RmqHeaderValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return { bytes: [...Buffer.from(value, 'utf8')] };
  if (Buffer.isBuffer(value)) return { bytes: [...value] };
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  if (Array.isArray(value)) return value.map(encodeHeader);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeHeader(v)]));
  return { bytes: [...Buffer.from(String(value), 'utf8')] };
}

// Built once: constructing an Intl formatter per message is expensive.
const TIMESTAMP_FORMAT = new Intl.DateTimeFormat('en-US', {
  timeZone: 'UTC',
  month: 'short',
  day: 'numeric',
  year: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  second: '2-digit',
  hour12: true,
});

/** Lambda shows the AMQP timestamp formatted, e.g. "Jan 1, 1970, 12:33:41 AM". */
function formatTimestamp(seconds: number | undefined): string | null {
  if (seconds === undefined) return null;
  return TIMESTAMP_FORMAT.format(new Date(seconds * 1000)).replace(/\u202f/g, ' ');
}

export function toRmqMessage(msg: ConsumeMessage): RmqMessage {
  const p: MessageProperties = msg.properties;
  const orNull = <T>(v: T | undefined) => (v === undefined ? null : v);
  return {
    basicProperties: {
      contentType: orNull(p.contentType),
      contentEncoding: orNull(p.contentEncoding),
      headers: p.headers ? (encodeHeader(p.headers) as Record<string, RmqHeaderValue>) : null,
      deliveryMode: orNull(p.deliveryMode),
      priority: orNull(p.priority),
      correlationId: orNull(p.correlationId),
      replyTo: orNull(p.replyTo),
      expiration: orNull(p.expiration),
      messageId: orNull(p.messageId),
      timestamp: formatTimestamp(p.timestamp),
      type: orNull(p.type),
      userId: orNull(p.userId),
      appId: orNull(p.appId),
      clusterId: orNull(p.clusterId),
      bodySize: msg.content.length,
    },
    redelivered: msg.fields.redelivered,
    data: msg.content.toString('base64'),
  };
}

export function toRmqEvent(queue: string, messages: ConsumeMessage[]): RmqEvent {
  return {
    eventSource: 'aws:rmq',
    eventSourceArn: LOCAL_BROKER_ARN,
    rmqMessagesByQueue: { [queueKey(queue)]: messages.map(toRmqMessage) },
  };
}

export interface QueueSourceOptions {
  /** Opens a connection to the broker (each source has its own, as each event source mapping does). */
  connect: () => Promise<ChannelModel>;
  queue: string;
  batchSize: number;
  batchWindowMs: number;
  invoke: (event: RmqEvent) => Promise<unknown>;
  onBatchError: (err: unknown, size: number) => void;
  log: (line: string) => void;
}

const sleep = (ms: number, wake?: (cb: () => void) => void) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    wake?.(() => {
      clearTimeout(t);
      resolve();
    });
  });

/**
 * Plays the Lambda event source mapping for one queue: batches of up to batchSize gathered for at
 * most the batching window, one batch in flight (never two, not even across a reconnect), the
 * whole batch acked when the handler succeeds and the whole batch requeued when it fails (there is
 * no partial batch response for Amazon MQ). Failed batches are retried after a growing pause so an
 * outage does not spin. A lost connection or channel is re-opened, with backoff, by itself; the
 * broker redelivers what was unacknowledged on it.
 */
export async function startQueueSource(opts: QueueSourceOptions) {
  let stopped = false;
  let running: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let session: { connection: ChannelModel; channel: Channel; consumerTag?: string; buffer: ConsumeMessage[]; closed: boolean } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  const schedule = (delayMs: number) => {
    if (timer || running || stopped || !session || session.buffer.length === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = runBatch().finally(() => {
        running = undefined;
        schedule(opts.batchWindowMs);
      });
    }, delayMs);
  };

  async function runBatch() {
    const s = session;
    if (!s || s.closed) return;
    const batch = s.buffer.splice(0, opts.batchSize);
    if (batch.length === 0) return;
    let ok = false;
    try {
      await opts.invoke(toRmqEvent(opts.queue, batch));
      ok = true;
      failures = 0;
    } catch (err) {
      failures++;
      opts.onBatchError(err, batch.length);
      // Pause before the redelivery (cut short by stop()), so an outage does not spin.
      await sleep(Math.min(30_000, 250 * 2 ** failures), (cb) => (wake = cb));
      wake = undefined;
    }
    // The batch is the oldest unacknowledged deliveries of the channel: one frame settles it all.
    // On a channel that closed meanwhile there is nothing to settle: the broker redelivers.
    if (s.closed) return;
    try {
      if (ok) s.channel.ack(batch.at(-1)!, true);
      else s.channel.nack(batch.at(-1)!, true, true);
    } catch (err) {
      opts.log(`${opts.queue}: could not settle a batch of ${batch.length} (${(err as Error).message}); the broker redelivers it`);
    }
  }

  async function open() {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        const connection = await opts.connect();
        const channel = await connection.createChannel();
        // Read ahead one batch, so the next is ready when the one in flight ends.
        await channel.prefetch(opts.batchSize * 2);
        const s = { connection, channel, buffer: [] as ConsumeMessage[], closed: false, consumerTag: undefined as string | undefined };
        const lost = (why: string) => {
          if (s.closed) return;
          s.closed = true;
          s.buffer.length = 0;
          if (session === s) session = undefined;
          connection.close().catch(() => undefined);
          if (!stopped) {
            opts.log(`${opts.queue}: ${why}; reconnecting`);
            void reopen();
          }
        };
        connection.on('error', () => undefined);
        connection.on('close', () => lost('connection to the broker lost'));
        channel.on('error', () => undefined);
        channel.on('close', () => lost('channel closed'));
        session = s;
        const { consumerTag } = await channel.consume(opts.queue, (msg) => {
          if (!msg) return lost('consumer cancelled by the broker'); // queue deleted or failed over
          s.buffer.push(msg);
          if (s.buffer.length >= opts.batchSize && timer && !running) {
            clearTimeout(timer);
            timer = undefined;
            schedule(0);
          } else {
            schedule(opts.batchWindowMs);
          }
        });
        s.consumerTag = consumerTag;
        if (attempt > 0) opts.log(`${opts.queue}: consuming again`);
        return;
      } catch (err) {
        if (attempt === 0 || attempt % 10 === 0) opts.log(`${opts.queue}: broker not reachable (${(err as Error).message}); retrying`);
        await sleep(Math.min(10_000, 250 * 2 ** Math.min(attempt, 6)), (cb) => (wake = cb));
        wake = undefined;
      }
    }
  }

  let reopening: Promise<void> | undefined;
  function reopen() {
    // A batch still in flight ends first: one batch at a time, even across a reconnect.
    reopening ??= (async () => {
      await running;
      await open();
    })().finally(() => (reopening = undefined));
    return reopening;
  }

  await open();

  return {
    /** Whether the source is consuming (for health). */
    consuming: () => session !== undefined && !session.closed,
    /** Stops taking messages, lets the batch in flight finish, and returns the rest to the queue. */
    async stop() {
      stopped = true;
      const s = session;
      if (s?.consumerTag) await s.channel.cancel(s.consumerTag).catch(() => undefined);
      clearTimeout(timer);
      wake?.();
      await running;
      await reopening;
      if (s) {
        s.closed = true;
        await s.channel.close().catch(() => undefined); // unacked messages go back to the queue
        await s.connection.close().catch(() => undefined);
      }
    },
  };
}
