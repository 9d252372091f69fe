/**
 * A dependency that stopped answering, as one environment knows it. A link that drops packets
 * closes nothing and refuses nothing, so every call would wait out its own bound: once one call
 * found the dependency silent, callers skip it, and at most once per `probeEveryMs` a probe runs
 * behind a caller, unawaited, whose answer ends the silence. The rate limiter (Redis) and the
 * immediate publish (the broker) keep one each.
 */
export function trackSilence(probeEveryMs: number) {
  let silent = false;
  let nextProbeAt = 0;
  return {
    /** Whether callers are to skip the dependency. */
    get silent(): boolean {
      return silent;
    },
    /** A call got no answer: skip the dependency from now on, the first probe no sooner than probeEveryMs. */
    markSilent(): void {
      silent = true;
      nextProbeAt = Date.now() + probeEveryMs;
    },
    /** While silent, starts `probe` when one is due, without waiting for it; its success ends the silence, told once to `onBack`. */
    probeIfDue(probe: () => Promise<unknown>, onBack: () => void): void {
      if (!silent || Date.now() < nextProbeAt) return;
      nextProbeAt = Date.now() + probeEveryMs;
      probe().then(
        () => {
          if (!silent) return;
          silent = false;
          onBack();
        },
        () => undefined,
      );
    },
  };
}
