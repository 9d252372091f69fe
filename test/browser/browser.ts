import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { expect, inject } from 'vitest';
import { ACCESS_TOKEN_KEY } from '../../web/lib/access-token';
import type { Principal } from '../../shared/auth/principal';
import { OPERATOR, tokenFor } from '../support/auth';

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

/**
 * A page whose console errors and uncaught exceptions are collected, for tests to assert none.
 * Signed in as the operator unless told otherwise: the access token is where the dashboard reads
 * it (web/lib/access-token.ts), minted by the runtime's issuer.
 */
export async function openPage(browser: Browser, opts: { width?: number; height?: number; as?: Principal } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1360, height: opts.height ?? 900 } });
  const token = await tokenFor(inject('system').issuerUrl, opts.as ?? OPERATOR);
  await context.addInitScript(
    ([key, value]) => (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage.setItem(key, value),
    [ACCESS_TOKEN_KEY, token] as const,
  );
  const page = await context.newPage();
  page.on('close', () => void context.close().catch(() => undefined));
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(`exception: ${e.message}`));
  page.setDefaultTimeout(20_000);
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
