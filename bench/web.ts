/**
 * `npm run bench:web`: the dashboard's weight and its cost under a stream of events. Not a test: it
 * prints numbers.
 *
 * 1. First-load JavaScript of each page, gzipped: every script the page loads until the network is
 *    idle (uPlot, loaded on demand by the chart pages, included), sized from web/out. Prefetches of
 *    the other pages (the navigation's links) are held back: they are those pages' weight.
 * 2. Main-thread time per second (Chrome's TaskDuration, over `SECONDS` s, median of `RUNS`) on the
 *    overview and the events feed while `RATE` events/s arrive over the page's own WebSocket.
 *    The events are posted to the page's connection through the local WebSocket Management API,
 *    exactly as the notification consumer delivers them (frames of `FRAME` events), so the number is
 *    the page's cost alone, not the back end's: synthetic sagas of 5 events (1 in 10 declined).
 *
 * Starts its own runtime (with the dashboard) in a namespace of its own, and removes it afterwards.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { notificationKeys } from '../functions/notification/redis-keys';
import { DEFAULTS } from '../shared/config';
import { createEvent } from '../shared/events/envelope';
import type { AnyEnvelope } from '../shared/events/envelope';
import { WEB_OUT, ensureWebExport } from '../scripts/build-web';
import { launch } from '../test/browser/browser';
import { ACCESS_TOKEN_KEY } from '../web/lib/access-token';
import { benchAccess } from './access';
import { startRuntimeProcess } from '../test/support/runtime-process';

const RATES = (process.env.RATES ?? '0,200').split(',').map(Number);
const SECONDS = Number(process.env.SECONDS ?? 10);
const RUNS = Number(process.env.RUNS ?? 3);
const FRAME = Number(process.env.FRAME ?? 10);
const PAGES = ['/', '/orders/', '/orders/view/', '/orders/new/', '/events/', '/inventory/', '/payments/', '/queues/'];
const BUDGET = { firstLoadKiB: 180, mainThreadMsPerS: 100 };

let operatorToken = '';

/** A browser context whose pages hold the operator's access token where the dashboard reads it. */
async function signedIn(context: BrowserContext): Promise<BrowserContext> {
  await context.addInitScript(
    ([key, value]) => (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage.setItem(key, value),
    [ACCESS_TOKEN_KEY, operatorToken] as const,
  );
  return context;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const kib = (bytes: number) => (bytes / 1024).toFixed(1);

/** Scripts a page loads until the network is idle, gzipped (as CloudFront serves them). */
async function firstLoadJs(browser: Browser, web: string, route: string) {
  const context = await signedIn(await browser.newContext());
  const page = await context.newPage();
  const scripts = new Set<string>();
  // Route prefetches start with the other pages' RSC payloads (.txt): hold them back.
  await page.route(/\.txt(\?|$)/, (r) => r.abort());
  page.on('response', (r) => {
    const { pathname } = new URL(r.url());
    if (pathname.endsWith('.js')) scripts.add(pathname);
  });
  await page.goto(`${web}${route}${route === '/orders/view/' ? `?id=${randomUUID()}` : ''}`, { waitUntil: 'networkidle' });
  let gz = 0;
  let raw = 0;
  for (const s of scripts) {
    const body = readFileSync(path.join(WEB_OUT, s));
    raw += body.length;
    gz += gzipSync(body).length;
  }
  await context.close();
  return { route, files: scripts.size, raw, gz };
}

/** One saga's events, as the services publish them. */
function saga(): AnyEnvelope[] {
  const orderId = randomUUID();
  const paymentId = randomUUID();
  const productId = randomUUID();
  const cause = { correlationId: `bench-${orderId}`, causationId: null };
  const declined = Math.random() < 0.1;
  const items = [{ productId, name: 'Bench item', quantity: 1, unitPriceCents: 1500, lineTotalCents: 1500 }];
  const events: AnyEnvelope[] = [
    createEvent('order.created', { orderId, orderVersion: 1, customerId: randomUUID(), items, totalCents: 1500, currency: 'USD', paymentToken: 'tok_visa' }, cause),
    createEvent('inventory.reserved', { orderId, orderVersion: 1, items: [{ productId, quantity: 1 }] }, cause),
    createEvent('payment.initiated', { orderId, orderVersion: 1, paymentId, amountCents: 1500, currency: 'USD' }, cause),
  ];
  if (declined) {
    events.push(createEvent('payment.failed', { orderId, orderVersion: 1, paymentId, amountCents: 1500, reason: 'card declined' }, cause));
    events.push(createEvent('order.updated', { orderId, orderVersion: 2, status: 'FAILED', previousStatus: 'PENDING', reason: 'card declined' }, cause));
  } else {
    events.push(createEvent('payment.processed', { orderId, orderVersion: 1, paymentId, amountCents: 1500, currency: 'USD' }, cause));
    events.push(createEvent('order.updated', { orderId, orderVersion: 2, status: 'CONFIRMED', previousStatus: 'PENDING', reason: null }, cause));
  }
  return events;
}

/** Posts `rate` events/s to a connection in frames of FRAME events until stopped. */
function stream(callbackUrl: string, connectionId: string, rate: number) {
  let stopped = false;
  let sent = 0;
  let failed = 0;
  const done = (async () => {
    if (rate === 0) return;
    const start = performance.now();
    let pending: AnyEnvelope[] = [];
    while (!stopped) {
      const due = Math.floor(((performance.now() - start) / 1000) * rate);
      while (sent + pending.length < due) pending.push(...saga());
      while (pending.length >= FRAME || (pending.length && sent + pending.length >= due)) {
        const frame = pending.splice(0, FRAME);
        const res = await fetch(`${callbackUrl}/@connections/${encodeURIComponent(connectionId)}`, {
          method: 'POST',
          headers: { authorization: 'bench', 'content-type': 'application/json' },
          body: JSON.stringify(frame),
        });
        if (res.ok) sent += frame.length;
        else failed += frame.length;
        await res.arrayBuffer();
      }
      await new Promise((r) => setTimeout(r, 1000 / (rate / FRAME) / 2));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await done;
      return { sent, failed };
    },
  };
}

async function mainThread(page: Page, seconds: number) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const read = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
    return { task: m.TaskDuration ?? 0, script: m.ScriptDuration ?? 0, heap: m.JSHeapUsedSize ?? 0 };
  };
  const a = await read();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const b = await read();
  const elapsed = (performance.now() - t0) / 1000;
  await cdp.detach();
  const nodes = Number(await page.evaluate('document.getElementsByTagName("*").length'));
  return { msPerS: ((b.task - a.task) * 1000) / elapsed, scriptMsPerS: ((b.script - a.script) * 1000) / elapsed, heapMb: b.heap / 1e6, nodes };
}

async function main() {
  const built = await ensureWebExport({ log: (l) => console.error(l) });
  const { system, stop } = await startRuntimeProcess({ env: { WEB_PORT: '0' } });
  operatorToken = (await benchAccess(system)).token;
  const browser = await launch();
  const redis = new Redis(process.env.REDIS_URL ?? DEFAULTS.redisUrl);
  const callbackUrl = system.wsUrl.replace(/^ws/, 'http');
  try {
    const web = system.webUrl!;
    console.log(`dashboard build: ${built.built ? `${(built.ms / 1000).toFixed(1)} s` : 'up to date'}`);
    console.log('\nFirst-load JavaScript per page (every script loaded until the network is idle, gzipped)');
    console.log('| page | scripts | raw | gzipped |\n|---|---:|---:|---:|');
    for (const route of PAGES) {
      const r = await firstLoadJs(browser, web, route);
      console.log(`| ${route} | ${r.files} | ${kib(r.raw)} KiB | ${kib(r.gz)} KiB |${route === '/' && r.gz / 1024 > BUDGET.firstLoadKiB ? ' over budget' : ''}`);
    }

    console.log(`\nMain thread while events arrive (median of ${RUNS} runs of ${SECONDS} s; frames of ${FRAME} events)`);
    console.log('| page | events/s | main thread ms/s | of which script ms/s | JS heap | elements in the DOM | delivered |\n|---|---:|---:|---:|---:|---:|---:|');
    for (const route of ['/', '/events/']) {
      for (const rate of RATES) {
        const runs: Awaited<ReturnType<typeof mainThread>>[] = [];
        let delivered = 0;
        for (let i = 0; i < RUNS; i++) {
          const context = await signedIn(await browser.newContext({ viewport: { width: 1360, height: 900 } }));
          const page = await context.newPage();
          await page.goto(`${web}${route}`);
          await page.locator('[data-connection="live"]').waitFor({ timeout: 30_000 });
          const ids = Object.keys(await redis.hgetall(notificationKeys(system.namespace).connections));
          if (ids.length !== 1) throw new Error(`expected the page's one connection, found ${ids.length}`);
          const s = stream(callbackUrl, ids[0]!, rate);
          await new Promise((r) => setTimeout(r, 3_000)); // warm up: charts built, steady state
          runs.push(await mainThread(page, SECONDS));
          delivered += (await s.stop()).sent;
          await context.close();
          await new Promise((r) => setTimeout(r, 500)); // the connection's $disconnect
        }
        const m = (k: keyof (typeof runs)[number]) => median(runs.map((r) => r[k]));
        const over = route === '/' && rate >= 200 && m('msPerS') > BUDGET.mainThreadMsPerS ? ' over budget' : '';
        console.log(
          `| ${route} | ${rate} | ${m('msPerS').toFixed(1)}${over} | ${m('scriptMsPerS').toFixed(1)} | ${m('heapMb').toFixed(1)} MB | ${Math.round(m('nodes'))} | ${Math.round(delivered / RUNS / (SECONDS + 3))}/s |`,
        );
      }
    }
    console.log(`\nbudgets: overview first-load JS <= ${BUDGET.firstLoadKiB} KiB gzipped; overview main thread <= ${BUDGET.mainThreadMsPerS} ms/s at 200 events/s`);
  } finally {
    redis.disconnect();
    await browser.close();
    await stop();
  }
}

await main();
