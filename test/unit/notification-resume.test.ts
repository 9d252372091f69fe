import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS, parseSince, reachesBack, selectMissed } from '../../functions/notification/domain/resume';
import { isVisibleTo } from '../../functions/notification/domain/subscriptions';
import { instantOf } from '../../shared/events/history';
import { orderUpdated, productUpdated } from './notification-events';

const none = new Set<string>();

describe('isVisibleTo', () => {
  it('shows everything to a connection subscribed to nothing, and only its orders to one that subscribed', () => {
    const mine = randomUUID();
    expect(isVisibleTo(none, orderUpdated(randomUUID()))).toBe(true);
    expect(isVisibleTo(none, productUpdated())).toBe(true);
    expect(isVisibleTo(new Set([mine]), orderUpdated(mine))).toBe(true);
    expect(isVisibleTo(new Set([mine]), orderUpdated(randomUUID()))).toBe(false);
    expect(isVisibleTo(new Set([mine]), productUpdated())).toBe(false);
  });
});

describe('selectMissed', () => {
  const log = Array.from({ length: 6 }, () => orderUpdated(randomUUID()));

  it('returns the events after a known event id, complete', () => {
    const missed = selectMissed(log, parseSince(log[2]!.id), none);
    expect(missed.events.map((e) => e.id)).toEqual(log.slice(3).map((e) => e.id));
    expect(missed).toMatchObject({ complete: true, through: log[5]!.id });
  });

  it('returns what it has but says incomplete when the event id has left the log', () => {
    const missed = selectMissed(log, parseSince(randomUUID()), none);
    expect(missed.events).toHaveLength(6);
    expect(missed.complete).toBe(false);
  });

  it('returns the events after a time less the clock-skew allowance, complete when the log reaches back that far', () => {
    const times = ['00.000000', '01.000000', '02.500000', '03.000500', '05.000000', '06.000000'];
    const timed = times.map((s) => ({ ...orderUpdated(randomUUID()), occurredAt: `2030-01-01T00:00:${s}Z` }));
    const since = '2030-01-01T00:00:05.000Z';
    const missed = selectMissed(timed, parseSince(since), none);
    // 03.000500 is after 05.000 less 2 s, to the microsecond; 03.000000 would not be.
    expect(CLOCK_SKEW_MS).toBe(2_000);
    expect(missed.events.map((e) => e.id)).toEqual(timed.slice(3).map((e) => e.id));
    expect(missed.complete).toBe(true);
    expect(selectMissed(timed.slice(3), parseSince(since), none).complete).toBe(false);
  });

  it("keeps only the connection's orders and drops duplicates from redelivered batches", () => {
    const mine = log[4]!.data as { orderId: string };
    const missed = selectMissed([...log, log[4]!], parseSince(log[0]!.id), new Set([mine.orderId]));
    expect(missed.events.map((e) => e.id)).toEqual([log[4]!.id]);
  });

  it('cuts a long answer at the maximum and says where to go on from', () => {
    const missed = selectMissed(log, parseSince(log[0]!.id), none, 2);
    expect(missed.events.map((e) => e.id)).toEqual([log[1]!.id, log[2]!.id]);
    expect(missed).toMatchObject({ complete: false, through: log[2]!.id });
  });

  it("tells an order's history in version order when a late relay put it out of order in the log, and goes on from the log's place", () => {
    const orderId = randomUUID();
    const confirmed = orderUpdated(orderId, 2);
    const cancelled = { ...orderUpdated(orderId, 3), type: 'order.cancelled', data: { orderId, orderVersion: 3, previousStatus: 'CONFIRMED', reason: null } } as typeof confirmed;
    const other = orderUpdated(randomUUID());
    const missed = selectMissed([log[0]!, cancelled, other, confirmed], parseSince(log[0]!.id), none);
    const ids = missed.events.map((e) => e.id);
    expect(ids.indexOf(confirmed.id)).toBeLessThan(ids.indexOf(cancelled.id));
    expect(ids).toHaveLength(3);
    expect(missed.through).toBe(confirmed.id);
  });

  it('empty and complete when nothing happened since', () => {
    expect(selectMissed(log, parseSince(log[5]!.id), none)).toEqual({ events: [], complete: true, through: null });
  });
});

describe('reachesBack', () => {
  it('needs the event itself, or one old enough to allow for clock skew', () => {
    const e = orderUpdated(randomUUID());
    expect(reachesBack([e], { kind: 'event', id: e.id })).toBe(true);
    expect(reachesBack([e], { kind: 'event', id: randomUUID() })).toBe(false);
    const at = instantOf(e.occurredAt);
    expect(reachesBack([e], { kind: 'time', at })).toBe(false);
    expect(reachesBack([e], { kind: 'time', at: at + CLOCK_SKEW_MS * 1000 - 1 })).toBe(false);
    expect(reachesBack([e], { kind: 'time', at: at + CLOCK_SKEW_MS * 1000 })).toBe(true);
  });
});
