import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, ROUTE_THROTTLES } from '../../functions/catalog';
import type { FunctionSpec } from '../../functions/catalog';
import { bundleFunctions } from '../../local/bundles';
import { startHttpGateway } from '../../local/http-gateway';
import { LOCAL_THROTTLE_WAIT_MS, useEnvironments } from '../../local/lambda';
import { waitFor } from '../support/wait';

/**
 * The local HTTP API in front of a function at its concurrency: one environment, a handler that
 * sleeps when asked (test/fixtures/environment-handler.ts) on a public route, so no authorizer is
 * involved. The gateway's bound is the runtime's (LOCAL_THROTTLE_WAIT_MS, 1 s unless set).
 */
const slow: FunctionSpec = {
  id: 'gateway-slow',
  service: 'platform',
  entry: 'test/fixtures/environment-handler.ts',
  trigger: { kind: 'http', routes: [ROUTES.health] },
  memoryMb: 128,
  timeoutSeconds: 10,
  dbPoolMax: 1,
  maxConcurrency: 1,
  uses: { databases: [], broker: false, redis: false },
  identity: {},
};

let environments: ReturnType<typeof useEnvironments>;
let gateway: Awaited<ReturnType<typeof startHttpGateway>>;
const logged: string[] = [];
const errors: unknown[] = [];

beforeAll(async () => {
  environments = useEnvironments({ bundles: await bundleFunctions([slow], 'test-http-gateway'), env: process.env, logError: (_, err) => errors.push(err) });
  gateway = await startHttpGateway({
    host: '127.0.0.1',
    port: 0,
    verifyClaims: async () => {
      throw new Error('a public route needs no token');
    },
    functions: [slow],
    // The route budgets have a test of their own below.
    routeThrottling: false,
    onError: (err) => errors.push(err),
    log: (line) => logged.push(line),
  });
});

afterAll(async () => {
  await gateway?.close();
  await environments?.stop();
});

const get = (query: string, headers: Record<string, string> = {}) => fetch(`${gateway.url}/health?${query}`, { headers });
const invocations = async (res: Response) => ((await res.json()) as { invocations: number }).invocations;

describe('the local HTTP API, with every environment of a function busy', () => {
  it('throttles a request that waits past the bound: 503 problem+json with Retry-After, never run', async () => {
    expect(await invocations(await get('action=count'))).toBe(1);
    let slowDone = false;
    const busy = get(`action=sleep&ms=${LOCAL_THROTTLE_WAIT_MS * 2 + 2_000}`).then((res) => ((slowDone = true), res));
    await waitFor(async () => environments.stats()[slow.id]?.busy === 1, 'the slow request to hold the environment');

    const asked = Date.now();
    const res = await get('action=count', { origin: 'http://localhost:3000' });
    expect(Date.now() - asked).toBeGreaterThanOrEqual(LOCAL_THROTTLE_WAIT_MS - 100); // it waited for the bound first
    expect(slowDone).toBe(false); // and the bound ended the wait, not a release
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('access-control-allow-origin')).toBeTruthy(); // as on every other answer
    expect(await res.json()).toEqual({
      type: 'urn:eventflow:problem:throttled',
      title: 'Service Unavailable',
      status: 503,
      detail: expect.stringMatching(/^the function behind GET \/health is at its concurrency limit; the request was not run/),
      instance: '/health',
    });
    // One more throttled at once: one log line for both (the next comes only after 10 s).
    expect((await get('action=count')).status).toBe(503);
    expect(logged).toEqual([expect.stringMatching(/^1 HTTP request\(s\) throttled \(gateway-slow: every environment busy for \d+ ms\)$/)]);

    expect((await busy).status).toBe(200);
    // Neither throttled request ran: the slow one was the second invocation, this is the third.
    expect(await invocations(await get('action=count'))).toBe(3);
    expect(errors).toEqual([]);
  });
});

describe("the local HTTP API playing API Gateway's per-route throttling", () => {
  it('refuses what exceeds a route\'s budget, all callers together, with API Gateway\'s 429, before the function runs', async () => {
    const edge = await startHttpGateway({
      host: '127.0.0.1',
      port: 0,
      verifyClaims: async () => {
        throw new Error('a public route needs no token');
      },
      functions: [slow],
      routeThrottling: true,
      // The admitted requests queue for the one environment: none of them may be refused for that.
      throttleWaitMs: 30_000,
      onError: (err) => errors.push(err),
    });
    try {
      const before = await invocations(await get('action=count'));
      // GET /health's budget is the catalog's: a burst of 10, then 5 a second.
      const { burst } = ROUTE_THROTTLES[ROUTES.health]!;
      const answers = await Promise.all(Array.from({ length: burst * 2 }, () => fetch(`${edge.url}/health?action=count`)));
      const statuses = answers.map((r) => r.status);
      const refused = answers.filter((r) => r.status === 429);
      // The burst, plus what the rate refilled while the requests came in (well under a second).
      const admitted = statuses.filter((s) => s === 200).length;
      expect(admitted).toBeGreaterThanOrEqual(burst);
      expect(admitted).toBeLessThanOrEqual(burst + 5);
      expect(refused.length).toBe(burst * 2 - admitted);
      expect(await refused[0]!.json()).toEqual({ message: 'Too Many Requests' });
      // Only the admitted ones ran.
      expect(await invocations(await get('action=count'))).toBe(before + 1 + statuses.filter((s) => s === 200).length);
    } finally {
      await edge.close();
    }
  });
});
