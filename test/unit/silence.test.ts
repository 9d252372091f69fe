import { afterEach, describe, expect, it, vi } from 'vitest';
import { trackSilence } from '../../shared/silence';

afterEach(() => vi.useRealTimers());

const settle = () => new Promise((r) => setImmediate(r));

describe('a silent dependency (shared/silence.ts)', () => {
  it('probes no sooner than the interval after it fell silent, at most once per interval, and ends the silence on the first answer, said once', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const s = trackSilence(1_000);
    const probe = vi.fn(() => Promise.reject(new Error('no answer')));
    const back = vi.fn();
    s.probeIfDue(probe, back);
    expect(probe).not.toHaveBeenCalled(); // not silent: nothing to probe

    s.markSilent();
    expect(s.silent).toBe(true);
    s.probeIfDue(probe, back);
    expect(probe).not.toHaveBeenCalled(); // within the interval of the failure
    vi.advanceTimersByTime(1_000);
    s.probeIfDue(probe, back);
    s.probeIfDue(probe, back);
    expect(probe).toHaveBeenCalledTimes(1);
    await settle();
    expect(s.silent).toBe(true); // the probe failed

    vi.advanceTimersByTime(1_000);
    const answers = vi.fn(() => Promise.resolve());
    s.probeIfDue(answers, back);
    await settle();
    expect(s.silent).toBe(false);
    expect(back).toHaveBeenCalledTimes(1);
  });
});
