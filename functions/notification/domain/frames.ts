import type { AnyEnvelope } from '../../../shared/events/envelope';

/** API Gateway WebSocket quotas: one frame carries 32 KB; a message (fragmented into frames) at most 128 KB. */
export const FRAME_LIMIT_BYTES = 32 * 1024;
export const MESSAGE_LIMIT_BYTES = 128 * 1024;

/**
 * What a client receives instead of an event too large for one message: the envelope without its
 * data, except the ids needed to fetch it over HTTP (GET /orders/{id}/events).
 */
export function truncatedEvent(event: AnyEnvelope) {
  const data = event.data as Record<string, unknown>;
  const keep = Object.fromEntries(['orderId', 'orderVersion', 'productId', 'productVersion'].filter((k) => k in data).map((k) => [k, data[k]]));
  return { ...event, data: keep, truncated: true };
}

/**
 * Packs events, in their order, into as few frames as the frame limit allows. Every frame is a
 * JSON array of envelopes. An event that cannot share a frame goes alone (API Gateway fragments a
 * message of up to 128 KB); one larger than a whole message is replaced by its truncated form.
 */
export function packFrames(events: readonly AnyEnvelope[], frameLimit = FRAME_LIMIT_BYTES, messageLimit = MESSAGE_LIMIT_BYTES): string[] {
  const frames: string[] = [];
  let parts: string[] = [];
  let size = 2; // the brackets
  const flush = () => {
    if (parts.length) frames.push(`[${parts.join(',')}]`);
    parts = [];
    size = 2;
  };
  for (const event of events) {
    let json = JSON.stringify(event);
    let bytes = Buffer.byteLength(json);
    if (bytes + 2 > messageLimit) {
      json = JSON.stringify(truncatedEvent(event));
      bytes = Buffer.byteLength(json);
    }
    if (parts.length && size + 1 + bytes > frameLimit) flush();
    parts.push(json);
    size += bytes + (parts.length > 1 ? 1 : 0);
    if (size > frameLimit) flush(); // an oversized event travels alone
  }
  flush();
  return frames;
}
