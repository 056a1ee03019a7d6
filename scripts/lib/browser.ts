/**
 * Headless Chromium for the test layers, driven by playwright-core. Debian's `chromium` is used
 * (Playwright's browser download is not reachable here); the flags keep it from reaching out to
 * the network and from using a GPU that headless machines do not have.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  browserPrerequisites,
  findChromiumExecutable,
  requirePrerequisites,
} from './prerequisites.js';

export const chromiumArgs: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

/** Launches headless Chromium; fails with the package to install when there is none. */
export async function launchChromium(): Promise<Browser> {
  requirePrerequisites(browserPrerequisites, 'Driving the VS Code workbench');
  const executablePath = findChromiumExecutable() as string;
  return chromium.launch({ executablePath, headless: true, args: [...chromiumArgs] });
}

/**
 * Opens the workbench at `url` in a new page of `browser` and waits until it has rendered (the
 * extension host starts only once a browser has the workbench open).
 */
export async function openWorkbench(
  browser: Browser,
  url: string,
  viewport = { width: 1440, height: 900 },
): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
  return page;
}
