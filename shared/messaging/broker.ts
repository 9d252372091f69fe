import amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { brokerName, getConfig } from '../config';
import type { AnyEnvelope } from '../events/envelope';
import { routingKeyOf } from './routing';
import { EXCHANGES } from './topology';

interface BrokerSession {
  connection: ChannelModel;
  channel: ConfirmChannel;
}

let session: Promise<BrokerSession> | undefined;

/** One connection and confirm channel per process (a Lambda environment), re-opened after a failure. */
export function getBroker(): Promise<BrokerSession> {
  session ??= open().catch((err) => {
    session = undefined;
    throw err;
  });
  return session;
}

/**
 * Opens an AMQP connection with Nagle's algorithm off: publishes, confirms and acks are small
 * frames, and with Nagle on each can sit ~40 ms waiting for the peer's delayed ACK.
 */
export function connectAmqp(url: string, timeoutMs = 5_000): Promise<ChannelModel> {
  return amqp.connect(url, { noDelay: true, timeout: timeoutMs });
}

async function open(): Promise<BrokerSession> {
  const { rabbitmqUrl } = await getConfig();
  const connection = await connectAmqp(rabbitmqUrl);
  const reset = () => {
    session = undefined;
  };
  connection.on('error', reset);
  connection.on('close', reset);
  const channel = await connection.createConfirmChannel();
  channel.on('error', reset);
  channel.on('close', () => {
    reset();
    connection.close().catch(() => undefined);
  });
  return { connection, channel };
}

/** Publishes events to their service's exchange and resolves once the broker has confirmed every one. */
export async function publishEvents(events: AnyEnvelope[]): Promise<void> {
  if (events.length === 0) return;
  const { namespace } = await getConfig();
  const { channel } = await getBroker();
  for (const event of events) {
    channel.publish(brokerName(EXCHANGES[event.source], namespace), routingKeyOf(event), Buffer.from(JSON.stringify(event)), {
      persistent: true,
      contentType: 'application/json',
      messageId: event.id,
      correlationId: event.correlationId,
      type: event.type,
      appId: `eventflow-${event.source}`,
      timestamp: Math.floor(Date.parse(event.occurredAt) / 1000),
      headers: event.causationId ? { causationId: event.causationId } : {},
    });
  }
  await channel.waitForConfirms();
}

/** Puts raw bytes straight onto a queue (used to park poison messages in a DLQ), confirmed. */
export async function sendToQueue(queue: string, content: Buffer, headers: Record<string, string>): Promise<void> {
  const { channel } = await getBroker();
  channel.sendToQueue(queue, content, { persistent: true, headers });
  await channel.waitForConfirms();
}

export async function closeBroker(): Promise<void> {
  const current = session;
  session = undefined;
  if (current) await (await current).connection.close().catch(() => undefined);
}
