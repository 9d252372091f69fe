import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS, parseSince, reachesBack, selectMissed } from '../../functions/notification/domain/resume';
import { isVisibleTo } from '../../functions/notification/domain/subscriptions';
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

  it('returns the events after a time, complete when the log reaches back that far', () => {
    const since = log[3]!.occurredAt;
    const missed = selectMissed(log, parseSince(since), none);
    expect(missed.events.map((e) => e.id)).toEqual(log.slice(4).map((e) => e.id));
    expect(missed.complete).toBe(true);
    expect(selectMissed(log.slice(4), parseSince(since), none).complete).toBe(false);
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

  it('empty and complete when nothing happened since', () => {
    expect(selectMissed(log, parseSince(log[5]!.id), none)).toEqual({ events: [], complete: true, through: null });
  });
});

describe('reachesBack', () => {
  it('needs the event itself, or one old enough to allow for clock skew', () => {
    const e = orderUpdated(randomUUID());
    expect(reachesBack([e], { kind: 'event', id: e.id })).toBe(true);
    expect(reachesBack([e], { kind: 'event', id: randomUUID() })).toBe(false);
    const at = Date.parse(e.occurredAt);
    expect(reachesBack([e], { kind: 'time', at })).toBe(false);
    expect(reachesBack([e], { kind: 'time', at: at + CLOCK_SKEW_MS })).toBe(true);
  });
});
