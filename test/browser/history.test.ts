import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeTestClients, createProduct, db, placeOrder, waitForStatus } from '../support/system';
import { axeViolations, expectNoErrors, launch, openPage, screenshot, waitLive, web } from './browser';

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
  const p = await createProduct({ name: `Lamp ${randomUUID().slice(0, 6)}`, priceCents: 4_500, stock: 100 });
  const ids = [];
  for (let i = 0; i < 6; i++) ids.push((await placeOrder([{ productId: p.id, quantity: 1 }], i === 5 ? 'tok_chargeDeclined' : 'tok_visa')).body.id);
  for (const id of ids) await waitForStatus(id);
});
afterAll(async () => {
  await browser?.close();
  await closeTestClients();
});

describe('the History page', () => {
  it('rebuilds a projection with a live progress bar and shows the result; a second rebuild meanwhile is refused in words', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${web()}/history/`);
    await waitLive(page);
    const orders = page.locator('tr[data-projection="orders"]');
    await orders.waitFor();
    await page.getByRole('button', { name: 'Rebuild orders' }).click();
    await expect.poll(() => page.locator('[data-history-message]').textContent(), { timeout: 10_000 }).toMatch(/Rebuild of orders requested/);
    // The run stays active while this test holds its row: the worker takes runs with SKIP LOCKED,
    // and one already running waits to record its progress. Without it, a small log's rebuild
    // could finish before the second click, which would then rightly be accepted.
    const hold = await db('order').connect();
    try {
      await hold.query('BEGIN');
      const held = await hold.query(`SELECT id FROM history_runs WHERE subject = 'orders' AND status IN ('requested', 'running') FOR UPDATE`);
      expect(held.rowCount).toBe(1);
      // While it runs: the run is shown as it goes, and another is refused.
      await orders.locator('[data-field="active"] [role="progressbar"]').waitFor({ timeout: 10_000 });
      await page.getByRole('button', { name: 'Rebuild orders' }).click();
      await expect.poll(() => page.locator('[data-history-message]').textContent(), { timeout: 10_000 }).toMatch(/Not started.*another run of orders is (requested|running)/is);
      await screenshot(page, 'history-rebuilding');
    } finally {
      await hold.query('COMMIT').catch(() => undefined);
      hold.release();
    }
    await expect.poll(() => orders.locator('[data-field="last"]').textContent(), { timeout: 60_000 }).toMatch(/equal to the log|difference/);
    await expect.poll(() => orders.locator('[data-field="active"]').textContent(), { timeout: 30_000 }).toContain('idle');
    expect(await orders.locator('[data-field="last"]').textContent()).toContain('equal to the log');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'history-rebuilt');
    // The refusal's 409 is the browser's one note; nothing else.
    expectNoErrors(errors.filter((e) => !/status of 409/.test(e)), 'the History page');
    await page.close();
  });

  it('replays a log to one queue with progress, and refuses a second replay of that log while the first runs', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${web()}/history/`);
    await waitLive(page);
    await page.locator('form[data-replay-form]').waitFor();
    await page.getByLabel('Log of').selectOption('order');
    await page.getByLabel('To the queue').selectOption('payment_queue');
    // Slow on purpose, so that it is still running when the second is asked for.
    await page.getByLabel('Events per second').fill('2');
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await expect.poll(() => page.locator('[data-replay-message]').textContent(), { timeout: 10_000 }).toContain('requested');
    const row = page.locator('tr[data-replay]').first();
    await row.locator('[role="progressbar"]').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await expect.poll(() => page.locator('[data-replay-message]').textContent(), { timeout: 10_000 }).toMatch(/Not started.*a replay of the order log is already/is);
    // The bar moves while it runs (two events a second), then the row says what was published.
    await expect.poll(async () => Number((await row.locator('[role="progressbar"]').getAttribute('aria-valuenow').catch(() => null)) ?? 100), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'history-replaying');
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 60_000 }).toBe('done');
    expect(await row.textContent()).toMatch(/\d+ published of \d+/);
    // The refusal's 409 is the browser's one note; nothing else.
    expectNoErrors(errors.filter((e) => !/status of 409/.test(e)), 'the History page (replay)');
    await page.close();
  });
});
