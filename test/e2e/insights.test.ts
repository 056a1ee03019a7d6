/**
 * The Insights view as a new user meets it, in a fresh window: the slow-reranker incident is the
 * very first thing run, and the view's top finding must name reranking (measured against the
 * demo's normal warm-up, which it pins as the baseline). Then the other incidents one after
 * another: each one's finding becomes the top one, and the previous run's findings move under
 * "From earlier runs". Screenshots go to docs/images/.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { waterfallWithTrace } from './helpers/waterfall.js';
import {
  imagePath,
  runCommand,
  screenshot,
  startWorkbench,
  type Workbench,
} from './helpers/workbench.js';

/** The Insights view's pane (the side bar also shows the Traces view, with rows of its own). */
function insightsPane(page: Page) {
  return page
    .locator('.pane')
    .filter({ has: page.locator('.pane-header .title', { hasText: /^Insights$/i }) });
}

/** The Insights view's top-level rows: the baseline, then the findings, most important first. */
function topRows(page: Page) {
  return insightsPane(page).locator('.monaco-list-row[aria-level="1"]');
}

/** Waits until the first finding (the row after the baseline's) matches `verdict`. */
async function waitForTopFinding(page: Page, verdict: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const rows = topRows(page);
    if ((await rows.count()) >= 2) {
      last = await rows.nth(1).innerText();
      if (verdict.test(last)) return last;
    }
    assert.ok(Date.now() < deadline, `top finding "${last}" does not match ${verdict}`);
    await page.waitForTimeout(2000);
    // Brings the view forward (the waterfall the demo opens takes the focus).
    if (!(await insightsPane(page).isVisible())) {
      await runCommand(page, 'Stagelight: Show Insights').catch(() => {});
    }
  }
}

async function widenSideBar(page: Page): Promise<void> {
  const bar = await page.locator('.part.sidebar').boundingBox();
  if (bar === null) return;
  const x = bar.x + bar.width;
  await page.mouse.move(x, 400);
  await page.mouse.down();
  await page.mouse.move(x + 300, 400, { steps: 5 });
  await page.mouse.up();
}

/**
 * Run Demo Pipeline with `scenario` picked. The Insights view finishing its load can take the
 * focus and close the scenario pick under the click: the command is then run again.
 */
async function runDemo(page: Page, scenario: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await runCommand(page, 'Stagelight: Run Demo Pipeline');
    try {
      const row = page
        .locator('.quick-input-widget .quick-input-list .monaco-list-row')
        .filter({ hasText: scenario })
        .first();
      await row.waitFor({ state: 'visible', timeout: 10_000 });
      await row.click({ timeout: 5000 });
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(1000);
    }
  }
}

describe('the Insights view on the demo incidents', { timeout: 900_000 }, () => {
  let wb: Workbench;

  before(async () => {
    wb = await startWorkbench({
      label: 'insights',
      settings: {
        'stagelight.receiver.grpcPort': 0,
        'stagelight.receiver.httpPort': 0,
        'stagelight.demo.device': 'cpu',
        'stagelight.insights.notifications': false,
      },
    });
  });
  after(async () => {
    await wb?.stop();
  });

  it(
    'names reranking when slow-reranker is the first thing run',
    { timeout: 240_000 },
    async () => {
      const { page } = wb;
      await runCommand(page, 'Stagelight: Show Insights');
      await runDemo(page, 'Slow reranker');
      const top = await waitForTopFinding(
        page,
        /^reranking .* vs .* in baseline demo warm-up/,
        200_000,
      );
      assert.match(top, /stage regressed/, top);
      const baseline = await topRows(page).first().innerText();
      assert.match(baseline, /Baseline demo warm-up/, baseline);
      // The picture after the run: every request finished, none cut short by a stop.
      await page
        .locator('.notifications-toasts .notification-toast', {
          hasText: /Stagelight demo \(slow-reranker\) finished/,
        })
        .waitFor({ state: 'visible', timeout: 180_000 });
      await runCommand(page, 'Notifications: Clear All Notifications').catch(() => {});
      await page
        .locator('.pane-header', { hasText: /^Traces/i })
        .first()
        .click()
        .catch(() => {});
      await widenSideBar(page);
      await screenshot(page, 'insights-view');
    },
  );

  it(
    'compares the latest trace with the baseline in the waterfall, and the icicle opens the slowest reranking',
    { timeout: 120_000 },
    async () => {
      const { page } = wb;
      await runCommand(page, 'Stagelight: Show Trace Waterfall');
      const frame = await waterfallWithTrace(page, 'inference_request');
      const section = frame.locator('.compare-section');
      await section.locator('vscode-button.compare-baseline').click();
      const table = section.locator('.compare-table');
      await table.waitFor({ state: 'visible', timeout: 30_000 });
      // The slow reranker's trace against the warm-up: reranking among the largest changes, slower.
      const rows = await section.locator('.compare-row').allInnerTexts();
      const reranking = rows.slice(0, 4).find((r) => /^reranking\b/.test(r));
      assert.ok(reranking !== undefined, rows.join(' | '));
      assert.match(reranking, /\+\d/, reranking);
      assert.match(
        await section.locator('.compare-summary').innerText(),
        /^this trace: .* vs baseline demo warm-up: /,
      );
      await section.scrollIntoViewIfNeeded();
      await frame.locator('.main').screenshot({ path: imagePath('compare-baseline') });

      // The aggregate critical path: reranking's box opens the trace where it took longest.
      const box = frame.locator('.path-icicle .icicle-node', { hasText: /^reranking/ }).first();
      await box.waitFor({ state: 'visible', timeout: 30_000 });
      const title = (await box.getAttribute('title')) ?? '';
      assert.match(title, /reranking: .* of the critical path per request/, title);
      const traceId = (await box.getAttribute('data-trace-id')) ?? '';
      assert.match(traceId, /^[0-9a-f]{32}$/);
      await box.click();
      // The waterfall then shows that trace, compared with the baseline the same way.
      await frame
        .locator('.summary', { hasText: traceId })
        .waitFor({ state: 'visible', timeout: 30_000 });
      await section.locator('.compare-table').waitFor({ state: 'visible', timeout: 30_000 });
      // Log lines of the shown trace that arrive after its spans redraw the panel once more:
      // the element may be replaced while it is being shot.
      for (let attempt = 1; ; attempt++) {
        try {
          await frame
            .locator('.path-icicle-wrap')
            .screenshot({ path: imagePath('critical-path-icicle'), timeout: 10_000 });
          break;
        } catch (e) {
          if (attempt >= 4) throw e;
          await page.waitForTimeout(1500);
        }
      }
    },
  );

  for (const [scenario, label, verdict] of [
    ['queue-backlog', 'Queue backlog', /waiting in retrieval-requests/],
    ['degraded-replica', 'Degraded replica', /generation-b/],
    ['errors', 'Errors', /^generation failed in \d+% of requests .*gen_ai\.request\.max_tokens=/],
  ] as const) {
    it(
      `puts the ${scenario} finding on top, the earlier run's as stale`,
      { timeout: 240_000 },
      async () => {
        const { page } = wb;
        // One demo at a time: the previous scenario may still be sending.
        await runCommand(page, 'Stagelight: Stop Demo Pipeline').catch(() => {});
        await page.waitForTimeout(1000);
        await runDemo(page, label);
        await waitForTopFinding(page, verdict, 200_000);
        await page
          .locator('.pane-body .monaco-list-row', { hasText: /^From earlier runs/ })
          .first()
          .waitFor({ state: 'visible', timeout: 30_000 });
        await runCommand(page, 'Stagelight: Stop Demo Pipeline').catch(() => {});
        await screenshot(page, `insights-${scenario}`);
      },
    );
  }
});
