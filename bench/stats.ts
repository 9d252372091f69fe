/** Pure statistics for the benchmark: quantiles, summaries, a log-bucketed histogram, medians. */

/** Nearest-rank quantile of an ascending array (q in [0, 1]); NaN when empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface Summary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Count, p50/p95/p99, max and mean of a set of samples (any order). */
export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** The 99th percentile of some samples (any order), or null when there are none. */
export function p99OrNull(samples: ArrayLike<number>): number | null {
  return samples.length ? summarize(samples).p99 : null;
}

/** Median of numbers, ignoring NaN (the middle value; the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const xs = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (xs.length === 0) return Number.NaN;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

/**
 * A latency histogram on log-spaced buckets: `perDecade` buckets per power of ten from `minMs`
 * up, values below minMs in the first bucket, above the last bound in an overflow bucket. Compact
 * enough to keep in the results JSON for every run.
 */
export interface Histogram {
  /** Upper bound (ms, inclusive) of each bucket; the last bucket is unbounded (Infinity -> null in JSON). */
  bounds: number[];
  counts: number[];
}

export function histogram(samples: ArrayLike<number>, minMs = 1, decades = 6, perDecade = 10): Histogram {
  const bounds: number[] = [];
  for (let i = 0; i <= decades * perDecade; i++) bounds.push(Number((minMs * 10 ** (i / perDecade)).toPrecision(4)));
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (let k = 0; k < samples.length; k++) {
    const v = samples[k]!;
    // first bound >= v, by binary search
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bounds[mid]! >= v) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]!++;
  }
  return { bounds: [...bounds, Number.POSITIVE_INFINITY], counts };
}

/** Per-second buckets of a time series: index = floor((t - originMs) / 1000), which may be negative (warm-up). */
export function secondOf(t: number, originMs: number): number {
  return Math.floor((t - originMs) / 1000);
}
