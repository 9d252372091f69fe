/**
 * Rate limits while Redis does not answer but the connection stays up (a link that drops packets,
 * `npm run chaos -- --faults network-cut-redis`): the client still says "ready", so nothing but
 * the check's own timeout notices. One check waits it out; from then on requests go through at once
 * and one check now and then runs behind them, unawaited, until Redis answers again. The silence is
 * a real redis-server of this file's own, paused (CLIENT PAUSE), never the shared one; what reached
 * it is read from its own command statistics.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/private-stack';
import { waitFor } from '../support/wait';

let server: ChildProcess;
let admin: Redis;
let limiter: typeof import('../../shared/http/rate-limiter');
let redisModule: typeof import('../../shared/redis');
let logger: import('@aws-lambda-powertools/logger').Logger;

beforeAll(async () => {
  const port = await freePort();
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  admin = new Redis({ port, host: '127.0.0.1', retryStrategy: (n) => Math.min(100 * n, 500) });
  admin.on('error', () => undefined); // while the server starts
  await waitFor(() => admin.ping(), 'the private redis-server', 20_000);
  // This file's process uses it (its configuration is read once, at first use).
  process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
  redisModule = await import('../../shared/redis');
  limiter = await import('../../shared/http/rate-limiter');
  logger = (await import('../../shared/logger')).createLogger('order');
}, 60_000);

afterAll(async () => {
  await redisModule?.closeRedis();
  admin?.disconnect();
  server?.kill('SIGKILL');
});

/** How many rate-limit scripts the server has run (EVALSHA, or EVAL after a NOSCRIPT). */
async function scriptsRun(): Promise<number> {
  const info = await admin.info('commandstats');
  return [...info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

describe('rate limits while Redis is silent', () => {
  it('wait out one check, then let requests through at once while one check now and then runs behind them', async () => {
    const check = limiter.createRateLimiter({ requests: { perSecond: 1_000, burst: 1_000 }, orders: { perSecond: 1_000, burst: 1_000 } }, logger);
    const request = { routeKey: 'POST /orders', sourceIp: '10.1.1.1' };
    await check(request); // answered: the connection is up, the script loaded
    const before = await scriptsRun();

    await admin.call('CLIENT', 'PAUSE', '3000', 'ALL');
    // The first waits for its timeout and lets the request through; the next four, within
    // PROBE_EVERY_MS of it, neither wait nor ask.
    for (let i = 0; i < 5; i++) await expect(check(request)).resolves.toBeUndefined();

    // Once the pause is over the server runs what was sent during it: the first check's script only.
    await waitFor(async () => (await scriptsRun()) > before, 'the paused script to run', 20_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(await scriptsRun()).toBe(before + 1);

    // Past PROBE_EVERY_MS a request starts a check behind it; its answer says Redis is back, and
    // the next request is checked again.
    await new Promise((r) => setTimeout(r, limiter.PROBE_EVERY_MS));
    await check(request);
    await waitFor(async () => (await scriptsRun()) === before + 2, 'the check behind the request', 10_000);
    await check(request);
    expect(await scriptsRun()).toBe(before + 3);
  }, 60_000);
});
