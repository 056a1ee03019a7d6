/**
 * The waterfall's Insights section in headless Chromium through the harness page: an
 * `InsightsNotification` (built by the host's own `insightsForTrace`) is shown under the strict
 * CSP, findings about the open trace first, untrusted titles as text, and a trace link posts
 * `selectTrace`. Saves docs/images/insights-panel.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { makeBaseline } from '../../src/core/analysis/baseline.js';
import { computeInsights, explainTrace } from '../../src/core/analysis/insights/index.js';
import { insightsForTrace } from '../../src/core/api/insights-payload.js';
import type { InsightsNotification, WebviewMessage } from '../../src/protocol/messages.js';
import { openHarness, SKIP_BROWSER, type HarnessPage } from './helpers/harness-browser.js';
import { trace, traces } from './helpers/pipeline.js';

const ROOT = path.resolve(__dirname, '..', '..');
const IMAGES = path.join(ROOT, 'docs', 'images');

interface Win {
  stagelightHarness: {
    sent: WebviewMessage[];
    drawMs: number[];
    current: { traceId: string } | null;
    post(m: InsightsNotification): void;
  };
  cspViolations: string[];
}

/**
 * A real report: a reranker that got slower against its baseline, a queue that waits, and a
 * span name carrying markup (untrusted text). The notification is about one slow trace; the
 * harness shows its own synthetic trace, so the notification is addressed to that id.
 */
function notification(openTrace: string): { n: InsightsNotification; other: string } {
  const baseline = makeBaseline(traces(12), '3f9c2e1', 'commit', Date.UTC(2025, 0, 1));
  const slow = traces(10, () => ({ rerankMs: 7000, candidates: 40 }), 100);
  const report = computeInsights(slow, { baseline });
  const shown = slow[1]!;
  const n = insightsForTrace(
    report,
    shown,
    explainTrace(
      shown,
      traces(10, () => ({}), 200),
    ),
  );
  // Untrusted text in a finding title (span names come from the traced program).
  n.findings[0]!.title += ' <img src=x onerror=alert(1)>';
  return {
    n: {
      ...n,
      traceId: openTrace,
      findings: n.findings.map((f) => ({
        ...f,
        traceIds: f.traceIds.map((id) => (id === shown.traceId ? openTrace : id)),
      })),
    },
    other: slow[9]!.traceId,
  };
}

describe('insights section of the waterfall webview in Chromium', { skip: SKIP_BROWSER }, () => {
  let h: HarnessPage;
  let page: Page;
  let errors: string[];

  before(async () => {
    h = await openHarness(60);
    page = h.page;
    errors = h.errors;
  });

  after(async () => {
    await h?.close();
  });

  it('shows the findings about the open trace first, with numbers and trace links', async () => {
    const traceId = await page.evaluate(
      () => (globalThis as unknown as Win).stagelightHarness.current?.traceId ?? '',
    );
    assert.match(traceId, /^[0-9a-f]{32}$/);
    const { n } = notification(traceId);
    await page.evaluate((m) => (globalThis as unknown as Win).stagelightHarness.post(m), n);
    const section = page.locator('.insights-section');
    await section.locator('.insight').first().waitFor();
    const text = await section.innerText();
    assert.match(text, /Insights/);
    assert.match(text, /\d+ findings? over 10 traces of the latest run/);
    assert.match(text, /Compared with the baseline "3f9c2e1" \(12 traces/);
    assert.match(text, /This trace vs typical[\s\S]*reranking[\s\S]*7\.00 s[\s\S]*1\.20 s/);
    assert.match(text, /About this trace[\s\S]*reranking 7\.00 s vs 1\.20 s in baseline 3f9c2e1/);
    // The first finding's numbers are open.
    assert.match(text, /change\s*\+5\.80 s/);
    // Untrusted text stays text.
    assert.match(text, /<img src=x onerror=alert\(1\)>/);
    assert.equal(await section.locator('img').count(), 0);
    assert.ok(Number(await section.locator('.insights-count').innerText()) >= 1);

    const link = section.locator(`.trace-link:not(.current)`).first();
    const target = await link.getAttribute('title');
    await link.click();
    const last = await page.evaluate(() =>
      (globalThis as unknown as Win).stagelightHarness.sent.at(-1),
    );
    assert.equal((last as { type: string }).type, 'selectTrace');
    assert.ok(target?.includes((last as { traceId: string }).traceId));
    assert.deepEqual(await page.evaluate(() => (globalThis as unknown as Win).cspViolations), []);
    assert.deepEqual(errors, []);

    mkdirSync(IMAGES, { recursive: true });
    await page.waitForTimeout(100);
    await page.locator('.details').screenshot({ path: path.join(IMAGES, 'insights-panel.png') });
  });

  it('says so when there is no baseline, instead of calling the traces steady', async () => {
    const traceId = await page.evaluate(
      () => (globalThis as unknown as Win).stagelightHarness.current?.traceId ?? '',
    );
    const report = computeInsights(traces(3));
    const t = trace(0);
    const n = { ...insightsForTrace(report, t, undefined), traceId };
    await page.evaluate((m) => (globalThis as unknown as Win).stagelightHarness.post(m), n);
    const section = page.locator('.insights-section');
    await section.locator('.insights-baseline.baseline-none').waitFor();
    const text = await section.innerText();
    assert.match(text, /No baseline yet/);
    assert.doesNotMatch(text, /steady/);
  });
});
