/**
 * Whether a failure of something that runs again and again (a schedule) is worth saying: the
 * first of a run of identical failures is, the rest are counted; the first success after them
 * says how many there were.
 */
export function repeatGate() {
  let failing: { message: string; runs: number } | undefined;
  return {
    /** A failure: true when it is to be said (the first, or one unlike the last). */
    failed(message: string): boolean {
      if (failing?.message === message) {
        failing.runs++;
        return false;
      }
      failing = { message, runs: 1 };
      return true;
    },
    /** A success: how many failed runs it ends (0 when none). */
    succeeded(): number {
      const runs = failing?.runs ?? 0;
      failing = undefined;
      return runs;
    },
  };
}
