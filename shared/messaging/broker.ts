import amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { brokerName, getConfig } from '../config';
import type { AnyEnvelope } from '../events/envelope';
import { routingKeyOf } from './routing';
import { TransientError } from './errors';
import { corkFlushes } from './cork';
import { amqpUserOf, explainBrokerRefusal } from './identity';
import { EXCHANGES } from './topology';

interface BrokerSession {
  connection: ChannelModel;
  channel: ConfirmChannel;
  /** The user this connection logged in as: every message it publishes carries it as `user-id`. */
  user: string;
  /** Why the broker closed the channel, when it refused an operation (a missing permission). */
  refusal?: Error;
  /** The broker's reason ("low on memory") while it blocks this connection's publishes (a resource alarm). */
  blocked?: string;
  /** Told when the broker blocks the connection, so a publish waiting for confirms stops waiting. */
  onBlocked: Set<(reason: string) => void>;
}

let session: Promise<BrokerSession> | undefined;
let current: BrokerSession | undefined;

/** One connection and confirm channel per process (a Lambda environment), re-opened after a failure. */
export function getBroker(): Promise<BrokerSession> {
  session ??= open().then(
    (s) => (current = s),
    (err) => {
      session = undefined;
      throw err;
    },
  );
  return session;
}

/**
 * Opens an AMQP connection with Nagle's algorithm off: publishes, confirms and acks are small
 * frames, and with Nagle on each can sit ~40 ms waiting for the peer's delayed ACK. Instead, the
 * frames queued in one turn of the event loop leave in one socket write (./cork.ts).
 */
export async function connectAmqp(url: string, timeoutMs = 5_000): Promise<ChannelModel> {
  const model = await amqp.connect(url, { noDelay: true, timeout: timeoutMs });
  try {
    corkFlushes(model);
  } catch (err) {
    await model.close().catch(() => undefined);
    throw err;
  }
  return model;
}

async function open(): Promise<BrokerSession> {
  const { rabbitmqUrl } = await getConfig();
  const user = amqpUserOf(rabbitmqUrl);
  // A refused login names the user rather than surfacing as a bare handshake error.
  const connection = await connectAmqp(rabbitmqUrl).catch((err: Error) => {
    throw explainBrokerRefusal(err, user) ?? err;
  });
  const reset = () => {
    session = undefined;
  };
  connection.on('error', reset);
  connection.on('close', reset);
  const channel = await connection.createConfirmChannel();
  const s: BrokerSession = { connection, channel, user, onBlocked: new Set() };
  // RabbitMQ blocks a connection that publishes during a memory or disk alarm and says so
  // (connection.blocked, https://www.rabbitmq.com/docs/connection-blocked). The session is kept,
  // blocked: publishes fail at once while it is (nothing is sent, the outbox keeps the events), and
  // its `unblocked` says when the alarm is over, so one connection per environment waits out the
  // alarm instead of a new one blocked per timed-out publish.
  connection.on('blocked', (reason: string) => {
    s.blocked = reason || 'resource alarm';
    for (const tell of s.onBlocked) tell(s.blocked);
  });
  connection.on('unblocked', () => {
    s.blocked = undefined;
  });
  channel.on('error', (err: Error) => {
    // Only a publish reaches this channel, so a refusal is of the write permission (or of the user-id).
    s.refusal = explainBrokerRefusal(err, user, 'write') ?? undefined;
    reset();
  });
  channel.on('close', () => {
    reset();
    connection.close().catch(() => undefined);
  });
  return s;
}

/**
 * How long a publisher waits for the broker's confirms. A broker in a memory or disk alarm blocks
 * publishers without a word; past this, the publish counts as failed (the outbox relay sends the
 * events later) rather than holding a request or a batch until its function times out.
 */
const CONFIRM_TIMEOUT_MS = 5_000;

/** A publish refused on this side because the broker blocks publishers (a resource alarm): retry later. */
export class BrokerBlocked extends TransientError {
  override name = 'BrokerBlocked';
  constructor(readonly reason: string) {
    super(`the broker blocks publishers (${reason}); the outbox keeps the events until it takes them again`);
  }
}

/**
 * Why the broker blocks this process's publishes (its reason, "low on memory"), or null. Set from
 * the connection's `blocked` and `unblocked` notifications: HTTP commands are refused with 503 and
 * Retry-After while it is set (shared/http/api.ts).
 */
export function brokerBlocked(): string | null {
  return current && session && current.blocked ? current.blocked : null;
}

/** Fails at once, without publishing, while the broker blocks this session's publishes. */
function refuseIfBlocked(s: BrokerSession): void {
  if (s.blocked) throw new BrokerBlocked(s.blocked);
}

/**
 * Ends a session's connection at once: a graceful close waits for the broker's close-ok, which a
 * broker that stopped reading this connection never sends, so the connection would stay open (and
 * blocked) on both sides.
 */
function abandon(s: BrokerSession, why: string): void {
  if (session && current === s) session = undefined;
  const socket = (s.connection.connection as unknown as { stream?: { destroy(err?: Error): void } }).stream;
  if (socket) socket.destroy(new Error(why));
  else s.connection.close().catch(() => undefined);
}

/**
 * Waits for the channel's confirms, at most CONFIRM_TIMEOUT_MS. When the broker blocks the
 * connection meanwhile, the wait ends at once with BrokerBlocked and the session stays (see open);
 * when the broker says nothing within the bound, the session is abandoned.
 */
async function confirmed(s: BrokerSession): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let tell: ((reason: string) => void) | undefined;
  try {
    await Promise.race([
      // The broker closes the channel on a refused publish; its reason says more than "channel closed".
      s.channel.waitForConfirms().catch((err: Error) => {
        throw s.refusal ?? err;
      }),
      new Promise((_, reject) => {
        tell = (reason) => reject(new BrokerBlocked(reason));
        s.onBlocked.add(tell);
        if (s.blocked) tell(s.blocked);
        timer = setTimeout(() => {
          // A channel with confirms outstanding that may never come is no use to the next publisher.
          abandon(s, `no publisher confirm within ${CONFIRM_TIMEOUT_MS} ms`);
          reject(new TransientError(`no publisher confirm within ${CONFIRM_TIMEOUT_MS} ms (broker blocked or unreachable)`));
        }, CONFIRM_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (tell) s.onBlocked.delete(tell);
  }
}

/**
 * Whether the broker answers this environment: one round trip on its session (opened if need be)
 * within CONFIRM_TIMEOUT_MS. A session that does not answer in time is abandoned, as after a
 * confirm that never came.
 */
export async function pingBroker(): Promise<void> {
  const s = await getBroker();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      s.channel.checkExchange('amq.topic'),
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          abandon(s, `no answer within ${CONFIRM_TIMEOUT_MS} ms`);
          reject(new TransientError(`no answer from the broker within ${CONFIRM_TIMEOUT_MS} ms`));
        }, CONFIRM_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** An event as it goes on the wire: its exchange, routing key, body and properties (tools that send one again exactly use it too). */
export function wireMessageOf(event: AnyEnvelope, namespace: string) {
  return {
    exchange: brokerName(EXCHANGES[event.source], namespace),
    routingKey: routingKeyOf(event),
    content: Buffer.from(JSON.stringify(event)),
    options: {
      persistent: true,
      contentType: 'application/json',
      messageId: event.id,
      correlationId: event.correlationId,
      type: event.type,
      appId: `eventflow-${event.source}`,
      timestamp: Math.floor(Date.parse(event.occurredAt) / 1000),
      headers: event.causationId ? { causationId: event.causationId } : {},
    },
  };
}

/**
 * Publishes events to their service's exchange and resolves once the broker has confirmed every one.
 * Each carries the connection's user as `user-id`, which RabbitMQ validates: consumers read the
 * sender from it (shared/messaging/sender.ts). A publish the broker refuses fails as a BrokerRefusal
 * naming the user and the permission it lacks.
 */
export async function publishEvents(events: AnyEnvelope[]): Promise<void> {
  if (events.length === 0) return;
  const { namespace } = await getConfig();
  const s = await getBroker();
  refuseIfBlocked(s);
  const { channel } = s;
  for (const event of events) {
    const m = wireMessageOf(event, namespace);
    channel.publish(m.exchange, m.routingKey, m.content, { ...m.options, userId: s.user });
  }
  await confirmed(s);
}

/** Puts raw bytes on an exchange (a queue's parking exchange, for a poison message), with the connection's user-id, confirmed. */
export async function sendToExchange(exchange: string, content: Buffer, headers: Record<string, string>): Promise<void> {
  const s = await getBroker();
  refuseIfBlocked(s);
  s.channel.publish(exchange, '', content, { persistent: true, headers, userId: s.user });
  await confirmed(s);
}

export async function closeBroker(): Promise<void> {
  const current = session;
  session = undefined;
  if (current) await (await current).connection.close().catch(() => undefined);
}
