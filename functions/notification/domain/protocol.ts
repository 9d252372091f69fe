import { z } from 'zod';
import type { AnyEnvelope } from '../../../shared/events/envelope';

/**
 * What a client may send. API Gateway selects routes on `$request.body.action`; the API has only
 * $connect, $disconnect and $default, so every message reaches $default and is told apart here.
 */
export const ClientMessageSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('ping') }),
  z.object({ action: z.literal('subscribe'), orderId: z.uuid() }),
  z.object({ action: z.literal('unsubscribe'), orderId: z.uuid().optional() }),
  z.object({ action: z.literal('resume'), since: z.union([z.uuid(), z.iso.datetime()]) }),
]);

export type ClientMessage = z.infer<typeof ClientMessageSchema>;

/** Replies are JSON objects with a `type`; event frames are JSON arrays, so a client tells them apart by shape. */
export type Reply =
  | { type: 'pong'; connectionId: string; at: string }
  | { type: 'subscribed'; orderId: string; subscriptions: number; replayed: number; events: AnyEnvelope[] }
  | { type: 'unsubscribed'; orderId: string | null; subscriptions: number }
  | { type: 'resumed'; since: string; count: number; complete: boolean; through: string | null }
  | { type: 'error'; message: string };

export type ParsedMessage = { ok: true; message: ClientMessage } | { ok: false; reply: Reply };

export function parseClientMessage(body: string | undefined): ParsedMessage {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    return { ok: false, reply: { type: 'error', message: 'messages are JSON objects with an "action"' } };
  }
  const parsed = ClientMessageSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      reply: { type: 'error', message: `unknown or invalid action; expected ping, subscribe {orderId}, unsubscribe [{orderId}] or resume {since}: ${z.prettifyError(parsed.error)}` },
    };
  }
  return { ok: true, message: parsed.data };
}
