/**
 * Bad input over both transports: every case gets an error that names what was wrong, the
 * receiver keeps running, and the spans stored before are still there.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { SpanKind } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { getJson, startTestServer } from './helpers/server.js';
import type { RunningServer } from '../../src/core/server.js';
import { ProtoReader } from '../../src/core/otlp/proto-reader.js';
import { EXPORT_METHOD_PATH } from '../../src/core/receiver/grpc-receiver.js';

const LIMIT = 256 * 1024;

function makeSpans(n: number, service = 'bad-input-test'): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('t');
  for (let i = 0; i < n; i++) {
    tracer.startSpan(`stage-${i}`, { kind: SpanKind.INTERNAL, attributes: { i } }).end();
  }
  return memory.getFinishedSpans();
}

function encode(spans: ReadableSpan[]): Buffer {
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
}

/** Decodes a google.rpc.Status body: {code, message}. */
function decodeStatus(bytes: Uint8Array): { code: number; message: string } {
  const r = new ProtoReader(bytes);
  let code = 0;
  let message = '';
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === 0x08) code = r.uint32();
    else if (tag === 0x12) message = r.string();
    else r.skip(tag & 7);
  }
  return { code, message };
}

/** Decodes an ExportTraceServiceResponse: partial_success {rejected_spans, error_message}. */
function decodeExportResponse(bytes: Uint8Array): { rejectedSpans: number; errorMessage: string } {
  const r = new ProtoReader(bytes);
  const out = { rejectedSpans: 0, errorMessage: '' };
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      const end = r.lengthDelimitedEnd();
      r.end = end;
      while (r.pos < end) {
        const t = r.tag();
        if (t === 0x08) out.rejectedSpans = r.uint64Number();
        else if (t === 0x12) out.errorMessage = r.string();
        else r.skip(t & 7);
      }
      r.end = bytes.length;
    } else r.skip(tag & 7);
  }
  return out;
}

async function post(
  server: RunningServer,
  body: Uint8Array | string,
  headers: Record<string, string>,
): Promise<{ status: number; bytes: Buffer; type: string }> {
  const res = await fetch(server.endpoints.httpTraces, { method: 'POST', headers, body });
  return {
    status: res.status,
    bytes: Buffer.from(await res.arrayBuffer()),
    type: res.headers.get('content-type') ?? '',
  };
}

const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };

function jsonSpan(overrides: Record<string, unknown>) {
  return {
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: 'eee19b7ec3c1b174',
    name: 'good',
    kind: 1,
    startTimeUnixNano: '1764000000000000000',
    endTimeUnixNano: '1764000000500000000',
    ...overrides,
  };
}

function jsonRequest(spans: unknown[]) {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'json-bad' } }] },
        scopeSpans: [{ scope: { name: 's' }, spans }],
      },
    ],
  });
}

describe('bad input', () => {
  let server: RunningServer;
  let keptTraceId: string;

  before(async () => {
    server = await startTestServer({ maxBodyBytes: LIMIT }, false);
    const spans = makeSpans(3, 'kept-service');
    keptTraceId = spans[0]!.spanContext().traceId;
    const res = await post(server, encode(spans), PROTO);
    assert.equal(res.status, 200);
  });

  after(() => server.close());

  /** The spans stored before every bad request must still be there. */
  async function assertKept() {
    const list = server.engine.store.list({ service: 'kept-service' });
    assert.ok(list.length >= 1, 'the trace stored first is still listed');
    const { status } = await getJson(`${server.endpoints.api}/traces/${keptTraceId}`);
    assert.equal(status, 200);
  }

  test('malformed protobuf: 400 with a google.rpc.Status naming the problem', async () => {
    const res = await post(server, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), PROTO);
    assert.equal(res.status, 400);
    const status = decodeStatus(res.bytes);
    assert.equal(status.code, 3);
    assert.match(status.message, /invalid OTLP protobuf: .*length \d+ runs past the end/);
    await assertKept();
  });

  test('truncated protobuf at several cut points: 400 or fewer spans, never a crash', async () => {
    const full = encode(makeSpans(5, 'truncated'));
    for (const cut of [1, 7, Math.floor(full.length / 2), full.length - 1]) {
      const res = await post(server, full.subarray(0, cut), PROTO);
      assert.equal(res.status, 400, `cut at ${cut}`);
      assert.match(decodeStatus(res.bytes).message, /truncated|runs past the end/);
    }
    await assertKept();
  });

  test('invalid JSON: 400 with a JSON status', async () => {
    const res = await post(server, '{"resourceSpans": [', JSON_TYPE);
    assert.equal(res.status, 400);
    const body = JSON.parse(res.bytes.toString()) as { code: number; message: string };
    assert.equal(body.code, 3);
    assert.match(body.message, /invalid OTLP JSON/);
    await assertKept();
  });

  test('JSON of the wrong shape names the path', async () => {
    const res = await post(
      server,
      JSON.stringify({ resourceSpans: [{ scopeSpans: 7 }] }),
      JSON_TYPE,
    );
    assert.equal(res.status, 400);
    assert.match(JSON.parse(res.bytes.toString()).message, /resourceSpans\[0\]\.scopeSpans/);
  });

  test('wrong content type: 415', async () => {
    const res = await post(server, 'hello', { 'content-type': 'text/plain' });
    assert.equal(res.status, 415);
    assert.match(
      JSON.parse(res.bytes.toString()).message,
      /unsupported Content-Type "text\/plain"/,
    );
    await assertKept();
  });

  test('unsupported content encoding: 415', async () => {
    const res = await post(server, encode(makeSpans(1)), { ...PROTO, 'content-encoding': 'br' });
    assert.equal(res.status, 415);
    assert.match(decodeStatus(res.bytes).message, /unsupported Content-Encoding "br"/);
  });

  test('corrupt gzip: 400', async () => {
    const res = await post(server, Buffer.from('not gzip at all'), {
      ...PROTO,
      'content-encoding': 'gzip',
    });
    assert.equal(res.status, 400);
    assert.match(decodeStatus(res.bytes).message, /invalid gzip body/);
    await assertKept();
  });

  test('oversize body: 413', async () => {
    const res = await post(server, Buffer.alloc(LIMIT + 1), PROTO);
    assert.equal(res.status, 413);
    assert.equal(decodeStatus(res.bytes).code, 8);
    assert.match(decodeStatus(res.bytes).message, /exceeds the limit/);
    await assertKept();
  });

  test('gzip bomb: stopped at the decompressed limit, 413', async () => {
    // 64 MiB of zeros compresses to about 64 KiB: under the limit on the wire, far over inflated.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    assert.ok(bomb.length < LIMIT);
    const rssBefore = process.memoryUsage().rss;
    const res = await post(server, bomb, { ...PROTO, 'content-encoding': 'gzip' });
    assert.equal(res.status, 413);
    assert.match(decodeStatus(res.bytes).message, /decompressed request body exceeds the limit/);
    // Inflating the bomb whole would add 64 MiB at once.
    assert.ok(process.memoryUsage().rss - rssBefore < 48 * 1024 * 1024, 'bomb was not inflated');
    await assertKept();
  });

  test('invalid spans get partial success; the valid spans of the batch are stored', async () => {
    const good = jsonSpan({ spanId: '1111111111111111', name: 'good-one' });
    const bad = [
      jsonSpan({ traceId: '5b8efff798038103d269b633813fc6', spanId: '2222222222222222' }),
      jsonSpan({ traceId: '00000000000000000000000000000000', spanId: '3333333333333333' }),
      jsonSpan({ spanId: '0000000000000000' }),
      jsonSpan({ spanId: '4444444444444444', endTimeUnixNano: '1763999999000000000' }),
      jsonSpan({ spanId: '5555555555555555', parentSpanId: 'abcd' }),
    ];
    const res = await post(server, jsonRequest([good, ...bad]), JSON_TYPE);
    assert.equal(res.status, 200);
    const body = JSON.parse(res.bytes.toString()) as {
      partialSuccess: { rejectedSpans: string | number; errorMessage: string };
    };
    assert.equal(Number(body.partialSuccess.rejectedSpans), 5);
    const msg = body.partialSuccess.errorMessage;
    assert.match(msg, /trace_id must be 16 bytes, got 15/);
    assert.match(msg, /trace_id is all zero/);
    assert.match(msg, /span_id is all zero/);
    assert.match(msg, /end_time_unix_nano is before start_time_unix_nano/);
    assert.match(msg, /parent_span_id must be 8 bytes, got 2/);
    const t = server.engine.store.get('5b8efff798038103d269b633813fc60c');
    assert.ok(t);
    assert.deepEqual(
      t.spans.map((s) => s.name),
      ['good-one'],
    );
    await assertKept();
  });

  test('huge attribute counts and deeply nested values are rejected per span', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({
      key: `k${i}`,
      value: { intValue: String(i) },
    }));
    let deep: unknown = { stringValue: 'bottom' };
    for (let i = 0; i < 40; i++) deep = { arrayValue: { values: [deep] } };
    const res = await post(
      server,
      jsonRequest([
        jsonSpan({ traceId: 'aa'.repeat(16), spanId: 'aa'.repeat(8), attributes: many }),
        jsonSpan({
          traceId: 'bb'.repeat(16),
          spanId: 'bb'.repeat(8),
          attributes: [{ key: 'deep', value: deep }],
        }),
        jsonSpan({ traceId: 'cc'.repeat(16), spanId: 'cc'.repeat(8) }),
      ]),
      JSON_TYPE,
    );
    assert.equal(res.status, 200);
    const body = JSON.parse(res.bytes.toString());
    assert.equal(Number(body.partialSuccess.rejectedSpans), 2);
    assert.match(body.partialSuccess.errorMessage, /more than 4096 attributes/);
    assert.match(body.partialSuccess.errorMessage, /nested deeper than 32/);
    assert.ok(server.engine.store.get('cc'.repeat(16)));
    assert.equal(server.engine.store.get('aa'.repeat(16)), undefined);
  });

  test('extremely deep JSON nesting is refused without a stack overflow', async () => {
    const depth = 5_000; // about 150 KiB, under the test limit
    const body =
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"' +
      'dd'.repeat(16) +
      '","spanId":"' +
      'dd'.repeat(8) +
      '","startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[{"key":"x","value":' +
      '{"arrayValue":{"values":['.repeat(depth) +
      '{"stringValue":"x"}' +
      ']}}'.repeat(depth) +
      '}]}]}]}]}';
    const res = await post(server, body, JSON_TYPE);
    assert.ok(res.status === 400 || res.status === 200, `status ${res.status}`);
    const parsed = JSON.parse(res.bytes.toString());
    const text = JSON.stringify(parsed);
    assert.match(text, /nest|deep/i);
    assert.equal(server.engine.store.get('dd'.repeat(16)), undefined);
    await assertKept();
  });

  test('long-ago and future timestamps are accepted (clock skew is real data)', async () => {
    const res = await post(
      server,
      jsonRequest([
        jsonSpan({
          traceId: 'ee'.repeat(16),
          spanId: 'ee'.repeat(8),
          startTimeUnixNano: '1000000000',
          endTimeUnixNano: '2000000000',
        }),
        jsonSpan({
          traceId: 'ef'.repeat(16),
          spanId: 'ef'.repeat(8),
          startTimeUnixNano: '4102444800000000000',
          endTimeUnixNano: '4102444800000000001',
        }),
      ]),
      JSON_TYPE,
    );
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.bytes.toString()), {});
    assert.ok(server.engine.store.get('ee'.repeat(16)));
    assert.ok(server.engine.store.get('ef'.repeat(16)));
  });

  test('wrong method and unknown paths', async () => {
    const get = await fetch(server.endpoints.httpTraces);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
    const unknown = await fetch(`${server.endpoints.http}/v1/profiles`, { method: 'POST' });
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { message: string }).message, /no route/);
  });

  test('read API: malformed and unknown ids, bad queries', async () => {
    const malformed = await getJson(`${server.endpoints.api}/traces/not-an-id`);
    assert.equal(malformed.status, 400);
    const unknown = await getJson(`${server.endpoints.api}/traces/${'ab'.repeat(16)}`);
    assert.equal(unknown.status, 404);
    assert.match((unknown.body as { message: string }).message, /not found/);
    const cp = await getJson(`${server.endpoints.api}/traces/${'ab'.repeat(16)}/critical-path`);
    assert.equal(cp.status, 404);
    for (const q of [
      'minDurationMs=-1',
      'minDurationMs=abc',
      'error=maybe',
      'limit=0',
      'limit=1e9',
    ]) {
      const r = await getJson(`${server.endpoints.api}/traces?${q}`);
      assert.equal(r.status, 400, q);
    }
    const post = await fetch(`${server.endpoints.api}/traces`, { method: 'POST' });
    assert.equal(post.status, 405);
  });

  test('gRPC: malformed, oversize, gzip-oversize and partial success', async () => {
    const client = new grpc.Client(
      server.endpoints.grpc.replace('http://', ''),
      grpc.credentials.createInsecure(),
    );
    const call = (bytes: Buffer, options: grpc.CallOptions = {}) =>
      new Promise<{ err: grpc.ServiceError | null; res?: Buffer }>((resolve) => {
        client.makeUnaryRequest(
          EXPORT_METHOD_PATH,
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          new grpc.Metadata(),
          options,
          (err, res) => resolve({ err, res }),
        );
      });
    try {
      const bad = await call(Buffer.from([0x0a, 0x05, 0x01]));
      assert.equal(bad.err?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(bad.err!.details, /invalid OTLP protobuf: length 5 runs past the end/);

      const big = await call(Buffer.alloc(LIMIT + 10));
      assert.equal(big.err?.code, grpc.status.RESOURCE_EXHAUSTED);

      const partial = await call(
        Buffer.concat([encode(makeSpans(2, 'grpc-partial')), badSpanRequest()]),
      );
      assert.equal(partial.err, null);
      const decoded = decodeExportResponse(partial.res!);
      assert.equal(decoded.rejectedSpans, 1);
      assert.match(decoded.errorMessage, /span_id must be 8 bytes, got 3/);
      assert.ok(server.engine.store.list({ service: 'grpc-partial' }).length >= 1);
    } finally {
      client.close();
    }
    // gzip on the wire, over the limit once inflated.
    const gzClient = new grpc.Client(
      server.endpoints.grpc.replace('http://', ''),
      grpc.credentials.createInsecure(),
      { 'grpc.default_compression_algorithm': 2 },
    );
    try {
      const res = await new Promise<grpc.ServiceError | null>((resolve) => {
        gzClient.makeUnaryRequest(
          EXPORT_METHOD_PATH,
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(8 * 1024 * 1024),
          (err) => resolve(err),
        );
      });
      assert.equal(res?.code, grpc.status.RESOURCE_EXHAUSTED);
    } finally {
      gzClient.close();
    }
    await assertKept();
  });
});

/** A request with one span whose span id has 3 bytes (hand-encoded). */
function badSpanRequest(): Buffer {
  const traceId = Buffer.from('12'.repeat(16), 'hex');
  const span = Buffer.concat([
    Buffer.from([0x0a, 16]),
    traceId,
    Buffer.from([0x12, 3, 1, 2, 3]),
    Buffer.from([0x2a, 1, 0x78]),
    Buffer.from([0x39]),
    Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]),
    Buffer.from([0x41]),
    Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]),
  ]);
  const scopeSpans = Buffer.concat([Buffer.from([0x12, span.length]), span]);
  const resourceSpans = Buffer.concat([Buffer.from([0x12, scopeSpans.length]), scopeSpans]);
  return Buffer.concat([Buffer.from([0x0a, resourceSpans.length]), resourceSpans]);
}

describe('CORS and ports', () => {
  test('no CORS origins by default: preflight refused', async () => {
    const server = await startTestServer();
    const res = await fetch(server.endpoints.httpTraces, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  test('configured origin: preflight allowed and POST carries the header', async () => {
    const server = await startTestServer({ corsOrigins: ['http://localhost:5173'] });
    const pre = await fetch(server.endpoints.httpTraces, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'http://localhost:5173');
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    const other = await fetch(server.endpoints.httpTraces, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(other.status, 403);
    const res = await fetch(server.endpoints.httpTraces, {
      method: 'POST',
      headers: { ...JSON_TYPE, origin: 'http://localhost:5173' },
      body: jsonRequest([jsonSpan({ traceId: 'fa'.repeat(16), spanId: 'fa'.repeat(8) })]),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://localhost:5173');
  });

  test('a taken port moves to the next free one, or fails when strict', async () => {
    const first = await startTestServer();
    const warnings: string[] = [];
    const log = { info: () => {}, warn: (m: string) => warnings.push(m), error: () => {} };
    const second = await startTestServer({
      grpcPort: first.grpc.port,
      httpPort: first.http.port,
      log,
    });
    assert.notEqual(second.grpc.port, first.grpc.port);
    assert.notEqual(second.http.port, first.http.port);
    assert.ok(
      warnings.some((w) => w.includes(`port ${first.grpc.port} is in use`)),
      warnings.join('\n'),
    );
    assert.ok(warnings.some((w) => w.includes(`port ${first.http.port} is in use`)));
    await assert.rejects(
      startTestServer({ grpcPort: first.grpc.port, httpPort: 0, strictPorts: true }),
      /OTLP\/gRPC port \d+ is already in use/,
    );
  });
});
