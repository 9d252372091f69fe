import { describe, expect, it } from 'vitest';
import { environmentNice, throttleWaitMs } from '../../local/lambda';
import { routeBuckets, routeThrottlingOn } from '../../local/route-throttle';

describe('LOCAL_THROTTLE_WAIT_MS', () => {
  it('is 1 s unless set; 0 throttles at once', () => {
    expect(throttleWaitMs(undefined)).toBe(1_000);
    expect(throttleWaitMs('')).toBe(1_000);
    expect(throttleWaitMs('0')).toBe(0);
    expect(throttleWaitMs(' 250 ')).toBe(250);
  });

  it('refuses anything but a whole number of milliseconds, naming the variable', () => {
    for (const raw of ['-1', '1.5', '1e3', 'abc', '1s', '0x10']) {
      expect(() => throttleWaitMs(raw)).toThrow(/^LOCAL_THROTTLE_WAIT_MS must be a whole number of milliseconds, 0 or more/);
    }
  });
});

describe('LOCAL_ENVIRONMENT_NICE', () => {
  it('is 0 unless set, and takes a nice value from 0 to 19 only', () => {
    expect(environmentNice(undefined)).toBe(0);
    expect(environmentNice(' 10 ')).toBe(10);
    for (const raw of ['-5', '20', '1.5', 'low']) expect(() => environmentNice(raw)).toThrow(/^LOCAL_ENVIRONMENT_NICE must be a nice value from 0 to 19/);
  });
});

describe("the local gateway's per-route budgets", () => {
  it('lets a burst through, then the rate, per route, all callers together', () => {
    let now = 0;
    const buckets = routeBuckets((key) => (key === 'GET /health' ? { ratePerSecond: 5, burst: 10 } : { ratePerSecond: 200, burst: 400 }), () => now);
    const taken = (key: string, n: number) => Array.from({ length: n }, () => buckets.take(key)).filter(Boolean).length;
    expect(taken('GET /health', 15)).toBe(10);
    expect(taken('GET /orders', 15)).toBe(15); // another route, another bucket
    now += 1_000;
    expect(taken('GET /health', 10)).toBe(5);
    now += 10_000;
    expect(taken('GET /health', 20)).toBe(10); // never more than the burst saved up
  });

  it('is on unless LOCAL_ROUTE_THROTTLING=off', () => {
    expect(routeThrottlingOn({})).toBe(true);
    expect(routeThrottlingOn({ LOCAL_ROUTE_THROTTLING: 'on' })).toBe(true);
    expect(routeThrottlingOn({ LOCAL_ROUTE_THROTTLING: 'off' })).toBe(false);
    expect(() => routeThrottlingOn({ LOCAL_ROUTE_THROTTLING: 'no' })).toThrow(/LOCAL_ROUTE_THROTTLING must be "on" or "off"/);
  });
});
