/**
 * The first thing a user does after installing the VSIX: find Stagelight in the command palette
 * and open the waterfall.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import {
  quickPickLabels,
  runCommand,
  screenshot,
  startWorkbench,
  webviewFrame,
  type Workbench,
} from './helpers/workbench.js';

describe('command palette', { timeout: 120_000 }, () => {
  let wb: Workbench;
  before(async () => {
    wb = await startWorkbench({ label: 'palette' });
  });
  after(async () => {
    await wb?.stop();
  });

  it('lists the Stagelight commands', async () => {
    const { page } = wb;
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill('>Stagelight:');
    // The list fills in as extensions register; wait for a Stagelight entry, not just any row.
    await page
      .locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'Stagelight:' })
      .first()
      .waitFor({ timeout: 15_000 });
    // The list renders only the rows in view, so each command is looked up by its title.
    for (const title of [
      'Stagelight: Run Demo Pipeline',
      'Stagelight: Show Trace Waterfall',
      'Stagelight: Open Demo Source',
      'Stagelight: Start Receiver',
    ]) {
      await input.fill(`>${title}`);
      const row = page
        .locator('.quick-input-widget .quick-input-list .monaco-list-row')
        .filter({ hasText: title })
        .first();
      const shown = await row
        .waitFor({ state: 'visible', timeout: 10_000 })
        .then(() => true)
        .catch(() => false);
      const labels = shown ? [] : await quickPickLabels(page);
      assert.ok(shown, `the palette does not offer "${title}" (it shows: ${labels.join(' | ')})`);
    }
    await page.keyboard.press('Escape');
  });

  it('opens the waterfall webview', async () => {
    await runCommand(wb.page, 'Stagelight: Show Trace Waterfall');
    const frame = await webviewFrame(wb.page, 'body *');
    assert.ok(frame, 'no waterfall webview');
    // Drawn, not only loaded: the empty state names the ports the receiver bound.
    await frame
      .locator('.empty', { hasText: /No trace yet\.[\s\S]*127\.0\.0\.1:\d+/ })
      .waitFor({ timeout: 15_000 });
    await screenshot(wb.page, 'palette-waterfall-empty');
  });
});
