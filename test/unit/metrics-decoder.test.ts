/**
 * OTLP metrics decoding: what the OpenTelemetry JS metrics SDK collects (gauge, counter,
 * up-down counter, explicit and exponential histograms), encoded by its own protobuf
 * serializer, decodes with the SDK's values; bad points are refused one by one with the reason
 * (NaN and infinite values, histograms whose buckets do not add up, bad bounds, bad scales,
 * oversize bucket lists, summaries), broken framing refuses the request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AggregationTemporality,
  AggregationType,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import {
  decodeMetricsRequest,
  type MetricPoint,
} from '../../src/core/otlp/metrics-request-decoder.js';
import { ProtoDecodeError, WireType } from '../../src/core/otlp/proto-reader.js';
import { ProtoWriter } from '../../src/core/otlp/proto-writer.js';
import { MetricStore } from '../../src/core/store/metric-store.js';
import { metricsToProtobuf } from '../../src/core/otlp/signal-export.js';

class CollectOnDemand extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

test('what the JS metrics SDK collects decodes with its values', async () => {
  const reader = new CollectOnDemand({
    aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'metrics-test' }),
    readers: [reader],
    views: [
      {
        instrumentName: 'batch.size',
        aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM },
      },
    ],
  });
  const meter = provider.getMeter('stagelight.test', '0.1');
  meter.createGauge('gpu.utilization', { unit: '1' }).record(0.75, { gpu: '0' });
  const requests = meter.createCounter('requests');
  requests.add(3, { stage: 'rerank' });
  requests.add(4, { stage: 'rerank' });
  meter.createUpDownCounter('queue.depth').add(-2);
  const latency = meter.createHistogram('latency', {
    unit: 'ms',
    advice: { explicitBucketBoundaries: [10, 100, 1000] },
  });
  for (const v of [5, 50, 60, 500, 5000]) latency.record(v);
  const batch = meter.createHistogram('batch.size');
  for (const v of [1, 2, 4, 8, 8, 16]) batch.record(v);

  const { resourceMetrics, errors } = await reader.collect();
  assert.deepEqual(errors, []);
  const bytes = ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
  assert.ok(bytes);
  const out = decodeMetricsRequest(bytes);
  assert.equal(out.rejected, 0, out.rejectReasons.join('; '));
  const by = (name: string): MetricPoint => {
    const p = out.points.find((x) => x.name === name);
    assert.ok(p, name);
    return p;
  };
  const gauge = by('gpu.utilization');
  assert.equal(gauge.kind, 'gauge');
  assert.equal(gauge.value, 0.75);
  assert.equal(gauge.unit, '1');
  assert.deepEqual(gauge.attributes, [{ key: 'gpu', value: { stringValue: '0' } }]);
  assert.equal(gauge.service, 'metrics-test');
  assert.equal(gauge.scope.name, 'stagelight.test');
  assert.ok(Math.abs(gauge.timeMs - Date.now()) < 60_000);

  const counter = by('requests');
  assert.equal(counter.kind, 'sum');
  assert.equal(counter.monotonic, true);
  assert.equal(counter.temporality, 2);
  assert.equal(counter.value, 7);
  const depth = by('queue.depth');
  assert.equal(depth.monotonic, false);
  assert.equal(depth.value, -2);

  const hist = by('latency').histogram;
  assert.ok(hist);
  assert.equal(hist.count, 5);
  assert.equal(hist.sum, 5615);
  assert.equal(hist.min, 5);
  assert.equal(hist.max, 5000);
  assert.deepEqual(hist.bounds, [10, 100, 1000]);
  assert.deepEqual(hist.counts, [1, 2, 1, 1]);

  const exp = by('batch.size');
  assert.equal(exp.kind, 'exponentialHistogram');
  assert.ok(exp.histogram);
  assert.equal(exp.histogram.count, 6);
  assert.equal(exp.histogram.sum, 39);
  const buckets = exp.histogram.positive?.counts ?? [];
  assert.equal(buckets.reduce((a, b) => a + b, 0) + (exp.histogram.zeroCount ?? 0), 6);
  assert.equal(typeof exp.histogram.scale, 'number');
  await provider.shutdown();
});

/** A request of one resource and scope with one metric of `kind` (its data field) and points. */
function request(
  dataField: 5 | 7 | 9 | 10 | 11,
  points: ((w: ProtoWriter) => void)[],
  name = 'm',
): Buffer {
  const w = new ProtoWriter();
  w.message(1, (rm) => {
    rm.message(1, (res) =>
      res.message(1, (kv) => {
        kv.stringField(1, 'service.name');
        kv.message(2, (v) => v.stringField(1, 'svc'));
      }),
    );
    rm.message(2, (sm) => {
      sm.message(1, (s) => s.stringField(1, 'scope'));
      sm.message(2, (m) => {
        if (name !== '') m.stringField(1, name);
        m.message(dataField, (d) => {
          for (const p of points) d.message(1, p);
        });
      });
    });
  });
  return w.finish();
}

const T = 1764000000000000000n;
const at = (w: ProtoWriter) => w.tag(3, WireType.I64).fixed64(T);
const gaugePoint = (v: number) => (w: ProtoWriter) => {
  at(w);
  w.tag(4, WireType.I64).double(v);
};
/** An explicit histogram point: count (field 4), bucket counts (6, packed), bounds (7, packed). */
function histPoint(count: number, counts: number[], bounds: number[]) {
  return (w: ProtoWriter) => {
    at(w);
    w.tag(4, WireType.I64).fixed64(BigInt(count));
    const c = new ProtoWriter();
    for (const x of counts) c.fixed64(BigInt(x));
    w.bytesField(6, c.finish());
    const b = new ProtoWriter();
    for (const x of bounds) b.double(x);
    w.bytesField(7, b.finish());
  };
}
function expPoint(count: number, scale: number, zero: number, positive: number[]) {
  return (w: ProtoWriter) => {
    at(w);
    w.tag(4, WireType.I64).fixed64(BigInt(count));
    w.tag(6, WireType.VARINT).uint32(scale >= 0 ? scale * 2 : -scale * 2 - 1);
    w.tag(7, WireType.I64).fixed64(BigInt(zero));
    w.message(8, (b) => {
      const c = new ProtoWriter();
      for (const x of positive) c.uint64(x);
      b.bytesField(2, c.finish());
    });
  };
}

test('bad points are refused one by one with the reason; good ones around them are kept', () => {
  const gauges = decodeMetricsRequest(
    request(5, [
      gaugePoint(1),
      gaugePoint(Number.NaN),
      gaugePoint(Infinity),
      (w) => w.tag(4, WireType.I64).double(2), // no time
      (w) => at(w), // no value
      (w) => {
        gaugePoint(3)(w);
        w.tag(8, WireType.VARINT).uint32(1); // no recorded value: skipped, not refused
      },
      (w) => {
        at(w);
        w.tag(6, WireType.I64).fixed64(0xfffffffffffffff6n); // as_int -10
      },
    ]),
  );
  assert.deepEqual(
    gauges.points.map((p) => p.value),
    [1, -10],
  );
  assert.equal(gauges.rejected, 4);
  assert.deepEqual(gauges.rejectReasons, [
    'value is NaN',
    'value is Infinity',
    'data point has no time_unix_nano',
    'data point has no value',
  ]);

  const hist = decodeMetricsRequest(
    request(9, [
      histPoint(3, [1, 2], [10]),
      histPoint(4, [1, 2], [10]),
      histPoint(3, [1, 1, 1], [10]),
      histPoint(2, [1, 1, 0], [10, 5]),
      histPoint(2, [1, 1], [Infinity]),
      histPoint(
        1,
        new Array(5000).fill(0).map((_, i) => (i === 0 ? 1 : 0)),
        new Array(4999).fill(0).map((_, i) => i),
      ),
    ]),
  );
  assert.equal(hist.points.length, 1);
  assert.deepEqual(hist.points[0]?.histogram?.counts, [1, 2]);
  assert.deepEqual(hist.rejectReasons, [
    'histogram bucket counts add up to 3, not its count 4',
    'histogram has 3 bucket counts for 1 bounds (expected 2)',
    'histogram bounds must be finite and increasing',
    'more than 4097 bucket counts',
  ]);
  assert.equal(hist.rejected, 5);

  const exp = decodeMetricsRequest(
    request(10, [
      expPoint(5, 3, 1, [2, 2]),
      expPoint(5, 3, 0, [2, 2]),
      expPoint(1, 30, 1, []),
      expPoint(1, -3, 1, []),
    ]),
  );
  assert.equal(exp.points.length, 2);
  assert.equal(exp.points[0]?.histogram?.scale, 3);
  assert.equal(exp.points[1]?.histogram?.scale, -3);
  assert.deepEqual(exp.rejectReasons, [
    'exponential histogram buckets add up to 4, not its count 5',
    'exponential histogram scale 30 is outside -10 to 20',
  ]);

  const summary = decodeMetricsRequest(request(11, [gaugePoint(1), gaugePoint(2)]));
  assert.deepEqual(summary, {
    points: [],
    rejected: 2,
    rejectReasons: ['summary metrics are not kept'],
  });
  const nameless = decodeMetricsRequest(request(5, [gaugePoint(1)], ''));
  assert.deepEqual(nameless.rejectReasons, ['metric has no name']);
});

test('exemplars keep their trace and span ids; bad ids refuse their point', () => {
  const exemplar = (traceId: Buffer, spanId: Buffer) => (w: ProtoWriter) => {
    gaugePoint(4)(w);
    w.message(5, (e) => {
      e.tag(2, WireType.I64).fixed64(T);
      e.tag(3, WireType.I64).double(812);
      e.bytesField(4, spanId);
      e.bytesField(5, traceId);
    });
  };
  const out = decodeMetricsRequest(
    request(5, [
      exemplar(Buffer.alloc(16, 0xab), Buffer.alloc(8, 0xcd)),
      exemplar(Buffer.alloc(3, 1), Buffer.alloc(8, 1)),
      exemplar(Buffer.alloc(16), Buffer.alloc(8, 1)),
    ]),
  );
  assert.equal(out.points.length, 2);
  assert.deepEqual(out.points[0]?.exemplars, [
    { timeMs: 1764000000000, value: 812, traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) },
  ]);
  // An all-zero trace id is no span context, and its span id means nothing alone.
  assert.deepEqual(out.points[1]?.exemplars[0]?.traceId, '');
  assert.deepEqual(out.points[1]?.exemplars[0]?.spanId, '');
  assert.deepEqual(out.rejectReasons, ['exemplar trace_id must be 16 bytes, got 3']);
});

test('broken framing refuses the whole request', () => {
  const bytes = request(9, [histPoint(3, [1, 2], [10])]);
  for (const cut of [1, 4, bytes.length - 2]) {
    assert.throws(
      () => decodeMetricsRequest(bytes.subarray(0, cut)),
      ProtoDecodeError,
      `cut ${cut}`,
    );
  }
  assert.throws(() => decodeMetricsRequest(Buffer.from([0x08, 0x01])), /resource_metrics/);
  // A packed bucket list whose length is not a multiple of 8 is a malformed point.
  const odd = decodeMetricsRequest(
    request(9, [
      (w) => {
        at(w);
        w.bytesField(6, Buffer.alloc(7));
      },
    ]),
  );
  assert.match(odd.rejectReasons[0] ?? '', /^malformed data point: bucket counts: packed length/);
});

test('the metric store keeps series apart by attributes, within its bounds, oldest first', () => {
  const point = (value: number, gpu: string, ms: number): MetricPoint => {
    const out = decodeMetricsRequest(
      (() => {
        const w = new ProtoWriter();
        w.message(1, (rm) =>
          rm.message(2, (sm) =>
            sm.message(2, (m) => {
              m.stringField(1, 'gpu.utilization');
              m.message(5, (d) =>
                d.message(1, (p) => {
                  p.tag(3, WireType.I64).fixed64(BigInt(ms) * 1_000_000n);
                  p.tag(4, WireType.I64).double(value);
                  p.message(7, (kv) => {
                    kv.stringField(1, 'gpu');
                    kv.message(2, (v) => v.stringField(1, gpu));
                  });
                }),
              );
            }),
          ),
        );
        return w.finish();
      })(),
    ).points[0];
    assert.ok(out);
    return out;
  };
  const one = point(0.5, '0', 1000);
  const store = new MetricStore({ maxBytes: 1e9, maxPoints: 30 });
  const versions = new Set<number>();
  for (let i = 0; i < 40; i++) {
    store.add([point(i / 40, String(i % 2), 1000 + i)]);
    versions.add(store.version);
  }
  assert.equal(store.count, 30);
  assert.equal(store.evicted, 10);
  // Full, the store's count and bytes stand still while points come and go; its version moves.
  assert.equal(versions.size, 40);
  const rows = store.list();
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.series, 2);
  assert.equal(rows[0]?.points, 30);
  assert.equal(rows[0]?.service, 'unknown_service');
  const ranged = store.query({ name: 'gpu.utilization', sinceMs: 1030, untilMs: 1035 });
  assert.deepEqual(
    ranged.map((r) => r.points.map((p) => p.timeMs)),
    [
      [1030, 1032, 1034],
      [1031, 1033, 1035],
    ],
  );
  const small = new MetricStore({ maxBytes: one.bytes * 5 + 2 * 400, maxPoints: 1000 });
  for (let i = 0; i < 40; i++) small.add([point(i, '0', 1000 + i)]);
  assert.ok(small.bytes <= one.bytes * 5 + 800, String(small.bytes));
  // Five points and the series entry fit in the budget, with room for a few more.
  assert.ok(small.count >= 5 && small.count <= 7, String(small.count));
  assert.deepEqual(
    small.query().flatMap((r) => r.points.map((p) => p.value)),
    Array.from({ length: small.count }, (_, i) => 40 - small.count + i),
  );
  small.clear();
  assert.equal(small.bytes, 0);
  assert.deepEqual(small.list(), []);
});

test('stored points encode back to a request that decodes to the same points', async () => {
  const reader = new CollectOnDemand();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'roundtrip' }),
    readers: [reader],
  });
  const meter = provider.getMeter('m');
  meter.createCounter('c', { unit: '{request}', description: 'requests' }).add(2, { a: 'x' });
  meter.createHistogram('h').record(12);
  meter.createGauge('g').record(-1.5);
  const { resourceMetrics } = await reader.collect();
  const first = decodeMetricsRequest(ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!);
  const again = decodeMetricsRequest(metricsToProtobuf(first.points));
  const strip = (p: MetricPoint) => ({
    ...p,
    resource: p.resource.attributes,
    scope: p.scope.name,
  });
  assert.deepEqual(again.points.map(strip), first.points.map(strip));
  assert.equal(first.points.length, 3);
  await provider.shutdown();
});
