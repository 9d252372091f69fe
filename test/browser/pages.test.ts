import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routingKeyFor } from '../../shared/messaging/routing';
import { closeTestClients, createProduct, placeOrder, publishRaw, waitForStatus } from '../support/system';
import { axeViolations, expectNoErrors, launch, openPage, screenshot, statusOf, waitLive, web } from './browser';

let browser: Browser;
let orderId: string;

beforeAll(async () => {
  browser = await launch();
  const p = await createProduct({ name: `Keyboard ${randomUUID().slice(0, 6)}`, priceCents: 8900, stock: 30, lowStockThreshold: 29 });
  orderId = (await placeOrder([{ productId: p.id, quantity: 2 }])).body.id;
  await waitForStatus(orderId, ['CONFIRMED']);
  // Something for the Queues page to show: a message no consumer can read, parked in a DLQ.
  await publishRaw('inventory', routingKeyFor('inventory.reserved', randomUUID()), 'this is not JSON');
});
afterAll(async () => {
  await browser?.close();
  await closeTestClients();
});

/** Waits until a page has loaded what it shows: live, nothing "Loading…" left. */
async function settled(page: Page) {
  await waitLive(page);
  // Polled from outside: a predicate polled inside the page would need eval, which the CSP forbids.
  await expect.poll(() => page.evaluate("document.body.innerText.includes('Loading')"), { timeout: 15_000 }).toBe(false);
}

const PAGES: { name: string; path: () => string; ready?: (page: Page) => Promise<unknown> }[] = [
  { name: 'overview', path: () => '/', ready: (p) => p.locator('[aria-busy="false"]').waitFor() },
  { name: 'orders', path: () => '/orders/', ready: (p) => p.locator('tr[data-order-id]').first().waitFor() },
  { name: 'order', path: () => `/orders/view/?id=${orderId}`, ready: (p) => p.locator('[data-step="order.updated"]').waitFor() },
  { name: 'new-order', path: () => '/orders/new/', ready: (p) => p.getByRole('button', { name: 'Place order' }).waitFor() },
  { name: 'events', path: () => '/events/', ready: (p) => p.locator('li[data-event-type]').first().waitFor() },
  { name: 'inventory', path: () => '/inventory/', ready: (p) => p.locator('tr[data-product-id]').first().waitFor() },
  { name: 'payments', path: () => '/payments/', ready: (p) => p.locator('tr[data-payment-order]').first().waitFor() },
  { name: 'queues', path: () => '/queues/', ready: (p) => p.locator('tr[data-dead-letter]').first().waitFor({ timeout: 20_000 }) },
  { name: 'audit', path: () => '/audit/', ready: (p) => p.locator('tr[data-audit-id]').first().waitFor() },
  { name: 'history', path: () => '/history/', ready: (p) => p.locator('tr[data-projection="orders"]').waitFor() },
];

describe('every page', () => {
  for (const spec of PAGES) {
    it(`${spec.name}: loads from the static files, has no accessibility violation and no console error`, async () => {
      const { page, errors } = await openPage(browser);
      const res = await page.goto(`${web()}${spec.path()}`);
      expect(res?.status()).toBe(200);
      await spec.ready?.(page);
      await settled(page);
      expect(await axeViolations(page)).toEqual([]);
      await screenshot(page, spec.name);
      // Keyboard: the first Tab lands on the skip link, and every control is reachable.
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Skip to content');
      expectNoErrors(errors, spec.name);
      await page.close();
    });
  }

  it('opens an order from a deep link, with or without the trailing slash, keeping the query', async () => {
    const { page, errors } = await openPage(browser);
    const res = await page.goto(`${web()}/orders/view?id=${orderId}`);
    expect(res?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/orders/view/');
    expect(new URL(page.url()).searchParams.get('id')).toBe(orderId);
    await expect.poll(() => statusOf(page)).toBe('CONFIRMED');
    expectNoErrors(errors, 'the deep link');
  });

  it('answers an unknown URL with the 404 page and status 404', async () => {
    const { page, errors } = await openPage(browser);
    for (const path of ['/no-such-page/', '/no-such-page', '/orders/nope/']) {
      const res = await page.goto(`${web()}${path}`);
      expect(res?.status(), path).toBe(404);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Page not found');
    }
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'not-found');
    // The only errors are the browser's own notes of the 404 answers themselves.
    expect(errors.filter((e) => !/status of 404/.test(e))).toEqual([]);
  });

  it('sorts a table from the keyboard and tells screen readers how it is sorted', async () => {
    // Products with different stock, so the order shows.
    for (const stock of [7, 2, 11]) await createProduct({ name: `Sorted ${stock} ${randomUUID().slice(0, 4)}`, stock });
    const { page, errors } = await openPage(browser);
    await page.goto(`${web()}/inventory/`);
    const table = page.getByRole('table', { name: 'Products' });
    await table.locator('tr[data-product-id]').first().waitFor();
    const header = table.getByRole('columnheader', { name: /Available/ });
    const available = async () => (await table.locator('td[data-field="available"]').allTextContents()).map(Number);
    const sorted = (xs: number[], dir: 1 | -1) => [...xs].sort((a, b) => dir * (a - b));
    expect(await header.getAttribute('aria-sort')).toBeNull();

    await header.getByRole('button').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => header.getAttribute('aria-sort')).toBe('ascending');
    const up = await available();
    expect(up).toEqual(sorted(up, 1));
    await page.keyboard.press('Space');
    await expect.poll(() => header.getAttribute('aria-sort')).toBe('descending');
    const down = await available();
    expect(down).toEqual(sorted(down, -1));
    expect(down.length).toBeGreaterThanOrEqual(3);
    // Only the sorted column says it is sorted.
    expect(await table.locator('th[aria-sort]').count()).toBe(1);
    // A column that offers no sorting says nothing about it.
    const actions = table.getByRole('columnheader', { name: 'Actions' });
    expect(await actions.getAttribute('aria-sort')).toBeNull();
    expect(await actions.getByRole('button').count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    expectNoErrors(errors, 'the sorted inventory');
  });

  it('shows why a message was parked and redrives it from the Queues page', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${web()}/queues/`);
    const parked = page.locator('[data-dlq="order_queue.dlq"]');
    await expect.poll(() => parked.locator('tr[data-dead-letter]').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await parked.textContent()).toMatch(/not JSON|not valid JSON|JSON/i);
    await parked.getByRole('button', { name: 'Redrive to order_queue' }).click();
    await parked.getByRole('button', { name: 'Yes, redrive' }).click();
    // The panel may go while the DLQ is empty; the result stays on the page.
    await expect
      .poll(() => page.locator('[data-redrive-result]').textContent({ timeout: 1_000 }).catch(() => ''), { timeout: 15_000 })
      .toMatch(/Moved [1-9]\d* message\(s\) from order_queue\.dlq back to order_queue/);
    expectNoErrors(errors, 'the queues page');
  });
});
