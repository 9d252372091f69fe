import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routingKeyFor } from '../../shared/messaging/routing';
import { api, as, closeTestClients, createProduct, publishRaw, waitFor } from '../support/system';
import { axeViolations, expectNoErrors, launch, openPage, screenshot, waitLive, web } from './browser';

let browser: Browser;
let productId: string;
beforeAll(async () => {
  browser = await launch();
  productId = (await createProduct({ name: `Audited desk ${randomUUID().slice(0, 6)}`, priceCents: 12000, stock: 40, lowStockThreshold: 4 })).id;
  await api('PATCH', `/products/${productId}`, { priceCents: 11000, stock: 35 });
});
afterAll(async () => {
  await browser?.close();
  await closeTestClients();
});

describe('the Audit page', () => {
  it("shows who changed what, when, from where and the outcome, with an edit's before and after", async () => {
    const { page, errors } = await openPage(browser);
    const res = await page.goto(`${web()}/audit/?target=${productId}`);
    expect(res?.status()).toBe(200);
    const edit = page.locator('tr[data-audit-route="PATCH /products/{id}"]');
    await edit.waitFor();
    await waitLive(page);
    expect(await page.locator('tr[data-audit-id]').count()).toBe(2);
    const text = (await edit.textContent()) ?? '';
    expect(text).toContain('operator');
    expect(text).toMatch(/price:\s*\$120\.00\s*→\s*\$110\.00/);
    expect(text).toMatch(/stock:\s*40\s*→\s*35/);
    expect(text).toContain('200');
    expect(text).toMatch(/127\.0\.0\.1|::1/);
    expect(await page.getByLabel('Target id').inputValue()).toBe(productId);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'audit-filtered');
    expectNoErrors(errors, 'the audit page');
  });

  it('adds an order placed over HTTP by a customer, and a redrive an operator ran, without a reload', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${web()}/audit/`);
    await page.locator('tr[data-audit-id]').first().waitFor();
    await waitLive(page);

    const customer = { sub: randomUUID(), role: 'customer' as const };
    const placed = await api('POST', '/orders', { items: [{ productId, quantity: 1 }], paymentToken: 'tok_visa' }, await as(customer));
    expect(placed.status).toBe(201);
    // Live: the page reads again when an event a command published arrives.
    const row = page.locator('tr[data-audit-route="POST /orders"]').filter({ has: page.locator(`a[title="${placed.body.id}"]`) });
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain('customer');
    expect(await row.textContent()).toContain('201');

    // A redrive publishes no event: the page's poll finds it. Something to redrive first.
    await publishRaw('inventory', routingKeyFor('inventory.reserved', randomUUID()), 'not JSON, for the audit page');
    await waitFor(async () => {
      const { body } = await api('GET', '/queues');
      return body.queues.find((q: { name: string }) => q.name === 'order_queue').deadLetter.depth > 0;
    }, 'the message to be parked');
    expect((await api('POST', '/queues/order_queue/redrive')).body.moved).toBeGreaterThan(0);
    const redrives = page.locator('tr[data-audit-route="POST /queues/{queue}/redrive"]');
    await expect.poll(() => redrives.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    expect(await redrives.first().textContent()).toMatch(/moved:\s*[1-9]/);
    expect(await redrives.nth(1).textContent()).toContain('started');
    await screenshot(page, 'audit-live');
    expectNoErrors(errors, 'the audit page');
  });

  it("narrows to one person's entries from a row, keeping the filter in the URL", async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${web()}/audit/?target=${productId}`);
    const first = page.locator('tr[data-audit-id]').first();
    await first.waitFor();
    await first.getByRole('button', { name: /^0905e000/ }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('subject')).toBe('0905e000-0000-4000-8000-000000000001');
    await page.locator('tr[data-audit-id]').first().waitFor();
    const subjects = await page.locator('tr[data-audit-id] td:nth-child(2) button').evaluateAll((els) => els.map((e) => e.getAttribute('title')));
    expect(new Set(subjects)).toEqual(new Set(["Only 0905e000-0000-4000-8000-000000000001's entries"]));
    expectNoErrors(errors, 'the audit page');
  });
});
