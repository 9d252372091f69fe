/**
 * One socket write per flush of an AMQP connection (shared/messaging/cork.ts), against the real
 * broker: a unit of work's publishes leave in one writev, an invocation's acks too, and every
 * message still arrives, persistent, with its confirm. A connection opened with amqplib alone, in
 * the same test, shows what it replaces: one write per message.
 */
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import type { Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../shared/config';
import { connectAmqp } from '../../shared/messaging/broker';

const url = process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl;
const opened: ChannelModel[] = [];
afterAll(() => Promise.all(opened.map((c) => c.close().catch(() => undefined))));

/** Counts the socket's writes (each `_write` or `_writev` is one write to the kernel) and the chunks they carry. */
function countWrites(model: ChannelModel) {
  const socket = (model.connection as unknown as { stream: Socket }).stream;
  const counts = { writes: 0, chunks: 0 };
  const write = socket._write.bind(socket);
  const writev = socket._writev!.bind(socket);
  socket._write = (chunk, encoding, cb) => {
    counts.writes++;
    counts.chunks++;
    write(chunk, encoding, cb);
  };
  socket._writev = (chunks, cb) => {
    counts.writes++;
    counts.chunks += chunks.length;
    writev(chunks, cb);
  };
  return {
    /** Writes and chunks since the last call. */
    take() {
      const out = { ...counts };
      counts.writes = 0;
      counts.chunks = 0;
      return out;
    },
  };
}

const N = 20;

/** Publishes N persistent messages in one go on a confirm channel and reads them back, acking each. */
async function roundTrip(model: ChannelModel) {
  const counter = countWrites(model);
  const queue = `cork-test-${randomUUID()}`;
  const setup = await model.createChannel();
  await setup.assertQueue(queue, { exclusive: true });
  const publisher = await model.createConfirmChannel();
  const consumer = await model.createChannel();
  await consumer.prefetch(N);
  await new Promise((r) => setImmediate(r));
  counter.take();

  const bodies = Array.from({ length: N }, (_, i) => JSON.stringify({ i, id: randomUUID() }));
  const acked: boolean[] = [];
  for (const body of bodies) {
    publisher.publish('', queue, Buffer.from(body), { persistent: true, contentType: 'application/json' }, (err) => acked.push(!err));
  }
  await publisher.waitForConfirms();
  const publishes = counter.take();

  const received: ConsumeMessage[] = [];
  const all = new Promise<void>((resolve) => {
    void consumer.consume(queue, (m) => {
      if (m) received.push(m);
      if (received.length === N) resolve();
    });
  });
  await all;
  counter.take();
  for (const m of received) consumer.ack(m); // an invocation's acks, one by one in one tick
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  const acks = counter.take();
  // Acked for real: nothing left ready or unacknowledged once the consumer goes.
  await consumer.close();
  const left = await setup.checkQueue(queue);
  return { publishes, acks, acked, received, bodies, left };
}

describe('AMQP connections write once per flush', () => {
  it('sends a unit of work\'s publishes in one write, and every message arrives persistent and confirmed', async () => {
    const model = await connectAmqp(url);
    opened.push(model);
    const r = await roundTrip(model);
    expect(r.acked).toEqual(Array(N).fill(true));
    expect(r.received.map((m) => m.content.toString())).toEqual(r.bodies);
    for (const m of r.received) expect(m.properties.deliveryMode).toBe(2);
    expect(r.left.messageCount).toBe(0);
    expect(r.publishes.chunks).toBe(N);
    expect(r.publishes.writes).toBe(1);
    expect(r.acks).toEqual({ writes: 1, chunks: N });
  });

  it('amqplib on its own writes each message separately (what the cork saves)', async () => {
    const model = await amqp.connect(url, { noDelay: true });
    opened.push(model);
    const r = await roundTrip(model);
    expect(r.received).toHaveLength(N);
    expect(r.publishes.writes).toBe(N);
    expect(r.acks.writes).toBe(N);
  });
});
