import { describe, expect, it } from 'vitest';
import { throttleWaitMs } from '../../local/lambda';

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
