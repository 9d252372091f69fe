import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { EVENT_SCHEMAS, EVENT_SCHEMA_VERSION, PUBLISHERS, isEventType, publisherOf } from './types';
import type { EventData, EventType, Publisher } from './types';

export const EnvelopeSchema = z.object({
  id: z.uuid(),
  type: z.string().min(1),
  version: z.int().positive(),
  occurredAt: z.iso.datetime(),
  source: z.enum(PUBLISHERS),
  correlationId: z.string().min(1).max(200),
  causationId: z.string().min(1).max(200).nullable(),
  data: z.record(z.string(), z.unknown()),
});

export interface Envelope<T extends EventType = EventType> {
  id: string;
  type: T;
  version: number;
  occurredAt: string;
  source: Publisher;
  correlationId: string;
  causationId: string | null;
  data: EventData<T>;
}

export type AnyEnvelope = { [T in EventType]: Envelope<T> }[EventType];

export interface Cause {
  correlationId: string;
  causationId: string | null;
}

// The monotonic clock's reading, as wall-clock milliseconds: starts at the process's time origin and
// is nudged (never backwards) whenever it leaves the wall clock's current millisecond.
let fineOffset = performance.timeOrigin;

/**
 * The wall clock's time, to the microsecond: Date.now() gives the millisecond, the monotonic clock
 * the fraction within it (kept inside that millisecond). Never ahead of the clock: events a batch
 * emits in a burst may share a millisecond, and nothing orders history by these times alone (an
 * order's events are ordered by orderVersion and causation: shared/events/history.ts).
 */
export function occurredNow(): string {
  const ms = Date.now();
  let fine = fineOffset + performance.now();
  if (fine < ms || fine >= ms + 1) {
    const kept = fine < ms ? ms : ms + 0.9995;
    fineOffset += kept - fine;
    fine = kept;
  }
  const micros = Math.min(999, Math.max(0, Math.floor((fine - ms) * 1000)));
  return `${new Date(ms).toISOString().slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

/** Builds a validated envelope. Invalid data here is a programming error, so it throws. */
export function createEvent<T extends EventType>(type: T, data: EventData<T>, cause: Cause): Envelope<T> {
  const parsed = EVENT_SCHEMAS[type].parse(data) as EventData<T>;
  return {
    id: randomUUID(),
    type,
    version: EVENT_SCHEMA_VERSION,
    occurredAt: occurredNow(),
    source: publisherOf(type),
    correlationId: cause.correlationId,
    causationId: cause.causationId,
    data: parsed,
  };
}

/** The cause to stamp on events that an incoming event leads to. */
export function causedBy(event: Pick<Envelope, 'id' | 'correlationId'>): Cause {
  return { correlationId: event.correlationId, causationId: event.id };
}

export type DecodeResult = { ok: true; event: AnyEnvelope } | { ok: false; reason: string };

/** Parses raw message bytes into a known, schema-valid event, or says why it cannot be. */
export function decodeEvent(raw: Buffer | string): DecodeResult {
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return { ok: false, reason: 'body is not valid JSON' };
  }
  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) return { ok: false, reason: `invalid envelope: ${z.prettifyError(envelope.error)}` };
  const { type } = envelope.data;
  if (!isEventType(type)) return { ok: false, reason: `unknown event type "${type}"` };
  if (envelope.data.version !== EVENT_SCHEMA_VERSION) {
    return { ok: false, reason: `unsupported version ${envelope.data.version} of ${type}` };
  }
  if (envelope.data.source !== publisherOf(type)) {
    return { ok: false, reason: `${type} cannot come from ${envelope.data.source}` };
  }
  const data = EVENT_SCHEMAS[type].safeParse(envelope.data.data);
  if (!data.success) return { ok: false, reason: `invalid ${type} data: ${z.prettifyError(data.error)}` };
  return { ok: true, event: { ...envelope.data, type, data: data.data } as AnyEnvelope };
}

/** The order an event is about, if any. */
export function orderIdOf(event: AnyEnvelope): string | null {
  return 'orderId' in event.data ? event.data.orderId : null;
}
