import type { ConfirmChannel, GetMessage } from 'amqplib';
import { dlqOf } from './topology';

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

/**
 * Moves everything in a queue's DLQ back onto the queue, each message acked in the DLQ only once
 * its copy is confirmed on the queue. What still cannot succeed is parked again, with its reason.
 */
export async function redriveDlq(channel: ConfirmChannel, queue: string): Promise<number> {
  let moved = 0;
  for (let m = await channel.get(dlqOf(queue)); m; m = await channel.get(dlqOf(queue))) {
    channel.sendToQueue(queue, m.content, { ...m.properties, persistent: true });
    await channel.waitForConfirms();
    channel.ack(m);
    moved++;
  }
  return moved;
}
