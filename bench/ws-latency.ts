/**
 * `npm run bench:ws`: time from an event's publication to its arrival at WebSocket clients, p50 and
 * p99, with 1, 100 and 1,000 clients connected. Starts its own runtime in a namespace of its own on
 * loopback, and removes it afterwards. Not a test: it prints numbers.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connectAmqp } from '../shared/messaging/broker';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { notificationKeys } from '../functions/notification/redis-keys';
import { DEFAULTS, brokerName } from '../shared/config';
import { createEvent } from '../shared/events/envelope';
import { routingKeyOf } from '../shared/messaging/routing';
import { EXCHANGES } from '../shared/messaging/topology';
import { freshNamespace, startRuntimeProcess } from '../test/support/runtime-process';
import { benchAccess } from './access';
import { brokerUserOf } from '../functions/identities';
import { brokerUrlOf } from '../local/identities/urls';

const CLIENT_COUNTS = [1, 100, 1000];
const EVENTS_PER_RUN = 40;
const SPACING_MS = 25;
const RUN_TIMEOUT_MS = 60_000;

/** inventory.low_stock reaches notification_queue only, so publishing it disturbs no other service. */
function benchEvent(tag: string) {
  const productId = randomUUID();
  return createEvent(
    'inventory.low_stock',
    { productId, productVersion: 1, sku: tag, name: 'bench', priceCents: 100, currency: 'USD', stock: 1, reserved: 0, available: 1, lowStockThreshold: 2, changed: ['stock'] },
    { correlationId: `bench-${tag}`, causationId: null },
  );
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function connect(url: string, onEvent: (id: string, at: number) => void): Promise<WebSocket> {
  const ws = new WebSocket(url);
  ws.on('message', (data) => {
    const at = performance.now();
    const message = JSON.parse(data.toString()) as { id: string }[] | object;
    if (Array.isArray(message)) for (const e of message) onEvent(e.id, at);
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

async function run(wsUrl: string, namespace: string, clients: number) {
  const published = new Map<string, number>();
  const samples: number[] = [];
  const onEvent = (id: string, at: number) => {
    const sent = published.get(id);
    if (sent !== undefined) samples.push(at - sent);
  };
  const sockets: WebSocket[] = [];
  for (let i = 0; i < clients; i += 100) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, clients - i) }, () => connect(wsUrl, onEvent)))));
  }
  // As the inventory service publishes them: its own broker user and user-id (the consumer checks the sender).
  const connection = await connectAmqp(brokerUrlOf({ rabbitmqUrl: process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl, namespace }, 'inventory'));
  const channel = await connection.createConfirmChannel();
  const exchange = brokerName(EXCHANGES.inventory, namespace);
  const userId = brokerUserOf('inventory', namespace);
  const tag = `bench-${clients}-${randomUUID().slice(0, 8)}`;
  for (let i = 0; i < EVENTS_PER_RUN; i++) {
    const event = benchEvent(tag);
    published.set(event.id, performance.now());
    channel.publish(exchange, routingKeyOf(event), Buffer.from(JSON.stringify(event)), { persistent: true, contentType: 'application/json', messageId: event.id, userId });
    await new Promise((r) => setTimeout(r, SPACING_MS));
  }
  await channel.waitForConfirms();
  const expected = EVENTS_PER_RUN * clients;
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  while (samples.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await connection.close();
  for (const ws of sockets) ws.close();
  await new Promise((r) => setTimeout(r, 500)); // let the $disconnects run before the next round
  const sorted = [...samples].sort((a, b) => a - b);
  return { clients, expected, received: samples.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)! };
}

async function removeRedisKeys(namespace: string) {
  const redis = new Redis(process.env.REDIS_URL ?? DEFAULTS.redisUrl);
  const k = notificationKeys(namespace);
  await redis.del(k.connections, k.recentEvents);
  redis.disconnect();
}

async function main() {
  const namespace = freshNamespace('bench');
  process.stderr.write(`starting a runtime in namespace ${namespace}\n`);
  const { system, stop } = await startRuntimeProcess({ namespace });
  const results = [];
  try {
    if (!system.wsUrl) throw new Error('the runtime reported no wsUrl');
    for (const clients of CLIENT_COUNTS) {
      process.stderr.write(`${clients} client(s): ${EVENTS_PER_RUN} events, one every ${SPACING_MS} ms\n`);
      results.push(await run((await benchAccess(system)).wsUrl, namespace, clients));
    }
  } finally {
    await stop();
    await removeRedisKeys(namespace);
  }
  const fmt = (ms: number) => ms.toFixed(1).padStart(8);
  console.log('\npublication → arrival at a WebSocket client (loopback, local runtime)');
  console.log(' clients   received      p50 ms   p99 ms   max ms');
  for (const r of results) {
    console.log(`${String(r.clients).padStart(8)} ${`${r.received}/${r.expected}`.padStart(10)}  ${fmt(r.p50)} ${fmt(r.p99)} ${fmt(r.max)}`);
  }
  if (results.some((r) => r.received < r.expected)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
