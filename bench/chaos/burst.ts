/**
 * The burst: on every exchange, malformed messages (not JSON; JSON that is no event; an event whose
 * data breaks its schema), each with a routing key that queues are bound to, and exact copies of
 * events already published (read back from the services' outboxes, sent as the relay sends them).
 * Also reads what the DLQs hold, leaving it there.
 */
import { randomUUID } from 'node:crypto';
import type { ChannelModel, GetMessage } from 'amqplib';
import type pg from 'pg';
import type { ServiceName } from '../../shared/config';
import { createEvent } from '../../shared/events/envelope';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { connectAmqp, wireMessageOf } from '../../shared/messaging/broker';
import { brokerUserOf } from '../../functions/identities';
import { brokerUrlOf } from '../../local/identities/urls';
import { routingKeyFor } from '../../shared/messaging/routing';
import { EXCHANGES, dlqOf, queuesReached } from '../../shared/messaging/topology';
import { deploymentLayout, resolveTopology } from '../../functions/topology';
import { brokerName } from '../../shared/config';
import type { ParkedMessage, SentMalformed } from './checks';

/** Found in every malformed body the run sends, followed by its number. */
const MARK = 'eventflow-chaos-malformed-';

/** A routing key that some queue of each exchange is bound to. */
const BOUND_TYPES = { order: 'order.created', payment: 'payment.failed', inventory: 'inventory.reservation_failed' } as const;

function malformedBodies(mark: string, type: string): Buffer[] {
  return [
    Buffer.from(`not json ${mark}`),
    Buffer.from(JSON.stringify({ hello: mark })),
    // A well-formed envelope of the right type and source whose data breaks the type's schema.
    Buffer.from(
      JSON.stringify({
        ...createEvent('order.cancelled', { orderId: randomUUID(), orderVersion: 1, previousStatus: 'PENDING', reason: null }, { correlationId: mark, causationId: null }),
        type,
        source: type.split('.')[0],
        data: { orderId: 'not-a-uuid', note: mark },
      }),
    ),
  ];
}

export interface BurstResult {
  malformed: SentMalformed[];
  duplicates: number;
}

/**
 * Sends `perExchange` malformed messages to each exchange (kinds in turn) and `duplicates` copies
 * of recent events of each service, all confirmed by the broker. `firstMark` numbers the
 * malformed messages apart from earlier bursts.
 */
export async function sendBurst(opts: {
  /** The broker the runtime uses, as its administrator: the burst connects as each service from it. */
  rabbitmqUrl: string;
  namespace: string;
  db: Record<ServiceName, pg.Pool>;
  perExchange: number;
  duplicates: number;
  firstMark: number;
}): Promise<BurstResult> {
  const topology = resolveTopology(opts.namespace, deploymentLayout());
  const malformed: SentMalformed[] = [];
  let n = opts.firstMark;
  let duplicates = 0;
  // Each exchange's messages come from its own service's user, with its user-id, as a service with
  // a bug, or a relay sending again, would send them: the broker lets nobody else publish there.
  for (const publisher of Object.keys(EXCHANGES) as (keyof typeof EXCHANGES)[]) {
    const connection = await connectAmqp(brokerUrlOf({ rabbitmqUrl: opts.rabbitmqUrl, namespace: opts.namespace }, publisher));
    const channel = await connection.createConfirmChannel();
    const userId = brokerUserOf(publisher, opts.namespace);
    try {
      const exchange = brokerName(EXCHANGES[publisher], opts.namespace);
      const type = BOUND_TYPES[publisher];
      for (let i = 0; i < opts.perExchange; i++) {
        const mark = `${MARK}${n++}`;
        const routingKey = routingKeyFor(type, randomUUID());
        const bodies = malformedBodies(mark, type);
        channel.publish(exchange, routingKey, bodies[i % bodies.length]!, { persistent: true, contentType: 'application/json', messageId: mark, userId });
        malformed.push({ mark, dlqs: [...new Set(queuesReached(topology, exchange, routingKey).map(dlqOf))] });
      }
      const { rows } = await opts.db[publisher].query<{ envelope: AnyEnvelope }>(
        `SELECT envelope FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM outbox_pending p WHERE p.seq = o.seq) ORDER BY seq DESC LIMIT $1`,
        [opts.duplicates],
      );
      for (const { envelope } of rows) {
        const m = wireMessageOf(envelope, opts.namespace);
        channel.publish(m.exchange, m.routingKey, m.content, { ...m.options, userId });
        duplicates++;
      }
      await channel.waitForConfirms();
    } finally {
      await connection.close().catch(() => undefined);
    }
  }
  return { malformed, duplicates };
}

const header = (m: GetMessage, name: string) => {
  const v = m.properties.headers?.[name];
  return v === undefined ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
};

/** Everything the namespace's DLQs hold, read and put back (the channel closes with them unacknowledged). */
export async function readDeadLetters(amqp: ChannelModel, namespace: string): Promise<ParkedMessage[]> {
  const dlqs = resolveTopology(namespace, deploymentLayout())
    .queues.filter((q) => q.policy.kind === 'dead-letter')
    .map((q) => q.name);
  const out: ParkedMessage[] = [];
  for (const dlq of dlqs) {
    const channel = await amqp.createChannel();
    channel.on('error', () => undefined);
    try {
      const { messageCount } = await channel.checkQueue(dlq);
      for (let i = 0; i < messageCount; i++) {
        const m = await channel.get(dlq, { noAck: false });
        if (!m) break;
        const mark = new RegExp(`${MARK}\\d+`).exec(m.content.toString('utf8'))?.[0] ?? null;
        out.push({ dlq, mark, reason: header(m, 'x-eventflow-reason') ?? `${m.properties.type ?? 'message'} ${m.properties.messageId ?? ''}: ${m.content.toString('utf8').slice(0, 120)}` });
      }
    } finally {
      await channel.close().catch(() => undefined);
    }
  }
  return out;
}
