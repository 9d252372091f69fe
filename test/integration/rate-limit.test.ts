import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIsolatedSystem } from '../support/isolated-system';
import type { IsolatedSystem } from '../support/isolated-system';
import { bearer, tokenFor } from '../support/auth';

/**
 * Small limits on a runtime of this file's own, so nothing else counts against them: reads refill
 * one token per 4 s (bursts of 5), orders one per 4 s (bursts of 2). The refill is slow enough
 * that a busy machine cannot refill a bucket while a burst is being sent.
 */
const LIMITS = { RATE_LIMIT_PER_SECOND: '0.25', RATE_LIMIT_BURST: '5', ORDER_RATE_LIMIT_PER_SECOND: '0.25', ORDER_RATE_LIMIT_BURST: '2' };

let sys: IsolatedSystem;
let httpUrl: string;
// Another client: the same machine, another source address (Linux routes all of 127/8 to loopback).
const OTHER_ADDRESS = '127.0.0.2';

beforeAll(async () => {
  sys = await startIsolatedSystem(LIMITS);
  httpUrl = sys.httpUrl;
});
afterAll(async () => {
  await sys?.stop();
});

/** One request over a connection of its own, from the given local address. */
function send(method: string, path: string, body?: unknown, localAddress = '127.0.0.1', token?: string) {
  const url = new URL(path, httpUrl);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers = { ...(payload ? { 'content-type': 'application/json' } : {}), ...(token ? bearer(token) : {}) };
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }>((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method, localAddress, agent: false, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('rate limits per principal, in Redis', () => {
  it('refuses a burst past the limit with 429 problem+json and Retry-After, and lets the client back in after it', async () => {
    const sentAt = Date.now();
    const burst = await Promise.all(Array.from({ length: 12 }, () => send('GET', '/products?limit=1')));
    const seconds = (Date.now() - sentAt) / 1000;
    const statuses = burst.map((r) => r.status).sort();
    // The bucket holds 5 (the runtime's own start may have taken none of them or some) and gains one
    // every 4 s: on a machine so busy that the burst itself took that long, one more may pass.
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(5 + Math.floor(seconds * Number(LIMITS.RATE_LIMIT_PER_SECOND)));
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(7);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    const refused = burst.find((r) => r.status === 429)!;
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(refused.body).toMatchObject({ status: 429, type: 'urn:eventflow:problem:rate-limited', title: 'Too Many Requests' });
    expect(refused.headers['retry-after']).toMatch(/^[1-4]$/);

    // Another address has a bucket of its own.
    expect((await send('GET', '/products?limit=1', undefined, OTHER_ADDRESS)).status).toBe(200);

    // Once Retry-After has passed, the client is let in again. (Asked afresh: while the burst was
    // answered, slow cold starts may have let a refilled token go to a late request.)
    const now = await send('GET', '/products?limit=1');
    expect(now.status).toBe(429);
    await sleep(Number(now.headers['retry-after']) * 1000 + 100);
    expect((await send('GET', '/products?limit=1')).status).toBe(200);
  });

  it('counts POST /orders on its own limit per signed-in customer, wherever it calls from, refused requests included', async () => {
    const customer = await tokenFor(sys.issuerUrl, { sub: randomUUID(), role: 'customer' });
    const another = await tokenFor(sys.issuerUrl, { sub: randomUUID(), role: 'customer' });
    // Invalid orders still count: the limit is for abuse, and garbage is abuse too.
    const tries = [];
    for (let i = 0; i < 3; i++) tries.push(await send('POST', '/orders', { items: [] }, '127.0.0.1', customer));
    // The same customer from another address: the same bucket.
    tries.push(await send('POST', '/orders', { items: [] }, OTHER_ADDRESS, customer));
    expect(tries.map((r) => r.status)).toEqual([400, 400, 429, 429]);
    expect(tries[2]!.headers['retry-after']).toMatch(/^[1-4]$/);
    expect(tries[2]!.body).toMatchObject({ status: 429, type: 'urn:eventflow:problem:rate-limited' });
    // Another customer from the same address: a bucket of its own.
    expect((await send('POST', '/orders', { items: [] }, '127.0.0.1', another)).status).toBe(400);
    // The customer's reads are on the other limit and still pass.
    expect((await send('GET', '/orders?limit=1', undefined, '127.0.0.1', customer)).status).toBe(200);
    expect((await sys.db('order').query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(0);
  });
});
