/**
 * The waterfall bundle in headless Chromium (Debian's /usr/bin/chromium) through the harness
 * page: strict CSP without violations, the trace drawn, a click selects a span and fills the
 * details panel (untrusted values as text), keyboard navigation, filtering and why a search term
 * cannot be read, "Go to source", traces held while a span is inspected, and where the details
 * panel scrolls to.
 * A trace whose root has not arrived shows under a placeholder row.
 * Saves docs/images/waterfall.png, docs/images/span-details.png and
 * docs/images/waterfall-partial-trace.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { analyzeTrace } from '../../src/core/analysis/index.js';
import { buildTracePayload } from '../../src/core/api/trace-payload.js';
import { TraceStore } from '../../src/core/store/trace-store.js';
import type { WebviewMessage } from '../../src/protocol/messages.js';
import {
  openHarness,
  SKIP_BROWSER,
  type HarnessPage,
  type HarnessWindow as Win,
} from './helpers/harness-browser.js';
import { makeSpan, noAttributes, PIPELINE } from './helpers/spans.js';

const ROOT = path.resolve(__dirname, '..', '..');
const IMAGES = path.join(ROOT, 'docs', 'images');

describe('waterfall webview in Chromium', { skip: SKIP_BROWSER }, () => {
  let h: HarnessPage;
  let page: Page;
  let errors: string[];

  before(async () => {
    // 60 spans: four pipeline requests, one failing, small enough to read in a screenshot.
    h = await openHarness(60);
    page = h.page;
    errors = h.errors;
  });

  after(async () => {
    await h?.close();
  });

  const sent = (): Promise<WebviewMessage[]> => h.sent();
  const clickRow = (index: number, x?: number): Promise<void> => h.clickRow(index, x);

  it('starts with ready and draws the trace under the strict CSP', async () => {
    const msgs = await sent();
    assert.deepEqual(msgs[0], { type: 'ready' });
    assert.match(
      await page.locator('.summary').innerText(),
      /batch_inference[\s\S]*60 spans[\s\S]*1 error/,
    );
    assert.deepEqual(await page.evaluate(() => (globalThis as unknown as Win).cspViolations), []);
    assert.deepEqual(errors, []);
  });

  it('selects a span on click and shows its details as text', async () => {
    await clickRow(2); // preprocessing of the first request: has a source location
    const details = page.locator('.details');
    await details.locator('.details-title').filter({ hasText: 'preprocessing' }).waitFor();
    await details.locator('.go-to-source').waitFor();
    const text = await details.innerText();
    assert.match(text, /Duration/);
    assert.match(text, /Self time/);
    assert.match(text, /Critical path/);
    assert.match(text, /Model \(model\.\*\)[\s\S]*model\.name/);
    assert.match(text, /GenAI \(gen_ai\.\*\)/);
    assert.match(text, /Code \(code\.\*\)[\s\S]*code\.file\.path/);
    assert.match(text, /Resource[\s\S]*service\.instance\.id/);
    // The hostile attribute value stays text: no element was created from it.
    assert.match(text, /<img src=x onerror=alert\(1\)>/);
    assert.equal(await details.locator('img').count(), 0);
    assert.match(
      await page.locator('.breadcrumb').innerText(),
      /batch_inference[\s\S]*inference_request[\s\S]*preprocessing/,
    );
    const req = (await sent()).filter((m) => m.type === 'spanDetails').at(-1);
    assert.equal(req?.type === 'spanDetails' ? req.row : -1, 2);

    await details.locator('.go-to-source').click();
    const open = (await sent()).filter((m) => m.type === 'openSource').at(-1);
    assert.equal(open?.type === 'openSource' ? open.row : -1, 2);

    mkdirSync(IMAGES, { recursive: true });
    await details.screenshot({ path: path.join(IMAGES, 'span-details.png') });
  });

  it('navigates with the keyboard: down, next error, collapse', async () => {
    await page.locator('.scroller').focus();
    await page.keyboard.press('ArrowDown');
    await page.locator('.details-title').filter({ hasText: 'embedding' }).waitFor();
    await page.keyboard.press('e');
    await page.locator('.details-title').filter({ hasText: 'reranking' }).waitFor();
    await page.locator('.details .status-error').waitFor();
    const text = await page.locator('.details').innerText();
    assert.match(text, /Error: CUDA out of memory/);
    assert.match(text, /exception[\s\S]*Traceback/);
    await page.waitForTimeout(150);
    await page.screenshot({ path: path.join(IMAGES, 'waterfall.png') });
    await page.keyboard.press('ArrowLeft'); // a leaf: goes to its parent
    await page.locator('.details-title').filter({ hasText: 'inference_request' }).waitFor();
  });

  it('holds a pushed trace while a span is inspected, but opens a trace the user asked for', async () => {
    // A span is selected (the keyboard test left one). A newer trace pushed while following
    // waits behind the banner; one the user asked for (a trace link) shows at once.
    const post = (traceId: string, requested: boolean) =>
      page.evaluate(
        ({ traceId, requested }) => {
          const h = (globalThis as unknown as Win).stagelightHarness;
          const t = h.current!;
          h.post({
            type: 'trace',
            trace: { ...t, traceId },
            reason: 'open',
            ...(requested ? { requested } : {}),
          });
        },
        { traceId, requested },
      );
    const banner = page.locator('.banner');
    await post('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', false);
    await banner.filter({ hasText: 'Following paused' }).waitFor();
    await post('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', true);
    await banner.waitFor({ state: 'hidden' });
    // The picker names the trace shown, not the one before it.
    const picked = await page
      .locator('.trace-list')
      .evaluate((e) => (e as unknown as { value: string }).value);
    assert.equal(picked, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb');

    // Held again, then shown from the banner: the picker follows that way too.
    await clickRow(3);
    await page.locator('.breadcrumb .crumb.current').waitFor();
    await post('cccccccccccccccccccccccccccccccc', false);
    await banner.filter({ hasText: 'Following paused' }).waitFor();
    await banner.locator('vscode-button').click();
    await banner.waitFor({ state: 'hidden' });
    await page.locator('.summary').filter({ hasText: 'cccccccccccccccc' }).waitFor();
    assert.equal(
      await page.locator('.trace-list').evaluate((e) => (e as unknown as { value: string }).value),
      'cccccccccccccccccccccccccccccccc',
    );
    assert.equal(await page.locator('.breadcrumb .crumb').count(), 0, 'nothing selected');
  });

  it('filters by a query and clears it with Escape', async () => {
    const field = page.locator('vscode-text-field.search input');
    await field.click();
    await field.fill('is:error');
    await page.locator('.match-count').filter({ hasText: '1 match' }).waitFor();
    await field.fill('dur>50ms service:generator');
    await page
      .locator('.match-count')
      .filter({ hasText: /\d+ match/ })
      .waitFor();
    await field.press('Escape');
    assert.equal(await page.locator('.match-count').innerText(), '');
    assert.deepEqual(errors, []);
  });

  it('says beside the box why a search term matches nothing', async () => {
    const field = page.locator('vscode-text-field.search input');
    const why = page.locator('.toolbar .query-error');
    await field.click();
    await field.fill('dur>1x');
    await why.filter({ hasText: 'dur>1x: not a duration (try dur>1.5s or dur>200ms)' }).waitFor();
    assert.equal(await why.getAttribute('role'), 'status', 'announced as the user types');
    // The rest of the query still applies; a query that reads says nothing.
    await field.fill('dur>1x is:error');
    await page.locator('.match-count').filter({ hasText: '1 match' }).waitFor();
    assert.match(await why.innerText(), /^dur>1x: not a duration/);
    await field.fill('is:nope attr=');
    await why.filter({ hasText: 'is:nope: unknown flag' }).waitFor();
    assert.match(await why.innerText(), /; attr=: write attr:key=value/);
    await field.fill('is:error');
    await page.locator('.match-count').filter({ hasText: '1 match' }).waitFor();
    assert.equal(await why.innerText(), '');
    await field.press('Escape');
    assert.deepEqual(errors, []);
  });

  it("starts another span's details at their top, and keeps the place for the same span", async () => {
    // Short enough that the details scroll.
    await page.setViewportSize({ width: 1400, height: 420 });
    const details = page.locator('.details');
    const scrollTop = (): Promise<number> => details.evaluate((e) => e.scrollTop);
    // The panel may take a frame to reach its place (the toolkit's buttons size late).
    const settlesAt = async (top: number): Promise<void> => {
      for (let i = 0; i < 20 && (await scrollTop()) !== top; i++) await page.waitForTimeout(25);
      assert.equal(await scrollTop(), top);
    };
    // Findings below the details keep the panel tall while the next span's details load.
    await page.evaluate(() => {
      const h = (globalThis as unknown as Win).stagelightHarness;
      h.post({
        type: 'insights',
        traceId: h.current?.traceId ?? null,
        traces: 10,
        findings: Array.from({ length: 12 }, (_, i) => ({
          kind: 'queueing',
          kindLabel: 'waiting for a worker',
          severity: 'warning' as const,
          title: `finding ${i}`,
          numbers: [],
          traceIds: [],
          relevant: false,
        })),
        explain: [],
        baseline: { state: 'none', message: 'No baseline yet.' },
      });
    });
    await page.locator('.insights-section .insight').first().waitFor();
    await clickRow(2);
    await details.locator('.details-title').filter({ hasText: 'preprocessing' }).waitFor();
    await details.locator('.details-sub').waitFor();
    await details.evaluate((e) => (e.scrollTop = e.scrollHeight));
    const bottom = await scrollTop();
    assert.ok(bottom > 0, 'the details scroll');
    // Enter asks for the same span's details again: the panel stays where it was.
    await page.locator('.scroller').focus();
    await page.keyboard.press('Enter');
    await details.locator('.details-sub').waitFor();
    await settlesAt(bottom);
    await page.locator('.scroller').focus();
    await page.keyboard.press('ArrowDown');
    await details.locator('.details-title').filter({ hasText: 'embedding' }).waitFor();
    await details.locator('.details-sub').waitFor();
    await settlesAt(0);
    await page.setViewportSize({ width: 1400, height: 820 });
    assert.deepEqual(errors, []);
  });

  it('resizes the details panel by drag and by keys, and remembers it across a reload', async () => {
    const details = page.locator('.details');
    const width = (): Promise<number> => details.evaluate((e) => e.getBoundingClientRect().width);
    const windowWidth = page.viewportSize()?.width ?? 0;
    const box = await page.locator('.splitter').boundingBox();
    assert.ok(box);
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width / 2, y);
    await page.mouse.down();
    await page.mouse.move(box.x - 100, y, { steps: 4 });
    await page.mouse.up();
    const dragged = windowWidth - (box.x - 100);
    assert.equal(await width(), dragged);
    await page.locator('.splitter').focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Shift+ArrowRight');
    assert.equal(await width(), dragged + 16 - 64);
    assert.equal(
      await page.locator('.splitter').getAttribute('aria-valuenow'),
      String(dragged - 48),
    );
    const saved = await page.evaluate(() =>
      (globalThis as unknown as { acquireVsCodeApi(): { getState(): unknown } })
        .acquireVsCodeApi()
        .getState(),
    );
    // The layout, and the trace shown and whether it follows: the host reads those back when
    // VS Code restores the panel after a window reload.
    assert.deepEqual(saved, { detailsWidth: dragged - 48, follow: true, traceId: 'c'.repeat(32) });

    await page.reload();
    await page.waitForFunction(
      () => (globalThis as unknown as Win).stagelightHarness?.drawMs.length > 0,
    );
    assert.equal(await width(), dragged - 48);
    assert.deepEqual(errors, []);
  });

  it('shows a trace whose root has not arrived as one tree under a placeholder', async () => {
    // The pipeline before its gateway span arrives, through the core's payload builder.
    const store = new TraceStore();
    store.add(PIPELINE.filter((s) => s.spanId !== 'gw').map(makeSpan));
    const entry = store.get('trace-1')!;
    const trace = buildTracePayload(entry, analyzeTrace(entry.spans, noAttributes));
    await h.post({ type: 'trace', trace, reason: 'open', requested: true });
    await page.locator('.summary').filter({ hasText: 'Partial trace' }).waitFor();
    assert.match(
      await page.locator('.summary').innerText(),
      /Partial trace[\s\S]*root span not received yet[\s\S]*7 spans/,
    );
    const before = (await sent()).filter((m) => m.type === 'spanDetails').length;
    await clickRow(0);
    const details = page.locator('.details');
    await details.filter({ hasText: 'has not arrived' }).waitFor();
    assert.match(await details.innerText(), /Span gw \(not received yet\)/);
    // No details are asked of the host for it: there is no span behind the row.
    assert.equal((await sent()).filter((m) => m.type === 'spanDetails').length, before);
    // Its orphans are real spans, one level below it.
    await clickRow(1);
    await details.locator('.details-title').filter({ hasText: 'preprocessing' }).waitFor();
    const req = (await sent()).filter((m) => m.type === 'spanDetails').at(-1);
    assert.equal(req?.type === 'spanDetails' ? req.row : -1, 1);
    assert.match(
      await page.locator('.breadcrumb').innerText(),
      /gw \(not received yet\)[\s\S]*preprocessing/,
    );
    mkdirSync(IMAGES, { recursive: true });
    await page.screenshot({ path: path.join(IMAGES, 'waterfall-partial-trace.png') });
    assert.deepEqual(errors, []);
  });
});
