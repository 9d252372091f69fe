import { describe, expect, it } from 'vitest';
import { compareRecentLog, mergeLogs, planAppend } from '../../functions/notification/domain/recent-log';
import type { AnyEnvelope } from '../../shared/events/envelope';

const ev = (id: string, source: string, at: string, data: Record<string, unknown> = {}) =>
  ({ id, type: `${source}.x`, source, occurredAt: at, version: 1, correlationId: 'c', causationId: null, data }) as unknown as AnyEnvelope;

describe('the recent-event log as a fold', () => {
  it('merges the services\' logs keeping each log\'s own order, time only between logs', () => {
    const order = [ev('o1', 'order', '2026-01-01T00:00:02Z'), ev('o2', 'order', '2026-01-01T00:00:01Z')];
    const payment = [ev('p1', 'payment', '2026-01-01T00:00:01.500Z')];
    // o2 occurred "before" o1 by its clock, but its log wrote it after: the log's order wins.
    expect(mergeLogs([order, payment]).map((e) => e.id)).toEqual(['p1', 'o1', 'o2']);
  });

  it('adds every event without its payment token, with its order and its owner', () => {
    const created = { ...ev('a', 'order', '2026-01-01T00:00:00Z', { orderId: 'O', customerId: 'C', paymentToken: 'tok_visa' }), type: 'order.created' } as AnyEnvelope;
    const plan = planAppend([created, ev('b', 'payment', '2026-01-01T00:00:01Z', { orderId: 'O' })]);
    expect(plan.entries.map((e) => e.id)).toEqual(['a', 'b']);
    expect(plan.entries[0]!.json).not.toContain('tok_visa');
    expect(plan.byOrder.get('O')).toHaveLength(2);
    expect(plan.owners.get('O')).toBe('C');
  });

  it('compares only where both logs reach and what is past the in-flight margin', () => {
    const e = (id: string, at: string, json = id) => ({ id, at, json });
    const live = [e('1', 'a'), e('2', 'b'), e('4', 'd', 'changed'), e('9', 'z')];
    const rebuilt = [e('0', '0'), e('2', 'b'), e('3', 'c'), e('4', 'd')];
    const r = compareRecentLog(live, rebuilt, 'y');
    expect(r.from).toBe('a');
    expect(r.differences).toEqual([
      { id: '3', kind: 'missing' },
      { id: '4', kind: 'different' },
      { id: '1', kind: 'extra' },
    ]);
  });
});
