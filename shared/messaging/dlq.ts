import type { ConfirmChannel, GetMessage } from 'amqplib';
import { decodeEvent } from '../events/envelope';
import { bucketOf, partitionKeyOf, partitionOfBucket } from './routing';
import { dlqOf, redriveExchangeOf } from './topology';

/** One parked message, as an operator reads it: what it is, what it concerns, why and when it was parked. */
export interface DeadLetterSummary {
  messageId: string | null;
  eventType: string | null;
  orderId: string | null;
  reason: string;
  /** ISO time: when the consumer parked it, or when the broker dead-lettered it. */
  parkedAt: string | null;
}

const text = (v: unknown): string | null => (v === undefined || v === null || v === '' ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

function summarize(m: GetMessage): DeadLetterSummary {
  const headers = (m.properties.headers ?? {}) as Record<string, unknown>;
  let body: { id?: unknown; type?: unknown; data?: { orderId?: unknown } } | null = null;
  try {
    body = JSON.parse(m.content.toString('utf8'));
  } catch {
    // not JSON: the reason says so
  }
  const death = (headers['x-death'] as { time?: Date | { value?: number } }[] | undefined)?.[0];
  const deathTime = death?.time instanceof Date ? death.time : typeof death?.time?.value === 'number' ? new Date(death.time.value * 1000) : null;
  return {
    messageId: text(m.properties.messageId) ?? text(headers['x-eventflow-message-id']) ?? text(body?.id),
    eventType: text(m.properties.type) ?? text(body?.type),
    orderId: text(body?.data?.orderId),
    reason: reasonOf(headers),
    parkedAt: text(headers['x-eventflow-parked-at']) ?? deathTime?.toISOString() ?? null,
  };
}

function reasonOf(headers: Record<string, unknown> | undefined): string {
  const own = headers?.['x-eventflow-reason'];
  if (own) return String(own);
  const death = (headers?.['x-death'] as { reason?: string; count?: number }[] | undefined)?.[0];
  return death ? `dead-lettered by the broker (${death.reason}, ${death.count} deliveries)` : 'unknown';
}

/**
 * Depth of a queue's DLQ, why its first messages (up to `limit`) were parked, and a summary of each.
 * Leaves them in place.
 */
export async function inspectDlq(channel: ConfirmChannel, queue: string, limit = 100) {
  const { messageCount } = await channel.checkQueue(dlqOf(queue));
  const reasons = new Map<string, number>();
  const peeked: GetMessage[] = [];
  for (let i = 0; i < Math.min(messageCount, limit); i++) {
    const m = await channel.get(dlqOf(queue));
    if (!m) break;
    peeked.push(m);
    const r = reasonOf(m.properties.headers);
    reasons.set(r, (reasons.get(r) ?? 0) + 1);
  }
  const messages = peeked.map(summarize);
  for (const m of peeked) channel.nack(m, false, true);
  return { depth: messageCount, reasons, messages };
}

/** Where a message of a service queue belongs now: the partition of its event's order (or product). */
export function partitionFor(content: Buffer, headers: Record<string, unknown>, partitions: string[]): string {
  if (partitions.length === 1) return partitions[0]!;
  const decoded = decodeEvent(content);
  if (decoded.ok) return partitions[partitionOfBucket(bucketOf(partitionKeyOf(decoded.event)), partitions.length)]!;
  // Not an event: it will be parked again, with its reason; back where it came from if that still exists.
  const from = text(headers['x-eventflow-queue']);
  return from && partitions.includes(from) ? from : partitions[0]!;
}

/**
 * What a message carries when it goes back to work: the consumer's verdict on its last attempt is
 * history now (kept as x-eventflow-previous-reason), so that a new failure is told apart from it.
 */
function redrivenHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const { 'x-eventflow-reason': _r, 'x-eventflow-parked-at': _p, 'x-eventflow-queue': _q, 'x-eventflow-sender': _s, ...rest } = headers;
  return {
    ...rest,
    'x-eventflow-previous-reason': reasonOf(headers),
    'x-eventflow-redriven': Number(headers['x-eventflow-redriven'] ?? 0) + 1,
  };
}

/**
 * Who sent a parked message, as the broker vouched for it. A message the broker dead-lettered (past
 * its delivery limit) keeps the properties it was published with, its validated user-id among them.
 * One a consumer parked carries the consumer's own user-id (`parker`), and the original sender, as
 * the consumer read it from the delivery, in x-eventflow-sender: only then is that header believed,
 * since only the queue's own consumer can publish into its DLQ (through the parking exchange).
 */
export function originalSender(properties: { userId?: unknown; headers?: unknown }, parker: string): string | undefined {
  const userId = text(properties.userId) ?? undefined;
  if (userId !== parker) return userId;
  return text((properties.headers as Record<string, unknown> | undefined)?.['x-eventflow-sender']) ?? undefined;
}

/**
 * Moves the messages `from` holds when it starts (no more: one that fails again and is parked
 * behind them is left for the next redrive) onto the partitions of a service queue, each to the
 * partition of its order, through the queue's redrive exchange; each leaves `from` only once its
 * copy is confirmed. Each goes back as its original sender (`senderOf`): the DLQ tools' user may
 * publish with another user's user-id (RabbitMQ's impersonator tag), so that the consumer's
 * check of the sender holds for redriven messages too. Returns how many moved; `onMoved` hears the
 * count after each, so a caller knows how far a failed move got.
 */
async function moveMessages(
  channel: ConfirmChannel,
  from: string,
  partitions: string[],
  headersFor: (h: Record<string, unknown>) => Record<string, unknown>,
  senderOf: (m: GetMessage) => string | undefined,
  onMoved?: (moved: number) => void,
): Promise<number> {
  const { messageCount } = await channel.checkQueue(from);
  const exchange = redriveExchangeOf(partitions[0]!);
  let moved = 0;
  for (; moved < messageCount; ) {
    const m = await channel.get(from);
    if (!m) break;
    const headers = (m.properties.headers ?? {}) as Record<string, unknown>;
    const { userId: _u, ...properties } = m.properties;
    const sender = senderOf(m);
    channel.publish(exchange, partitionFor(m.content, headers, partitions), m.content, {
      ...properties,
      ...(sender ? { userId: sender } : {}),
      headers: headersFor(headers),
      persistent: true,
    });
    await channel.waitForConfirms();
    channel.ack(m);
    // Not onMoved?.(++moved): without a listener, the optional call would skip counting it.
    moved++;
    onMoved?.(moved);
  }
  return moved;
}

/**
 * Redrives a service queue's DLQ: the messages present when it starts go back onto the queue
 * (each to its order's partition, as sent by their original sender), without their old reason;
 * what still cannot succeed is parked again with a new one. `parker`: the broker user of the
 * queue's consumer (see originalSender).
 */
export function redriveDlq(channel: ConfirmChannel, partitions: string[], parker: string, onMoved?: (moved: number) => void): Promise<number> {
  return moveMessages(channel, dlqOf(partitions[0]!), partitions, redrivenHeaders, (m) => originalSender(m.properties, parker), onMoved);
}

/**
 * Empties a queue of an earlier partition layout (see declareTopology) onto the partitions of the
 * current one, each message to its order's partition. Its messages came straight from their
 * publishers: each keeps its user-id.
 */
export function drainQueue(channel: ConfirmChannel, from: string, partitions: string[]): Promise<number> {
  return moveMessages(channel, from, partitions, (h) => h, (m) => text(m.properties.userId) ?? undefined);
}
