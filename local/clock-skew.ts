/**
 * A clock that runs ahead (or behind) in chosen environments of the local runtime, as a Lambda
 * host's clock may: LOCAL_CLOCK_SKEW="payment-consumer=300,order-api=300" ("*" names every
 * function). Only the environment host applies it (local/environment.ts), before the function's
 * bundle loads, so everything the function does with Date (event times, token expiry, windows,
 * leases) reads the skewed clock; the database, the broker and Redis keep theirs. The fault run
 * uses it (`npm run chaos -- --faults clock-skew`).
 */

/** The offset for a function, in ms, from the setting; 0 when it names neither the function nor "*". */
export function clockSkewOf(setting: string | undefined, functionId: string): number {
  if (!setting?.trim()) return 0;
  let all = 0;
  for (const part of setting.split(',')) {
    const [name, seconds] = part.split('=').map((s) => s.trim());
    const n = Number(seconds);
    if (!name || seconds === undefined || !Number.isFinite(n)) throw new Error(`LOCAL_CLOCK_SKEW: "${part}" is not <function>=<seconds>`);
    if (name === functionId) return n * 1000;
    if (name === '*') all = n * 1000;
  }
  return all;
}

/** The real time, whatever skewClock did to Date. */
export const realNow: () => number = Date.now.bind(Date);

/**
 * Makes Date read `offsetMs` ahead of the real clock in this process: `Date.now()`, `new Date()`
 * and `Date()`; dates built from a value, parsing and the prototype are untouched.
 */
export function skewClock(offsetMs: number): void {
  if (offsetMs === 0) return;
  const RealDate = Date;
  globalThis.Date = new Proxy(RealDate, {
    construct: (target, args, newTarget) => Reflect.construct(target, args.length === 0 ? [realNow() + offsetMs] : args, newTarget),
    apply: () => new RealDate(realNow() + offsetMs).toString(),
    get: (target, prop, receiver) => (prop === 'now' ? () => realNow() + offsetMs : Reflect.get(target, prop, receiver)),
  });
}
