/**
 * Watches orders' final statuses where a user sees them: on the WebSocket API. A few connections
 * (each push to a connection costs the system CPU) share the watched orders round-robin; each
 * order is subscribed right after its 201 and unsubscribed once settled. Every connection also
 * holds a subscription to an order id that never exists, so that it never falls back to
 * receiving every event (a connection subscribed to nothing receives all of them).
 *
 * Or, with `subscribe: false`, the connections subscribe to nothing and receive every event, as
 * the live dashboard does: no subscribe or unsubscribe messages at all.
 *
 * A final status that never arrives is not looked up elsewhere: the caller counts it as missed.
 * A connection that drops reconnects, subscribes again and resumes from its last event id, as the
 * protocol tells clients to.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';

export type FinalStatus = 'CONFIRMED' | 'FAILED' | 'CANCELLED';

export interface WatcherStats {
  connections: number;
  /** Socket errors, unexpected closes, failed reconnects, and error replies to our messages. */
  socketErrors: number;
  unexpectedCloses: number;
  reconnects: number;
  errorReplies: number;
  /** Event frames and the envelopes in them; replies (subscribed/unsubscribed/resumed); bytes of each. */
  eventFrames: number;
  events: number;
  eventBytes: number;
  replies: number;
  replyBytes: number;
  subscribes: number;
  unsubscribes: number;
}

export interface OrderWatcherOptions {
  wsUrl: string;
  clients: number;
  /** Subscribe to each order (true), or receive every event (false). */
  subscribe: boolean;
  /** Called once per order and final status, at its first arrival (performance.now() time). */
  onFinal: (orderId: string, status: FinalStatus, at: number) => void;
  connectTimeoutMs?: number;
}

interface Conn {
  index: number;
  socket: WebSocket;
  watched: Set<string>;
  lastEventId: string | null;
  closing: boolean;
}

const OPEN_BRACKET = 0x5b;

function finalStatusOf(event: { type?: string; data?: { status?: string } }): FinalStatus | null {
  if (event.type === 'order.cancelled') return 'CANCELLED';
  if (event.type === 'order.updated' && (event.data?.status === 'CONFIRMED' || event.data?.status === 'FAILED')) return event.data.status;
  return null;
}

export async function startOrderWatcher(opts: OrderWatcherOptions) {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 15_000;
  const sentinel = randomUUID();
  const stats: WatcherStats = {
    connections: opts.clients,
    socketErrors: 0,
    unexpectedCloses: 0,
    reconnects: 0,
    errorReplies: 0,
    eventFrames: 0,
    events: 0,
    eventBytes: 0,
    replies: 0,
    replyBytes: 0,
    subscribes: 0,
    unsubscribes: 0,
  };
  const finals = new Map<string, Set<FinalStatus>>();
  const owner = new Map<string, Conn>();
  let next = 0;
  let closed = false;

  function onMessage(conn: Conn, data: Buffer) {
    const at = performance.now();
    let events: { id: string; type?: string; data?: { orderId?: string; status?: string } }[];
    if (data[0] !== OPEN_BRACKET) {
      stats.replies++;
      stats.replyBytes += data.length;
      if (data.subarray(0, 24).includes('"error"')) {
        stats.errorReplies++;
        return;
      }
      // A subscribe's reply carries the order's events so far: a final status may be among them.
      if (!data.subarray(0, 24).includes('"subscribed"')) return;
      events = (JSON.parse(data.toString('utf8')) as { events?: typeof events }).events ?? [];
    } else {
      stats.eventFrames++;
      stats.eventBytes += data.length;
      events = JSON.parse(data.toString('utf8')) as typeof events;
    }
    stats.events += events.length;
    for (const e of events) {
      conn.lastEventId = e.id;
      const status = finalStatusOf(e);
      const orderId = e.data?.orderId;
      if (!status || !orderId) continue;
      let seen = finals.get(orderId);
      if (!seen) finals.set(orderId, (seen = new Set()));
      if (seen.has(status)) continue; // a repeat (resume, redelivery)
      seen.add(status);
      opts.onFinal(orderId, status, at);
    }
  }

  function send(conn: Conn, message: object) {
    if (conn.socket.readyState === WebSocket.OPEN) conn.socket.send(JSON.stringify(message));
  }

  async function open(conn: Conn): Promise<void> {
    const socket = new WebSocket(opts.wsUrl, { perMessageDeflate: false });
    conn.socket = socket;
    socket.on('message', (data: Buffer) => {
      try {
        onMessage(conn, data);
      } catch {
        stats.socketErrors++; // not JSON: counted, never fatal
      }
    });
    socket.on('error', () => stats.socketErrors++);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`WebSocket ${opts.wsUrl} did not open in ${connectTimeoutMs} ms`)), connectTimeoutMs);
      socket.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    socket.on('close', () => {
      if (closed || conn.closing) return;
      stats.unexpectedCloses++;
      void reconnect(conn);
    });
    if (opts.subscribe) send(conn, { action: 'subscribe', orderId: sentinel });
    for (const id of conn.watched) send(conn, { action: 'subscribe', orderId: id });
    if (conn.lastEventId) send(conn, { action: 'resume', since: conn.lastEventId });
  }

  async function reconnect(conn: Conn) {
    for (let attempt = 0; !closed && attempt < 20; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)));
      try {
        await open(conn);
        stats.reconnects++;
        return;
      } catch {
        stats.socketErrors++;
      }
    }
  }

  const conns: Conn[] = [];
  for (let i = 0; i < opts.clients; i++) {
    const conn: Conn = { index: i, socket: undefined as unknown as WebSocket, watched: new Set(), lastEventId: null, closing: false };
    await open(conn);
    conns.push(conn);
  }

  return {
    stats,
    /** Subscribes to an order on the next connection. */
    watch(orderId: string) {
      const conn = conns[next++ % conns.length]!;
      owner.set(orderId, conn);
      if (!opts.subscribe) return;
      conn.watched.add(orderId);
      stats.subscribes++;
      send(conn, { action: 'subscribe', orderId });
    },
    /** Drops an order's subscription (it settled). */
    unwatch(orderId: string) {
      const conn = owner.get(orderId);
      if (!conn) return;
      owner.delete(orderId);
      if (!opts.subscribe) return;
      conn.watched.delete(orderId);
      stats.unsubscribes++;
      send(conn, { action: 'unsubscribe', orderId });
    },
    /** Final statuses seen for an order so far. */
    finalsOf(orderId: string): ReadonlySet<FinalStatus> | undefined {
      return finals.get(orderId);
    },
    watchedCount: () => owner.size,
    async close() {
      closed = true;
      await Promise.all(
        conns.map(
          (c) =>
            new Promise<void>((resolve) => {
              c.closing = true;
              if (c.socket.readyState === WebSocket.CLOSED) return resolve();
              const timer = setTimeout(() => {
                c.socket.terminate();
                resolve();
              }, 2_000);
              c.socket.once('close', () => {
                clearTimeout(timer);
                resolve();
              });
              c.socket.close();
            }),
        ),
      );
    },
  };
}

export type OrderWatcher = Awaited<ReturnType<typeof startOrderWatcher>>;
