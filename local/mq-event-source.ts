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
  connection: ChannelModel;
  queue: string;
  batchSize: number;
  batchWindowMs: number;
  invoke: (event: RmqEvent) => Promise<unknown>;
  onBatchError: (err: unknown, size: number) => void;
}

/**
 * Plays the Lambda event source mapping for one queue: batches of up to batchSize gathered for at
 * most the batching window, one batch in flight, the whole batch acked when the handler succeeds
 * and the whole batch requeued when it fails (there is no partial batch response for Amazon MQ).
 * Failed batches are retried after a growing pause so an outage does not spin.
 */
export async function startQueueSource(opts: QueueSourceOptions) {
  const channel: Channel = await opts.connection.createChannel();
  await channel.prefetch(opts.batchSize);
  let buffer: ConsumeMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let failures = 0;
  let stopped = false;
  let wake: (() => void) | undefined;

  const schedule = (delayMs: number) => {
    if (timer || running || buffer.length === 0 || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = runBatch().finally(() => {
        running = undefined;
        schedule(opts.batchWindowMs);
      });
    }, delayMs);
  };

  async function runBatch() {
    const batch = buffer.splice(0, opts.batchSize);
    try {
      await opts.invoke(toRmqEvent(opts.queue, batch));
      failures = 0;
      for (const m of batch) channel.ack(m);
    } catch (err) {
      failures++;
      opts.onBatchError(err, batch.length);
      // Pause before the redelivery (cut short by stop()), so an outage does not spin.
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(30_000, 250 * 2 ** failures));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
      for (const m of batch) channel.nack(m, false, true);
    }
  }

  const { consumerTag } = await channel.consume(opts.queue, (msg) => {
    if (!msg) return; // consumer cancelled by the broker (queue deleted)
    buffer.push(msg);
    if (buffer.length >= opts.batchSize && timer && !running) {
      clearTimeout(timer);
      timer = undefined;
      schedule(0);
    } else {
      schedule(opts.batchWindowMs);
    }
  });

  return {
    /** Stops taking messages, lets the batch in flight finish, and returns the rest to the queue. */
    async stop() {
      stopped = true;
      await channel.cancel(consumerTag).catch(() => undefined);
      clearTimeout(timer);
      wake?.();
      await running;
      await channel.close().catch(() => undefined); // unacked messages go back to the queue
    },
  };
}
