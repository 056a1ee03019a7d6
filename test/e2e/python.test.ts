/**
 * A Python user's first run: an uninstrumented pipeline (preprocessing, embedding, reranking,
 * generation, each doing real numpy work) gets Trace This Function on each stage and on the
 * request, then Add Tracing Setup (the setup in this file), all from the palette; Run with Tracing starts it in a
 * terminal with the workspace's interpreter (a virtual environment with numpy and the
 * OpenTelemetry SDK) and the OTEL_* variables of the running receiver. The waterfall then shows
 * the request with its four stages beneath it, and the lenses sit on the Python functions.
 * Screenshots: docs/images/python-waterfall.png and python-lenses.png.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PYTHON_E2E_REQUIREMENTS, pythonVenv } from '../unit/helpers/sdk-toolchains.js';
import { readRows, waterfallWithTrace } from './helpers/waterfall.js';
import {
  lensFor,
  openFile,
  pickQuickItem,
  revealInEditor,
  runCommand,
  screenshot,
  startWorkbench,
  type Workbench,
} from './helpers/workbench.js';

const STAGES = ['preprocess', 'embed', 'rerank', 'generate'] as const;

describe('a Python pipeline traced from the editor', { timeout: 300_000 }, () => {
  let wb: Workbench | undefined;
  let skip: string | undefined;
  const file = (): string => join((wb as Workbench).workspace, 'python', 'ml_pipeline.py');

  before(async () => {
    const python = pythonVenv('py-e2e', PYTHON_E2E_REQUIREMENTS);
    if (!python.ok) {
      skip = python.reason;
      return;
    }
    wb = await startWorkbench({
      label: 'python',
      settings: {
        'stagelight.receiver.grpcPort': 0,
        'stagelight.receiver.httpPort': 0,
        'python.defaultInterpreterPath': python.path,
      },
    });
  });
  after(async () => {
    await wb?.stop();
  });

  async function editorHas(text: string): Promise<void> {
    const { page } = wb as Workbench;
    try {
      await page.waitForFunction(
        `document.querySelector('.editor-group-container.active .view-lines')?.innerText.includes(${JSON.stringify(text)})`,
        undefined,
        { timeout: 20_000 },
      );
    } catch (err) {
      await page.screenshot({ path: '/tmp/stagelight-e2e-python-failure.png' }).catch(() => {});
      throw err;
    }
  }

  /** Saves the active editor and waits until the file on disk contains `text`. */
  async function saveUntilDiskHas(text: string): Promise<string> {
    const { page } = wb as Workbench;
    await page.keyboard.press('Control+S');
    const deadline = Date.now() + 10_000;
    let onDisk = readFileSync(file(), 'utf8');
    while (!onDisk.includes(text) && Date.now() < deadline) {
      await page.waitForTimeout(200);
      onDisk = readFileSync(file(), 'utf8');
    }
    assert.ok(onDisk.includes(text), `${file()} has no ${text} after saving`);
    return onDisk;
  }

  it('traces each stage and the request, and adds the setup', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { page } = wb as Workbench;
    await openFile(page, 'python/ml_pipeline.py');
    await runCommand(page, 'Notifications: Clear All Notifications');
    for (const name of [...STAGES, 'answer']) {
      await revealInEditor(page, file(), `def ${name}(`);
      await page.keyboard.press('End');
      await runCommand(page, 'Stagelight: Trace This Function');
      await editorHas(`start_as_current_span("${name}")`);
      // Saved, so that the next function's line is looked up in what the editor shows.
      await saveUntilDiskHas(`start_as_current_span("${name}")`);
    }

    await runCommand(page, 'Stagelight: Add Tracing Setup');
    // Python asks how: the setup in this file (not zero-code, not with the logs pipeline).
    await pickQuickItem(page, 'Tracing setup in this file');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill('ml-pipeline');
    await page.keyboard.press('Enter');

    const text = await saveUntilDiskHas('"service.name": "ml-pipeline"');
    for (const name of [...STAGES, 'answer']) {
      assert.match(
        text,
        new RegExp(`@tracer\\.start_as_current_span\\("${name}"\\)\\s*\\ndef ${name}\\(`),
      );
    }
  });

  it('runs with tracing: the request and its stages in the waterfall, lenses on the functions', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const { page } = wb as Workbench;
    await revealInEditor(page, file(), 'def answer(');
    await runCommand(page, 'Stagelight: Run with Tracing');
    // The terminal shows the program's own output once it has answered its three questions
    // (the terminal takes the focus meanwhile, which would close a palette opened too early).
    try {
      await page.waitForFunction(
        `[...document.querySelectorAll('.terminal .xterm-rows')].some((r) => (r.textContent.match(/24 tokens/g) || []).length >= 3)`,
        undefined,
        { timeout: 60_000 },
      );
    } catch (err) {
      await page.screenshot({ path: '/tmp/stagelight-e2e-python-failure.png' }).catch(() => {});
      throw err;
    }

    await runCommand(page, 'Stagelight: Show Trace Waterfall');
    const frame = await waterfallWithTrace(page, 'answer', 90_000);
    const rows = await readRows(frame);
    assert.deepEqual(
      rows.map((r) => r.name),
      ['answer', ...STAGES],
      JSON.stringify(rows),
    );
    for (const r of rows) assert.equal(r.service, 'ml-pipeline');
    await runCommand(page, 'Notifications: Clear All Notifications');
    await screenshot(page, 'python-waterfall');

    // Back to the code, by its tab, as a user does.
    await page.locator('.tabs-container .tab', { hasText: 'ml_pipeline.py' }).click();
    await page
      .locator('.tabs-container .tab.active', { hasText: 'ml_pipeline.py' })
      .waitFor({ state: 'visible', timeout: 15_000 });
    await revealInEditor(page, file(), 'def rerank(');
    // The program answers three questions: three traces, each with one span per stage.
    const lens = await lensFor(page, 'rerank', /p50 .*n=3\b/, 60_000);
    assert.match(lens, /^rerank/);
    await lensFor(page, 'embed', /p50 .*n=3\b/);
    await screenshot(page, 'python-lenses');
  });
});
