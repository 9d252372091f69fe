/**
 * Delivery limit and dead-lettering come from broker policies declared with the topology, on the
 * real broker: queues carry no x-delivery-limit / x-dead-letter-* arguments, a message that keeps
 * failing lands in its DLQ through the policy, and a DLQ keeps what it holds however often it is
 * looked at. Runs in a namespace of its own.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerName, localBrokerAccess } from '../../shared/config';
import { brokerAdmin } from '../../shared/messaging/broker-admin';
import { connectAmqp } from '../../shared/messaging/broker';
import { brokerPolicies, parseBrokerVersion, policyPrefix } from '../../shared/messaging/policies';
import { DELIVERY_LIMIT, dlqOf } from '../../shared/messaging/topology';
import { declareTopology, deleteTopology, partitionQueues, resolveTopology } from '../../functions/topology';
import { freshNamespace } from '../support/runtime-process';
import { waitFor } from '../support/wait';

const run = promisify(execFile);
const access = localBrokerAccess();
const admin = brokerAdmin(access);
const namespace = freshNamespace('pol');
// A partition of the payment queue: each partition has its own policy and dead-letters into the service's DLQ.
const queue = partitionQueues('payment', namespace)[0]!;

let connection: ChannelModel;
let channel: ConfirmChannel;

/** Each queue's declared argument names and the policy the broker applies to it. */
async function queueInfo(): Promise<Map<string, { arguments: string[]; policy: string }>> {
  if (access.managementUrl) {
    const url = new URL(access.managementUrl);
    const auth = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
    const res = await fetch(`${url.origin}/api/queues/%2F?columns=name,arguments,policy`, { headers: { authorization: `Basic ${auth}` } });
    const all = (await res.json()) as { name: string; arguments: Record<string, unknown>; policy?: string | null }[];
    return new Map(all.map((q) => [q.name, { arguments: Object.keys(q.arguments), policy: q.policy ?? '' }]));
  }
  const { stdout } = await run('rabbitmqctl', ['list_queues', '-q', 'name', 'arguments', 'policy', '--formatter', 'json']);
  const all = JSON.parse(stdout) as { name: string; arguments: [string, string, unknown][]; policy: string }[];
  return new Map(all.map((q) => [q.name, { arguments: q.arguments.map(([key]) => key), policy: q.policy }]));
}

const ours = async () => (await admin.listPolicies()).filter((p) => p.name.startsWith(policyPrefix(namespace)));

beforeAll(async () => {
  connection = await connectAmqp(access.amqpUrl);
  channel = await connection.createConfirmChannel();
  await declareTopology(connection, namespace);
});

afterAll(async () => {
  await deleteTopology(connection, namespace).catch(() => undefined);
  await connection.close();
});

describe('broker policies', () => {
  it("declares the namespace's policies for the broker's version, and queues with only their type as argument", async () => {
    const version = parseBrokerVersion(String(connection.connection.serverProperties.version));
    const expected = brokerPolicies(resolveTopology(namespace), namespace, version);
    expect((await ours()).sort((a, b) => a.name.localeCompare(b.name))).toEqual(expected.sort((a, b) => a.name.localeCompare(b.name)));
    const queues = await queueInfo();
    for (const q of resolveTopology(namespace).queues) {
      const info = queues.get(q.name)!;
      expect(info.arguments, q.name).toEqual(['x-queue-type']);
      expect(info.policy, q.name).toBe(expected.find((p) => new RegExp(p.pattern).test(q.name))!.name);
    }
  });

  it('dead-letters a message that exceeds the delivery limit into the DLQ, through the policy', async () => {
    channel.sendToQueue(queue, Buffer.from('{"poison":true}'), { persistent: true, messageId: 'poison-1' });
    await channel.waitForConfirms();
    let deliveries = 0;
    // Take it and hand it back, as a consumer whose batch keeps failing does.
    for (let m = await channel.get(queue); m; m = await channel.get(queue)) {
      deliveries++;
      channel.nack(m, false, true);
      if (deliveries > DELIVERY_LIMIT + 5) throw new Error('the delivery limit did not apply');
    }
    expect(deliveries).toBeGreaterThanOrEqual(DELIVERY_LIMIT);
    const parked = await waitFor(async () => channel.get(dlqOf(queue)), 'the message in the DLQ');
    expect(parked.content.toString()).toBe('{"poison":true}');
    expect(parked.properties.messageId).toBe('poison-1');
    const death = (parked.properties.headers?.['x-death'] as { reason: string; queue: string }[])[0]!;
    expect(death).toMatchObject({ reason: 'delivery_limit', queue });
    channel.nack(parked, false, true);
  });

  it('keeps a DLQ message however often it is looked at and returned', async () => {
    // More returns than RabbitMQ 4.x's default delivery limit of 20, which the DLQ policy lifts there.
    for (let i = 0; i < 25; i++) {
      const m = await waitFor(async () => channel.get(dlqOf(queue)), `the parked message, look ${i + 1}`);
      expect(m.properties.messageId).toBe('poison-1');
      channel.nack(m, false, true);
    }
    // Returned, not gone: it is ready again once the broker has taken it back.
    await waitFor(async () => (await channel.checkQueue(dlqOf(queue))).messageCount === 1, 'the parked message back in the DLQ');
  });

  it('removes policies the topology no longer names, and leaves other namespaces alone', async () => {
    const other = freshNamespace('pol');
    const stale = { name: `${policyPrefix(namespace)}gone_queue`, pattern: `^${namespace}\\.gone_queue$`, applyTo: 'queues' as const, priority: 10, definition: { 'delivery-limit': 3 } };
    const foreign = { ...stale, name: `${policyPrefix(other)}kept`, pattern: `^${other}\\.kept$` };
    await admin.putPolicy(stale);
    await admin.putPolicy(foreign);
    try {
      await declareTopology(connection, namespace);
      expect((await ours()).map((p) => p.name)).not.toContain(stale.name);
      expect((await admin.listPolicies()).map((p) => p.name)).toContain(foreign.name);
    } finally {
      await admin.deletePolicy(foreign.name);
    }
  });

  it('deleteTopology drops the namespace policies with its queues', async () => {
    const scratch = freshNamespace('pol');
    await declareTopology(connection, scratch);
    expect((await admin.listPolicies()).some((p) => p.name.startsWith(policyPrefix(scratch)))).toBe(true);
    await deleteTopology(connection, scratch);
    expect((await admin.listPolicies()).some((p) => p.name.startsWith(policyPrefix(scratch)))).toBe(false);
  });
});
