/**
 * Logs and metrics through a real receiver: the OpenTelemetry JS SDK's own encodings posted to
 * `/v1/logs` and `/v1/metrics` (protobuf, JSON, gzip) and sent to the gRPC `LogsService` and
 * `MetricsService`; they read back from the read API, a trace's log lines by trace and span;
 * partial success names the refused records; bad requests get a clear 400 and take nothing
 * already stored; the data survives a restart with `--data`, and Clear empties it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
} from '@opentelemetry/otlp-transformer';
import { getJson, startTestServer } from './helpers/server.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';

async function logRecords(n: number, service = 'logs-e2e') {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('pipeline');
  const inSpan = trace.setSpanContext(context.active(), {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: TraceFlags.SAMPLED,
  });
  for (let i = 0; i < n; i++) {
    logger.emit({
      context: i % 2 === 0 ? inSpan : context.active(),
      severityNumber: i % 3 === 0 ? SeverityNumber.ERROR : SeverityNumber.INFO,
      body: `rerank batch ${i}`,
      attributes: { i },
    });
  }
  await provider.forceFlush();
  const records = exporter.getFinishedLogRecords();
  await provider.shutdown();
  return records;
}

class Collect extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

async function metricsRequest(depth: number) {
  const reader = new Collect();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'metrics-e2e' }),
    readers: [reader],
  });
  provider.getMeter('queue').createGauge('queue.depth').record(depth, { queue: 'retrieval' });
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics;
}

async function post(url: string, body: Uint8Array, type: string, gzip = false) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': type, ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
    body: gzip ? gzipSync(body) : body,
  });
  const text = await res.text();
  return { status: res.status, text };
}

type LogsBody = { logs: { body: { stringValue: string }; spanId: string; severityText: string }[] };

test('logs over OTLP/HTTP (protobuf, JSON, gzip) and gRPC read back by trace, span and query', async () => {
  const server = await startTestServer();
  const base = server.endpoints.http;
  const records = await logRecords(6);
  const proto = ProtobufLogsSerializer.serializeRequest(records) as Uint8Array;
  const json = JsonLogsSerializer.serializeRequest(records) as Uint8Array;
  assert.equal((await post(`${base}/v1/logs`, proto, 'application/x-protobuf')).status, 200);
  assert.equal((await post(`${base}/v1/logs`, json, 'application/json', true)).status, 200);

  const client = new grpc.Client(
    server.endpoints.grpc.replace('http://', ''),
    grpc.credentials.createInsecure(),
  );
  await new Promise<void>((resolve, reject) =>
    client.makeUnaryRequest(
      '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(proto),
      (err) => (err ? reject(err) : resolve()),
    ),
  );
  client.close();

  const api = server.endpoints.api;
  const all = (await getJson(`${api}/logs?limit=100`)).body as LogsBody;
  assert.equal(all.logs.length, 18);
  const ofTrace = (await getJson(`${api}/traces/${TRACE_ID}/logs`)).body as LogsBody;
  assert.equal(ofTrace.logs.length, 9, 'the records emitted inside the span, three times');
  assert.ok(ofTrace.logs.every((l) => l.spanId === SPAN_ID));
  const ofSpan = (await getJson(`${api}/traces/${TRACE_ID}/logs?spanId=${SPAN_ID}&severity=error`))
    .body as LogsBody;
  assert.deepEqual(
    ofSpan.logs.map((l) => l.body.stringValue),
    ['rerank batch 0', 'rerank batch 0', 'rerank batch 0'],
  );
  assert.ok(ofSpan.logs.every((l) => l.severityText === 'ERROR'));
  const text = (await getJson(`${api}/logs?q=BATCH%205&withoutSpan=true`)).body as LogsBody;
  assert.deepEqual(
    text.logs.map((l) => l.body.stringValue),
    ['rerank batch 5', 'rerank batch 5', 'rerank batch 5'],
  );
  const health = (await getJson(`${api}/health`)).body as { memory: { logs: number } };
  assert.ok(health.memory.logs > 0);
});

test('metrics over OTLP/HTTP and gRPC read back as series with their points', async () => {
  const server = await startTestServer();
  const base = server.endpoints.http;
  for (const depth of [3, 9]) {
    const rm = await metricsRequest(depth);
    const body = ProtobufMetricsSerializer.serializeRequest(rm) as Uint8Array;
    assert.equal((await post(`${base}/v1/metrics`, body, 'application/x-protobuf')).status, 200);
  }
  const json = JsonMetricsSerializer.serializeRequest(await metricsRequest(27)) as Uint8Array;
  const r = await post(`${base}/v1/metrics`, json, 'application/json');
  assert.equal(r.status, 200, r.text);
  const api = server.endpoints.api;
  const list = (await getJson(`${api}/metrics`)).body as {
    metrics: { name: string; service: string; points: number; kind: string }[];
  };
  assert.deepEqual(
    list.metrics.map((m) => [m.service, m.name, m.kind, m.points]),
    [['metrics-e2e', 'queue.depth', 'gauge', 3]],
  );
  const series = (await getJson(`${api}/metrics?name=queue.depth&since=1h`)).body as {
    series: { attributes: unknown; points: { value: number }[] }[];
  };
  assert.equal(series.series.length, 1);
  assert.deepEqual(
    series.series[0]?.points.map((p) => p.value),
    [3, 9, 27],
  );
});

test('partial success, bad requests and bad queries: clear errors, nothing stored is lost', async () => {
  const server = await startTestServer();
  const base = server.endpoints.http;
  const api = server.endpoints.api;
  const ok = ProtobufLogsSerializer.serializeRequest(await logRecords(2)) as Uint8Array;
  assert.equal((await post(`${base}/v1/logs`, ok, 'application/x-protobuf')).status, 200);

  const partial = await post(
    `${base}/v1/logs`,
    new TextEncoder().encode(
      JSON.stringify({
        resourceLogs: [
          {
            scopeLogs: [
              {
                logRecords: [
                  { body: { stringValue: 'kept' } },
                  { severityNumber: 99, body: { stringValue: 'refused' } },
                ],
              },
            ],
          },
        ],
      }),
    ),
    'application/json',
  );
  assert.equal(partial.status, 200);
  assert.deepEqual(JSON.parse(partial.text), {
    partialSuccess: {
      rejectedLogRecords: 1,
      errorMessage: '1 log record rejected: severity_number must be 0 to 24, got 99',
    },
  });
  for (const [body, type, want] of [
    [ok.subarray(0, ok.length - 3), 'application/x-protobuf', /invalid OTLP protobuf/],
    [new TextEncoder().encode('{"resourceLogs": [{'), 'application/json', /invalid OTLP JSON/],
    [new TextEncoder().encode('hello'), 'text/plain', /unsupported Content-Type/],
  ] as const) {
    const res = await post(`${base}/v1/logs`, body, type);
    assert.ok(res.status === 400 || res.status === 415, `${res.status} ${res.text}`);
    assert.match(res.text, want);
  }
  const huge = new Uint8Array(17 * 1024 * 1024);
  const big = await post(`${base}/v1/metrics`, huge, 'application/x-protobuf').catch((e) => ({
    status: 413,
    text: String(e),
  }));
  assert.equal(big.status, 413);
  const stillThere = (await getJson(`${api}/logs`)).body as LogsBody;
  assert.equal(stillThere.logs.length, 3);

  for (const [q, want] of [
    ['/logs?severity=loud', /severity must be/],
    ['/logs?since=yesterday', /since must be/],
    ['/logs?limit=0', /limit must be/],
    ['/traces/xyz/logs', /trace id must be 32 hex digits/],
    [`/traces/${TRACE_ID}/logs?spanId=12`, /spanId must be 16 hex digits/],
    ['/metrics?name=x&until=soon', /until must be/],
  ] as const) {
    const res = await getJson(`${api}${q}`);
    assert.equal(res.status, 400, q);
    assert.match(JSON.stringify(res.body), want, q);
  }
  const post405 = await fetch(`${api}/logs`, { method: 'POST', body: '{}' });
  assert.equal(post405.status, 405);
});

test('logs and metrics survive a restart with a data folder; Clear empties them', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stagelight-signals-'));
  try {
    const first = await startTestServer({ dataDir: dir }, false);
    const logs = ProtobufLogsSerializer.serializeRequest(await logRecords(4)) as Uint8Array;
    const metrics = ProtobufMetricsSerializer.serializeRequest(
      await metricsRequest(5),
    ) as Uint8Array;
    await post(`${first.endpoints.http}/v1/logs`, logs, 'application/x-protobuf');
    await post(`${first.endpoints.http}/v1/metrics`, metrics, 'application/x-protobuf');
    await first.close();

    const second = await startTestServer({ dataDir: dir }, false);
    try {
      const api = second.endpoints.api;
      assert.equal(((await getJson(`${api}/logs`)).body as LogsBody).logs.length, 4);
      const list = (await getJson(`${api}/metrics`)).body as { metrics: unknown[] };
      assert.equal(list.metrics.length, 1);
      second.engine.clear();
      assert.equal(((await getJson(`${api}/logs`)).body as LogsBody).logs.length, 0);
    } finally {
      await second.close();
    }
    const third = await startTestServer({ dataDir: dir }, false);
    try {
      const api = third.endpoints.api;
      assert.equal(((await getJson(`${api}/logs`)).body as LogsBody).logs.length, 0);
      assert.deepEqual((await getJson(`${api}/metrics`)).body, { metrics: [] });
    } finally {
      await third.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
