/**
 * The receiver against the official OpenTelemetry JS exporters (gRPC, HTTP/JSON, HTTP/protobuf,
 * with and without gzip): every id, attribute type, event, link, status and resource must come
 * back intact through the read API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, context, trace, type Link } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { getJson, startTestServer, waitFor } from './helpers/server.js';
import type { KeyValueJson, SpanJson } from '../../src/core/model.js';
import { attrs } from './helpers/otlp-values.js';
import type { ExportTraceServiceRequestJson } from '../../src/core/otlp/export.js';

type ExporterKind = 'grpc' | 'http-json' | 'http-proto';

function makeExporter(kind: ExporterKind, grpcUrl: string, httpUrl: string, gzip: boolean) {
  const compression = gzip ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE;
  switch (kind) {
    case 'grpc':
      return new GrpcExporter({ url: grpcUrl, compression });
    case 'http-json':
      return new HttpJsonExporter({ url: `${httpUrl}/v1/traces`, compression });
    case 'http-proto':
      return new HttpProtoExporter({ url: `${httpUrl}/v1/traces`, compression });
  }
}

function nanos(t: [number, number]): string {
  return (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();
}

/** Makes a small ML-pipeline trace with every attribute type the JS SDK can produce. */
function produceTrace(provider: BasicTracerProvider, tag: string) {
  const tracer = provider.getTracer('stagelight-test', '9.8.7');
  tracer.startActiveSpan(
    'inference_request',
    { kind: SpanKind.SERVER, attributes: { 'http.route': '/v1/answer', tag } },
    (root) => {
      const rootLink: Link = {
        context: root.spanContext(),
        attributes: { 'link.reason': 'batch', 'link.index': 1 },
      };
      const ctx = trace.setSpan(context.active(), root);
      const rerank = tracer.startSpan(
        'reranking',
        {
          kind: SpanKind.CLIENT,
          links: [rootLink],
          attributes: {
            'model.name': 'cross-encoder-mini',
            'model.device': 'cpu',
            batch_size: 32,
            'cache.hit': false,
            'gen_ai.request.temperature': 0.25,
            'candidate.ids': ['d1', 'd2', 'd3'],
            'candidate.scores': [0.9, 0.5, 0.125],
            'candidate.ranks': [1, 2, 3],
            'candidate.flags': [true, false],
            'big.int': 9007199254740991,
            'negative.int': -42,
            'unicode.text': 'Grüße 🚀 "quoted" <tag>',
          },
        },
        ctx,
      );
      rerank.addEvent('batch_formed', { batch_size: 32, 'wait.ms': 1.5 });
      rerank.recordException(new Error('reranker timed out'));
      rerank.setStatus({ code: SpanStatusCode.ERROR, message: 'deadline exceeded' });
      rerank.end();
      const producer = tracer.startSpan(
        'retrieve_documents send',
        { kind: SpanKind.PRODUCER, attributes: { 'messaging.destination.name': 'retrieval' } },
        ctx,
      );
      producer.end();
      root.setStatus({ code: SpanStatusCode.OK });
      root.end();
    },
  );
}

function assertSpanMatches(got: SpanJson, want: ReadableSpan) {
  const where = `span ${want.name}`;
  assert.equal(got.traceId, want.spanContext().traceId, `${where}: traceId`);
  assert.equal(got.spanId, want.spanContext().spanId, `${where}: spanId`);
  assert.equal(got.parentSpanId ?? '', want.parentSpanContext?.spanId ?? '', `${where}: parent`);
  assert.equal(got.name, want.name);
  assert.equal(got.kind, want.kind + 1, `${where}: kind (OTLP numbers are SDK + 1)`);
  assert.equal(got.startTimeUnixNano, nanos(want.startTime), `${where}: start`);
  assert.equal(got.endTimeUnixNano, nanos(want.endTime), `${where}: end`);
  assert.deepEqual(attrs(got.attributes), { ...want.attributes }, `${where}: attributes`);
  assert.equal(got.events.length, want.events.length, `${where}: events`);
  want.events.forEach((e, i) => {
    const g = got.events[i]!;
    assert.equal(g.name, e.name);
    assert.equal(g.timeUnixNano, nanos(e.time));
    assert.deepEqual(attrs(g.attributes), { ...e.attributes });
  });
  assert.equal(got.links.length, want.links.length, `${where}: links`);
  want.links.forEach((l, i) => {
    const g = got.links[i]!;
    assert.equal(g.traceId, l.context.traceId);
    assert.equal(g.spanId, l.context.spanId);
    assert.deepEqual(attrs(g.attributes), { ...l.attributes });
  });
  assert.equal(got.status.code ?? 0, want.status.code, `${where}: status code`);
  assert.equal(got.status.message ?? '', want.status.message ?? '', `${where}: status message`);
}

const kinds: ExporterKind[] = ['grpc', 'http-json', 'http-proto'];

for (const kind of kinds) {
  for (const gzip of [false, true]) {
    test(`${kind} exporter${gzip ? ' with gzip' : ''}: spans read back intact`, async () => {
      const server = await startTestServer();
      const exporter: SpanExporter = makeExporter(
        kind,
        server.endpoints.grpc,
        server.endpoints.http,
        gzip,
      );
      const memory = new InMemorySpanExporter();
      const service = `exporter-test-${kind}${gzip ? '-gzip' : ''}`;
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({
          'service.name': service,
          'service.version': '1.2.3',
          'host.name': 'test-host',
          'process.pid': 4242,
        }),
        spanProcessors: [new SimpleSpanProcessor(exporter), new SimpleSpanProcessor(memory)],
      });
      produceTrace(provider, `${kind}-${gzip}`);
      await provider.forceFlush();
      const sent = memory.getFinishedSpans();
      assert.equal(sent.length, 3);
      const traceId = sent[0]!.spanContext().traceId;

      const summary = await waitFor(
        async () => {
          const { body } = await getJson(`${server.endpoints.api}/traces?service=${service}`);
          const list = (body as { traces: Array<{ traceId: string; spanCount: number }> }).traces;
          return list.find((t) => t.traceId === traceId && t.spanCount === 3);
        },
        5000,
        'the trace in the list',
      );
      assert.equal(summary.spanCount, 3);

      const { status, body } = await getJson(`${server.endpoints.api}/traces/${traceId}`);
      assert.equal(status, 200);
      const req = body as ExportTraceServiceRequestJson;
      assert.equal(req.resourceSpans.length, 1);
      const rs = req.resourceSpans[0]!;
      assert.deepEqual(attrs(rs.resource.attributes), {
        'service.name': service,
        'service.version': '1.2.3',
        'host.name': 'test-host',
        'process.pid': 4242,
      });
      assert.equal(rs.scopeSpans.length, 1);
      assert.equal(rs.scopeSpans[0]!.scope.name, 'stagelight-test');
      assert.equal(rs.scopeSpans[0]!.scope.version, '9.8.7');
      const got = rs.scopeSpans[0]!.spans;
      assert.equal(got.length, 3);
      for (const want of sent) {
        const g = got.find((s) => s.spanId === want.spanContext().spanId);
        assert.ok(g, `span ${want.name} missing`);
        assertSpanMatches(g, want);
      }
      // The exception event carries the SDK's exception attributes.
      const rerank = got.find((s) => s.name === 'reranking')!;
      const exception = rerank.events.find((e) => e.name === 'exception')!;
      assert.equal(attrs(exception.attributes)['exception.message'], 'reranker timed out');

      const cp = await getJson(`${server.endpoints.api}/traces/${traceId}/critical-path`);
      assert.equal(cp.status, 200);
      const cpBody = cp.body as { durationMs: number; segments: Array<{ name: string }> };
      assert.ok(cpBody.segments.some((s) => s.name === 'inference_request'));
      await exporter.shutdown();
      await provider.shutdown();
    });
  }
}

test('OTLP JSON with kvlist, bytes and int64 beyond 2^53 round-trips exactly', async () => {
  const server = await startTestServer();
  const traceId = '0123456789ABCDEF0123456789abcdef';
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'json-client' } }] },
        scopeSpans: [
          {
            scope: { name: 'hand-written' },
            spans: [
              {
                traceId,
                spanId: 'AABBCCDDEEFF0011',
                name: 'generation',
                kind: 3,
                startTimeUnixNano: '1764000000123456789',
                // A JSON number (exactly representable as a double), as some exporters send int64.
                endTimeUnixNano: 1764000001123456768,
                attributes: [
                  { key: 'big', value: { intValue: '9223372036854775807' } },
                  { key: 'neg', value: { intValue: -9007199254740991 } },
                  {
                    key: 'blob',
                    value: { bytesValue: Buffer.from([0, 1, 2, 255]).toString('base64') },
                  },
                  {
                    key: 'nested',
                    value: {
                      kvlistValue: {
                        values: [
                          {
                            key: 'a',
                            value: {
                              arrayValue: { values: [{ intValue: '1' }, { stringValue: 'x' }] },
                            },
                          },
                          { key: 'b', value: { doubleValue: 'NaN' } },
                        ],
                      },
                    },
                  },
                ],
                status: { code: 2, message: 'boom' },
              },
            ],
          },
        ],
      },
    ],
  };
  const res = await fetch(server.endpoints.httpTraces, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {});
  const { body: got } = await getJson(`${server.endpoints.api}/traces/${traceId.toLowerCase()}`);
  const span = (got as ExportTraceServiceRequestJson).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
  assert.equal(span.spanId, 'aabbccddeeff0011');
  assert.equal(span.startTimeUnixNano, '1764000000123456789');
  const byKey = Object.fromEntries(span.attributes.map((kv) => [kv.key, kv.value]));
  assert.deepEqual(byKey.big, { intValue: '9223372036854775807' });
  assert.deepEqual(byKey.blob, { bytesValue: Buffer.from([0, 1, 2, 255]).toString('base64') });
  const nested = byKey.nested as { kvlistValue: { values: KeyValueJson[] } };
  assert.deepEqual(nested.kvlistValue.values[0]!.value, {
    arrayValue: { values: [{ intValue: '1' }, { stringValue: 'x' }] },
  });
  // proto3 JSON writes non-finite doubles as strings ("NaN"), which JSON numbers cannot carry.
  assert.deepEqual(nested.kvlistValue.values[1]!.value, { doubleValue: 'NaN' });
  assert.deepEqual(span.status, { code: 2, message: 'boom' });
});
