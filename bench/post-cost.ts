/**
 * `npx tsx bench/post-cost.ts [n]`: CPU per PostToConnection in the notification functions, the
 * AWS SDK client's `send` against the signed request EventFlow makes (functions/notification/
 * management-api.ts), alternating in one process, 50 in flight as a fan-out has them. The other end
 * is a bare HTTP server in a child process answering 200, so only the sender's CPU is counted.
 * Prints medians of 5 rounds.
 */
import { spawn } from 'node:child_process';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { LAMBDA_ENV } from '../shared/env';
import { median } from './stats';

const n = Number(process.argv[2] ?? 3000);
const SERVER = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => s.writeHead(200, { 'content-length': 0 }).end()); }).listen(0, '127.0.0.1', function () { process.send(this.address().port); });`;
const server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const port = await new Promise<number>((resolve) => server.once('message', (m) => resolve(m as number)));
const endpoint = `http://127.0.0.1:${port}`;
process.env[LAMBDA_ENV.websocketCallbackUrl] = endpoint;
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
const { postToConnection } = await import('../functions/notification/management-api');

const pool = { keepAlive: true, maxSockets: 100 };
const client = new ApiGatewayManagementApiClient({ endpoint, requestHandler: { httpAgent: pool, httpsAgent: pool } });
const frame = JSON.stringify([{ id: '5f0c7a0e-8e0b-4b7f-9a53-1a1f0b6c2d11', type: 'order.updated', data: { orderId: '0b8f3c2e-6a1d-4c38-9d43-4f1f1a7e9a01', status: 'CONFIRMED' } }]);
const senders = {
  'AWS SDK send': (id: string) => client.send(new PostToConnectionCommand({ ConnectionId: id, Data: frame })).then(() => undefined),
  'signed request': (id: string) => postToConnection(id, frame),
};

async function cpuPerCall(post: (id: string) => Promise<void>): Promise<number> {
  const start = process.cpuUsage();
  let next = 0;
  await Promise.all(Array.from({ length: 50 }, async () => { while (next < n) await post(`conn-${next++}=`); }));
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

for (const post of Object.values(senders)) await cpuPerCall(post); // warm the JIT on both paths
const samples = Object.fromEntries(Object.keys(senders).map((k) => [k, [] as number[]]));
for (let round = 0; round < 5; round++) for (const [name, post] of Object.entries(senders)) samples[name]!.push(await cpuPerCall(post));
console.log(`CPU per PostToConnection, µs (medians of 5 rounds of ${n}, 50 in flight):`);
for (const [name, xs] of Object.entries(samples)) console.log(`  ${name.padEnd(16)} ${median(xs).toFixed(0).padStart(5)}   (${xs.map((x) => x.toFixed(0)).join(', ')})`);
server.kill();
