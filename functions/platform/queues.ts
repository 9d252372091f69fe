/**
 * Operators' HTTP routes for the broker (the dashboard's Queues page). The contract:
 *
 * - `GET /queues` → `{ checkedAt, queues: [{ name, depth, consumers, deadLetter: { name, depth } }] }`,
 *   one entry per service queue of the topology (`resolveTopology()`), names without the deployment's
 *   namespace. Reads counts only: it never takes a message off a queue.
 * - `GET /queues/{queue}/dead-letters?limit=1..100` (default 50) → `{ queue, deadLetterQueue, depth,
 *   messages: [{ messageId, eventType, orderId, reason, parkedAt }], truncated }`: the first messages
 *   of the queue's DLQ, left in place; any field but `reason` may be null (a message that is not JSON).
 * - `POST /queues/{queue}/redrive` → `{ queue, deadLetterQueue, moved }`: moves the DLQ's messages
 *   back onto the queue (shared/messaging/dlq.ts: each is acked in the DLQ only once its copy is
 *   confirmed on the queue).
 *
 * An unknown `{queue}` is a 404 problem naming the known ones; an unreachable broker a 503.
 */
import type { ChannelModel } from 'amqplib';
import { z } from 'zod';
import { ROUTES } from '../catalog';
import { brokerName, getConfig } from '../../shared/config';
import { createHttpApi, ok } from '../../shared/http/api';
import type { HttpRequest } from '../../shared/http/api';
import { notFound, parseInput } from '../../shared/http/problem';
import { createLogger } from '../../shared/logger';
import { connectAmqp } from '../../shared/messaging/broker';
import { inspectDlq, redriveDlq } from '../../shared/messaging/dlq';
import { TransientError } from '../../shared/messaging/errors';
import { dlqOf, resolveTopology } from '../../shared/messaging/topology';

const logger = createLogger('platform');

const QueueParams = z.object({ queue: z.string().min(1).max(200) });
const DeadLetterQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) });

/** The service queues of this deployment: every queue of the topology that is not a DLQ. */
async function serviceQueues(): Promise<{ name: string; brokerName: string }[]> {
  const { namespace } = await getConfig();
  const prefix = brokerName('', namespace);
  const declared = resolveTopology(namespace).queues.map((q) => q.name);
  return declared
    .filter((name) => !declared.some((other) => dlqOf(other) === name))
    .map((name) => ({ name: name.slice(prefix.length), brokerName: name }));
}

async function queueNamed(name: string) {
  const queues = await serviceQueues();
  const queue = queues.find((q) => q.name === name);
  if (!queue) throw notFound(`there is no queue ${name}; the queues are ${queues.map((q) => q.name).join(', ')}`);
  return queue;
}

// A connection of its own, apart from the publishers' one: a channel error here (a queue that is
// gone) must not close the channel other handlers publish on.
let connection: Promise<ChannelModel> | undefined;

function broker(): Promise<ChannelModel> {
  connection ??= getConfig()
    .then((config) => connectAmqp(config.rabbitmqUrl))
    .then((c) => {
      const reset = () => {
        connection = undefined;
      };
      c.on('error', reset);
      c.on('close', reset);
      return c;
    })
    .catch((err: Error) => {
      connection = undefined;
      throw new TransientError(`broker unavailable: ${err.message}`, { cause: err });
    });
  return connection;
}

/** Runs fn on a confirm channel of its own, closed afterwards. */
async function withChannel<T>(fn: (channel: Awaited<ReturnType<ChannelModel['createConfirmChannel']>>) => Promise<T>): Promise<T> {
  const channel = await (await broker()).createConfirmChannel();
  channel.on('error', () => undefined); // reported by the failing call itself
  try {
    return await fn(channel);
  } finally {
    await channel.close().catch(() => undefined);
  }
}

async function listQueues() {
  const queues = await serviceQueues();
  const rows = await withChannel(async (channel) => {
    const out = [];
    for (const q of queues) {
      const main = await channel.checkQueue(q.brokerName);
      const dead = await channel.checkQueue(dlqOf(q.brokerName));
      out.push({
        name: q.name,
        depth: main.messageCount,
        consumers: main.consumerCount,
        deadLetter: { name: dlqOf(q.name), depth: dead.messageCount },
      });
    }
    return out;
  });
  return ok({ checkedAt: new Date().toISOString(), queues: rows });
}

async function listDeadLetters(req: HttpRequest) {
  const queue = await queueNamed(parseInput(QueueParams, req.params, 'the path').queue);
  const { limit } = parseInput(DeadLetterQuery, req.query, 'the query');
  const { depth, messages } = await withChannel((channel) => inspectDlq(channel, queue.brokerName, limit));
  return ok({ queue: queue.name, deadLetterQueue: dlqOf(queue.name), depth, messages, truncated: depth > messages.length });
}

async function redrive(req: HttpRequest) {
  const queue = await queueNamed(parseInput(QueueParams, req.params, 'the path').queue);
  const moved = await withChannel((channel) => redriveDlq(channel, queue.brokerName));
  logger.info('dead letters redriven', { queue: queue.brokerName, moved });
  return ok({ queue: queue.name, deadLetterQueue: dlqOf(queue.name), moved });
}

export const handler = createHttpApi({
  logger,
  routes: {
    [ROUTES.listQueues]: listQueues,
    [ROUTES.listDeadLetters]: listDeadLetters,
    [ROUTES.redriveQueue]: redrive,
  },
});
