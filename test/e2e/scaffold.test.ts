/**
 * Instrumentation scaffolding as a user meets it (issue 5): open an uninstrumented function of
 * the TypeScript fixture, run "Trace This Function" and "Add Tracing Setup" from the palette
 * (answering the service-name input box), save, RUN the file with node (tsx and the
 * OpenTelemetry JS SDK from the project's node_modules), and see its span in the waterfall and
 * the latency lens on the function. Screenshots: docs/images/scaffold-before.png and
 * scaffold-after.png.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../../scripts/lib/paths.js';
import { waterfallWithTrace } from './helpers/waterfall.js';
import {
  lensFor,
  openFile,
  revealInEditor,
  runCommand,
  screenshot,
  startWorkbench,
  type Workbench,
} from './helpers/workbench.js';

describe('instrumentation scaffolding in the browser', { timeout: 240_000 }, () => {
  let wb: Workbench;
  const file = (): string => join(wb.workspace, 'ts', 'pipeline.ts');

  before(async () => {
    wb = await startWorkbench({
      label: 'scaffold',
      settings: { 'stagelight.receiver.grpcPort': 0, 'stagelight.receiver.httpPort': 0 },
    });
  });
  after(async () => {
    await wb?.stop();
  });

  it('traces a function and writes the tracing setup from the palette', async () => {
    const { page } = wb;
    await openFile(page, 'ts/pipeline.ts');
    await revealInEditor(page, file(), 'export function notInstrumented');
    // The cursor at the end of the header line, inside the function.
    await page.keyboard.press('End');
    // The git extension's "open the repository?" toast would cover the code.
    await runCommand(page, 'Notifications: Clear All Notifications');
    await screenshot(page, 'scaffold-before');

    await runCommand(page, 'Stagelight: Trace This Function');
    await page.waitForFunction(
      `document.querySelector('.editor-group-container.active .view-lines')?.innerText.includes("startActiveSpan('notInstrumented'")`,
      undefined,
      { timeout: 20_000 },
    );

    await runCommand(page, 'Stagelight: Add Tracing Setup');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill('fixture-ts');
    await page.keyboard.press('Enter');
    await page
      .locator('.notifications-toasts .notification-toast', {
        hasText: /add the tracing dependencies/,
      })
      .waitFor({ state: 'visible', timeout: 20_000 });

    await page.keyboard.press('Control+S');
    // Saved when the file on disk has the setup (the save is asynchronous).
    const deadline = Date.now() + 10_000;
    let text = readFileSync(file(), 'utf8');
    while (!text.includes('service.name') && Date.now() < deadline) {
      await page.waitForTimeout(200);
      text = readFileSync(file(), 'utf8');
    }
    if (!text.includes('service.name')) await page.screenshot({ path: '/tmp/scaffold-debug.png' });
    assert.match(text, /startActiveSpan\('notInstrumented'/);
    assert.match(text, /'service\.name': 'fixture-ts'/);
    assert.match(text, /url: 'http:\/\/127\.0\.0\.1:\d+\/v1\/traces'/);
  });

  it('runs the edited file: its span shows in the waterfall and the lens on the function', async () => {
    const { page } = wb;
    const script = `console.log(require(${JSON.stringify(file())}).notInstrumented([1, 2, 3]))`;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '-e', script],
        { cwd: repoRoot, timeout: 45_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      );
    });
    assert.equal(out.trim(), '6');

    await runCommand(page, 'Stagelight: Show Trace Waterfall');
    await waterfallWithTrace(page, 'notInstrumented', 30_000);

    await openFile(page, 'ts/pipeline.ts');
    await revealInEditor(page, file(), "startActiveSpan('notInstrumented'");
    const lens = await lensFor(page, 'notInstrumented', /p50 .*n=1\b/);
    assert.match(lens, /^notInstrumented/);
    await runCommand(page, 'Notifications: Clear All Notifications');
    await screenshot(page, 'scaffold-after');
  });
});
