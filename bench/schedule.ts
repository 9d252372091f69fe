/**
 * What the load generator sends and when: the open-loop arrival schedule and the order mix.
 * Pure and deterministic (a seeded generator), so a run can be repeated and the rules tested.
 */

/** Time (ms after the schedule's start) at which arrival `i` is due, at `ratePerSec` arrivals per second. */
export function arrivalAt(i: number, ratePerSec: number): number {
  return (i * 1000) / ratePerSec;
}

/**
 * How many arrivals are due by `elapsedMs` after the start (arrival 0 is due at once), capped at
 * `total`. The generator fires every due arrival whatever happened to earlier ones: a slow server
 * shows as latency, never as a lower offered rate.
 */
export function dueBy(elapsedMs: number, ratePerSec: number, total: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(total, Math.floor((elapsedMs * ratePerSec) / 1000) + 1);
}

/** A small, fast, seedable PRNG (mulberry32): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Mix {
  /** Share of orders paid with the declined test card (tok_chargeDeclined). */
  declined: number;
  /** Share of orders with one line for a scarce product (these run out of stock). */
  scarce: number;
  /** Share of orders cancelled (DELETE) shortly after creation. */
  cancelled: number;
  /** The cancellation comes a uniform random delay in [0, cancelDelayMaxMs] after the 201. */
  cancelDelayMaxMs: number;
  /** Lines per order: uniform in [minLines, maxLines]; quantity per line uniform in [1, maxQuantity]. */
  minLines: number;
  maxLines: number;
  maxQuantity: number;
}

export const DEFAULT_MIX: Mix = {
  declined: 0.1,
  scarce: 0.05,
  cancelled: 0.05,
  cancelDelayMaxMs: 300,
  minLines: 1,
  maxLines: 3,
  maxQuantity: 3,
};

export interface PlannedOrder {
  lines: { productId: string; quantity: number }[];
  paymentToken: 'tok_visa' | 'tok_chargeDeclined';
  /** Delay after the 201 at which to cancel, or null. */
  cancelAfterMs: number | null;
  scarce: boolean;
}

const randomInt = (random: () => number, min: number, max: number) => min + Math.floor(random() * (max - min + 1));

/** Distinct picks from a list (lines name each product at most once, as the API requires). */
function pickDistinct<T>(random: () => number, from: readonly T[], n: number): T[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(n, from.length)) picked.add(Math.floor(random() * from.length));
  return [...picked].map((i) => from[i]!);
}

/** One order of the mix: its lines, card, whether it names a scarce product, and when it is cancelled. */
export function planOrder(random: () => number, plentiful: readonly string[], scarce: readonly string[], mix: Mix): PlannedOrder {
  const lineCount = randomInt(random, mix.minLines, mix.maxLines);
  const isScarce = scarce.length > 0 && random() < mix.scarce;
  const products = pickDistinct(random, plentiful, isScarce ? lineCount - 1 : lineCount);
  if (isScarce) products.push(scarce[Math.floor(random() * scarce.length)]!);
  const paymentToken = random() < mix.declined ? 'tok_chargeDeclined' : 'tok_visa';
  const cancelAfterMs = random() < mix.cancelled ? Math.round(random() * mix.cancelDelayMaxMs) : null;
  return {
    lines: products.map((productId) => ({ productId, quantity: randomInt(random, 1, mix.maxQuantity) })),
    paymentToken,
    cancelAfterMs,
    scarce: isScarce,
  };
}
