import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseClientMessage } from '../../functions/notification/domain/protocol';

describe('parseClientMessage', () => {
  it('accepts ping, subscribe, unsubscribe (one order or all) and resume (event id or time)', () => {
    const orderId = randomUUID();
    for (const message of [
      { action: 'ping' },
      { action: 'subscribe', orderId },
      { action: 'unsubscribe', orderId },
      { action: 'unsubscribe' },
      { action: 'resume', since: randomUUID() },
      { action: 'resume', since: '2026-01-01T10:00:00.000Z' },
    ]) {
      expect(parseClientMessage(JSON.stringify(message))).toEqual({ ok: true, message });
    }
  });

  it('answers an error reply for non-JSON, unknown actions and invalid fields', () => {
    for (const body of ['hello', undefined, '{"action":"dance"}', '{"action":"subscribe","orderId":"42"}', '{"action":"resume","since":"yesterday"}']) {
      const parsed = parseClientMessage(body);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.reply.type).toBe('error');
    }
  });
});
