/**
 * The waterfall bundle in headless Chromium (Debian's /usr/bin/chromium) through the harness
 * page (`webview/dev/harness.ts`, the stand-in host): launch, the page's errors and CSP
 * violations, and the harness's handle, for the browser tests.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../../scripts/lib/browser.js';
import { startHarnessServer, type HarnessServer } from '../../../webview/dev/harness-server.js';
import type { HostMessage, TracePayload, WebviewMessage } from '../../../src/protocol/messages.js';

export const CHROMIUM = '/usr/bin/chromium';
/** Why the browser tests are skipped here, or false. */
export const SKIP_BROWSER = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} missing (apt-get install -y chromium)`;
export const ROW = 22;

export interface HarnessWindow {
  stagelightHarness: {
    sent: WebviewMessage[];
    drawMs: number[];
    current: TracePayload | null;
    post(m: HostMessage): void;
  };
  cspViolations: string[];
}

export interface HarnessPage {
  readonly browser: Browser;
  readonly page: Page;
  /** Uncaught page errors so far. */
  readonly errors: string[];
  sent(): Promise<WebviewMessage[]>;
  post(m: HostMessage): Promise<void>;
  /** Clicks row `index` of the visible rows, `x` px into the tree column. */
  clickRow(index: number, x?: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens the harness with a generated trace of `spans` spans and waits for its first frame. */
export async function openHarness(spans = 60): Promise<HarnessPage> {
  const server: HarnessServer = await startHarnessServer({ bundle: 'build' });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 820 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(`
    window.__name = (f) => f;
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.sourceFile + ':' + e.lineNumber));
  `);
  await page.goto(`${server.url}?spans=${spans}`);
  await page.waitForFunction(
    () => (globalThis as unknown as HarnessWindow).stagelightHarness?.drawMs.length > 0,
  );
  return {
    browser,
    page,
    errors,
    sent: () =>
      page.evaluate(() => (globalThis as unknown as HarnessWindow).stagelightHarness.sent),
    post: (m) =>
      page.evaluate(
        (msg) => (globalThis as unknown as HarnessWindow).stagelightHarness.post(msg),
        m,
      ),
    async clickRow(index, x = 220) {
      const box = await page.locator('.scroller').boundingBox();
      assert.ok(box);
      await page.mouse.click(box.x + x, box.y + index * ROW + ROW / 2);
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
