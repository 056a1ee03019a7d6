/**
 * The browser end-to-end harness: code-server with the packaged VSIX installed, opened on a fresh
 * copy of the fixture workspace in headless Chromium, and the gestures a user makes (command
 * palette, quick picks, editor, webview). Every spec file starts one workbench in `before` and
 * stops it in `after`, which also runs when a test fails.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Frame, Locator, Page } from 'playwright-core';
import { launchChromium, openWorkbench } from '../../../scripts/lib/browser.js';
import { startCodeServer, type RunningCodeServer } from '../../../scripts/lib/code-server.js';
import { imagesDir, runsDir } from '../../../scripts/lib/paths.js';
import { ensureStagelightVsix } from '../../../scripts/lib/vsix.js';
import { copyFixtureWorkspace } from '../../../scripts/lib/workspace.js';

/** A running workbench; `stop` closes the browser and stops code-server (idempotent). */
export interface Workbench {
  page: Page;
  browser: Browser;
  server: RunningCodeServer;
  /** The workspace folder the workbench has open (a copy; edits are fine). */
  workspace: string;
  stop(): Promise<void>;
}

/** Options of `startWorkbench`. */
export interface WorkbenchOptions {
  /** Names the run's scratch folder. */
  label: string;
  /** User settings on top of the quiet defaults. */
  settings?: Readonly<Record<string, unknown>>;
}

export async function startWorkbench(opts: WorkbenchOptions): Promise<Workbench> {
  const vsix = ensureStagelightVsix();
  mkdirSync(runsDir, { recursive: true });
  const workspace = copyFixtureWorkspace(runsDir);
  const server = await startCodeServer({
    folder: workspace,
    vsix: [vsix],
    label: `e2e-${opts.label}`,
    ...(opts.settings ? { settings: opts.settings } : {}),
  });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await openWorkbench(browser, server.url);
    // The explorer shows the workspace once the remote file system is up; the Stagelight entry
    // in the activity bar, once the extension host has registered the extension's contributions.
    await page.locator('.explorer-folders-view').waitFor({ timeout: 30_000 });
    await page
      .locator(
        '.activitybar .action-item a[aria-label^="Stagelight"], .activitybar .action-item[aria-label^="Stagelight"]',
      )
      .first()
      .waitFor({ state: 'attached', timeout: 30_000 });
    let stopped = false;
    const b = browser;
    return {
      page,
      browser: b,
      server,
      workspace,
      async stop() {
        if (stopped) return;
        stopped = true;
        await b.close().catch(() => {});
        await server.stop();
      },
    };
  } catch (err) {
    await browser?.close().catch(() => {});
    await server.stop();
    throw err;
  }
}

/**
 * Runs a command from the palette as a user does: F1, type its title, Enter on the matching
 * entry. `title` is the full palette label, e.g. `Stagelight: Run Demo Pipeline`.
 */
export async function runCommand(page: Page, title: string, timeoutMs = 20_000): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  const row = quickPickRow(page, title).first();
  const deadline = Date.now() + timeoutMs;
  // The palette lists what is registered when it opens; right after start-up an extension's
  // contributions may still be on their way, so reopen it until the command is there.
  while (true) {
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${title}`);
    try {
      await row.waitFor({ state: 'visible', timeout: 3000 });
      // Something taking the focus right then (a view or panel finishing its load) closes the
      // palette between these steps: the click then fails, and the palette is opened again.
      await row.click({ timeout: 3000 });
      break;
    } catch {
      if (Date.now() > deadline) {
        const shown = await quickPickLabels(page);
        await page.keyboard.press('Escape');
        throw new Error(
          `the palette has no command "${title}" (it shows: ${shown.join(' | ') || 'nothing'})`,
        );
      }
      await page.keyboard.press('Escape');
    }
  }
  // The palette closes (or turns into the command's own quick pick) before the next gesture.
  await page.waitForFunction(
    `(() => {
      const i = document.querySelector('.quick-input-widget .quick-input-box input');
      return i === null || i.offsetParent === null || !i.value.startsWith('>');
    })()`,
    undefined,
    { timeout: 10_000 },
  );
}

/** Rows of the open quick pick whose label is exactly `label`. */
export function quickPickRow(page: Page, label: string): Locator {
  return page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: label }) });
}

/** The labels the open quick pick shows. */
export async function quickPickLabels(page: Page): Promise<string[]> {
  return page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row .label-name')
    .allInnerTexts();
}

/** Picks an entry of the open quick pick whose label contains `label`. */
export async function pickQuickItem(
  page: Page,
  label: string | RegExp,
  timeoutMs = 15_000,
): Promise<void> {
  const row = page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row')
    .filter({ hasText: label });
  await row
    .first()
    .waitFor({ state: 'visible', timeout: timeoutMs })
    .catch(async () => {
      const shown = await quickPickLabels(page);
      throw new Error(
        `no quick pick entry ${String(label)} (it shows: ${shown.join(' | ') || 'nothing'})`,
      );
    });
  await row.first().click();
}

/**
 * Opens a workspace file with Quick Open (Ctrl+P), as a user does. Something taking the focus
 * right then (a view finishing its load) closes Quick Open under the click, or the click lands
 * while the list is still being filtered; then the gesture is made again, up to three times.
 */
export async function openFile(page: Page, relativePath: string): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  const base = relativePath.split('/').pop() as string;
  const activeTab = page.locator('.tabs-container .tab.active', { hasText: base });
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      await page.keyboard.press('Control+P');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(relativePath);
      await pickQuickItem(page, base, 10_000);
      await activeTab.waitFor({ state: 'visible', timeout: 8000 });
      return;
    } catch (err) {
      lastError = err;
      await page.keyboard.press('Escape');
    }
  }
  const tabs = await page.locator('.tabs-container .tab').allInnerTexts();
  throw new Error(
    `Quick Open did not open ${relativePath} in three tries (tabs: ${tabs.join(' | ') || 'none'}): ${
      lastError instanceof Error ? lastError.message : String(lastError)
    }`,
  );
}

/**
 * The content frame of a Stagelight webview: webviews are two iframes deep (an outer host frame
 * whose URL names the extension, an inner one with the content), and the inner frame's name
 * changes while it loads, so it is found by its parent's URL and a selector it must contain.
 */
export async function webviewFrame(
  page: Page,
  contentSelector: string,
  timeoutMs = 30_000,
): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      const parent = frame.parentFrame();
      if (!parent || !/extensionId=stagelight\.stagelight/i.test(parent.url())) continue;
      try {
        if ((await frame.locator(contentSelector).count()) > 0) return frame;
      } catch {
        // the frame navigated or went away while we looked
      }
    }
    await page.waitForTimeout(200);
  }
  const urls = page
    .frames()
    .map((f) => f.url())
    .filter((u) => u.includes('webview'));
  throw new Error(
    `no Stagelight webview showing ${contentSelector} within ${timeoutMs} ms (webview frames: ${urls.join(', ') || 'none'})`,
  );
}

/** Saves a screenshot of the whole workbench to `docs/images/<name>.png`; returns its path. */
/** Where the screenshot `name` goes (docs/images/NAME.png), its folder made. */
export function imagePath(name: string): string {
  mkdirSync(imagesDir, { recursive: true });
  return join(imagesDir, `${name}.png`);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const file = imagePath(name);
  await page.screenshot({ path: file });
  return file;
}

/** Texts of the CodeLenses the active editor shows (`.codelens-decoration`), in line order. */
export async function visibleLensTexts(page: Page): Promise<string[]> {
  return page
    .locator('.editor-group-container.active .codelens-decoration')
    .allInnerTexts()
    .then((texts) => texts.map((t) => t.replace(/\s+/g, ' ').trim()).filter((t) => t !== ''));
}

/**
 * Scrolls the active editor, which shows `file`, to the first line containing `text`, with the
 * palette's "go to line" (`:<line>`): it works wherever the keyboard focus is, a webview
 * included. CodeLenses are rendered only for lines in view.
 */
export async function revealInEditor(page: Page, file: string, text: string): Promise<number> {
  const lines = readFileSync(file, 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes(text));
  if (index < 0) throw new Error(`${file} has no line containing ${text}`);
  const input = page.locator('.quick-input-widget .quick-input-box input');
  if (await input.isVisible()) {
    await page.keyboard.press('Escape');
    await input.waitFor({ state: 'hidden', timeout: 5000 });
  }
  // Something opening at the same moment (a webview panel taking focus) can close the palette
  // between our keystrokes: reopen it and try again, as runCommand does.
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`:${index + 1}`, { timeout: 5000 });
      await page.keyboard.press('Enter');
      await input.waitFor({ state: 'hidden', timeout: 5000 });
      return index + 1;
    } catch (e) {
      if (attempt >= 3) throw e;
      if (await input.isVisible()) await page.keyboard.press('Escape');
      await page.waitForTimeout(500);
    }
  }
}

/** The folder the Stagelight VSIX was installed to, in `wb`'s extensions folder. */
export function installedStagelight(wb: Workbench): string {
  const dir = readdirSync(wb.server.extensionsDir).find((d) =>
    d.startsWith('stagelight.stagelight-'),
  );
  if (!dir) throw new Error(`Stagelight is not installed in ${wb.server.extensionsDir}`);
  return join(wb.server.extensionsDir, dir);
}

/**
 * Waits until the active editor shows a lens that starts with `stage` and matches `pattern`;
 * returns it.
 */
export async function lensFor(
  page: Page,
  stage: string,
  pattern = /p50/,
  timeoutMs = 20_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let texts: string[] = [];
  while (Date.now() < deadline) {
    texts = await visibleLensTexts(page);
    const hit = texts.find((t) => t.startsWith(stage) && pattern.test(t));
    if (hit) return hit;
    await page.waitForTimeout(250);
  }
  throw new Error(
    `no ${stage} lens matching ${pattern} in view (lenses: ${texts.join(' | ') || 'none'})`,
  );
}
