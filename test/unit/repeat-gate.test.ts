import { describe, expect, it } from 'vitest';
import { repeatGate } from '../../local/console/repeats';

describe('a schedule failing the same way again and again', () => {
  it('is said once per kind of failure, and its return says how many runs failed', () => {
    const gate = repeatGate();
    expect(gate.succeeded()).toBe(0);
    expect(gate.failed('disk full')).toBe(true);
    expect(gate.failed('disk full')).toBe(false);
    expect(gate.failed('disk full')).toBe(false);
    // Another failure is news.
    expect(gate.failed('connection refused')).toBe(true);
    expect(gate.failed('connection refused')).toBe(false);
    expect(gate.succeeded()).toBe(2);
    // After a success the same failure is said again.
    expect(gate.failed('disk full')).toBe(true);
    expect(gate.succeeded()).toBe(1);
    expect(gate.succeeded()).toBe(0);
  });
});
