/**
 * The receiver against the official OpenTelemetry JS logs and metrics exporters (gRPC,
 * HTTP/JSON, HTTP/protobuf, with and without gzip), driven by the SDK's own providers as a
 * user's program drives them: every log record reads back intact by trace, by span and through
 * the query of `/api/logs`; gauges, sums and histograms read back through `/api/metrics` with
 * the values, attributes and bucket counts the SDK aggregated. Then the same of the
 * OpenTelemetry Python SDK's OTLP exporters (gRPC and HTTP), run as a real program
 * (test/interop/python/export_signals.py): `logging` inside a span arrives with that span.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
} from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpJsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as HttpProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as HttpJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as HttpProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { getJson, startTestServer } from './helpers/server.js';
import type { KeyValueJson } from '../../src/core/model.js';
import { pythonWithOtel, runToEnd } from './helpers/sdk-toolchains.js';

type Transport = 'grpc' | 'http-json' | 'http-proto';
const CASES: { transport: Transport; gzip: boolean }[] = [
  { transport: 'grpc', gzip: false },
  { transport: 'grpc', gzip: true },
  { transport: 'http-json', gzip: false },
  { transport: 'http-json', gzip: true },
  { transport: 'http-proto', gzip: false },
  { transport: 'http-proto', gzip: true },
];

function compression(gzip: boolean) {
  return gzip ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE;
}

function logExporter(t: Transport, grpcUrl: string, httpUrl: string, gzip: boolean) {
  const c = compression(gzip);
  switch (t) {
    case 'grpc':
      return new GrpcLogExporter({ url: grpcUrl, compression: c });
    case 'http-json':
      return new HttpJsonLogExporter({ url: `${httpUrl}/v1/logs`, compression: c });
    case 'http-proto':
      return new HttpProtoLogExporter({ url: `${httpUrl}/v1/logs`, compression: c });
  }
}

function metricExporter(t: Transport, grpcUrl: string, httpUrl: string, gzip: boolean) {
  const c = compression(gzip);
  // Cumulative, as the exporters default to; stated so the sum's expected value is plain.
  const temporalityPreference = AggregationTemporality.CUMULATIVE;
  switch (t) {
    case 'grpc':
      return new GrpcMetricExporter({ url: grpcUrl, compression: c, temporalityPreference });
    case 'http-json':
      return new HttpJsonMetricExporter({
        url: `${httpUrl}/v1/metrics`,
        compression: c,
        temporalityPreference,
      });
    case 'http-proto':
      return new HttpProtoMetricExporter({
        url: `${httpUrl}/v1/metrics`,
        compression: c,
        temporalityPreference,
      });
  }
}

interface LogJson {
  timeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: unknown;
  attributes: KeyValueJson[];
  traceId: string;
  spanId: string;
  eventName: string;
  service: string;
  scope: string;
}

function attr(list: KeyValueJson[], key: string): unknown {
  return list.find((a) => a.key === key)?.value;
}

/** Emits the records of one pipeline request through `exporter`; returns the ids it used. */
async function sendLogs(exporter: LogRecordExporter, service: string, tag: string) {
  const traceId = randomBytes(16).toString('hex');
  const spanIds = [randomBytes(8).toString('hex'), randomBytes(8).toString('hex')];
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'dev' }),
    processors: [new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 60_000 })],
  });
  const logger = provider.getLogger('pipeline.rerank', '1.2.3');
  const inSpan = (spanId: string) =>
    trace.setSpanContext(context.active(), {
      traceId,
      spanId,
      traceFlags: TraceFlags.SAMPLED,
    });
  logger.emit({
    context: inSpan(spanIds[0] as string),
    timestamp: 1_700_000_000_123,
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    body: `reranking 32 candidates ${tag}`,
    attributes: {
      'batch.size': 32,
      'model.name': 'cross-encoder-mini',
      warm: true,
      'p.score': 0.5,
    },
  });
  logger.emit({
    context: inSpan(spanIds[1] as string),
    timestamp: 1_700_000_000_456,
    severityNumber: SeverityNumber.ERROR,
    severityText: 'ERROR',
    body: { message: 'model runner timed out', 'retry.count': 2, shards: ['a', 'b'] },
    attributes: { 'exception.type': 'TimeoutError', 'unicode.text': 'Grüße 🚀 "q" <t>' },
    eventName: 'runner.timeout',
  });
  // No span context: a record written outside any request.
  logger.emit({
    context: context.active(),
    severityNumber: SeverityNumber.WARN,
    body: `queue high water ${tag}`,
  });
  await provider.forceFlush();
  await provider.shutdown();
  return { traceId, spanIds };
}

for (const { transport, gzip } of CASES) {
  const label = `${transport}${gzip ? '+gzip' : ''}`;

  test(`logs from the JS ${label} exporter read back intact by trace, span and query`, async () => {
    const server = await startTestServer();
    const service = `logs-${label}`;
    const exporter = logExporter(transport, server.endpoints.grpc, server.endpoints.http, gzip);
    const { traceId, spanIds } = await sendLogs(exporter, service, label);
    const api = server.endpoints.api;

    const ofTrace = (await getJson(`${api}/traces/${traceId}/logs`)).body as { logs: LogJson[] };
    assert.equal(ofTrace.logs.length, 2);
    const [info, error] = ofTrace.logs as [LogJson, LogJson];
    assert.equal(info.timeUnixNano, '1700000000123000000');
    assert.equal(info.severityNumber, SeverityNumber.INFO);
    assert.equal(info.severityText, 'INFO');
    assert.deepEqual(info.body, { stringValue: `reranking 32 candidates ${label}` });
    assert.equal(info.traceId, traceId);
    assert.equal(info.spanId, spanIds[0]);
    assert.equal(info.service, service);
    assert.equal(info.scope, 'pipeline.rerank');
    assert.deepEqual(attr(info.attributes, 'batch.size'), { intValue: '32' });
    assert.deepEqual(attr(info.attributes, 'model.name'), { stringValue: 'cross-encoder-mini' });
    assert.deepEqual(attr(info.attributes, 'warm'), { boolValue: true });
    assert.deepEqual(attr(info.attributes, 'p.score'), { doubleValue: 0.5 });

    assert.equal(error.spanId, spanIds[1]);
    assert.equal(error.severityText, 'ERROR');
    assert.equal(error.eventName, 'runner.timeout');
    assert.deepEqual(attr(error.attributes, 'unicode.text'), { stringValue: 'Grüße 🚀 "q" <t>' });
    const fields = (error.body as { kvlistValue: { values: KeyValueJson[] } }).kvlistValue.values;
    assert.deepEqual(attr(fields, 'message'), { stringValue: 'model runner timed out' });
    assert.deepEqual(attr(fields, 'retry.count'), { intValue: '2' });
    assert.deepEqual(attr(fields, 'shards'), {
      arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] },
    });

    const ofSpan = (await getJson(`${api}/traces/${traceId}/logs?spanId=${spanIds[1]}`)).body as {
      logs: LogJson[];
    };
    assert.deepEqual(
      ofSpan.logs.map((l) => l.eventName),
      ['runner.timeout'],
    );
    const errors = (
      await getJson(`${api}/logs?service=${encodeURIComponent(service)}&severity=error`)
    ).body as {
      logs: LogJson[];
    };
    assert.deepEqual(
      errors.logs.map((l) => l.spanId),
      [spanIds[1]],
    );
    const loose = (await getJson(`${api}/logs?withoutSpan=true&q=high%20water`)).body as {
      logs: LogJson[];
    };
    assert.equal(loose.logs.length, 1);
    assert.deepEqual(loose.logs[0]?.body, { stringValue: `queue high water ${label}` });
    assert.equal(loose.logs[0]?.traceId, '');
    assert.equal(loose.logs[0]?.severityText, 'WARN');
  });

  test(`metrics from the JS ${label} exporter read back as series with their values`, async () => {
    const server = await startTestServer();
    const service = `metrics-${label}`;
    const exporter: PushMetricExporter = metricExporter(
      transport,
      server.endpoints.grpc,
      server.endpoints.http,
      gzip,
    );
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      readers: [reader],
    });
    const meter = provider.getMeter('pipeline');
    const depth = meter.createGauge('queue.depth', { unit: '{request}' });
    const served = meter.createCounter('requests.served');
    const batch = meter.createHistogram('batch.size', {
      advice: { explicitBucketBoundaries: [1, 8, 32] },
    });
    depth.record(7, { queue: 'retrieval' });
    depth.record(3, { queue: 'rerank' });
    served.add(5, { route: '/v1/answer' });
    served.add(2, { route: '/v1/answer' });
    for (const n of [1, 4, 16, 32, 64]) batch.record(n);
    await provider.forceFlush();
    depth.record(11, { queue: 'retrieval' });
    await provider.forceFlush();
    await provider.shutdown();

    const api = server.endpoints.api;
    const list = (await getJson(`${api}/metrics`)).body as {
      metrics: { service: string; name: string; kind: string; unit: string; series: number }[];
    };
    assert.deepEqual(
      list.metrics
        .filter((m) => m.service === service)
        .map((m) => [m.name, m.kind, m.series])
        .sort(),
      [
        ['batch.size', 'histogram', 1],
        ['queue.depth', 'gauge', 2],
        ['requests.served', 'sum', 1],
      ],
    );
    type Series = {
      unit: string;
      attributes: KeyValueJson[];
      points: { value?: number; histogram?: { count: number; sum: number; counts: number[] } }[];
    };
    const gauge = (await getJson(`${api}/metrics?name=queue.depth`)).body as { series: Series[] };
    const retrieval = gauge.series.find(
      (s) => (attr(s.attributes, 'queue') as { stringValue: string }).stringValue === 'retrieval',
    );
    assert.equal(retrieval?.unit, '{request}');
    // Shutdown exports once more: the last point repeats the latest value.
    assert.deepEqual(retrieval?.points.map((p) => p.value).slice(0, 2), [7, 11]);
    const sum = (await getJson(`${api}/metrics?name=requests.served`)).body as {
      series: Series[];
    };
    assert.equal(sum.series[0]?.points[0]?.value, 7);
    const hist = (await getJson(`${api}/metrics?name=batch.size`)).body as { series: Series[] };
    const h = hist.series[0]?.points[0]?.histogram;
    assert.equal(h?.count, 5);
    assert.equal(h?.sum, 117);
    assert.deepEqual(h?.counts, [1, 1, 2, 1]);
  });
}

const PY_PROGRAM = path.resolve(__dirname, '..', 'interop', 'python', 'export_signals.py');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'stagelight-signal-exporters-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

for (const { protocol, gzip } of [
  { protocol: 'grpc', gzip: false },
  { protocol: 'http/protobuf', gzip: true },
] as const) {
  const label = `${protocol}${gzip ? '+gzip' : ''}`;
  test(`the Python SDK's logs and metrics exporters over ${label} read back`, async (t) => {
    const python = pythonWithOtel();
    if (!python.ok) return t.skip(python.reason);
    const server = await startTestServer();
    const service = `py-signals-${label}`;
    const out = path.join(tmp, `${protocol.replace('/', '-')}.json`);
    const { code, out: output } = await runToEnd(python.path, [PY_PROGRAM, out], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        STAGELIGHT_SERVICE: service,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_ENDPOINT:
          protocol === 'grpc' ? server.endpoints.grpc : server.endpoints.http,
        OTEL_EXPORTER_OTLP_TIMEOUT: '10000',
        ...(gzip ? { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' } : {}),
      },
      timeoutMs: 120_000,
    });
    assert.equal(code, 0, `python exited with ${code}:\n${output}`);
    const sent = JSON.parse(readFileSync(out, 'utf8')) as { traceId: string; spanId: string };
    const api = server.endpoints.api;

    const ofSpan = (await getJson(`${api}/traces/${sent.traceId}/logs?spanId=${sent.spanId}`))
      .body as { logs: LogJson[] };
    assert.deepEqual(
      ofSpan.logs.map((l) => [l.severityText, l.body]),
      [
        ['INFO', { stringValue: 'reranking 32 candidates' }],
        ['ERROR', { stringValue: 'rerank failed' }],
      ],
    );
    const [info, failed] = ofSpan.logs as [LogJson, LogJson];
    assert.equal(info.service, service);
    assert.equal(info.scope, 'pipeline.rerank');
    assert.deepEqual(attr(info.attributes, 'batch.size'), { intValue: '32' });
    assert.deepEqual(attr(info.attributes, 'code.function.name'), { stringValue: '<module>' });
    assert.deepEqual(attr(failed.attributes, 'exception.type'), { stringValue: 'TimeoutError' });
    assert.match(
      (attr(failed.attributes, 'exception.stacktrace') as { stringValue: string }).stringValue,
      /TimeoutError: model runner timed out/,
    );
    const loose = (
      await getJson(`${api}/logs?service=${encodeURIComponent(service)}&withoutSpan=true`)
    ).body as { logs: LogJson[] };
    assert.deepEqual(
      loose.logs.map((l) => [l.severityText, l.body]),
      [['WARN', { stringValue: 'queue high water outside any request' }]],
    );

    type Series = {
      attributes: KeyValueJson[];
      points: { value?: number; histogram?: { count: number; sum: number; counts: number[] } }[];
    };
    const series = async (name: string) =>
      (
        (await getJson(`${api}/metrics?name=${name}&service=${encodeURIComponent(service)}`))
          .body as { series: Series[] }
      ).series;
    const [depth] = await series('queue.depth');
    assert.deepEqual(attr(depth?.attributes ?? [], 'queue'), { stringValue: 'retrieval' });
    assert.deepEqual(
      depth?.points.map((p) => p.value),
      [7],
    );
    const [served] = await series('requests.served');
    assert.deepEqual(
      served?.points.map((p) => p.value),
      [7],
    );
    const [batch] = await series('batch.size');
    const h = batch?.points[0]?.histogram;
    assert.deepEqual([h?.count, h?.sum, h?.counts], [5, 117, [1, 1, 2, 1]]);
  });
}
