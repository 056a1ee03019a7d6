/**
 * The metrics strip in headless Chromium through the harness page: the strip the core computes
 * from SDK-made points over the shown trace's time range is drawn above the waterfall, under
 * the strict CSP; an exemplar opens its trace, the picker sends the user's choice, metric names
 * stay text. Saves docs/images/metrics-strip.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { metricsStrip } from '../../src/core/api/metrics-strip.js';
import { decodeMetricsRequest } from '../../src/core/otlp/metrics-request-decoder.js';
import { otlpMetricsJsonToProtobuf } from '../../src/core/otlp/otlp-json-request.js';
import { MetricStore } from '../../src/core/store/metric-store.js';
import type { TracePayload } from '../../src/protocol/messages.js';
import {
  openHarness,
  SKIP_BROWSER,
  type HarnessPage,
  type HarnessWindow as Win,
} from './helpers/harness-browser.js';
import { sdkGaugePoints } from './helpers/signals.js';

const ROOT = path.resolve(__dirname, '..', '..');
const IMAGES = path.join(ROOT, 'docs', 'images');
const OTHER_TRACE = 'cd'.repeat(16);

/** A histogram point in OTLP/JSON with an exemplar of `traceId`, as an exporter sends it. */
function exemplarPoint(service: string, timeMs: number, traceId: string) {
  const ns = `${BigInt(Math.round(timeMs)) * 1_000_000n}`;
  const json = {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeMetrics: [
          {
            scope: { name: 'runner' },
            metrics: [
              {
                name: 'batch.latency',
                unit: 'ms',
                histogram: {
                  aggregationTemporality: 2,
                  dataPoints: [
                    {
                      startTimeUnixNano: ns,
                      timeUnixNano: ns,
                      count: '2',
                      sum: 300,
                      bucketCounts: ['1', '1'],
                      explicitBounds: [100],
                      exemplars: [
                        { timeUnixNano: ns, asDouble: 250, traceId, spanId: 'ef'.repeat(8) },
                      ],
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
  const out = decodeMetricsRequest(otlpMetricsJsonToProtobuf(JSON.stringify(json)));
  assert.equal(out.rejected, 0, out.rejectReasons.join('; '));
  return out.points;
}

describe('metrics strip in Chromium', { skip: SKIP_BROWSER }, () => {
  let h: HarnessPage;

  before(async () => {
    h = await openHarness(60);
  });
  after(async () => {
    await h?.close();
  });

  it('draws the chosen metrics over the trace, opens an exemplar, sends the choice', async () => {
    const { page } = h;
    const trace = (await page.evaluate(
      () => (globalThis as unknown as Win).stagelightHarness.current,
    )) as TracePayload;
    const from = trace.startMs;
    const to = trace.startMs + trace.durationMs;
    const steps = 12;
    const at = (k: number) => from + ((to - from) * k) / (steps - 1);
    const store = new MetricStore();
    store.add(
      await sdkGaugePoints(
        'model-runner',
        'gpu.utilization',
        Array.from({ length: steps }, (_, k) => [at(k), 0.2 + 0.06 * k] as const),
      ),
    );
    store.add(
      await sdkGaugePoints(
        'model-runner',
        'queue.depth',
        Array.from({ length: steps }, (_, k) => [at(k), k * k] as const),
      ),
    );
    store.add(
      await sdkGaugePoints('model-runner', '<img src=x onerror=alert(1)>.queue.size', [
        [at(0), 1],
        [at(11), 2],
      ]),
    );
    store.add(await sdkGaugePoints('model-runner', 'process.heap', [[at(3), 5]]));
    store.add(exemplarPoint('model-runner', at(6), OTHER_TRACE));
    const strip = metricsStrip(store, from, to, [
      'model-runner/gpu.utilization',
      'model-runner/queue.depth',
      'model-runner/batch.latency',
      'model-runner/<img src=x onerror=alert(1)>.queue.size',
    ]);
    assert.equal(strip.series.length, 4);
    await h.post({ type: 'metricsStrip', traceId: trace.traceId, strip });

    const el = page.locator('.metrics-strip');
    await el.locator('.metrics-row').nth(3).waitFor();
    const text = await el.innerText();
    assert.match(text, /Metrics \(4 of 5\)/);
    assert.match(text, /gpu\.utilization[\s\S]*0\.86/);
    assert.match(text, /queue\.depth[\s\S]*121/);
    assert.match(text, /<img src=x onerror=alert\(1\)>\.queue\.size/);
    assert.equal(await el.locator('img').count(), 0, 'a metric name stays text');
    // The strip sits above the waterfall.
    const stripBox = await el.boundingBox();
    const treeBox = await page.locator('.scroller').boundingBox();
    assert.ok(stripBox && treeBox && stripBox.y + stripBox.height <= treeBox.y + 1);
    mkdirSync(IMAGES, { recursive: true });
    await page.screenshot({ path: path.join(IMAGES, 'metrics-strip.png') });

    // The strip follows the waterfall's zoom: zoomed in on the middle, the gpu line starts and
    // ends at the values of the window's edges, not at the trace's first and last readings.
    const gpuLine = el.locator('.metrics-row', { hasText: 'gpu.utilization' }).locator('polyline');
    const ys = async () =>
      ((await gpuLine.getAttribute('points')) ?? '').split(' ').map((p) => Number(p.split(',')[1]));
    const full = await ys();
    assert.ok(full[0]! > 22 && full.at(-1)! < 2, `full range: ${full.join(' ')}`);
    const changedFrom = async (before: number[]) => {
      for (let i = 0; i < 50; i++) {
        const now = await ys();
        if (now.join() !== before.join()) return now;
        await page.waitForTimeout(20);
      }
      throw new Error('the strip did not follow the window');
    };
    await page.getByRole('button', { name: 'Zoom in (+)' }).click();
    const zoomed = await changedFrom(full);
    assert.ok(zoomed[0]! > 12 && zoomed[0]! < 21, `zoomed start: ${zoomed.join(' ')}`);
    assert.ok(zoomed.at(-1)! > 3 && zoomed.at(-1)! < 12, `zoomed end: ${zoomed.join(' ')}`);
    await page.getByRole('button', { name: 'Whole trace (0)' }).click();
    assert.deepEqual(await changedFrom(zoomed), full);

    await el.locator('.metrics-exemplar').click();
    const sent = () => h.sent();
    assert.deepEqual((await sent()).at(-1), { type: 'selectTrace', traceId: OTHER_TRACE });

    await el.locator('summary').click();
    await el.locator('.metrics-picker-item', { hasText: 'process.heap' }).locator('input').check();
    const choice = (await sent()).at(-1);
    assert.equal(choice?.type, 'chooseMetrics');
    assert.deepEqual(choice?.type === 'chooseMetrics' ? [...choice.keys].sort() : [], [
      'model-runner/<img src=x onerror=alert(1)>.queue.size',
      'model-runner/batch.latency',
      'model-runner/gpu.utilization',
      'model-runner/process.heap',
      'model-runner/queue.depth',
    ]);
    // The host posts the strip again as readings arrive: the open picker stays open, and the
    // box the user was on keeps the focus.
    await el
      .locator('.metrics-picker-item', { hasText: 'gpu.utilization' })
      .locator('input')
      .focus();
    await h.post({ type: 'metricsStrip', traceId: trace.traceId, strip });
    await el.locator('.metrics-row').nth(3).waitFor();
    assert.equal(await el.locator('details.metrics-picker').getAttribute('open'), '');
    assert.ok(await el.locator('.metrics-picker-item').first().isVisible());
    assert.equal(
      await page.evaluate('document.activeElement?.dataset.key'),
      'model-runner/gpu.utilization',
    );
    assert.deepEqual(await page.evaluate(() => (globalThis as unknown as Win).cspViolations), []);
    assert.deepEqual(h.errors, []);
  });

  it('hides when no metric is held, and says when none is chosen', async () => {
    const { page } = h;
    const empty = metricsStrip(new MetricStore(), 0, 1);
    await h.post({ type: 'metricsStrip', traceId: 'ab'.repeat(16), strip: empty });
    await page.locator('.metrics-strip').waitFor({ state: 'hidden' });
    const store = new MetricStore();
    store.add(await sdkGaugePoints('w', 'process.heap', [[Date.now(), 1]]));
    await h.post({
      type: 'metricsStrip',
      traceId: 'ab'.repeat(16),
      strip: metricsStrip(store, Date.now() - 1000, Date.now()),
    });
    await page.locator('.metrics-strip-empty').filter({ hasText: 'No metric chosen' }).waitFor();
  });
});
