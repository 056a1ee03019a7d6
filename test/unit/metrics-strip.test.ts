/**
 * The metrics strip over a trace's time range (`core/api/metrics-strip.ts`) and where the
 * webview draws it (`webview/src/model/metrics-strip-layout.ts`): gauges from the JS metrics
 * SDK, a histogram whose OTLP/JSON (the SDK's own serializer) carries exemplars the way an
 * exporter that records them sends them, decoded by the receiver into a real metric store.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { JsonMetricsSerializer } from '@opentelemetry/otlp-transformer';
import {
  defaultMetrics,
  MAX_STRIP_POINTS,
  NEAR_MS,
  metricsStrip,
} from '../../src/core/api/metrics-strip.js';
import { decodeMetricsRequest } from '../../src/core/otlp/metrics-request-decoder.js';
import { otlpMetricsJsonToProtobuf } from '../../src/core/otlp/otlp-json-request.js';
import { MetricStore } from '../../src/core/store/metric-store.js';
import { isWebviewMessage } from '../../src/protocol/messages.js';
import {
  formatValue,
  layoutSeries,
  seriesLabels,
  unitSuffix,
} from '../../webview/src/model/metrics-strip-layout.js';
import { sdkGaugePoints } from './helpers/signals.js';

const BASE = 1_764_000_000_000;
const TRACE = 'ab'.repeat(16);

class CollectOnDemand extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** A `batch.size` histogram at `timeMs`, with one exemplar of `TRACE` in its JSON. */
async function histogramWithExemplar(timeMs: number) {
  const reader = new CollectOnDemand();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'runner' }),
    readers: [reader],
  });
  const h = provider.getMeter('stagelight.test').createHistogram('batch.size');
  for (const v of [4, 8, 8, 16]) h.record(v);
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  const json = JSON.parse(
    new TextDecoder().decode(JsonMetricsSerializer.serializeRequest(resourceMetrics)),
  );
  const ns = `${BigInt(timeMs) * 1_000_000n}`;
  for (const rm of json.resourceMetrics)
    for (const sm of rm.scopeMetrics)
      for (const m of sm.metrics)
        for (const p of m.histogram.dataPoints) {
          p.startTimeUnixNano = ns;
          p.timeUnixNano = ns;
          p.exemplars = [
            { timeUnixNano: ns, asDouble: 16, traceId: TRACE, spanId: 'cd'.repeat(8) },
            // No span context: nothing to open.
            { timeUnixNano: ns, asDouble: 4 },
          ];
        }
  const decoded = decodeMetricsRequest(otlpMetricsJsonToProtobuf(JSON.stringify(json)));
  assert.equal(decoded.rejected, 0, decoded.rejectReasons.join('; '));
  return decoded.points;
}

describe('metrics strip', () => {
  it('shows the default metrics over the range, with the points around it and the exemplars', async () => {
    const store = new MetricStore();
    const at = (ms: number) => BASE + ms;
    store.add(
      await sdkGaugePoints('runner', 'gpu.utilization', [
        [at(0), 0.1],
        [at(1000), 0.5],
        [at(2000), 0.9],
        [at(3000), 0.95],
        [at(9000), 0.2],
      ]),
    );
    store.add(await sdkGaugePoints('runner', 'process.cpu.time', [[at(1500), 3]]));
    store.add(await histogramWithExemplar(at(1500)));
    const strip = metricsStrip(store, at(1200), at(2500));
    // GPU before batches, whatever the order they are listed in.
    assert.deepEqual(strip.chosen, ['runner/gpu.utilization', 'runner/batch.size']);
    assert.deepEqual(
      strip.available.map((m) => m.key),
      ['runner/batch.size', 'runner/gpu.utilization', 'runner/process.cpu.time'],
    );
    const gpu = strip.series.find((s) => s.name === 'gpu.utilization')!;
    // The point before the range (1000), those in it (2000), the one after (3000).
    assert.deepEqual(gpu.points, [
      [at(1000), 0.5],
      [at(2000), 0.9],
      [at(3000), 0.95],
    ]);
    assert.equal(gpu.min, 0.5);
    assert.equal(gpu.max, 0.95);
    const batch = strip.series.find((s) => s.name === 'batch.size')!;
    assert.deepEqual(batch.points, [[at(1500), 9]], 'a histogram is drawn as its mean');
    assert.deepEqual(batch.exemplars, [{ timeMs: at(1500), value: 16, traceId: TRACE }]);
  });

  it('shows what the user chose, drops keys of metrics not held, and thins long series', async () => {
    const store = new MetricStore();
    const samples = Array.from({ length: 500 }, (_, i) => [BASE + i * 10, i] as const);
    store.add(await sdkGaugePoints('w', 'tokens.per.second', samples));
    const strip = metricsStrip(store, BASE, BASE + 5000, ['w/tokens.per.second', 'gone/metric']);
    assert.deepEqual(strip.chosen, ['w/tokens.per.second']);
    const s = strip.series[0]!;
    assert.equal(s.points.length, MAX_STRIP_POINTS);
    assert.deepEqual(s.points[0], [BASE, 0]);
    // Times come through nanoseconds: equal to the microsecond.
    const [lastMs, lastValue] = s.points.at(-1)!;
    assert.ok(Math.abs(lastMs - (BASE + 4990)) < 1e-3, String(lastMs));
    assert.equal(lastValue, 499);
    assert.deepEqual(metricsStrip(store, BASE, BASE + 5000, []).series, []);
    // Nothing in the range nor near it, or a range that is no range: no series.
    const far = BASE + 4990 + NEAR_MS + 1;
    assert.deepEqual(metricsStrip(store, far, far + 10_000, undefined).chosen, []);
    assert.deepEqual(metricsStrip(store, far, far + 10_000, ['w/tokens.per.second']).series, []);
    assert.deepEqual(metricsStrip(store, BASE + 10, BASE, ['w/tokens.per.second']).series, []);
  });

  it('a trace between two exports shows the reading just before it, then the one after', async () => {
    const store = new MetricStore();
    // Exported every 60 s (the SDKs' default); a 900 ms trace 20 s after the last export.
    store.add(
      await sdkGaugePoints('retrieval', 'queue.depth', [
        [BASE, 2],
        [BASE + 60_000, 7],
      ]),
    );
    const from = BASE + 80_000;
    const before = metricsStrip(store, from, from + 900);
    assert.deepEqual(before.chosen, ['retrieval/queue.depth']);
    assert.deepEqual(before.series[0]?.points, [[BASE + 60_000, 7]]);
    // It draws as a level line across the strip.
    const level = layoutSeries(before.series[0]!, from, from + 900, 100, 12);
    assert.equal(level.line, '0,6 100,6');
    // The next export arrives: the range now lies between the two readings.
    store.add(await sdkGaugePoints('retrieval', 'queue.depth', [[BASE + 120_000, 9]]));
    assert.deepEqual(metricsStrip(store, from, from + 900).series[0]?.points, [
      [BASE + 60_000, 7],
      [BASE + 120_000, 9],
    ]);
    // Readings only long after the range stand for nothing in it.
    assert.deepEqual(metricsStrip(store, BASE - NEAR_MS - 2000, BASE - NEAR_MS - 1000).series, []);
  });

  it('labels rows that share a name by their service, then by the attributes that differ', () => {
    const row = (name: string, service: string, attributes: string[] = []) => ({
      name,
      service,
      attributes,
    });
    assert.deepEqual(
      seriesLabels([
        row('batch.size', 'embedding-runner'),
        row('batch.size', 'reranking-runner'),
        row('queue.depth', 'retrieval'),
        row('gpu.utilization', 'runner', ['gpu=0', 'host=a']),
        row('gpu.utilization', 'runner', ['gpu=1', 'host=a']),
        row('gpu.utilization', 'other', ['gpu=0']),
        row('batch.size', 'generation', ['replica=generation-a', 'model.name=m']),
        row('batch.size', 'generation', ['replica=generation-b', 'model.name=m']),
      ]),
      [
        'batch.size · embedding-runner',
        'batch.size · reranking-runner',
        'queue.depth',
        'gpu.utilization · gpu=0 · runner',
        'gpu.utilization · gpu=1 · runner',
        'gpu.utilization · other',
        'batch.size · generation-a · generation',
        'batch.size · generation-b · generation',
      ],
    );
    assert.equal(unitSuffix('ms'), ' ms');
    assert.equal(unitSuffix('By'), ' By');
    for (const u of ['', '1', '{request}', '{batch}']) assert.equal(unitSuffix(u), '', u);
  });

  it('picks GPU, queue, utilisation, batch and request metrics by default, in that order', () => {
    const m = (name: string) => ({ key: `s/${name}`, service: 's', name, unit: '', kind: 'gauge' });
    assert.deepEqual(
      defaultMetrics(
        [
          'http.server.request.duration',
          'gpu.memory.used',
          'heap',
          'queue.depth',
          'consumer.lag',
        ].map(m),
      ),
      ['s/gpu.memory.used', 's/queue.depth', 's/consumer.lag', 's/http.server.request.duration'],
    );
    // At most four, the most telling ones.
    assert.deepEqual(
      defaultMetrics(
        [
          'batch.size',
          'gateway.requests',
          'model_runner.utilization',
          'queue.depth',
          'gpu.util',
          'x',
        ].map(m),
      ),
      ['s/gpu.util', 's/queue.depth', 's/model_runner.utilization', 's/batch.size'],
    );
  });

  it('lays a series out in its box, exemplars on the line', () => {
    const layout = layoutSeries(
      {
        points: [
          [1000, 0],
          [1500, 5],
          [2000, 10],
        ],
        min: 0,
        max: 10,
        unit: 'ms',
        exemplars: [{ timeMs: 1500, value: 5, traceId: TRACE }],
      },
      1000,
      2000,
      100,
      12,
    );
    assert.equal(layout.line, '0,11 50,6 100,1');
    assert.deepEqual(layout.exemplars, [
      { x: 50, y: 6, traceId: TRACE, label: `5 ms: open trace ${TRACE}` },
    ]);
    // A flat series sits in the middle; points outside the range are clamped to the box.
    const flat = layoutSeries(
      {
        points: [
          [0, 3],
          [3000, 3],
        ],
        min: 3,
        max: 3,
        unit: '1',
        exemplars: [],
      },
      1000,
      2000,
      100,
      12,
    );
    assert.equal(flat.line, '0,6 100,6');
    assert.equal(formatValue(0.123456), '0.123');
    assert.equal(formatValue(42), '42');
  });

  it("the host takes the webview's choice only as a bounded list of strings", () => {
    assert.ok(isWebviewMessage({ type: 'chooseMetrics', keys: ['runner/gpu.utilization'] }));
    assert.ok(isWebviewMessage({ type: 'chooseMetrics', keys: [] }));
    for (const keys of [
      undefined,
      'runner/gpu.utilization',
      [1],
      [null],
      ['x'.repeat(513)],
      Array.from({ length: 65 }, (_, i) => `s/m${i}`),
    ]) {
      assert.ok(
        !isWebviewMessage({ type: 'chooseMetrics', keys }),
        JSON.stringify(keys)?.slice(0, 40),
      );
    }
  });
});
