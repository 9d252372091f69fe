import { describe, expect, it } from 'vitest';
import { deliver } from '../../functions/notification/delivery';

const gone = Object.assign(new Error('gone'), { name: 'GoneException' });
const isGone = (err: unknown) => (err as Error).name === 'GoneException';
const pause = () => new Promise((r) => setTimeout(r, 1));

describe('deliver', () => {
  it("sends each connection its frames in order; a gone or failing one stops only its own", async () => {
    const received = new Map<string, string[]>();
    const post = async (id: string, frame: string) => {
      await pause();
      if (id === 'dead') throw gone;
      if (id === 'flaky' && frame === 'b') throw new Error('LimitExceededException');
      received.set(id, [...(received.get(id) ?? []), frame]);
    };
    const frames = ['a', 'b', 'c'];
    const report = await deliver(
      ['one', 'dead', 'flaky', 'two'].map((connectionId) => ({ connectionId, frames })),
      post,
      isGone,
    );
    expect(received.get('one')).toEqual(frames);
    expect(received.get('two')).toEqual(frames);
    expect(received.get('flaky')).toEqual(['a']);
    expect(report.delivered).toBe(2);
    expect(report.gone).toEqual(['dead']);
    expect(report.failed.map((f) => f.connectionId)).toEqual(['flaky']);
  });

  it('sends to many connections concurrently, never more than the bound at once', async () => {
    let inFlight = 0;
    let peak = 0;
    const post = async () => {
      peak = Math.max(peak, ++inFlight);
      await pause();
      inFlight--;
    };
    const deliveries = Array.from({ length: 100 }, (_, i) => ({ connectionId: `c${i}`, frames: ['x'] }));
    const report = await deliver(deliveries, post, isGone, 8);
    expect(report.delivered).toBe(100);
    expect(peak).toBe(8);
  });
});
