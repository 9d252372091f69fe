/**
 * Operators' HTTP routes for the broker (the dashboard's Queues page), served by operations-api
 * (functions/platform/operations.ts). The contract:
 *
 * - `GET /queues` → `{ checkedAt, queues: [{ name, depth, consumers, partitions: [{ name, depth,
 *   consumers }], deadLetter: { name, depth } }] }`: one entry per service queue of the topology, its
 *   depth and consumers summed over its partitions (one partition is the queue itself), names without
 *   the deployment's namespace. Reads counts only: it never takes a message off a queue.
 * - `GET /queues/{queue}/dead-letters?limit=1..100` (default 50) → `{ queue, deadLetterQueue, depth,
 *   messages: [{ messageId, eventType, orderId, reason, parkedAt }], truncated }`: the first messages
 *   of the queue's DLQ, left in place; any field but `reason` may be null (a message that is not JSON).
 * - `POST /queues/{queue}/redrive` → `{ queue, deadLetterQueue, moved }`: moves the messages the DLQ
 *   holds when it starts back onto the queue, each to the partition of its order
 *   (shared/messaging/dlq.ts: each is acked in the DLQ only once its copy is confirmed on the queue;
 *   one that fails again is parked behind them with its new reason, for a later redrive). Audited
 *   (functions/platform/redrive.ts): an entry before the first message moves, one with the outcome.
 *
 * `{queue}` is a service queue's name as listed (e.g. order_queue). An unknown one is a 404 problem
 * naming the known ones; an unreachable broker a 503.
 */
import type { ChannelModel } from 'amqplib';
import { z } from 'zod';
import { brokerName, getConfig } from '../../shared/config';
import { requestActor } from '../../shared/audit/actor';
import { ok } from '../../shared/http/api';
import type { HttpRequest } from '../../shared/http/api';
import { notFound, parseInput } from '../../shared/http/problem';
import { connectAmqp } from '../../shared/messaging/broker';
import { inspectDlq } from '../../shared/messaging/dlq';
import { TransientError } from '../../shared/messaging/errors';
import { dlqOf } from '../../shared/messaging/topology';
import { brokerUserOf } from '../identities';
import { QUEUES, QUEUE_IDS, deploymentLayout, partitionQueues } from '../topology';
import type { QueueId } from '../topology';
import { logger } from './operations-log';
import { auditedRedrive } from './redrive';

const QueueParams = z.object({ queue: z.string().min(1).max(200) });
const DeadLetterQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(50) });

interface ServiceQueue {
  id: QueueId;
  name: string;
  /** Broker names of its partitions (one: the queue itself), in this deployment's namespace. */
  partitions: string[];
  /** Broker name of its DLQ, shared by its partitions. */
  deadLetter: string;
}

/** The service queues of this deployment, as the topology declares them. */
async function serviceQueues(): Promise<ServiceQueue[]> {
  const { namespace } = await getConfig();
  const layout = deploymentLayout();
  return QUEUE_IDS.map((id) => {
    const partitions = partitionQueues(id, namespace, layout);
    return { id, name: QUEUES[id].name, partitions, deadLetter: dlqOf(partitions[0]!) };
  });
}

/** A broker name as operators read it: without the deployment's namespace. */
async function shown(name: string): Promise<string> {
  const prefix = brokerName('', (await getConfig()).namespace);
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
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

export async function listQueues() {
  const queues = await serviceQueues();
  const rows = await withChannel(async (channel) => {
    const out = [];
    for (const q of queues) {
      const partitions = [];
      for (const name of q.partitions) {
        const { messageCount, consumerCount } = await channel.checkQueue(name);
        partitions.push({ name: await shown(name), depth: messageCount, consumers: consumerCount });
      }
      const dead = await channel.checkQueue(q.deadLetter);
      out.push({
        name: q.name,
        depth: partitions.reduce((n, p) => n + p.depth, 0),
        consumers: partitions.reduce((n, p) => n + p.consumers, 0),
        partitions,
        deadLetter: { name: await shown(q.deadLetter), depth: dead.messageCount },
      });
    }
    return out;
  });
  return ok({ checkedAt: new Date().toISOString(), queues: rows });
}

export async function listDeadLetters(req: HttpRequest) {
  const queue = await queueNamed(parseInput(QueueParams, req.params, 'the path').queue);
  const { limit } = parseInput(DeadLetterQuery, req.query, 'the query');
  const { depth, messages } = await withChannel((channel) => inspectDlq(channel, queue.partitions[0]!, limit));
  return ok({ queue: queue.name, deadLetterQueue: await shown(queue.deadLetter), depth, messages, truncated: depth > messages.length });
}

export async function redrive(req: HttpRequest) {
  const queue = await queueNamed(parseInput(QueueParams, req.params, 'the path').queue);
  const { namespace } = await getConfig();
  // The queue's consumer is its service's own user: what it parked carries the original sender apart.
  const moved = await withChannel((channel) => auditedRedrive(channel, queue, requestActor(req), req.routeKey, brokerUserOf(queue.id, namespace), logger));
  logger.info('dead letters redriven', { queue: queue.name, moved });
  return ok({ queue: queue.name, deadLetterQueue: await shown(queue.deadLetter), moved });
}
