/**
 * The order events happened in, as a fact rather than a clock reading. Clocks of different
 * processes (and Lambda hosts) disagree, so times alone cannot order one order's history: an HTTP
 * command that acts a moment after a consumer's batch may read an earlier time. What is known for
 * certain is
 *
 * - the order's own events (published by the order service) carry `orderVersion`, which every
 *   status change raises by one under the order's row lock: version order is history order;
 * - an effect comes after its cause (`causationId`);
 * - an event of another service about an order names the `orderVersion` it learned of, so it
 *   comes after the order's own event of that version.
 *
 * Within those rules, time decides (`occurredAt`, to the microsecond), then the order given.
 * Pure and free of imports with effects: the order service's timeline, the notification
 * service's catch-up and the dashboard all use it.
 */

/** What ordering needs of an event envelope. */
export interface HistoryEvent {
  id: string;
  source: string;
  occurredAt: string;
  causationId: string | null;
  data: unknown;
}

/** The publisher whose events carry the order's own version. */
const ORDER_SOURCE = 'order';

const SUB_MILLISECOND = /\.\d{3}(\d{1,3})/;

/**
 * Microseconds since the epoch of an ISO time, its sub-millisecond digits included (Date.parse
 * drops them). Times of different precision compare correctly, which their strings do not.
 */
export function instantOf(iso: string): number {
  const micros = SUB_MILLISECOND.exec(iso)?.[1] ?? '';
  return Date.parse(iso) * 1000 + (micros ? Number(micros.padEnd(3, '0')) : 0);
}

/** Orders two ISO times (of any precision). */
export function compareOccurredAt(a: string, b: string): number {
  return instantOf(a) - instantOf(b);
}

/** The order and version an event is about, if it says. */
function orderRefOf(e: HistoryEvent): { orderId: string; version: number } | null {
  const d = e.data as { orderId?: unknown; orderVersion?: unknown } | null;
  if (!d || typeof d !== 'object' || typeof d.orderId !== 'string' || typeof d.orderVersion !== 'number') return null;
  return { orderId: d.orderId, version: d.orderVersion };
}

/** A binary min-heap of indices, by (time, position). */
class Ready {
  private heap: number[] = [];
  constructor(private readonly before: (a: number, b: number) => boolean) {}
  get size() {
    return this.heap.length;
  }
  push(i: number) {
    const h = this.heap;
    h.push(i);
    let c = h.length - 1;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (!this.before(h[c]!, h[p]!)) break;
      [h[c], h[p]] = [h[p]!, h[c]!];
      c = p;
    }
  }
  pop(): number {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let p = 0;
      for (;;) {
        const l = 2 * p + 1;
        const r = l + 1;
        let m = p;
        if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
        if (m === p) break;
        [h[m], h[p]] = [h[p]!, h[m]!];
        p = m;
      }
    }
    return top;
  }
}

/**
 * The events in history order: the order's own events by version, every effect after its cause and
 * after the order version it refers to, and otherwise by time, then by position in the input. Works
 * on any set (one order's timeline, a feed of many orders, a part of either). Should the rules
 * contradict each other (events that were never produced by EventFlow), time settles it.
 */
export function inHistoryOrder<E extends HistoryEvent>(events: readonly E[]): E[] {
  const n = events.length;
  if (n < 2) return [...events];
  const at = events.map((e) => instantOf(e.occurredAt));
  const before = (a: number, b: number) => at[a]! < at[b]! || (at[a] === at[b] && a < b);

  const after: number[][] = Array.from({ length: n }, () => []);
  const waitingFor = new Array<number>(n).fill(0);
  const edge = (from: number, to: number) => {
    if (from === to) return;
    after[from]!.push(to);
    waitingFor[to]!++;
  };

  const position = new Map<string, number>();
  events.forEach((e, i) => {
    if (!position.has(e.id)) position.set(e.id, i);
  });
  // Each order's own events, by version (then time, for versions given twice).
  const chains = new Map<string, { i: number; version: number }[]>();
  const refs = events.map(orderRefOf);
  refs.forEach((ref, i) => {
    if (!ref || events[i]!.source !== ORDER_SOURCE) return;
    const chain = chains.get(ref.orderId) ?? [];
    chain.push({ i, version: ref.version });
    chains.set(ref.orderId, chain);
  });
  for (const chain of chains.values()) {
    chain.sort((a, b) => a.version - b.version || (before(a.i, b.i) ? -1 : 1));
    for (let k = 1; k < chain.length; k++) edge(chain[k - 1]!.i, chain[k]!.i);
  }
  events.forEach((e, i) => {
    const cause = e.causationId === null ? undefined : position.get(e.causationId);
    if (cause !== undefined) edge(cause, i);
    const ref = refs[i];
    if (!ref || e.source === ORDER_SOURCE) return;
    // After the latest of the order's own events it can have known of.
    const chain = chains.get(ref.orderId);
    let anchor: number | undefined;
    for (const link of chain ?? []) if (link.version <= ref.version) anchor = link.i;
    if (anchor !== undefined) edge(anchor, i);
  });

  const ready = new Ready(before);
  for (let i = 0; i < n; i++) if (waitingFor[i] === 0) ready.push(i);
  const done = new Array<boolean>(n).fill(false);
  const out: E[] = [];
  while (out.length < n) {
    let next: number;
    if (ready.size > 0) {
      next = ready.pop();
    } else {
      // A contradiction (a cycle): the earliest event still waiting goes next.
      next = -1;
      for (let i = 0; i < n; i++) if (!done[i] && (next < 0 || before(i, next))) next = i;
    }
    if (done[next]) continue;
    done[next] = true;
    out.push(events[next]!);
    for (const j of after[next]!) if (--waitingFor[j]! === 0 && !done[j]) ready.push(j);
  }
  return out;
}
