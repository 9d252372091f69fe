/**
 * The dashboard's one WebSocket, a client of EventFlow's notification protocol (README, "Protocol"):
 * event frames are JSON arrays, replies are objects with a `type`. It reconnects by itself with
 * backoff, subscribes again to what the pages on screen show, and resumes from the last event id it
 * saw, so nothing is missed; events seen twice around a reconnect are dropped. Every WebSocket use
 * goes through here. API Gateway checks the access token once, when the connection opens (browsers
 * cannot set headers on a WebSocket, so it goes in the `token` query parameter); every reconnect
 * takes the current one.
 */
import { compareOccurredAt, inHistoryOrder } from '../../shared/events/history';
import { accessToken } from './auth';
import { loadConfig } from './config';
import type { LiveEvent } from './events';
import { orderIdOf } from './events';

export type SocketStatus = 'idle' | 'connecting' | 'live' | 'catching-up' | 'reconnecting' | 'unavailable';

export interface SocketState {
  status: SocketStatus;
  /** Failed attempts since the last successful connection. */
  attempt: number;
  /** When the next attempt starts (ms since epoch), while reconnecting. */
  retryAt: number | null;
  /** Why the last connection ended or could not start, in words. */
  reason: string | null;
}

type EventListener = (events: LiveEvent[]) => void;

const PING_EVERY_MS = 4 * 60_000; // API Gateway drops a connection idle for 10 minutes
const PONG_TIMEOUT_MS = 15_000;
const REPLY_TIMEOUT_MS = 10_000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;
/** On the first connection, what the recent-event log holds of the last minutes fills the feeds. */
const FIRST_CATCH_UP_MS = 10 * 60_000;
/** Resume answers are cut at 500 events; ask again from `through` this many times at most. */
const MAX_RESUME_ROUNDS = 8;
const SEEN_MAX = 20_000;
/** Recent events kept for pages that show a feed (the Events page). */
export const RECENT_MAX = 5_000;

type Reply =
  | { type: 'pong'; connectionId: string; at: string }
  | { type: 'subscribed'; orderId: string; subscriptions: number; replayed: number; events: LiveEvent[] }
  | { type: 'unsubscribed'; orderId: string | null; subscriptions: number }
  | { type: 'resumed'; count: number; complete: boolean; through: string | null }
  | { type: 'error'; message: string };

interface Waiter {
  types: Reply['type'][];
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

class LiveSocket {
  private ws: WebSocket | null = null;
  private state: SocketState = { status: 'idle', attempt: 0, retryAt: null, reason: null };
  private readonly stateListeners = new Set<() => void>();
  private readonly eventListeners = new Set<EventListener>();
  private readonly gapListeners = new Set<() => void>();
  private readonly recentListeners = new Set<() => void>();
  /** Per interested view: an order id, or null for "every event". */
  private readonly interests = new Map<number, string | null>();
  private nextToken = 1;
  /** What the server was told on this connection (empty = every event). */
  private serverOrders = new Set<string>();
  private lastEventId: string | null = null;
  private resuming = false;
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];
  private recent: LiveEvent[] = [];
  private recentVersion = 0;
  private waiters: Waiter[] = [];
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private started = false;
  private firstConnection = true;
  private readonly startedAt = Date.now();
  private syncing: Promise<void> = Promise.resolve();

  start() {
    if (this.started || typeof window === 'undefined') return;
    this.started = true;
    window.addEventListener('online', () => this.retryNow());
    void this.connect();
  }

  // ---- state for React (useSyncExternalStore) ----
  getState = () => this.state;
  subscribeState = (l: () => void) => {
    this.stateListeners.add(l);
    return () => void this.stateListeners.delete(l);
  };
  private setState(patch: Partial<SocketState>) {
    this.state = { ...this.state, ...patch };
    for (const l of this.stateListeners) l();
  }

  /** Events as they arrive (already de-duplicated), in batches. */
  onEvents(l: EventListener): () => void {
    this.eventListeners.add(l);
    return () => void this.eventListeners.delete(l);
  }

  /** Called when the server could not say what was missed: views re-read their data over HTTP. */
  onGap(l: () => void): () => void {
    this.gapListeners.add(l);
    return () => void this.gapListeners.delete(l);
  }

  /** A copy of the recent events, oldest first, at most RECENT_MAX. */
  getRecent = () => this.recent.slice(-RECENT_MAX);
  getRecentVersion = () => this.recentVersion;
  subscribeRecent = (l: () => void) => {
    this.recentListeners.add(l);
    return () => void this.recentListeners.delete(l);
  };

  /**
   * A view declares what it shows: one order's events, or every event (null). The connection
   * subscribes to the union; any view wanting everything means no subscription at all.
   */
  want(orderId: string | null): () => void {
    const token = this.nextToken++;
    this.interests.set(token, orderId);
    this.scheduleSync();
    return () => {
      this.interests.delete(token);
      this.scheduleSync();
    };
  }

  /** Ends the current connection as a network drop would (used by the connection indicator's "Reconnect"). */
  retryNow() {
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    void this.connect();
  }

  private desiredOrders(): Set<string> {
    const ids = [...this.interests.values()];
    return ids.length === 0 || ids.includes(null) ? new Set() : new Set(ids as string[]);
  }

  private scheduleSync() {
    this.syncing = this.syncing.then(() => this.syncSubscriptions()).catch(() => undefined);
  }

  private async syncSubscriptions() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    const want = this.desiredOrders();
    if (want.size === 0 && this.serverOrders.size > 0) {
      await this.call({ action: 'unsubscribe' }, ['unsubscribed']);
      this.serverOrders = new Set();
      return;
    }
    for (const id of this.serverOrders) {
      if (!want.has(id)) {
        await this.call({ action: 'unsubscribe', orderId: id }, ['unsubscribed']);
        this.serverOrders.delete(id);
      }
    }
    for (const id of want) {
      if (!this.serverOrders.has(id)) {
        const reply = await this.call({ action: 'subscribe', orderId: id }, ['subscribed']);
        this.serverOrders.add(id);
        // The order's events so far (when they fit the reply; otherwise they came as frames just before).
        if (reply.type === 'subscribed' && Array.isArray(reply.events)) this.deliver(reply.events, { replayed: true });
      }
    }
  }

  private call(message: object, types: Reply['type'][]): Promise<Reply> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        types: [...types, 'error'],
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`no answer to ${JSON.stringify(message)}`));
        }, REPLY_TIMEOUT_MS),
      };
      this.waiters.push(waiter);
      ws.send(JSON.stringify(message));
    });
  }

  private async connect() {
    this.setState({ status: this.firstConnection ? 'connecting' : 'reconnecting', retryAt: null });
    let url: URL;
    try {
      url = new URL((await loadConfig()).wsUrl);
      // Waits for the reader to sign in, if need be.
      url.searchParams.set('token', await accessToken());
    } catch (err) {
      this.setState({ status: 'unavailable', reason: (err as Error).message });
      this.scheduleRetry();
      return;
    }
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => void this.opened(ws);
    ws.onmessage = (m) => this.message(ws, m);
    ws.onclose = (e) => this.closed(ws, e.code === 1000 || e.code === 1005 ? null : `closed (${e.code}${e.reason ? `: ${e.reason}` : ''})`);
    ws.onerror = () => undefined; // followed by close
  }

  private async opened(ws: WebSocket) {
    if (ws !== this.ws) return;
    const first = this.firstConnection;
    this.firstConnection = false;
    this.serverOrders = new Set();
    this.setState({ status: 'catching-up', attempt: 0, reason: null, retryAt: null });
    this.pingTimer = setInterval(() => this.ping(), PING_EVERY_MS);
    try {
      // Subscriptions belong to a connection: say again what the pages show, then ask for what was missed.
      await (this.syncing = this.syncing.then(() => this.syncSubscriptions()));
      const since = this.lastEventId ?? new Date(this.startedAt - FIRST_CATCH_UP_MS).toISOString();
      await this.resume(since, !first);
      if (ws === this.ws) this.setState({ status: 'live' });
    } catch {
      if (ws === this.ws) ws.close(4000, 'no answer from the server');
    }
  }

  private async resume(since: string, reportGaps: boolean) {
    this.resuming = true;
    try {
      let from = since;
      for (let round = 0; round < MAX_RESUME_ROUNDS; round++) {
        const reply = await this.call({ action: 'resume', since: from }, ['resumed']);
        if (reply.type !== 'resumed') throw new Error(reply.type === 'error' ? reply.message : 'unexpected reply');
        if (reply.through) this.lastEventId = reply.through;
        if (reply.complete) return;
        // Cut at the maximum: ask on from where it stopped. Nothing returned: the log does not reach back.
        if (!reply.through || reply.count === 0) break;
        from = reply.through;
      }
      if (reportGaps) for (const l of this.gapListeners) l();
    } finally {
      this.resuming = false;
    }
  }

  private ping() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    const ws = this.ws;
    this.pongTimer = setTimeout(() => ws.close(4001, 'no pong'), PONG_TIMEOUT_MS);
    this.call({ action: 'ping' }, ['pong'])
      .then(() => this.pongTimer && clearTimeout(this.pongTimer))
      .catch(() => undefined);
  }

  private message(ws: WebSocket, m: MessageEvent) {
    if (ws !== this.ws || typeof m.data !== 'string') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(m.data);
    } catch {
      return;
    }
    if (Array.isArray(parsed)) {
      this.deliver(parsed as LiveEvent[]);
      return;
    }
    const reply = parsed as Reply;
    const at = this.waiters.findIndex((w) => w.types.includes(reply.type));
    if (at >= 0) {
      const [w] = this.waiters.splice(at, 1);
      clearTimeout(w!.timer);
      w!.resolve(reply);
    }
  }

  /** `replayed`: history sent with a reply, not the live stream: it does not move the resume point. */
  private deliver(frame: LiveEvent[], opts: { replayed?: boolean } = {}) {
    const fresh: LiveEvent[] = [];
    for (const e of frame) {
      if (!e || typeof e.id !== 'string' || this.seen.has(e.id)) continue;
      this.seen.add(e.id);
      this.seenOrder.push(e.id);
      fresh.push(e);
    }
    while (this.seenOrder.length > SEEN_MAX) this.seen.delete(this.seenOrder.shift()!);
    // During a resume the frames are older than what may already have arrived live: the reply's
    // `through` says where the log was read up to.
    if (!this.resuming && !opts.replayed && frame.length) this.lastEventId = frame.at(-1)!.id;
    if (fresh.length === 0) return;
    this.remember(fresh, this.resuming || opts.replayed === true);
    for (const l of this.eventListeners) l(fresh);
  }

  private remember(events: LiveEvent[], catchingUp: boolean) {
    // Resumed and replayed events are older than live ones already kept: merged in history order
    // (an order's own events by version, effects after causes, time in between), not by time
    // alone, which clocks of different processes do not agree on. Live events stay in
    // publication order.
    const older = this.recent.length > 0 && (catchingUp || compareOccurredAt(events[0]!.occurredAt, this.recent.at(-1)!.occurredAt) < 0);
    for (const e of events) this.recent.push(e);
    if (older) this.recent = inHistoryOrder(this.recent);
    // Trimmed in steps, not per event: pushing stays cheap under a stream.
    if (this.recent.length > RECENT_MAX * 1.5) this.recent = this.recent.slice(this.recent.length - RECENT_MAX);
    this.recentVersion++;
    for (const l of this.recentListeners) l();
  }

  private closed(ws: WebSocket, reason: string | null) {
    if (ws !== this.ws) return;
    this.ws = null;
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error('connection closed'));
    }
    this.waiters = [];
    this.resuming = false;
    this.setState({ reason: reason ?? 'connection closed' });
    this.scheduleRetry();
  }

  private scheduleRetry() {
    const attempt = this.state.attempt + 1;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (attempt - 1));
    const delay = Math.round(base * (0.7 + Math.random() * 0.6));
    this.setState({ status: this.state.status === 'unavailable' ? 'unavailable' : 'reconnecting', attempt, retryAt: Date.now() + delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }
}

export const liveSocket = new LiveSocket();

/** Events of one order, for views that follow an order. */
export function isAbout(orderId: string) {
  return (e: LiveEvent) => orderIdOf(e) === orderId;
}
