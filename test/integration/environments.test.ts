import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../../functions/catalog';
import { bundleFunctions } from '../../local/bundles';
import { FunctionEnvironments, InvocationError, InvocationThrottled } from '../../local/lambda';
import { waitFor } from '../support/wait';
import { processAlive } from '../../scripts/process-tree';

/** The local runtime's execution environments, as Lambda runs them, with a handler made for the purpose. */
const spec = (id: string, over: Partial<FunctionSpec> = {}): FunctionSpec => ({
  id,
  service: 'platform',
  entry: 'test/fixtures/environment-handler.ts',
  trigger: { kind: 'http', routes: [] },
  memoryMb: 128,
  timeoutSeconds: 2,
  dbPoolMax: 1,
  maxConcurrency: 2,
  uses: { databases: [], broker: false, redis: false },
  identity: {},
  ...over,
});

const open: FunctionEnvironments[] = [];
let bundles: Record<string, string>;
beforeAll(async () => {
  bundles = await bundleFunctions(['env-a', 'env-b', 'env-c', 'env-d', 'env-e', 'env-f', 'env-g', 'env-h', 'env-i', 'env-j', 'env-k'].map((id) => spec(id)), 'test-environments');
});
function environments(s: FunctionSpec) {
  const envs = new FunctionEnvironments(s, { bundles, env: process.env, logError: () => undefined });
  open.push(envs);
  return envs;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.stop()));
});


type Reply = { pid: number; invocations: number; memory: string; pool: string };

/** Settles to the reply, or to the error; and says whether it has settled yet. */
function watched(p: Promise<unknown>) {
  const w = { settled: false, outcome: p.then((r) => r as Reply, (e: unknown) => e as Error) };
  void w.outcome.then(() => (w.settled = true));
  return w;
}

describe('local execution environments', () => {
  it('never run an invocation whose caller went away while it waited for an environment', async () => {
    const envs = environments(spec('env-g', { maxConcurrency: 1 }));
    await envs.invoke({ action: 'count' });
    const busy = envs.invoke({ action: 'sleep', ms: 1_500 });
    const caller = new AbortController();
    const abandoned = envs.invoke({ action: 'count' }, { signal: caller.signal });
    const waiting = envs.invoke({ action: 'count' });
    setTimeout(() => caller.abort(), 200);
    await expect(abandoned).rejects.toThrow(/went away/);
    await busy;
    // The one behind it ran next, in the same environment: the abandoned event never reached it.
    expect(((await waiting) as Reply).invocations).toBe(3);
    expect(((await envs.invoke({ action: 'count' })) as Reply).invocations).toBe(4);
  });

  it('throttle an invocation that finds every environment busy for its whole bound, and never run it', async () => {
    const envs = environments(spec('env-h', { maxConcurrency: 1 }));
    await envs.invoke({ action: 'count' });
    const busy = watched(envs.invoke({ action: 'sleep', ms: 1_500 }));
    const asked = Date.now();
    const bounded = envs.invoke({ action: 'count' }, { maxWaitMs: 200 }).catch((e: unknown) => e);
    const patient = envs.invoke({ action: 'count' });
    const err = await bounded;
    const waited = Date.now() - asked;
    expect(err).toBeInstanceOf(InvocationThrottled);
    expect(err).toBeInstanceOf(InvocationError);
    expect(err).toMatchObject({ functionId: 'env-h', concurrency: 1, message: expect.stringMatching(/concurrency limit \(1\).*within 200 ms; throttled, not invoked/) });
    // The bound ended the wait, not a release: the busy one is still running.
    expect(busy.settled).toBe(false);
    expect(waited).toBeGreaterThanOrEqual(180);
    // Lambda's own: refused at once.
    await expect(envs.invoke({ action: 'count' }, { maxWaitMs: 0 })).rejects.toBeInstanceOf(InvocationThrottled);
    expect(((await busy.outcome) as Reply).invocations).toBe(2);
    // The one behind it ran next: the throttled ones never reached the environment, nor stayed in line.
    expect(((await patient) as Reply).invocations).toBe(3);
    expect(((await envs.invoke({ action: 'count' }, { maxWaitMs: 0 })) as Reply).invocations).toBe(4);
    expect(envs.stats()).toEqual({ busy: 0, total: 1 });
  });

  it('run an invocation whose environment frees up within its bound', async () => {
    const envs = environments(spec('env-i', { maxConcurrency: 1 }));
    await envs.invoke({ action: 'count' });
    const busy = envs.invoke({ action: 'sleep', ms: 300 });
    const bounded = (await envs.invoke({ action: 'count' }, { maxWaitMs: 5_000 })) as Reply;
    expect(((await busy) as Reply).invocations).toBe(2);
    expect(bounded.invocations).toBe(3);
  });

  it('keep the others in line, first come first served, around a throttled one', async () => {
    const envs = environments(spec('env-j', { maxConcurrency: 1 }));
    await envs.invoke({ action: 'count' });
    const busy = envs.invoke({ action: 'sleep', ms: 800 });
    const line = [
      envs.invoke({ action: 'count' }),
      envs.invoke({ action: 'count' }, { maxWaitMs: 100 }).catch((e: unknown) => e),
      envs.invoke({ action: 'count' }, { maxWaitMs: 20_000 }),
      envs.invoke({ action: 'count' }, { maxWaitMs: 150 }).catch((e: unknown) => e),
      envs.invoke({ action: 'count' }),
    ];
    const [first, throttled, second, alsoThrottled, third] = await Promise.all(line);
    await busy;
    expect(throttled).toBeInstanceOf(InvocationThrottled);
    expect(alsoThrottled).toBeInstanceOf(InvocationThrottled);
    expect([first, second, third].map((r) => (r as Reply).invocations)).toEqual([3, 4, 5]);
  });

  it('either run or throttle an invocation whose bound runs out as an environment frees up, and keep the line moving', async () => {
    const envs = environments(spec('env-k', { maxConcurrency: 1 }));
    await envs.invoke({ action: 'count' });
    // Bounds around the busy one's end (its sleep plus the round trip), so the timer and the release race.
    for (const maxWaitMs of [185, 195, 200, 205, 210, 220]) {
      const busy = envs.invoke({ action: 'sleep', ms: 200 });
      const racer = watched(envs.invoke({ action: 'count' }, { maxWaitMs }));
      const next = envs.invoke({ action: 'count' });
      const ran = ((await busy) as Reply).invocations;
      const raced = await racer.outcome;
      if (raced instanceof Error) {
        expect(raced).toBeInstanceOf(InvocationThrottled);
        expect(((await next) as Reply).invocations).toBe(ran + 1);
      } else {
        expect(raced.invocations).toBe(ran + 1);
        expect(((await next) as Reply).invocations).toBe(ran + 2);
      }
    }
    expect(envs.stats()).toEqual({ busy: 0, total: 1 });
  });

  it('run a function in a process of its own, one invocation at a time, with the catalog settings', async () => {
    const envs = environments(spec('env-a', { memoryMb: 192 }));
    const first = (await envs.invoke({ action: 'count' })) as Reply;
    const second = (await envs.invoke({ action: 'count' })) as Reply;
    expect(first.pid).not.toBe(process.pid);
    expect(second).toMatchObject({ pid: first.pid, invocations: 2, memory: '192', pool: '1' });
    // two at once need two environments, up to the function's concurrency
    const both = (await Promise.all([envs.invoke({ action: 'sleep', ms: 300 }), envs.invoke({ action: 'sleep', ms: 300 })])) as Reply[];
    expect(new Set(both.map((r) => r.pid)).size).toBe(2);
    const three = (await Promise.all([1, 2, 3].map(() => envs.invoke({ action: 'sleep', ms: 100 })))) as Reply[];
    expect(new Set(three.map((r) => r.pid)).size).toBe(2);
    expect(envs.stats()).toEqual({ busy: 0, total: 2 });
  });

  it('share no module state between functions', async () => {
    const a = environments(spec('env-b'));
    const b = environments(spec('env-c'));
    await a.invoke({ action: 'count' });
    await a.invoke({ action: 'count' });
    expect(((await b.invoke({ action: 'count' })) as Reply).invocations).toBe(1);
  });

  it('end an invocation that runs past its timeout by ending its environment, and start a new one', async () => {
    const envs = environments(spec('env-d', { timeoutSeconds: 1, maxConcurrency: 1 }));
    const before = (await envs.invoke({ action: 'count' })) as Reply;
    await expect(envs.invoke({ action: 'sleep', ms: 5_000 })).rejects.toThrow(/timed out after 1 s; its environment was ended/);
    await waitFor(async () => !processAlive(before.pid), 'the timed-out environment to be gone', 5_000);
    const after = (await envs.invoke({ action: 'count' })) as Reply;
    expect(after.pid).not.toBe(before.pid);
    expect(after.invocations).toBe(1); // a cold start
  });

  it('return a handler error as the invocation error, and keep the environment', async () => {
    const envs = environments(spec('env-e'));
    const before = (await envs.invoke({ action: 'count' })) as Reply;
    await expect(envs.invoke({ action: 'fail' })).rejects.toMatchObject({ message: 'handler said no', remote: { code: 'E_NO' } });
    expect(((await envs.invoke({ action: 'count' })) as Reply).pid).toBe(before.pid);
  });

  it('replace an environment that an error outside any invocation ended', async () => {
    const envs = environments(spec('env-f', { maxConcurrency: 1 }));
    const before = (await envs.invoke({ action: 'crash' })) as Reply;
    await waitFor(async () => !processAlive(before.pid), 'the crashed environment to be gone', 5_000);
    expect(((await envs.invoke({ action: 'count' })) as Reply).pid).not.toBe(before.pid);
  });
});
