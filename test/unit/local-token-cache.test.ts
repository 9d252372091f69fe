import { describe, expect, it } from 'vitest';
import type { JWTPayload } from 'jose';
import { AuthError } from '../../shared/auth/verify';
import { cachingVerifier } from '../../local/token-cache';

/** A verifier that counts its calls: tokens "ok-<exp seconds>" pass with that expiry, others fail. */
function counting(clock: { ms: number }) {
  const calls: (string | undefined)[] = [];
  const verify = async (token: string | undefined): Promise<JWTPayload> => {
    calls.push(token);
    if (!token) throw new AuthError('missing-token', 'no access token');
    const m = /^ok-(\d+)$/.exec(token);
    if (!m) throw new AuthError('invalid-token', 'bad');
    const exp = Number(m[1]);
    if (clock.ms >= exp * 1000) throw new AuthError('expired-token', 'expired');
    return { sub: 'u', exp };
  };
  return { calls, verify };
}

describe('the local gateway\'s token cache', () => {
  it('verifies a token once and answers the same claims until it expires, then refuses it as the verifier does', async () => {
    const clock = { ms: 1_000_000 };
    const { calls, verify } = counting(clock);
    const cached = cachingVerifier(verify, { now: () => clock.ms, maxAgeMs: 3_600_000 });
    const first = await cached('ok-1060');
    expect(await cached('ok-1060')).toBe(first);
    clock.ms = 1_059_999;
    expect(await cached('ok-1060')).toBe(first);
    expect(calls).toEqual(['ok-1060']);
    clock.ms = 1_060_000; // at its exp
    await expect(cached('ok-1060')).rejects.toMatchObject({ reason: 'expired-token' });
    expect(calls).toHaveLength(2);
    expect(cached.size()).toBe(0);
  });

  it('trusts a verification at most maxAgeMs, whatever the expiry', async () => {
    const clock = { ms: 0 };
    const { calls, verify } = counting(clock);
    const cached = cachingVerifier(verify, { now: () => clock.ms, maxAgeMs: 1_000 });
    await cached('ok-3600');
    clock.ms = 999;
    await cached('ok-3600');
    expect(calls).toHaveLength(1);
    clock.ms = 1_000;
    await cached('ok-3600');
    expect(calls).toHaveLength(2);
  });

  it('never remembers a refusal or a missing token', async () => {
    const clock = { ms: 0 };
    const { calls, verify } = counting(clock);
    const cached = cachingVerifier(verify, { now: () => clock.ms });
    for (let i = 0; i < 2; i++) {
      await expect(cached('forged')).rejects.toMatchObject({ reason: 'invalid-token' });
      await expect(cached(undefined)).rejects.toMatchObject({ reason: 'missing-token' });
    }
    expect(calls).toEqual(['forged', undefined, 'forged', undefined]);
    expect(cached.size()).toBe(0);
  });

  it('holds at most maxEntries tokens, forgetting the least recently used', async () => {
    const clock = { ms: 0 };
    const { calls, verify } = counting(clock);
    const cached = cachingVerifier(verify, { now: () => clock.ms, maxEntries: 2 });
    await cached('ok-100');
    await cached('ok-200');
    await cached('ok-100'); // used again: ok-200 is now the least recent
    await cached('ok-300');
    expect(cached.size()).toBe(2);
    calls.length = 0;
    await cached('ok-100');
    await cached('ok-300');
    expect(calls).toEqual([]);
    await cached('ok-200'); // forgotten: verified again
    expect(calls).toEqual(['ok-200']);
  });
});
