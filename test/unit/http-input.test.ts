import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, MAX_DEPTH, bodyText, textErrors, textProblem } from '../../shared/http/input';
import { decodeCursor, encodeCursor, textIdCursor, timeIdCursor } from '../../shared/http/pagination';
import { HttpProblem } from '../../shared/http/problem';
import { DEFAULT_RATE_LIMITS, bucketOf, principalKey, readRateLimits, retryAfterSeconds } from '../../shared/http/rate-limits';

const statusOf = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    if (err instanceof HttpProblem) return { status: err.status, errors: err.errors };
    throw err;
  }
  return null;
};

describe('text that may be stored', () => {
  it('accepts ordinary text, emoji (surrogate pairs) included', () => {
    for (const s of ['Widget', 'Café crème', 'Zürich ☕', '😀 party', '', '中文名字']) expect(textProblem(s), s).toBeNull();
  });

  it('refuses NUL, other controls, DEL and C1 controls, naming the character', () => {
    expect(textProblem('a\u0000b')).toMatch(/U\+0000/);
    expect(textProblem('line\nbreak')).toMatch(/U\+000A/);
    expect(textProblem('tab\there')).toMatch(/U\+0009/);
    expect(textProblem('del\u007f')).toMatch(/U\+007F/);
    expect(textProblem('c1\u0085')).toMatch(/U\+0085/);
  });

  it('refuses lone surrogates, high or low, anywhere', () => {
    for (const s of ['\ud800', 'a\ud83d', '\udc00x', 'x\ude00\ud83d', '\ud83d\ud83d\ude00x\udc00']) expect(textProblem(s), JSON.stringify(s)).toMatch(/surrogate/);
  });

  it('names every failing field of a body by its JSON Pointer, keys included', () => {
    expect(
      textErrors({ name: 'a\u0000', items: [{ note: 'ok' }, { note: '\ud800' }], 'a/b': 'x\u0001', ['bad\u0000key']: 1, n: 3, ok: true }),
    ).toEqual([
      { pointer: '/name', detail: expect.stringMatching(/U\+0000/) },
      { pointer: '/items/1/note', detail: expect.stringMatching(/surrogate/) },
      { pointer: '/a~1b', detail: expect.stringMatching(/U\+0001/) },
      { pointer: '', detail: expect.stringMatching(/field name.*U\+0000/) },
    ]);
  });
});

describe('nesting', () => {
  it('refuses JSON nested past the limit, however deep, without exhausting the stack', () => {
    expect(textErrors(JSON.parse('['.repeat(30_000) + ']'.repeat(30_000)))).toEqual([
      { pointer: '/0'.repeat(MAX_DEPTH), detail: `nested deeper than ${MAX_DEPTH} levels` },
    ]);
    const ok = JSON.parse('{"a":'.repeat(MAX_DEPTH) + '1' + '}'.repeat(MAX_DEPTH));
    expect(textErrors(ok)).toEqual([]);
  });
});

describe('body size', () => {
  it('accepts up to the limit and answers 413 past it, counting bytes, not characters', () => {
    expect(bodyText('x'.repeat(MAX_BODY_BYTES), false)).toHaveLength(MAX_BODY_BYTES);
    expect(statusOf(() => bodyText('x'.repeat(MAX_BODY_BYTES + 1), false))?.status).toBe(413);
    expect(statusOf(() => bodyText('é'.repeat(MAX_BODY_BYTES / 2 + 1), false))?.status).toBe(413);
    expect(statusOf(() => bodyText(Buffer.alloc(MAX_BODY_BYTES + 1, 'x').toString('base64'), true))?.status).toBe(413);
  });

  it('refuses a base64 body that is not UTF-8', () => {
    expect(statusOf(() => bodyText(Buffer.from([0x7b, 0xff, 0x7d]).toString('base64'), true))?.status).toBe(400);
    expect(bodyText(Buffer.from('{"a":"é"}').toString('base64'), true)).toBe('{"a":"é"}');
  });
});

describe('cursors', () => {
  it('round-trips the cursors the API issues', () => {
    const key = ['2026-11-26T09:00:00.000Z', '6f1c2b9e-3f7a-4d2e-9a51-0c3b8e2f4d10'];
    expect(decodeCursor(encodeCursor(key), timeIdCursor)).toEqual(key);
    expect(decodeCursor(encodeCursor(['SKU-1', key[1]!]), textIdCursor)).toEqual(['SKU-1', key[1]]);
    expect(decodeCursor(undefined, timeIdCursor)).toBeNull();
  });

  it('answers 400 for a cursor of the wrong types, length or list', () => {
    const id = '6f1c2b9e-3f7a-4d2e-9a51-0c3b8e2f4d10';
    for (const key of [[1, 2], [{}, []], ['2026-11-26T09:00:00.000Z'], ['not a time', id], ['0000-01-01T00:00:00Z', id], ['2026-11-26T09:00:00.000Z', 'x'], null, 'x']) {
      const cursor = Buffer.from(JSON.stringify(key)).toString('base64url');
      expect(statusOf(() => decodeCursor(cursor, timeIdCursor)), JSON.stringify(key)).toEqual({ status: 400, errors: [{ pointer: '/cursor', detail: 'invalid cursor' }] });
    }
    expect(statusOf(() => decodeCursor(encodeCursor(['SKU-1', id]), timeIdCursor))?.status).toBe(400);
    expect(statusOf(() => decodeCursor('%%%', timeIdCursor))?.status).toBe(400);
  });
});

describe('rate limits', () => {
  it('come from the environment, with defaults, and refuse nonsense', () => {
    expect(readRateLimits({})).toEqual(DEFAULT_RATE_LIMITS);
    expect(readRateLimits({ RATE_LIMIT_PER_SECOND: '2', RATE_LIMIT_BURST: '5', ORDER_RATE_LIMIT_PER_SECOND: '0.5', ORDER_RATE_LIMIT_BURST: '1' })).toEqual({
      requests: { perSecond: 2, burst: 5 },
      orders: { perSecond: 0.5, burst: 1 },
    });
    expect(() => readRateLimits({ RATE_LIMIT_PER_SECOND: '0' })).toThrow(/RATE_LIMIT_PER_SECOND/);
    expect(() => readRateLimits({ ORDER_RATE_LIMIT_BURST: 'lots' })).toThrow(/ORDER_RATE_LIMIT_BURST/);
  });

  it('count POST /orders apart from everything else', () => {
    expect(bucketOf('POST /orders')).toBe('orders');
    expect(bucketOf('GET /orders')).toBe('requests');
    expect(bucketOf('PATCH /orders/{id}')).toBe('requests');
  });

  it('key by the verified subject when there is one, else by the source address', () => {
    expect(principalKey('u-1', '10.0.0.1')).toBe('sub:u-1');
    expect(principalKey(undefined, '10.0.0.1')).toBe('ip:10.0.0.1');
    expect(principalKey('', '10.0.0.1')).toBe('ip:10.0.0.1');
    expect(principalKey(undefined, undefined)).toBe('ip:unknown');
  });

  it('ask to retry after whole seconds, at least one', () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
  });
});
