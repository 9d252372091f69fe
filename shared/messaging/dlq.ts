import type { ConfirmChannel } from 'amqplib';
import { dlqOf } from './topology';

function reasonOf(headers: Record<string, unknown> | undefined): string {
  const own = headers?.['x-eventflow-reason'];
  if (own) return String(own);
  const death = (headers?.['x-death'] as { reason?: string; count?: number }[] | undefined)?.[0];
  return death ? `dead-lettered by the broker (${death.reason}, ${death.count} deliveries)` : 'unknown';
}

/** Depth of a queue's DLQ and why its first messages (up to 100) were parked. Leaves them in place. */
export async function inspectDlq(channel: ConfirmChannel, queue: string) {
  const { messageCount } = await channel.checkQueue(dlqOf(queue));
  const reasons = new Map<string, number>();
  const peeked = [];
  for (let i = 0; i < Math.min(messageCount, 100); i++) {
    const m = await channel.get(dlqOf(queue));
    if (!m) break;
    peeked.push(m);
    const r = reasonOf(m.properties.headers);
    reasons.set(r, (reasons.get(r) ?? 0) + 1);
  }
  for (const m of peeked) channel.nack(m, false, true);
  return { depth: messageCount, reasons };
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
