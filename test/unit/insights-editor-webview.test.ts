/**
 * The waterfall's Insights section in headless Chromium through the harness page: an
 * `InsightsNotification` (built by the host's own `insightsForTrace`) is shown under the strict
 * CSP, findings about the open trace first, untrusted titles as text, and a trace link posts
 * `selectTrace`. Saves docs/images/insights-panel.png.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Finding, InsightsReport } from '../../src/core/analysis/insights.js';
import { insightsForTrace, stageId } from '../../src/extension/insights-format.js';
import type { InsightsNotification, WebviewMessage } from '../../src/protocol/messages.js';
import { startHarnessServer, type HarnessServer } from '../../webview/dev/harness-server.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '..', '..');
const IMAGES = path.join(ROOT, 'docs', 'images');
const OTHER = 'c0ffee00c0ffee00c0ffee00c0ffee00';

interface Win {
  stagelightHarness: {
    sent: WebviewMessage[];
    drawMs: number[];
    current: { traceId: string } | null;
    post(m: InsightsNotification): void;
  };
  cspViolations: string[];
}

/** Findings as the core words them, about the harness's synthetic pipeline trace. */
function report(openTrace: string): InsightsReport {
  const findings: Finding[] = [
    {
      kind: 'stage-regression',
      severity: 'critical',
      score: 5800,
      title: 'reranking 7.02 s vs 1.21 s typical (+5.81 s, 83% of the excess)',
      stage: { service: 'reranker', name: 'reranking' },
      numbers: {
        typicalMs: 1210,
        recentMs: 7020,
        deltaMs: 5810,
        shareOfExcess: 0.83,
        e2eTypicalMs: 2310,
        e2eRecentMs: 9300,
        recentTraces: 15,
        baselineTraces: 45,
      },
      traceIds: [openTrace, OTHER],
    },
    {
      kind: 'bad-instance',
      severity: 'critical',
      score: 900,
      title:
        'reranking on replica=replica-b: p95 15.0 s, 30% errors vs 204 ms, 0% elsewhere <img src=x onerror=alert(1)>',
      stage: { service: 'reranker', name: 'reranking' },
      numbers: {
        attribute: 'replica',
        value: 'replica-b',
        p95Ms: 15000,
        errorRate: 0.3,
        count: 20,
        restP95Ms: 204,
        restErrorRate: 0,
        restCount: 40,
      },
      traceIds: [OTHER],
      evidence: {
        group: { p50Ms: 9100, p95Ms: 15000, count: 20 },
        rest: { p50Ms: 150, p95Ms: 204, count: 40 },
      },
    },
    {
      kind: 'queueing',
      severity: 'warning',
      score: 700,
      title: '790 ms of 2.40 s spent waiting in retrieval-requests (33% of the request, rising)',
      numbers: {
        queue: 'retrieval-requests',
        medianWaitMs: 790,
        medianDurationMs: 2400,
        medianShare: 0.33,
        trend: 'rising',
      },
      traceIds: [OTHER],
      evidence: { waitsMs: [90, 120, 200, 260, 400, 520, 700, 790, 900, 1100] },
    },
    {
      kind: 'untraced-time',
      severity: 'info',
      score: 60,
      title:
        '120 ms (31% of the critical path) is inside postprocessing but outside its child spans: add a span there',
      stage: { service: 'rag-gateway', name: 'postprocessing' },
      numbers: { untracedMs: 120, shareOfCriticalPath: 0.31 },
      traceIds: [OTHER],
    },
  ];
  return { traces: 60, findings, whatIf: [] };
}

describe(
  'insights section of the waterfall webview in Chromium',
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} missing (apt-get install -y chromium)` },
  () => {
    let server: HarnessServer;
    let browser: Browser;
    let page: Page;
    const errors: string[] = [];

    before(async () => {
      server = await startHarnessServer({ bundle: 'build' });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--headless=new'],
      });
      page = await browser.newPage({ viewport: { width: 1400, height: 820 } });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.addInitScript(`
      window.__name = (f) => f;
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.sourceFile + ':' + e.lineNumber));
    `);
      await page.goto(`${server.url}?spans=60`);
      await page.waitForFunction(
        () => (globalThis as unknown as Win).stagelightHarness?.drawMs.length > 0,
      );
    });

    after(async () => {
      await browser?.close();
      await server?.close();
    });

    it('shows the findings about the open trace first, with numbers and trace links', async () => {
      const traceId = await page.evaluate(
        () => (globalThis as unknown as Win).stagelightHarness.current?.traceId ?? '',
      );
      assert.match(traceId, /^[0-9a-f]{32}$/);
      const n = insightsForTrace(
        report(traceId),
        traceId,
        new Set([
          stageId('reranker', 'reranking'),
          stageId('rag-gateway', 'inference_request'),
          stageId('rag-gateway', 'postprocessing'),
        ]),
        [
          {
            stage: { service: 'reranker', name: 'reranking' },
            ms: 7020,
            typicalMs: 1210,
            share: 0.83,
          },
          {
            stage: { service: 'generator', name: 'generation' },
            ms: 1900,
            typicalMs: 820,
            share: 0.15,
          },
          {
            stage: { service: 'retrieval', name: 'retrieve' },
            ms: 260,
            typicalMs: 240,
            share: 0.01,
          },
          {
            stage: { service: 'rag-gateway', name: 'preprocessing' },
            ms: 40,
            typicalMs: 52,
            share: 0,
          },
        ],
        { label: '3f9c2e1', pinnedAt: Date.UTC(2025, 0, 1) },
      );
      await page.evaluate((m) => (globalThis as unknown as Win).stagelightHarness.post(m), n);
      const section = page.locator('.insights-section');
      await section.locator('.insight').first().waitFor();
      const text = await section.innerText();
      assert.match(text, /Insights/);
      assert.match(text, /4 findings over 60 recent traces/);
      assert.match(text, /vs baseline 3f9c2e1/);
      assert.match(text, /This trace vs typical[\s\S]*reranking[\s\S]*7\.02 s[\s\S]*1\.21 s/);
      // About this trace: the regression (names it), the bad instance and the untraced time
      // (their stages run in it); the queueing finding is about other traces.
      assert.match(
        text,
        /About this trace[\s\S]*reranking 7\.02 s vs 1\.21 s typical[\s\S]*replica=replica-b: p95 15\.0 s[\s\S]*<img src=x onerror=alert\(1\)>[\s\S]*postprocessing[\s\S]*Other findings in the recent traces \(1\)/,
      );
      // The first finding's numbers are open.
      assert.match(text, /share of the excess\s*83%/);
      // Untrusted text stays text.
      assert.equal(await section.locator('img').count(), 0);
      assert.equal(await section.locator('.insights-count').innerText(), '3');

      await section.locator('.insights-others > summary').click();
      assert.match(
        await section.innerText(),
        /spent waiting in retrieval-requests[\s\S]*The numbers \(6\)/,
      );

      const link = section.locator(`.trace-link:not(.current)`).first();
      await link.click();
      const last = await page.evaluate(() =>
        (globalThis as unknown as Win).stagelightHarness.sent.at(-1),
      );
      assert.deepEqual(last, { type: 'selectTrace', traceId: OTHER });
      assert.deepEqual(await page.evaluate(() => (globalThis as unknown as Win).cspViolations), []);
      assert.deepEqual(errors, []);

      // Back to the first view for the picture: "other findings" closed.
      await section.locator('.insights-others > summary').click();
      mkdirSync(IMAGES, { recursive: true });
      await page.waitForTimeout(100);
      await page.locator('.details').screenshot({ path: path.join(IMAGES, 'insights-panel.png') });
    });
  },
);
