import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeTestClients, createProduct, placeOrder, product, waitForStatus } from '../support/system';
import { expectNoErrors, launch, openPage, screenshot, statusOf, waitLive, web } from './browser';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await closeTestClients();
});

const steps = (page: import('playwright-core').Page, state: 'done' | 'pending') =>
  page.locator(`[data-state="${state}"]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-step')));

describe('the saga, watched from the dashboard', () => {
  it('places an order through the New order form and watches it reach CONFIRMED, every step drawn, without a reload', async () => {
    const name = `Desk lamp ${randomUUID().slice(0, 6)}`;
    await createProduct({ name, priceCents: 2450, stock: 10 });
    const { page, errors } = await openPage(browser);
    await page.goto(`${web()}/orders/new/`);
    await page.getByLabel(name).fill('2');
    await page.getByRole('radio', { name: /Visa, succeeds/ }).check();
    await expect.poll(() => page.getByTestId('new-order-total').textContent()).toBe('$49.00');
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(/\/orders\/view\/\?id=[0-9a-f-]{36}$/);
    // A mark in the page's memory: a reload would wipe it.
    await page.evaluate('window.__sameDocument = true');

    await expect.poll(() => statusOf(page), { timeout: 15_000 }).toBe('CONFIRMED');
    await expect
      .poll(() => steps(page, 'done'), { timeout: 10_000 })
      .toEqual(expect.arrayContaining(['order.created', 'inventory.reserved', 'payment.initiated', 'payment.processed', 'order.updated']));
    expect(await steps(page, 'pending')).toEqual([]);
    expect(await page.getByTestId('order-total').textContent()).toBe('$49.00');
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    await screenshot(page, 'order-confirmed');
    expectNoErrors(errors, 'the new order and order pages');
  });

  it('shows a declined card as FAILED with its reason and the release step, and the stock back on the Inventory page', async () => {
    const name = `Office chair ${randomUUID().slice(0, 6)}`;
    const p = await createProduct({ name, priceCents: 15900, stock: 7 });
    const before = (await product(p.id)).available;
    const { page, errors } = await openPage(browser);
    await page.goto(`${web()}/orders/new/`);
    await page.getByLabel(name).fill('3');
    await page.getByRole('radio', { name: /Card declined/ }).check();
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(/\/orders\/view\/\?id=/);

    await expect.poll(() => statusOf(page), { timeout: 15_000 }).toBe('FAILED');
    await expect.poll(() => page.getByTestId('failure-reason').textContent()).toMatch(/declined/i);
    await expect.poll(() => steps(page, 'done'), { timeout: 10_000 }).toEqual(expect.arrayContaining(['payment.failed', 'inventory.released']));
    expect(await page.locator('[data-step="inventory.released"]').getAttribute('data-kind')).toBe('compensation');
    await expect.poll(() => steps(page, 'pending')).toEqual([]);
    await screenshot(page, 'order-failed');

    await page.getByRole('link', { name: 'Inventory' }).click();
    const row = page.locator(`tr[data-product-id="${p.id}"]`);
    await expect.poll(() => row.locator('[data-field="available"]').textContent(), { timeout: 10_000 }).toBe(String(before));
    expect(await row.locator('[data-field="reserved"]').textContent()).toBe('0');
    expectNoErrors(errors, 'the declined order and inventory pages');
  });

  it('cancels a confirmed order from its page and shows the release and the refund', async () => {
    const p = await createProduct({ name: `Monitor arm ${randomUUID().slice(0, 6)}`, priceCents: 7900, stock: 4 });
    const placed = await placeOrder([{ productId: p.id, quantity: 1 }]);
    expect(placed.status).toBe(201);
    await waitForStatus(placed.body.id, ['CONFIRMED']);
    const { page, errors } = await openPage(browser);
    await page.goto(`${web()}/orders/view/?id=${placed.body.id}`);
    await waitLive(page);
    expect(await statusOf(page)).toBe('CONFIRMED');

    await page.getByRole('button', { name: 'Cancel order' }).click();
    await page.getByRole('button', { name: 'Yes, cancel it' }).click();
    await expect.poll(() => statusOf(page), { timeout: 10_000 }).toBe('CANCELLED');
    await expect
      .poll(() => steps(page, 'done'), { timeout: 15_000 })
      .toEqual(expect.arrayContaining(['order.cancelled', 'inventory.released', 'payment.refunded']));
    for (const step of ['inventory.released', 'payment.refunded']) {
      expect(await page.locator(`[data-step="${step}"]`).getAttribute('data-kind'), step).toBe('compensation');
    }
    await expect.poll(() => page.getByTestId('payment').textContent(), { timeout: 10_000 }).toMatch(/refunded/i);
    expect(await steps(page, 'pending')).toEqual([]);
    await screenshot(page, 'order-cancelled');
    expectNoErrors(errors, 'the cancelled order page');
  });
});
