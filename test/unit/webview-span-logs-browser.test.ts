/**
 * A trace's log lines in the waterfall, in headless Chromium through the harness page: a trace
 * made by the OpenTelemetry JS tracing and logs SDKs and built into its payload by the core (as
 * the host posts it) marks each span's lines on its bar, one tick per line and nothing else; the
 * hover reads them; the span's details list its lines (the core's, as the host answers) and
 * filter them by severity and text; `is:haslog` and `log:` search. Saves docs/images/span-logs.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { buildSpanDetails } from '../../src/core/api/span-details-view.js';
import { spanLogLines } from '../../src/core/api/span-logs.js';
import { buildTracePayload, rowOfSpan, spanAtRow } from '../../src/core/api/trace-payload.js';
import type { SpanDetails, TracePayload } from '../../src/protocol/messages.js';
import {
  openHarness,
  ROW,
  SKIP_BROWSER,
  type HarnessPage,
  type HarnessWindow as Win,
} from './helpers/harness-browser.js';
import { makeLoggedTrace, type LoggedTrace } from './helpers/span-logs-trace.js';

const ROOT = path.resolve(__dirname, '..', '..');
const IMAGES = path.join(ROOT, 'docs', 'images');

// The page-side code is given as text: this project's test tsconfig has no DOM types.

/** Per x of the rows canvas (CSS px), whether row `index`'s band differs from the saved one. */
async function changedColumns(page: Page, index: number): Promise<number[]> {
  return page.evaluate(`(() => {
    const c = document.querySelector('canvas.rows');
    const ctx = c.getContext('2d');
    const dpr = window.devicePixelRatio || 1;
    const h = Math.round(${ROW} * dpr);
    const now = ctx.getImageData(0, Math.round(${index} * ${ROW} * dpr), c.width, h).data;
    const before = window.savedRows[${index}];
    const out = [];
    for (let x = 0; x < c.width; x++) {
      for (let y = 0; y < h; y++) {
        const k = (y * c.width + x) * 4;
        if (now[k] !== before[k] || now[k + 1] !== before[k + 1] || now[k + 2] !== before[k + 2]) {
          out.push(Math.round(x / dpr));
          break;
        }
      }
    }
    return [...new Set(out)];
  })()`);
}

/** Keeps each row band of the rows canvas, for `changedColumns`. */
async function saveRows(page: Page, rows: number): Promise<void> {
  await page.evaluate(`(() => {
    const c = document.querySelector('canvas.rows');
    const ctx = c.getContext('2d');
    const dpr = window.devicePixelRatio || 1;
    const h = Math.round(${ROW} * dpr);
    window.savedRows = Array.from({ length: ${rows} }, (_, i) =>
      ctx.getImageData(0, Math.round(i * ${ROW} * dpr), c.width, h).data);
  })()`);
}

const TITLE = `document.querySelector('.scroller').getAttribute('title')`;
const logItems = (n: number): string =>
  `document.querySelectorAll('.logs-section li.log').length === ${n}`;
/** Sets the severity dropdown as a user's pick does (the toolkit fires `change`). */
const pickLevel = (value: string): string =>
  `(() => { const e = document.querySelector('.logs-filter vscode-dropdown'); e.value = '${value}'; e.dispatchEvent(new Event('change')); })()`;

/** Runs of adjacent columns: one per drawn tick. */
function bands(xs: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const x of xs) {
    const last = out.at(-1);
    if (last !== undefined && x <= last[1] + 1) last[1] = x;
    else out.push([x, x]);
  }
  return out;
}

describe('span log lines in the waterfall, in Chromium', { skip: SKIP_BROWSER }, () => {
  let h: HarnessPage;
  let page: Page;
  let made: LoggedTrace;
  let payload: TracePayload;
  let row: (k: keyof LoggedTrace['ids']) => number;

  before(async () => {
    // Three DEBUG lines besides INFO and WARN on `embed`; ERROR on `rerank`.
    made = await makeLoggedTrace(3);
    const entry = made.engine.store.get(made.traceId)!;
    const analysis = made.engine.analyze(made.traceId)!;
    const logs = made.engine.signals.logStore;
    payload = buildTracePayload(entry, analysis, { logs });
    row = (k) => rowOfSpan(analysis, made.ids[k]);
    // The details the host would answer: the core's, with the span's log lines.
    const details: Record<string, SpanDetails> = {};
    for (let r = 0; r < payload.spanCount; r++) {
      const span = spanAtRow(analysis, r)!;
      const d = buildSpanDetails(span, r, analysis, analysis.criticalPath.durationMs);
      d.logs = spanLogLines(logs, span.traceId, span.spanId, analysis.tree.startMs);
      details[`${made.traceId}/${r}`] = d;
    }
    h = await openHarness(60);
    page = h.page;
    await page.evaluate((d) => {
      (
        globalThis as unknown as Win & { stagelightHarness: { details: unknown } }
      ).stagelightHarness.details = d;
    }, details);
  });

  after(async () => {
    await h?.close();
    await made?.engine.close();
  });

  const show = async (trace: TracePayload): Promise<void> => {
    const frames = await page.evaluate(
      () => (globalThis as unknown as Win).stagelightHarness.drawMs.length,
    );
    await h.post({ type: 'trace', trace, reason: 'open', requested: true });
    await page.waitForFunction(
      (n) => (globalThis as unknown as Win).stagelightHarness.drawMs.length > n,
      frames,
    );
  };

  it('ticks each log line on its span’s bar, and draws nothing else differently', async () => {
    // The same trace without its log columns first: the difference is the marks alone.
    const { logCount: _c, logSeverity: _s, logMarks: _m, logTexts: _t, ...bare } = payload;
    await show({ ...bare, flags: payload.flags.map((f) => f & ~128) });
    await page.locator('.summary').filter({ hasText: 'handle query' }).waitFor();
    await page.mouse.move(0, 0);
    await saveRows(page, payload.spanCount);
    await show(payload);
    const embed = bands(await changedColumns(page, row('embed')));
    const rerank = bands(await changedColumns(page, row('rerank')));
    // embed: lines at 6, 7, 8, 9 and 30 ms; rerank: one at 88 ms. Each tick is 4 px wide.
    assert.equal(embed.length, 5, JSON.stringify(embed));
    assert.equal(rerank.length, 1, JSON.stringify(rerank));
    for (const [a, b] of [...embed, ...rerank]) assert.ok(b - a <= 4, `tick ${a}-${b}`);
    assert.ok((rerank[0]?.[0] ?? 0) > (embed.at(-1)?.[1] ?? Infinity), 'in time order');
    assert.deepEqual(await changedColumns(page, row('root')), []);
    assert.deepEqual(await changedColumns(page, row('quiet')), []);
    assert.deepEqual(h.errors, []);
  });

  it('reads a span’s lines on hover', async () => {
    const box = await page.locator('.scroller').boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + 220, box.y + row('embed') * ROW + ROW / 2);
    await page.waitForFunction(`(${TITLE} ?? '') !== ''`);
    const title = (await page.locator('.scroller').getAttribute('title')) ?? '';
    assert.match(title, /^5 log lines\n\+6\.00 ms INFO embedding 32 passages\n/);
    assert.match(title, /\+30\.0 ms WARN GPU memory at 93%/);
    await page.mouse.move(box.x + 220, box.y + row('quiet') * ROW + ROW / 2);
    await page.waitForFunction(`${TITLE} === null`);
  });

  it('lists the span’s lines in its details and filters them by severity and text', async () => {
    await h.clickRow(row('embed'));
    const section = page.locator('.details .logs-section');
    await section.waitFor();
    // The tree's accessible name for the selected span says it wrote lines.
    assert.match(
      (await page.locator('.scroller').getAttribute('aria-label')) ?? '',
      /embed, retrieval, 35\.0 ms, 5 log lines/,
    );
    assert.match(await section.locator('summary').innerText(), /Logs \(5\)/);
    const items = section.locator('li.log');
    assert.equal(await items.count(), 5);
    assert.match(
      await items.nth(0).innerText(),
      /\+6\.00 ms\s+INFO\s+embedding 32 passages[\s\S]*batch\.size[\s\S]*32/,
    );
    assert.equal(await section.locator('li.log.sev-warn').count(), 1);
    assert.match(await section.locator('.logs-count').innerText(), /^5 lines$/);

    const text = section.locator('.logs-filter vscode-text-field input');
    await text.fill('cuda');
    await page.waitForFunction(logItems(1));
    assert.match(await items.nth(0).innerText(), /GPU memory at 93%[\s\S]*gpu\.id[\s\S]*cuda:0/);
    assert.match(await section.locator('.logs-count').innerText(), /^1 of 5 lines$/);
    await text.fill('');
    await page.evaluate(pickLevel('info'));
    await page.waitForFunction(logItems(2));
    await text.fill('nothing like this');
    await section.locator('li.details-empty').filter({ hasText: 'No line matches' }).waitFor();
    await text.fill('');
    await page.evaluate(pickLevel('all'));
    await page.waitForFunction(logItems(5));
    // Untrusted values from a line stay text: no element is made from them.
    await h.clickRow(row('rerank'));
    await page.locator('.details .details-title').filter({ hasText: 'rerank' }).waitFor();
    await section.locator('li.log.sev-error').waitFor();
    assert.match(await section.innerText(), /request\.input[\s\S]*<img src=x onerror=alert\(1\)>/);
    assert.equal(await page.locator('.details img').count(), 0);
    // A span without lines has no Logs section.
    await h.clickRow(row('quiet'));
    await page.locator('.details .details-title').filter({ hasText: 'format' }).waitFor();
    assert.equal(await page.locator('.details .logs-section').count(), 0);
    assert.deepEqual(h.errors, []);
  });

  it('searches with is:haslog and level:, and asks the host for log:"text"', async () => {
    const field = page.locator('vscode-text-field.search input');
    await field.click();
    await field.fill('is:haslog');
    await page.locator('.match-count').filter({ hasText: '2 matches' }).waitFor();
    await field.fill('level:error');
    await page.locator('.match-count').filter({ hasText: '1 match' }).waitFor();
    await field.fill('log:"out of memory"');
    await page.waitForFunction(() =>
      (globalThis as unknown as Win).stagelightHarness.sent.some(
        (m) => m.type === 'attributeSearch' && m.terms.some((t) => t.in === 'log'),
      ),
    );
    const req = (await h.sent()).filter((m) => m.type === 'attributeSearch').at(-1);
    assert.deepEqual(req?.type === 'attributeSearch' ? req.terms : [], [
      { key: 'out of memory', negate: false, in: 'log' },
    ]);
    await field.press('Escape');
    assert.deepEqual(h.errors, []);
  });

  it('saves docs/images/span-logs.png', async () => {
    await h.clickRow(row('embed'));
    await page.locator('.details .logs-section li.log').first().waitFor();
    const box = await page.locator('.scroller').boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + 220, box.y + row('rerank') * ROW + ROW / 2);
    mkdirSync(IMAGES, { recursive: true });
    await page.screenshot({ path: path.join(IMAGES, 'span-logs.png') });
    assert.deepEqual(h.errors, []);
  });
});
