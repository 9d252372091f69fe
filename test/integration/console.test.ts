import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OPERATOR, bearer, tokenFor } from '../support/auth';
import { dropNamespace, freshNamespace, startRuntimeProcess } from '../support/runtime-process';
import { waitFor } from '../support/wait';
import { DEFAULTS, brokerName } from '../../shared/config';
import { connectAmqp } from '../../shared/messaging/broker';
import { EXCHANGES } from '../../shared/messaging/topology';

/**
 * `npm run dev`'s console, as a person and as a tool see it: on a terminal (a pseudo-terminal made
 * by script(1)) one readable line per entry, the per-order INFO lines summarised into a status line,
 * errors at once; off a terminal (a pipe), the functions' JSON lines exactly as on AWS. Either way
 * the OpenID issuer's own warning is replaced by one line of ours.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const PRETTY_LINE = /^\d\d:\d\d:\d\d\.\d{3} (DEBUG|INFO|WARN|ERROR|CRITICAL|STATUS)\s+\S+\s+\S/;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Api {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

function apiOf(ready: { httpUrl: string; issuerUrl: string }): Api {
  return {
    async call(method, p, body) {
      const auth = bearer(await tokenFor(ready.issuerUrl, OPERATOR));
      const res = await fetch(`${ready.httpUrl}${p}`, { method, headers: body ? { 'content-type': 'application/json', ...auth } : auth, body: body ? JSON.stringify(body) : undefined });
      return { status: res.status, body: await res.json() };
    },
  };
}

/** A product, then n orders for it (the first retried until the order service's catalog copy knows the product), each waited for until it settles. */
async function placeOrders(api: Api, n: number) {
  const product = await api.call('POST', '/products', { sku: `C-${randomUUID().slice(0, 8)}`, name: 'Console', priceCents: 500, stock: 100 });
  expect(product.status).toBe(201);
  const place = () => api.call('POST', '/orders', { customerId: randomUUID(), items: [{ productId: product.body.id, quantity: 1 }], paymentToken: 'tok_visa' });
  const ids = [(await waitFor(async () => ((await place()).body as { id?: string }).id, 'the order service to know the product', 60_000))];
  for (let i = 1; i < n; i++) {
    const order = await place();
    expect(order.status).toBe(201);
    ids.push(order.body.id);
  }
  for (const id of ids) await waitFor(async () => (await api.call('GET', `/orders/${id}`)).body.status === 'CONFIRMED' || null, `order ${id} to settle`, 60_000);
  return ids;
}

/** `npm run dev`'s entry point on a pseudo-terminal; its output as the terminal shows it. */
async function startOnTerminal(env: Record<string, string>) {
  const namespace = freshNamespace('tty');
  const command = `${process.execPath} --import tsx local/dev.ts`;
  const child: ChildProcess = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, EVENTFLOW_NAMESPACE: namespace, HTTP_PORT: '0', WS_PORT: '0', OIDC_PORT: '0', WEB_PORT: 'off', SEED_DEMO: 'false', LOG_LEVEL: 'INFO', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let raw = '';
  child.stdout!.on('data', (d) => (raw += String(d)));
  child.stderr!.on('data', (d) => (raw += String(d)));
  // What a person reads: without the colours (SGR sequences) and the terminal's carriage returns.
  const text = () => raw.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.write('\x03'); // Ctrl-C, as a person stops it
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000).unref())]);
      child.kill('SIGKILL');
    }
    await dropNamespace(namespace);
  };
  cleanups.push(stop);
  const ready = await waitFor(async () => {
    const m = /EVENTFLOW_READY (\{.*\})/.exec(text());
    return m ? (JSON.parse(m[1]!) as { httpUrl: string; issuerUrl: string; namespace: string }) : null;
  }, `the runtime on a terminal to start`, 120_000);
  return { ready, raw: () => raw, output: text, lines: () => text().split('\n').filter(Boolean) };
}

describe("npm run dev's console", () => {
  it('on a terminal: readable lines, the per-order lines summarised into a status line, an error at once', async () => {
    const run = await startOnTerminal({});
    const api = apiOf(run.ready);
    await placeOrders(api, 3);

    // A message no consumer can take: parked, and said so at once, as an ERROR of its function.
    const amqp = await connectAmqp(process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl);
    try {
      const channel = await amqp.createConfirmChannel();
      channel.publish(brokerName(EXCHANGES.payment, run.ready.namespace), 'payment.processed.x.0.0.0.0', Buffer.from('not json'), { persistent: true });
      await channel.waitForConfirms();
    } finally {
      await amqp.close();
    }
    await waitFor(async () => /ERROR\s+order-consumer\s+message parked in DLQ\s+queue=\S+order_queue\.p\d reason="body is not valid JSON".*\n\s+→ `npm run dlq` lists/.test(run.output()) || null, 'the parked message to be told, with what to do', 60_000);
    // Every 10 s, a status line counts the orders: 3 placed and, by the same or a later line, confirmed.
    const statusLines = () => run.lines().filter((l) => / STATUS /.test(l));
    await waitFor(async () => {
      const sum = (what: string) => statusLines().reduce((n, l) => n + Number(new RegExp(`(\\d+) ${what}`).exec(l)?.[1] ?? 0), 0);
      return (sum('placed') === 3 && sum('confirmed') === 3) || null;
    }, 'status lines that count 3 orders placed and confirmed', 60_000);
    const confirmedLine = statusLines().find((l) => /[1-9]\d* confirmed/.test(l))!;
    expect(confirmedLine).toMatch(/10 s: \d+ placed, [1-9]\d* confirmed, 0 failed, 0 cancelled; settle p50 \d+(\.\d)? m?s p95 \d+(\.\d)? m?s · queues order \d+, payment \d+, inventory \d+, notification \d+ · /);
    expect(confirmedLine).toMatch(/ · throttled 0 · environments \d+\/\d+ busy · \d+ info lines summarised \(LOG_LEVEL=DEBUG shows them\)$/);
    await waitFor(async () => run.lines().some((l) => / STATUS .*DLQ order 1, notification 1 \(npm run dlq\)/.test(l)) || null, 'a status line naming the parked message', 60_000);

    const lines = run.lines();
    const logLines = lines.filter((l) => !l.startsWith('EVENTFLOW_READY ') && !l.startsWith(' '));
    expect(logLines.filter((l) => !PRETTY_LINE.test(l))).toEqual([]);
    expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
    // Per-order INFO lines are in the status line, not on their own.
    expect(run.output()).not.toContain('order created');
    expect(lines.filter((l) => l.includes('sign-in sessions'))).toEqual([expect.stringMatching(/INFO\s+runtime\s+local sign-in sessions live in memory and end when `npm run dev` stops$/)]);
    expect(run.output()).not.toContain('oidc-provider');
    // Coloured: the level and the function stand out.
    expect(run.raw()).toMatch(/\x1b\[31mERROR/);
    expect(run.raw()).toMatch(/\x1b\[35mSTATUS/);
  }, 300_000);

  it('off a terminal: the functions write JSON lines exactly as on AWS, and nothing is summarised', async () => {
    const runtime = await startRuntimeProcess({ env: { LOG_LEVEL: 'INFO' } });
    cleanups.push(runtime.stop);
    const api = apiOf(runtime.system);
    const ids = await placeOrders(api, 2);
    const created = await waitFor(async () => {
      const lines = (await readFile(runtime.system.logFile, 'utf8')).split('\n');
      const json = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      const mine = json.filter((e) => e.message === 'order created' && ids.includes(e.orderId as string));
      return mine.length === ids.length ? { lines, mine } : null;
    }, 'the order-created lines in the log', 30_000);
    for (const e of created.mine) {
      expect(e).toMatchObject({ level: 'INFO', message: 'order created', service: 'order', function_name: 'order-api' });
      expect(typeof e.timestamp).toBe('string');
    }
    expect(created.lines.filter((l) => PRETTY_LINE.test(l))).toEqual([]);
    expect(created.lines.filter((l) => l.includes('sign-in sessions'))).toEqual(['[eventflow] local sign-in sessions live in memory and end when `npm run dev` stops']);
    expect(created.lines.join('\n')).not.toContain('oidc-provider');
  }, 300_000);
});
