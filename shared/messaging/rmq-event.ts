import { z } from 'zod';

/**
 * The event Lambda's Amazon MQ for RabbitMQ event source mapping delivers (eventSource "aws:rmq").
 * @types/aws-lambda has no type for it, so it is declared here; the local runtime builds the same shape.
 */
export const RmqMessageSchema = z.object({
  basicProperties: z.record(z.string(), z.unknown()),
  redelivered: z.boolean(),
  data: z.string(),
});

export const RmqEventSchema = z.object({
  eventSource: z.literal('aws:rmq'),
  eventSourceArn: z.string(),
  rmqMessagesByQueue: z.record(z.string(), z.array(RmqMessageSchema)),
});

export type RmqMessage = z.infer<typeof RmqMessageSchema>;
export type RmqEvent = z.infer<typeof RmqEventSchema>;

/** Header values: strings arrive as {bytes:[...]}, numbers as numbers. */
export type RmqHeaderValue = { bytes: number[] } | number | boolean | null | RmqHeaderValue[] | { [k: string]: RmqHeaderValue };

/** Splits a rmqMessagesByQueue key "queue::vhost" on its last "::". */
export function parseQueueKey(key: string): { queue: string; vhost: string } {
  const at = key.lastIndexOf('::');
  return at < 0 ? { queue: key, vhost: '/' } : { queue: key.slice(0, at), vhost: key.slice(at + 2) };
}

export function queueKey(queue: string, vhost = '/'): string {
  return `${queue}::${vhost}`;
}

export function decodeHeader(value: unknown): string | undefined {
  if (value && typeof value === 'object' && 'bytes' in value && Array.isArray((value as { bytes: unknown }).bytes)) {
    return Buffer.from((value as { bytes: number[] }).bytes).toString('utf8');
  }
  return value === undefined || value === null ? undefined : String(value);
}
