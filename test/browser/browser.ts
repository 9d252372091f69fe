import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { expect, inject } from 'vitest';
import { LOCAL_USERS } from '../../local/auth/users';
import { CALLBACK_PATH } from '../../shared/auth/dashboard-client';

export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of the pages, under the test output. */
export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-results/screenshots');

export const web = () => inject('system').webUrl!;

/** Debian's chromium, headless, with the flags this machine needs (no sandbox as root, no network chatter). */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
}

/** The local issuer's seeded users (local/auth/users.ts). */
export const OPERATOR = 'ops@eventflow.test';
export const ALICE = 'alice@eventflow.test';
export const BOB = 'bob@eventflow.test';

export const userOf = (email: string) => {
  const user = LOCAL_USERS.find((u) => u.email === email);
  if (!user) throw new Error(`no local user ${email}`);
  return user;
};

/**
 * Signs in on the dashboard as a person does: the page's Sign in button, the local issuer's form,
 * back to `path` (the overview by default; a customer lands on their orders). The session lasts as
 * long as the page (it is kept per tab).
 */
export async function signIn(page: Page, email: string, opts: { path?: string; webUrl?: string } = {}) {
  const user = userOf(email);
  await page.goto(`${opts.webUrl ?? web()}${opts.path ?? '/'}`);
  await page.getByRole('main').getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('account').filter({ hasText: user.name }).waitFor();
  await page.waitForURL((url) => !url.pathname.startsWith(CALLBACK_PATH));
}

/**
 * A page whose console errors and uncaught exceptions are collected, for tests to assert none;
 * signed in (as the operator unless `as` names another user, or null for nobody) before the test
 * takes it over.
 */
export async function openPage(browser: Browser, opts: { width?: number; height?: number; as?: string | null } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1360, height: opts.height ?? 900 } });
  const page = await context.newPage();
  page.on('close', () => void context.close().catch(() => undefined));
  const errors: string[] = [];
  // Only the dashboard's: the issuer's sign-in and sign-out pages are another site.
  const ours = () => page.url().startsWith(web());
  page.on('console', (m) => {
    if (m.type() === 'error' && ours()) errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => {
    if (ours()) errors.push(`exception: ${e.message}`);
  });
  page.setDefaultTimeout(20_000);
  const as = opts.as === undefined ? OPERATOR : opts.as;
  if (as) {
    await signIn(page, as);
    errors.length = 0;
  }
  return { page, errors };
}

/** Waits until the dashboard's socket is live (subscribed and caught up). */
export async function waitLive(page: Page) {
  await page.locator('[data-connection="live"]').waitFor({ timeout: 20_000 });
}

export async function screenshot(page: Page, name: string) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** axe-core's WCAG A/AA rules and best practices; the violations, described for a failure message. */
export async function axeViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')}`);
}

/** The text of an element, polled until it satisfies a check. */
export async function statusOf(page: Page): Promise<string | null> {
  return page.getByTestId('order-status').locator('[data-status]').getAttribute('data-status', { timeout: 2_000 }).catch(() => null);
}

export function expectNoErrors(errors: string[], what: string) {
  expect(errors, `errors on ${what}`).toEqual([]);
}
