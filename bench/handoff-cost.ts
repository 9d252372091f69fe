/**
 * `npx tsx bench/handoff-cost.ts [n]`: CPU of handing one invocation to an execution environment and
 * getting its result back, by transport, with the runtime's own event shapes: a child process over
 * IPC with V8's serializer ('advanced'), a child process over IPC with JSON, and a worker thread
 * (postMessage, structured clone). Each round trip is sequential, as one environment runs one
 * invocation at a time; the environment only echoes a small result, so what is measured is the
 * hand-off alone. Both ends' CPU is counted: the child's from its own process.cpuUsage, a worker's as
 * the whole process's (it shares the process). Rounds alternate the transports; prints medians of 5.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { toRmqEvent } from '../local/mq-event-source';
import { median } from './stats';

const n = Number(process.argv[2] ?? 2000);

// The echo at the other end: replies { id, ok, result } at once, and its CPU when asked.
const ECHO = `
const { parentPort } = require('node:worker_threads');
const reply = (send) => (msg) => {
  if (msg === 'cpu') { const u = process.cpuUsage(); return send({ cpu: u.user + u.system }); }
  send({ id: msg.id, ok: true, result: { batchItemFailures: [], statusCode: 201, body: '{"orderId":"0b8f3c2e-6a1d-4c38-9d43-4f1f1a7e9a01","status":"PENDING"}' } });
};
if (parentPort) parentPort.on('message', reply((m) => parentPort.postMessage(m)));
else process.on('message', reply((m) => process.send(m)));
`;

const payload = JSON.stringify({
  id: '5f0c7a0e-8e0b-4b7f-9a53-1a1f0b6c2d11',
  type: 'inventory.reserved',
  source: 'inventory-service',
  orderId: '0b8f3c2e-6a1d-4c38-9d43-4f1f1a7e9a01',
  occurredAt: new Date().toISOString(),
  version: 1,
  data: { orderId: '0b8f3c2e-6a1d-4c38-9d43-4f1f1a7e9a01', items: [{ productId: 'p-001', quantity: 2 }, { productId: 'p-042', quantity: 1 }], reservationId: 'r-1' },
});
const message = {
  content: Buffer.from(payload),
  fields: { redelivered: false },
  properties: { contentType: 'application/json', deliveryMode: 2, messageId: 'm-1', timestamp: Math.floor(Date.now() / 1000), type: 'inventory.reserved', userId: 'inventory', headers: { 'x-delivery-count': 0 } },
};
const events = {
  'queue batch of 10': toRmqEvent('order_queue', Array.from({ length: 10 }, () => message) as never),
  'HTTP request': {
    version: '2.0',
    routeKey: 'POST /orders',
    rawPath: '/orders',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${'x'.repeat(900)}`, host: '127.0.0.1:3001', 'user-agent': 'undici', 'idempotency-key': 'k-1' },
    requestContext: { http: { method: 'POST', path: '/orders', sourceIp: '127.0.0.1' }, requestId: 'r-1', authorizer: { jwt: { claims: { sub: 'bench', scope: 'orders' }, scopes: ['orders'] } }, timeEpoch: Date.now() },
    body: JSON.stringify({ customerId: 'c-1', items: [{ productId: 'p-001', quantity: 2 }], paymentToken: 'tok_visa' }),
    isBase64Encoded: false,
  },
};

interface Transport {
  name: string;
  send(msg: unknown): void;
  next(): Promise<any>;
  /** CPU µs of both ends so far. */
  cpu(): Promise<number>;
  close(): void;
}

function replies(on: (listener: (m: unknown) => void) => void) {
  const queue: unknown[] = [];
  let waiter: ((m: unknown) => void) | undefined;
  on((m) => (waiter ? (waiter(m), (waiter = undefined)) : queue.push(m)));
  return () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => (waiter = r)));
}

function childTransport(serialization: 'advanced' | 'json'): Transport {
  const child: ChildProcess = spawn(process.execPath, ['-e', ECHO], { serialization, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = replies((l) => child.on('message', l));
  const own = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  return {
    name: `child process, ${serialization}`,
    send: (m) => child.send(m as never),
    next,
    async cpu() {
      child.send('cpu');
      const { cpu } = (await next()) as { cpu: number };
      return own() + cpu;
    },
    close: () => child.kill(),
  };
}

function workerTransport(): Transport {
  const worker = new Worker(ECHO, { eval: true });
  const next = replies((l) => worker.on('message', l));
  return {
    name: 'worker thread',
    send: (m) => worker.postMessage(m),
    next,
    async cpu() {
      const u = process.cpuUsage();
      return u.user + u.system;
    },
    close: () => void worker.terminate(),
  };
}

async function perRoundTrip(t: Transport, event: unknown): Promise<number> {
  const start = await t.cpu();
  for (let i = 0; i < n; i++) {
    t.send({ id: i, requestId: 'r', event, deadline: Date.now() + 30_000 });
    await t.next();
  }
  return ((await t.cpu()) - start) / n;
}

const transports = [childTransport('advanced'), childTransport('json'), workerTransport()];
console.log(`CPU per round trip, µs, both ends (medians of 5 rounds of ${n}; the transports alternate)`);
for (const [label, event] of Object.entries(events)) {
  const samples = new Map<string, number[]>(transports.map((t) => [t.name, []]));
  for (const t of transports) await perRoundTrip(t, event); // warm both ends' JIT
  for (let round = 0; round < 5; round++) for (const t of transports) samples.get(t.name)!.push(await perRoundTrip(t, event));
  const size = JSON.stringify(event).length;
  console.log(`${label} (${size} bytes as JSON):`);
  for (const [name, xs] of samples) console.log(`  ${name.padEnd(28)} ${median(xs).toFixed(1).padStart(7)}   (${xs.map((x) => x.toFixed(1)).join(', ')})`);
}
for (const t of transports) t.close();
