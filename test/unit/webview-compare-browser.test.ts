/**
 * Compare and the aggregate critical path in the waterfall bundle, in headless Chromium through
 * the harness page: the Compare buttons ask the host (here the test, answering as the host
 * would), the answer shows as a stage table whose names select the stage's row, a newly shown
 * trace is compared the same way, a late answer to an older request is dropped, Prod asks for
 * the traces pulled from the team backend, and the icicle's boxes open the slowest trace of
 * their stage. Saves docs/images/compare.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type {
  CompareRequest,
  ComparisonPayload,
  InsightsNotification,
} from '../../src/protocol/messages.js';
import {
  openHarness,
  SKIP_BROWSER,
  type HarnessPage,
  type HarnessWindow,
} from './helpers/harness-browser.js';

const IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'images');

const COMPARISON: ComparisonPayload = {
  before: { label: 'typical of 41', durationMs: 180, traces: 41 },
  after: { label: '', durationMs: 420, traces: 1 },
  deltaMs: 240,
  rows: [
    {
      service: 'reranker',
      name: 'reranking',
      depth: 3,
      beforeMs: 40,
      afterMs: 270,
      deltaMs: 230,
      beforeSpans: 1,
      afterSpans: 1,
      status: 'both',
    },
    {
      service: 'retriever',
      name: 'cache_lookup',
      depth: 2,
      beforeMs: 12,
      deltaMs: -12,
      beforeSpans: 1,
      afterSpans: 0,
      status: 'vanished',
    },
    {
      service: 'embedder',
      name: 'embedding',
      depth: 2,
      beforeMs: 30,
      afterMs: 31,
      deltaMs: 1,
      beforeSpans: 1,
      afterSpans: 1,
      status: 'both',
    },
  ],
};

describe('compare and the aggregate critical path in Chromium', { skip: SKIP_BROWSER }, () => {
  let h: HarnessPage;
  before(async () => {
    h = await openHarness(60);
  });
  after(async () => {
    await h?.close();
  });

  const compareRequests = async (): Promise<CompareRequest[]> =>
    (await h.sent()).filter((m): m is CompareRequest => m.type === 'compare');
  const nextCompare = async (seen: number): Promise<CompareRequest> => {
    for (let i = 0; i < 100; i++) {
      const all = await compareRequests();
      if (all.length > seen) return all[all.length - 1]!;
      await h.page.waitForTimeout(20);
    }
    assert.fail('the webview sent no compare request');
  };
  const shownTraceId = (): Promise<string> =>
    h.page.evaluate(
      () => (globalThis as unknown as HarnessWindow).stagelightHarness.current!.traceId,
    );

  it('asks the host when a button is clicked, and shows the stage table it answers', async () => {
    const { page } = h;
    const section = page.locator('.compare-section');
    await section
      .locator('.compare-status')
      .filter({ hasText: /stage by stage/ })
      .waitFor();
    await section.locator('vscode-button.compare-typical').click();
    const req = await nextCompare(0);
    const traceId = await shownTraceId();
    assert.equal(req.against, 'typical');
    assert.equal(req.traceId, traceId);
    await section.locator('.compare-status').filter({ hasText: 'Comparing' }).waitFor();
    await h.post({
      type: 'compareResponse',
      requestId: req.requestId,
      comparison: { ...COMPARISON, after: { ...COMPARISON.after, label: traceId } },
    });
    await section.locator('.compare-table').waitFor();
    assert.match(
      await section.locator('.compare-summary').innerText(),
      /^this trace: 420 ms vs typical of 41: 180 ms \(\+240 ms\)$/,
    );
    const rows = section.locator('.compare-row');
    // A 1 ms change is below the marks' threshold (2% of 420 ms, halved for the table).
    assert.equal(await rows.count(), 2);
    assert.match(await rows.nth(0).innerText(), /reranking\s+40(\.0)? ms\s+270 ms\s+\+230 ms/);
    assert.match(
      await rows.nth(1).innerText(),
      /cache_lookup\s*gone\s+12(\.0)? ms\s+–\s+-12(\.0)? ms/,
    );
    assert.equal(await rows.nth(1).locator('button').isDisabled(), true, 'a gone stage has no row');
    assert.equal(await section.locator('.compare-typical').getAttribute('aria-pressed'), 'true');
    mkdirSync(IMAGES, { recursive: true });
    await page.locator('.main').screenshot({ path: path.join(IMAGES, 'compare.png') });

    // A stage name selects the stage's first span in the waterfall.
    await rows.nth(0).locator('button').click();
    await page.locator('.details .details-title').filter({ hasText: 'reranking' }).waitFor();
    assert.deepEqual(h.errors, []);
  });

  it('compares a newly shown trace the same way, and drops the answer for the old one', async () => {
    const { page } = h;
    const before = (await compareRequests()).length;
    const oldReq = (await compareRequests())[before - 1]!;
    await page.evaluate(() => {
      const hs = (globalThis as unknown as HarnessWindow).stagelightHarness;
      const t = hs.current!;
      hs.post({
        type: 'trace',
        trace: { ...t, traceId: 'dddddddddddddddddddddddddddddddd' },
        reason: 'open',
        requested: true,
      });
    });
    const req = await nextCompare(before);
    assert.equal(req.traceId, 'dddddddddddddddddddddddddddddddd');
    assert.equal(req.against, 'typical');
    // The old trace's answer, late: not shown.
    await h.post({ type: 'compareResponse', requestId: oldReq.requestId, comparison: COMPARISON });
    await h.post({
      type: 'compareResponse',
      requestId: req.requestId,
      comparison: null,
      error: 'No baseline to compare with: pin one first.',
    });
    await page
      .locator('.compare-section .compare-status.failed')
      .filter({ hasText: 'pin one first' })
      .waitFor();
    await page.locator('.compare-section vscode-button.compare-off').click();
    await page
      .locator('.compare-section .compare-status')
      .filter({ hasText: /stage by stage/ })
      .waitFor();
    assert.deepEqual(h.errors, []);
  });

  it('Prod asks for the pulled traces, and shows what is missing plainly', async () => {
    const { page } = h;
    const before = (await compareRequests()).length;
    await page.locator('.compare-section vscode-button.compare-prod').click();
    const req = await nextCompare(before);
    assert.equal(req.against, 'prod');
    assert.equal(req.traceId, await shownTraceId());
    await h.post({
      type: 'compareResponse',
      requestId: req.requestId,
      comparison: null,
      error: 'No pulled traces to compare with: pull some from the team backend first.',
    });
    await page
      .locator('.compare-section .compare-status.failed')
      .filter({ hasText: 'pull some from the team backend first' })
      .waitFor();
    assert.equal(
      await page.locator('.compare-section .compare-prod').getAttribute('aria-pressed'),
      'true',
    );
    await page.locator('.compare-section vscode-button.compare-off').click();
    assert.deepEqual(h.errors, []);
  });

  it('draws the aggregate critical path, and a box opens its slowest trace', async () => {
    const { page } = h;
    const slow = 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee';
    const n: InsightsNotification = {
      type: 'insights',
      traceId: await shownTraceId(),
      traces: 40,
      findings: [],
      explain: [],
      baseline: { state: 'none', message: 'No baseline yet.' },
      criticalPath: {
        traces: 40,
        meanMs: 400,
        nodes: [
          {
            service: 'rag-gateway',
            name: 'inference_request',
            parent: -1,
            depth: 0,
            ms: 400,
            selfMs: 20,
            traces: 40,
            slowestTraceId: slow,
            slowestMs: 900,
          },
          {
            service: 'reranker',
            name: 'reranking',
            parent: 0,
            depth: 1,
            ms: 260,
            selfMs: 260,
            traces: 40,
            slowestTraceId: slow,
            slowestMs: 700,
          },
          {
            service: 'embedder',
            name: 'embedding',
            parent: 0,
            depth: 1,
            ms: 120,
            selfMs: 120,
            traces: 40,
            slowestTraceId: 'ffffffffffffffffffffffffffffffff',
            slowestMs: 200,
          },
        ],
      },
    };
    await h.post(n);
    const boxes = page.locator('.path-icicle .icicle-node');
    await boxes.first().waitFor();
    assert.equal(await boxes.count(), 3);
    const widths = await boxes.evaluateAll((els) =>
      els.map((e) => e.getBoundingClientRect().width),
    );
    // 400 : 260 : 120 of the mean, within a pixel of rounding.
    assert.ok(Math.abs(widths[1]! / widths[0]! - 0.65) < 0.01, String(widths));
    assert.ok(Math.abs(widths[2]! / widths[0]! - 0.3) < 0.01, String(widths));
    const rerank = boxes.filter({ hasText: 'reranking' });
    assert.match((await rerank.getAttribute('title')) ?? '', /reranker \/ reranking: 260 ms .*65%/);
    const sentBefore = (await h.sent()).length;
    await rerank.click();
    const after = (await h.sent()).slice(sentBefore);
    assert.deepEqual(after, [{ type: 'selectTrace', traceId: slow }]);
    assert.deepEqual(
      await page.evaluate(() => (globalThis as unknown as HarnessWindow).cspViolations),
      [],
    );
    assert.deepEqual(h.errors, []);
  });
});
