import { randomUUID } from 'node:crypto';
import type { Browser, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeTestClients, createProduct, placeOrder, system, waitForStatus } from '../support/system';
import { expectNoErrors, launch, openPage, screenshot, statusOf, waitLive, web } from './browser';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await closeTestClients();
});

describe('pages follow the system live', () => {
  it('shows an order placed over HTTP by another client in the Orders table and the Events feed, without a reload', async () => {
    const p = await createProduct({ name: `Cable ${randomUUID().slice(0, 6)}`, priceCents: 1500, stock: 50 });
    const orders = await openPage(browser);
    const events = await openPage(browser);
    await orders.page.goto(`${web()}/orders/`);
    await events.page.goto(`${web()}/events/`);
    await Promise.all([waitLive(orders.page), waitLive(events.page)]);

    const placed = await placeOrder([{ productId: p.id, quantity: 2 }]);
    const id: string = placed.body.id;
    const row = orders.page.locator(`tr[data-order-id="${id}"]`);
    await row.waitFor({ timeout: 10_000 });
    await expect.poll(() => row.locator('[data-status]').getAttribute('data-status'), { timeout: 15_000 }).toBe('CONFIRMED');
    await events.page.locator(`li[data-order-id="${id}"][data-event-type="order.created"]`).waitFor({ timeout: 10_000 });
    await events.page.locator(`li[data-order-id="${id}"][data-event-type="order.updated"]`).waitFor({ timeout: 10_000 });

    // The feed filters by order id.
    await events.page.getByLabel('Order id').fill(id);
    await expect
      .poll(async () => new Set(await events.page.locator('li[data-order-id]').evaluateAll((els) => els.map((e) => e.getAttribute('data-order-id')))))
      .toEqual(new Set([id]));
    await screenshot(events.page, 'events-filtered');
    expectNoErrors(orders.errors, 'the orders page');
    expectNoErrors(events.errors, 'the events page');
  });

  it("moves the overview's figures when orders are placed", async () => {
    const p = await createProduct({ name: `Notebook ${randomUUID().slice(0, 6)}`, priceCents: 500, stock: 100 });
    const { page, errors } = await openPage(browser);
    await page.goto(`${web()}/`);
    await waitLive(page);
    await page.locator('[aria-busy="false"]').waitFor();
    const figure = async (key: string) => Number((await page.locator(`[data-figure="${key}"]`).textContent())?.replace(/[^0-9.]/g, ''));
    // The hour's figures only grow during a test; the minute's also lose what turns a minute old.
    const placedBefore = await figure('lastHour.placed');
    const confirmedBefore = await figure('lastHour.confirmed');
    const revenueBefore = await figure('lastHour.revenue');

    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await placeOrder([{ productId: p.id, quantity: 1 }])).body.id as string);
    for (const id of ids) await waitForStatus(id, ['CONFIRMED']);

    await expect.poll(() => figure('lastHour.placed'), { timeout: 10_000 }).toBe(placedBefore + 3);
    expect(await figure('lastMinute.placed')).toBeGreaterThanOrEqual(3);
    await expect.poll(() => figure('lastHour.confirmed'), { timeout: 10_000 }).toBe(confirmedBefore + 3);
    await expect.poll(() => figure('lastHour.revenue')).toBeCloseTo(revenueBefore + 15, 2);
    await expect.poll(() => figure('inFlight')).toBe(0);
    expect(await page.locator('[data-figure="lastMinute.p50"]').textContent()).toMatch(/\d+(\.\d+)? (ms|s)/);
    await screenshot(page, 'overview');
    expectNoErrors(errors, 'the overview');
  });

  it('reconnects after the WebSocket drops and catches up on the events it missed', async () => {
    const p = await createProduct({ name: `Headset ${randomUUID().slice(0, 6)}`, priceCents: 12900, stock: 20 });
    const { page, errors } = await openPage(browser);
    let allow = true;
    const sockets: WebSocketRoute[] = [];
    // The dashboard's socket URL carries its access token as ?token=.
    await page.routeWebSocket((url) => url.toString().startsWith(system().wsUrl), (ws) => {
      sockets.push(ws);
      if (allow) ws.connectToServer();
      else void ws.close({ code: 1006, reason: 'network down' }).catch(() => undefined);
    });
    await page.goto(`${web()}/orders/`);
    await waitLive(page);

    // The network goes away: the socket closes and every new attempt fails.
    allow = false;
    await sockets.at(-1)!.close({ code: 1006, reason: 'network down' });
    await page.locator('[data-connection="reconnecting"]').waitFor({ timeout: 10_000 });

    // Meanwhile another client places an order, and it settles: the page hears none of it.
    const placed = await placeOrder([{ productId: p.id, quantity: 1 }]);
    const id: string = placed.body.id;
    await waitForStatus(id, ['CONFIRMED']);
    // At least one attempt to reconnect has been refused meanwhile.
    await expect.poll(() => sockets.length, { timeout: 10_000 }).toBeGreaterThan(1);
    expect(await page.locator(`tr[data-order-id="${id}"]`).count()).toBe(0);

    // The network comes back: the socket reconnects, resumes from the last event it saw, and the
    // page shows the order, already confirmed.
    allow = true;
    const row = page.locator(`tr[data-order-id="${id}"]`);
    await row.waitFor({ timeout: 30_000 });
    await expect.poll(() => row.locator('[data-status]').getAttribute('data-status'), { timeout: 10_000 }).toBe('CONFIRMED');
    await waitLive(page);
    expect(sockets.length).toBeGreaterThan(2);
    expectNoErrors(errors, 'the orders page across the drop');
  });
});
