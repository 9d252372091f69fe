import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintAccessToken } from '../../local/auth/tokens';
import { api, closeTestClients, createProduct, system, waitForStatus } from '../support/system';
import { ALICE, BOB, OPERATOR, axeViolations, expectNoErrors, launch, openPage, screenshot, userOf, waitLive, web } from './browser';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await closeTestClients();
});

const navLabels = (page: Page) => page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();

/** An order placed over HTTP by a customer, with that customer's own access token. */
async function orderAs(email: string, productId: string) {
  const user = userOf(email);
  const token = await mintAccessToken({ sub: user.sub, role: user.role, issuer: system().issuerUrl });
  const res = await api('POST', '/orders', { customerId: user.sub, items: [{ productId, quantity: 1 }], paymentToken: 'tok_visa' }, { authorization: `Bearer ${token}` });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

describe('signing in to the dashboard', () => {
  it('renders the shell at once for a signed-out visitor and asks to sign in before any page shows data', async () => {
    const { page, errors } = await openPage(browser, { as: null });
    for (const path of ['/', '/orders/', '/queues/']) {
      await page.goto(`${web()}${path}`);
      await page.getByRole('heading', { name: 'Sign in to EventFlow' }).waitFor();
      expect(await navLabels(page)).toEqual([]);
      expect(await page.locator('[data-connection]').count()).toBe(0);
    }
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'signed-out');
    expectNoErrors(errors, 'the signed-out pages');
  });

  it('signs an operator in through the issuer: every page offered, the role shown, data and live events', async () => {
    const { page, errors } = await openPage(browser, { as: OPERATOR });
    const account = page.getByTestId('account');
    expect(await account.getAttribute('data-role')).toBe('operator');
    expect(await account.textContent()).toContain('Olga Operator');
    expect(await account.textContent()).toContain('Operator');
    expect(await navLabels(page)).toEqual(['Overview', 'Orders', 'New order', 'Events', 'Inventory', 'Payments', 'Queues', 'Audit', 'History']);
    await page.goto(`${web()}/queues/`);
    await page.getByRole('heading', { name: 'Queues' }).waitFor();
    await waitLive(page);
    expectNoErrors(errors, 'the operator pages');
  });

  it('shows a customer their own orders only, their pages only, and no operator action', async () => {
    const p = await createProduct({ name: `Lamp ${randomUUID().slice(0, 6)}`, priceCents: 1500, stock: 20 });
    const mine = await orderAs(ALICE, p.id);
    const theirs = await orderAs(BOB, p.id);
    await waitForStatus(mine, ['CONFIRMED']);
    await waitForStatus(theirs, ['CONFIRMED']);

    const { page, errors } = await openPage(browser, { as: ALICE });
    // A customer signing in from the overview lands on their orders.
    await page.waitForURL(`${web()}/orders/`);
    expect(await page.getByTestId('account').getAttribute('data-role')).toBe('customer');
    expect(await navLabels(page)).toEqual(['Orders', 'New order', 'Events']);
    await page.getByRole('heading', { name: 'Your orders' }).waitFor();
    await page.locator(`tr[data-order-id="${mine}"]`).waitFor();
    await waitLive(page);
    expect(await page.locator(`tr[data-order-id="${theirs}"]`).count()).toBe(0);
    expect(await page.getByLabel('Customer id').count()).toBe(0);
    await screenshot(page, 'customer-orders');

    // Their order's page offers cancelling, not the operators' fulfilment moves; the payment is read from its events.
    await page.goto(`${web()}/orders/view/?id=${mine}`);
    await page.locator('[data-payment-status="PROCESSED"]').waitFor();
    await page.getByRole('button', { name: 'Cancel order' }).waitFor();
    expect(await page.getByRole('button', { name: /^Mark as/ }).count()).toBe(0);

    // The new-order page orders as themselves.
    await page.goto(`${web()}/orders/new/`);
    await expect.poll(() => page.getByLabel('Customer id').inputValue()).toBe(userOf(ALICE).sub);
    expect(await page.getByLabel('Customer id').getAttribute('readonly')).not.toBeNull();

    // An operator's page is not theirs.
    await page.goto(`${web()}/queues/`);
    await page.getByRole('heading', { name: 'This page is for operators' }).waitFor();
    expect(await page.locator('tr[data-dead-letter]').count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    expectNoErrors(errors, "the customer's pages");
  });

  it('renews an expired access token with the refresh token, without a new sign-in, and asks to sign in when it cannot', async () => {
    const { page, errors } = await openPage(browser, { as: OPERATOR });
    const stored = async () => {
      const raw = await page.evaluate('sessionStorage[Object.keys(sessionStorage).find((k) => k.startsWith("oidc.user:"))]');
      return JSON.parse(String(raw)) as { access_token: string; refresh_token?: string; expires_at: number };
    };
    const edit = (change: string) =>
      page.evaluate(`(() => { const k = Object.keys(sessionStorage).find((k) => k.startsWith("oidc.user:")); const u = JSON.parse(sessionStorage[k]); ${change}; sessionStorage[k] = JSON.stringify(u); })()`);
    const before = await stored();
    expect(before.refresh_token).toBeTruthy();

    // The access token has expired (as after a laptop's sleep): the next page renews it and loads.
    await edit('u.expires_at = Math.floor(Date.now() / 1000) - 10');
    await page.goto(`${web()}/queues/`);
    await page.getByRole('heading', { name: 'Queues' }).waitFor();
    await waitLive(page);
    const after = await stored();
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.expires_at).toBeGreaterThan(Date.now() / 1000 + 600);
    expect(page.url()).toBe(`${web()}/queues/`);

    // A refresh token the issuer no longer honours: the page says the session ended and offers sign-in.
    await edit('u.expires_at = Math.floor(Date.now() / 1000) - 10; u.refresh_token = "revoked"');
    await page.goto(`${web()}/queues/`);
    await page.getByText('Your session has ended. Sign in again to go on.').waitFor();
    await page.getByRole('main').getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.locator('tr[data-dead-letter]').count()).toBe(0);
    expectNoErrors(errors.filter((e) => !/status of 400/.test(e)), 'renewing the session');
  });

  it('signs out at the issuer too: back on the overview signed out, and the next sign-in asks for the password again', async () => {
    const { page, errors } = await openPage(browser, { as: OPERATOR });
    await page.getByTestId('account').getByRole('button', { name: 'Sign out' }).click();
    // The local issuer asks to confirm (its end_session_endpoint); Cognito's /logout does not.
    await page.getByRole('button', { name: /sign me out/i }).click();
    await page.waitForURL(`${web()}/`);
    await page.getByRole('heading', { name: 'Sign in to EventFlow' }).waitFor();
    expect(await page.getByTestId('account').count()).toBe(0);
    expect(await page.evaluate('Object.keys(sessionStorage).filter((k) => k.startsWith("oidc.user:")).length')).toBe(0);
    // The issuer's session is gone: signing in again shows its form.
    await page.getByRole('main').getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Password').waitFor();
    expectNoErrors(errors, 'signing out');
  });
});
