/**
 * The load generator: places orders over HTTP (an undici Pool of keep-alive connections), cancels
 * some shortly after creation, and follows each accepted order to its final status on the
 * WebSocket API (an OrderWatcher).
 *
 * Open loop: arrivals on a fixed schedule at the offered rate, fired whatever the server is doing,
 * so a slow server shows as latency and not as a lower offered rate; the generator's own lateness
 * against the schedule is recorded. Closed loop: N workers, each placing an order, waiting for it
 * to settle on the WebSocket, then placing the next, which finds the rate the system sustains.
 *
 * All times are performance.now() milliseconds.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { poolRequest, retryAfterMs } from './http';
import type { ProductSet } from './products';
import { dueBy, arrivalAt, planOrder, seededRandom } from './schedule';
import type { Mix } from './schedule';
import { startOrderWatcher } from './ws-watcher';
import type { FinalStatus } from './ws-watcher';

export type LoadMode = { kind: 'open'; ratePerSec: number } | { kind: 'closed'; concurrency: number };

export interface LoadOptions {
  httpUrl: string;
  /** The WebSocket API's URL, with the operator's token (?token=). */
  wsUrl: string;
  /** The operator's authorization header: it places orders for many customers and cancels them. */
  auth: Record<string, string>;
  /** WebSocket connections that watch the orders (few: each push to a connection costs the system CPU). */
  wsClients: number;
  /** Subscribe to each order on the WebSocket (as a customer's page would), or receive every event (as the dashboard does). */
  wsSubscribe: boolean;
  products: ProductSet;
  mix: Mix;
  mode: LoadMode;
  warmupSeconds: number;
  seconds: number;
  httpConnections: number;
  /** Bound on one HTTP request, from the call (queueing in the pool included) to its body. */
  requestTimeoutMs: number;
  /** Closed loop: how long a worker waits for an order's final status before it moves on. */
  settleWaitMs: number;
  seed: number;
}

export interface OrderRecord {
  seq: number;
  warmup: boolean;
  /** When the schedule wanted the POST sent (open loop), or when the worker sent it (closed). */
  scheduledAt: number;
  startedAt: number;
  /** Open loop: how late the generator sent the POST against its schedule (ms). */
  lateMs: number;
  /** POST start to its response body; undefined while in flight. */
  postMs?: number;
  /** HTTP status, or an error name (timeout, network error code). */
  postOutcome?: number | string;
  /** The pause a refusal asked for (429 or 503 with Retry-After); the closed loop's worker waits it out. */
  retryAfterMs?: number;
  id?: string;
  scarce: boolean;
  declined: boolean;
  cancelAfterMs: number | null;
  cancel?: { startedAt: number; ms: number; outcome: number | string };
  /** First arrival of each final status on the WebSocket. */
  finals: Partial<Record<FinalStatus, number>>;
  /** When the generator considered the order settled (and unsubscribed), and as what. */
  doneAt?: number;
  doneStatus?: FinalStatus;
}

export interface LoadCounters {
  /** "POST 201", "DELETE 409", "POST timeout", "POST error ECONNRESET", ... */
  http: Record<string, number>;
  /** Closed loop: orders a worker gave up waiting for. */
  settleWaitTimeouts: number;
}

/**
 * The status an order settled as, from what the user has seen so far, or undefined while it may
 * still change: an order to be cancelled has settled once the DELETE was answered and, if that
 * cancelled it (200), once order.cancelled arrived (it may have been CONFIRMED before); otherwise
 * its first final status is the one.
 */
export function settledAs(r: Pick<OrderRecord, 'cancelAfterMs' | 'cancel' | 'finals'>): FinalStatus | undefined {
  if (r.cancelAfterMs !== null) {
    if (!r.cancel) return undefined;
    if (r.cancel.outcome === 200) return r.finals.CANCELLED !== undefined ? 'CANCELLED' : undefined;
  }
  let first: FinalStatus | undefined;
  for (const [status, at] of Object.entries(r.finals) as [FinalStatus, number][]) {
    if (first === undefined || at < r.finals[first]!) first = status;
  }
  return first;
}

/** Orders in flight while an open-loop level warms up (see startLoad). */
export const WARMUP_IN_FLIGHT = 32;

function outcomeOf(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.name === 'TimeoutError' || /TIMEOUT/i.test(e?.code ?? '')) return 'timeout';
  return `error ${e?.code ?? e?.name ?? 'unknown'}`;
}

/**
 * Connects the WebSocket watchers, then starts offering load at once: warm-up first, then the
 * measured window. `done` resolves when offering has ended and nothing is in flight.
 */
export async function startLoad(opts: LoadOptions) {
  let onFinalStatus: (orderId: string, status: FinalStatus, at: number) => void = () => undefined;
  const watcher = await startOrderWatcher({ wsUrl: opts.wsUrl, clients: opts.wsClients, subscribe: opts.wsSubscribe, onFinal: (...args) => onFinalStatus(...args) });
  const pool = new Pool(opts.httpUrl, {
    connections: opts.httpConnections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: opts.requestTimeoutMs,
    bodyTimeout: opts.requestTimeoutMs,
    connect: { timeout: 5_000 },
  });
  const random = seededRandom(opts.seed);
  const records: OrderRecord[] = [];
  const byId = new Map<string, OrderRecord>();
  const counters: LoadCounters = { http: {}, settleWaitTimeouts: 0 };
  const count = (key: string) => (counters.http[key] = (counters.http[key] ?? 0) + 1);
  const waiters = new Map<string, () => void>();
  let inFlight = 0;
  let idle: (() => void) | null = null;
  let stopping = false;
  const timers = new Set<NodeJS.Timeout>();

  const startedAt = performance.now();
  const measureFrom = startedAt + opts.warmupSeconds * 1000;
  const measureTo = measureFrom + opts.seconds * 1000;

  const finishOne = () => {
    inFlight--;
    if (inFlight === 0) idle?.();
  };
  /** Counts a request as in flight until it ends. */
  const track = async <T>(p: Promise<T>): Promise<T> => {
    inFlight++;
    try {
      return await p;
    } finally {
      finishOne();
    }
  };
  /** A request sent later (a cancellation) counts as in flight from now; stop() drops it. */
  const later = (ms: number, send: () => Promise<void>) => {
    inFlight++;
    const timer = setTimeout(() => {
      timers.delete(timer);
      send().catch(() => undefined).finally(finishOne);
    }, ms);
    timers.add(timer);
  };

  function evaluate(r: OrderRecord) {
    if (r.doneAt !== undefined || !r.id) return;
    const status = settledAs(r);
    if (!status) return;
    r.doneAt = r.finals[status]!;
    r.doneStatus = status;
    watcher.unwatch(r.id);
    waiters.get(r.id)?.();
  }

  onFinalStatus = (orderId, status, at) => {
    const r = byId.get(orderId);
    if (!r) return;
    r.finals[status] ??= at;
    evaluate(r);
  };

  async function cancel(r: OrderRecord) {
    const startedAt = performance.now();
    let outcome: number | string;
    try {
      const res = await poolRequest(pool, { method: 'DELETE', path: `/orders/${r.id}`, auth: opts.auth, timeoutMs: opts.requestTimeoutMs });
      await res.body.dump();
      outcome = res.statusCode;
    } catch (err) {
      outcome = outcomeOf(err);
    }
    count(`DELETE ${outcome}`);
    r.cancel = { startedAt, ms: performance.now() - startedAt, outcome };
    evaluate(r);
  }

  async function place(seq: number, scheduledAt: number): Promise<OrderRecord> {
    const sentAt = performance.now();
    const plan = planOrder(random, opts.products.plentiful, opts.products.scarce, opts.mix);
    const body = { customerId: randomUUID(), items: plan.lines, paymentToken: plan.paymentToken };
    const r: OrderRecord = {
      seq,
      warmup: scheduledAt < measureFrom,
      scheduledAt,
      startedAt: sentAt,
      lateMs: sentAt - scheduledAt,
      scarce: plan.scarce,
      declined: plan.paymentToken === 'tok_chargeDeclined',
      cancelAfterMs: plan.cancelAfterMs,
      finals: {},
    };
    records.push(r);
    try {
      const res = await poolRequest(pool, { method: 'POST', path: '/orders', body, auth: opts.auth, timeoutMs: opts.requestTimeoutMs });
      r.postOutcome = res.statusCode;
      r.retryAfterMs = retryAfterMs(res.statusCode, res.headers['retry-after']);
      if (res.statusCode === 201) {
        r.id = ((await res.body.json()) as { id: string }).id;
      } else {
        await res.body.dump();
      }
    } catch (err) {
      r.postOutcome = outcomeOf(err);
    }
    r.postMs = performance.now() - r.startedAt;
    count(`POST ${r.postOutcome}`);
    if (r.id) {
      byId.set(r.id, r);
      watcher.watch(r.id);
      if (r.cancelAfterMs !== null) later(r.cancelAfterMs, () => cancel(r));
    }
    return r;
  }

  /** Open loop: arrival i is due at `from` + i/rate, whatever the server is doing. */
  async function openLoop(ratePerSec: number, from: number, seconds: number) {
    const total = Math.round(seconds * ratePerSec);
    let i = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        if (stopping) return resolve();
        const now = performance.now();
        const due = dueBy(now - from, ratePerSec, total);
        for (; i < due; i++) {
          void track(place(seq++, from + arrivalAt(i, ratePerSec)));
        }
        if (i >= total) return resolve();
        setTimeout(tick, Math.max(0, from + arrivalAt(i, ratePerSec) - performance.now()));
      };
      tick();
    });
  }

  let seq = 0;
  async function closedLoop(concurrency: number, until: number) {
    const worker = async () => {
      while (!stopping && performance.now() < until) {
        const r = await track(place(seq++, performance.now()));
        if (!r.id) {
          // Refused (throttled, rate-limited): wait as asked, like any client; another error: do not spin.
          await new Promise((res) => setTimeout(res, r.retryAfterMs ?? 10));
          continue;
        }
        if (r.doneAt !== undefined) continue;
        const settled = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => {
            waiters.delete(r.id!);
            resolve(false);
          }, opts.settleWaitMs);
          waiters.set(r.id!, () => {
            clearTimeout(timer);
            waiters.delete(r.id!);
            resolve(true);
          });
        });
        if (!settled) counters.settleWaitTimeouts++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  const offering = (async () => {
    const mode = opts.mode;
    if (mode.kind === 'closed') return closedLoop(mode.concurrency, measureTo);
    // The open loop warms up as a closed loop: the runtime's environments JIT-compile their code
    // first, and a rate a cold runtime cannot keep up with would leave a backlog that the measured
    // window then inherits (it starts from steady state instead). Its orders count as warm-up.
    await closedLoop(WARMUP_IN_FLIGHT, measureFrom);
    return openLoop(mode.ratePerSec, measureFrom, opts.seconds);
  })();

  /** Resolves once offering has ended and no request (or scheduled cancellation) is outstanding. */
  const done = (async () => {
    await offering;
    if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
  })();

  return {
    records,
    counters,
    startedAt,
    measureFrom,
    measureTo,
    done,
    /** WebSocket counters (frames, bytes, errors, reconnects). */
    wsStats: watcher.stats,
    /** Orders accepted but not yet seen settled on the WebSocket. */
    unsettled: () => watcher.watchedCount(),
    /** Orders the API accepted. */
    acceptedIds: () => [...byId.keys()],
    record: (orderId: string) => byId.get(orderId),
    /** Stops offering (cancellations not yet sent are dropped), waits for requests in flight, then closes the pool. */
    async stopOffering() {
      stopping = true;
      for (const timer of timers) {
        clearTimeout(timer);
        finishOne();
      }
      timers.clear();
      for (const wake of waiters.values()) wake();
      await Promise.race([done, new Promise((r) => setTimeout(r, opts.requestTimeoutMs + 1_000))]);
      await pool.close().catch(() => undefined);
    },
    /** Stops everything, the WebSocket watchers included. Safe to call more than once. */
    async stop() {
      await this.stopOffering();
      await watcher.close();
    },
  };
}

export type Load = Awaited<ReturnType<typeof startLoad>>;
