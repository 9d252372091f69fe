/**
 * What a soak records every interval, and whether what it recorded levels off. Pure: the runner
 * (bench/soak/run.ts) measures, this judges.
 *
 * Each process group's memory, and each function's largest V8 heap, must level off: the peak of the
 * last third of the run may exceed the middle third's by at most 10 % (and a small absolute slack,
 * for a group too small for a percentage to mean anything). Tables grow with the orders by design (orders, payments, the event
 * logs) and the working sets keep days of history; Redis keeps each order's owner for the recent-
 * event log's six hours: for those what must hold is the cost per order, the bytes gained per
 * settled order in the last third within 1.5 times the middle third's. A leak shows as either rising.
 */

export interface SoakPoint {
  /** Seconds since the load began. */
  t: number;
  /** Orders offered, accepted and settled (final status on the WebSocket) in the interval, per second. */
  offeredPerSec: number;
  acceptedPerSec: number;
  settledPerSec: number;
  /** p99 POST→final status of the orders settled in the interval (ms); null when none. */
  settleP99Ms: number | null;
  /** Settled orders since the load began. */
  settledTotal: number;
  /** Memory per process group (MiB, proportional set size): the runtime's gateway, each function's environments, the servers. */
  rssMiB: Record<string, number>;
  /**
   * The V8 heap in use of each function's largest environment (MiB, local/heap-report.ts): a heap
   * that keeps growing is a leak in that function's code, whatever its resident memory says.
   * Absent from records made before it was measured.
   */
  heapMiB?: Record<string, number>;
  /** Each service database's tables and indexes (MiB). */
  databaseMiB: Record<string, number>;
  /** Redis's used memory (MiB). */
  redisMiB: number;
  /** Ready messages per queue. */
  queues: Record<string, number>;
}

export interface Finding {
  series: string;
  detail: string;
}

/**
 * The groups whose memory must level off: EventFlow's processes, PostgreSQL and RabbitMQ. Not the
 * Redis server, whose memory follows its data (judged per order by its used memory), nor the load
 * generator, which keeps a record of every order it placed.
 */
export const JUDGED_BY_MEMORY = (group: string) => group !== 'redis' && group !== 'load generator';

/** Memory a group may gain between the middle and the last third without counting as growth. */
export const MEMORY_SLACK = { ratio: 0.1, mib: 16 };
/** How much dearer per order a database may get in the last third. */
export const TABLE_COST_RATIO = 1.5;

function thirds<T>(xs: readonly T[]): [T[], T[], T[]] {
  const n = xs.length;
  return [xs.slice(0, Math.floor(n / 3)), xs.slice(Math.floor(n / 3), Math.floor((2 * n) / 3)), xs.slice(Math.floor((2 * n) / 3))];
}

const peak = (xs: number[]) => (xs.length ? Math.max(...xs) : Number.NaN);

/** The series that did not level off; empty when the run was too short to tell (fewer than 6 points). */
export function findGrowth(points: readonly SoakPoint[]): Finding[] {
  if (points.length < 6) return [];
  const out: Finding[] = [];
  const [, middle, last] = thirds(points);
  const memory = new Map<string, (p: SoakPoint) => number>();
  for (const group of new Set(points.flatMap((p) => Object.keys(p.rssMiB)))) {
    if (!JUDGED_BY_MEMORY(group)) continue;
    memory.set(`memory ${group}`, (p) => p.rssMiB[group] ?? 0);
  }
  for (const fn of new Set(points.flatMap((p) => Object.keys(p.heapMiB ?? {})))) memory.set(`heap ${fn}`, (p) => p.heapMiB?.[fn] ?? 0);
  for (const [series, of] of memory) {
    const before = peak(middle.map(of));
    const after = peak(last.map(of));
    if (after > before * (1 + MEMORY_SLACK.ratio) + MEMORY_SLACK.mib) {
      out.push({ series, detail: `peak ${after.toFixed(0)} MiB in the last third against ${before.toFixed(0)} MiB in the middle one` });
    }
  }
  const [a, b, c] = [middle[0]!, last[0]!, points[points.length - 1]!];
  const stores = new Map<string, (p: SoakPoint) => number>([['redis used memory', (p) => p.redisMiB]]);
  for (const db of Object.keys(c.databaseMiB)) stores.set(`database ${db}`, (p) => p.databaseMiB[db] ?? 0);
  for (const [series, of] of stores) {
    const middleCost = (of(b) - of(a)) / Math.max(1, b.settledTotal - a.settledTotal);
    const lastCost = (of(c) - of(b)) / Math.max(1, c.settledTotal - b.settledTotal);
    // A few KiB an order either way is a page here and there, not a leak.
    if (lastCost > middleCost * TABLE_COST_RATIO && lastCost - middleCost > 4 / 1024) {
      out.push({ series, detail: `${(lastCost * 1024).toFixed(1)} KiB per settled order in the last third against ${(middleCost * 1024).toFixed(1)} KiB in the middle one` });
    }
  }
  return out;
}
