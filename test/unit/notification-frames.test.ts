import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FRAME_LIMIT_BYTES, MESSAGE_LIMIT_BYTES, packFrames } from '../../functions/notification/domain/frames';
import { orderUpdated, productUpdated } from './notification-events';

const decode = (frames: string[]) => frames.map((f) => JSON.parse(f) as { id: string; truncated?: boolean; data: Record<string, unknown> }[]);

describe('packFrames', () => {
  it('puts a small batch into one frame: a JSON array of the envelopes in their order', () => {
    const events = [orderUpdated(randomUUID()), productUpdated(), orderUpdated(randomUUID())];
    const frames = packFrames(events);
    expect(frames).toHaveLength(1);
    expect(decode(frames)[0]!.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('splits a batch over the 32 KB frame limit into as few frames as fit, keeping the order', () => {
    const events = Array.from({ length: 200 }, () => orderUpdated(randomUUID(), 2, 'x'.repeat(400)));
    const frames = packFrames(events);
    const total = events.reduce((n, e) => n + JSON.stringify(e).length + 1, 1);
    expect(frames.length).toBe(Math.ceil(total / FRAME_LIMIT_BYTES));
    for (const f of frames) expect(Buffer.byteLength(f)).toBeLessThanOrEqual(FRAME_LIMIT_BYTES);
    expect(decode(frames).flat().map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('sends an event larger than a frame alone, between its neighbours', () => {
    const big = productUpdated('n'.repeat(40_000));
    const events = [orderUpdated(randomUUID()), big, orderUpdated(randomUUID())];
    const frames = decode(packFrames(events));
    expect(frames.map((f) => f.map((e) => e.id))).toEqual([[events[0]!.id], [big.id], [events[2]!.id]]);
    expect(frames[1]![0]!.truncated).toBeUndefined();
  });

  it('replaces an event larger than a whole message by its ids, marked truncated', () => {
    const huge = productUpdated('n'.repeat(MESSAGE_LIMIT_BYTES));
    const [frame] = decode(packFrames([huge]));
    expect(frame![0]).toMatchObject({ id: huge.id, type: 'inventory.updated', truncated: true, data: { productId: (huge.data as { productId: string }).productId } });
    expect(frame![0]!.data.name).toBeUndefined();
  });

  it('packs nothing into no frame', () => {
    expect(packFrames([])).toEqual([]);
  });
});
