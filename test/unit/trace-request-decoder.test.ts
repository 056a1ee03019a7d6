/**
 * Unit tests of the ingest decoder (`decodeTraceRequest`) on real OTLP bytes: requests made by
 * the OpenTelemetry JS SDK's own protobuf serializer, and hand-made ones (via `ProtoWriter`) for
 * field orders, limits and malformed input that no SDK produces.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind as ApiSpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { SpanKind, StatusCode, type SpanRecord } from '../../src/core/model.js';
import { ProtoDecodeError, WireType } from '../../src/core/otlp/proto-reader.js';
import { decodeResource, decodeSpanJson } from '../../src/core/otlp/span-details.js';
import {
  DEFAULT_DECODE_LIMITS,
  DecodeCache,
  decodeTraceRequest,
  type DecodeLimits,
  type DecodedBatch,
} from '../../src/core/otlp/trace-request-decoder.js';
import { cat, fixed32, fixed64, len, varint } from './helpers/protobuf-fields.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const OTHER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = 'b7ad6b7169203331';
/** 2023-11-14T22:13:20Z in ns. */
const T0 = 1_700_000_000_000_000_000n;

/** A span id that encodes `n`, so tests can tell spans apart by id. */
function sid(n: number): string {
  return (0x1000_0000_0000_0000n + BigInt(n)).toString(16);
}

interface SpanSpec {
  /** Hex; `null` leaves the field out. */
  traceId?: string | null;
  spanId?: string | null;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startNs?: bigint | null;
  endNs?: bigint | null;
  statusCode?: number;
  /** Extra encoded fields appended after the standard ones. */
  extra?: Buffer[];
}

/** The content (no tag, no length) of a Span message. */
function spanBytes(spec: SpanSpec = {}): Buffer {
  const parts: Buffer[] = [];
  const traceId = spec.traceId === undefined ? TRACE_ID : spec.traceId;
  const spanId = spec.spanId === undefined ? sid(1) : spec.spanId;
  if (traceId !== null) parts.push(len(1, hex(traceId)));
  if (spanId !== null) parts.push(len(2, hex(spanId)));
  if (spec.parentSpanId !== undefined) parts.push(len(4, hex(spec.parentSpanId)));
  parts.push(len(5, spec.name ?? 'span'));
  if (spec.kind !== undefined) parts.push(varint(6, spec.kind));
  const startNs = spec.startNs === undefined ? T0 : spec.startNs;
  const endNs = spec.endNs === undefined ? T0 + 5_000_000n : spec.endNs;
  if (startNs !== null) parts.push(fixed64(7, startNs));
  if (endNs !== null) parts.push(fixed64(8, endNs));
  if (spec.statusCode !== undefined) parts.push(len(15, varint(3, spec.statusCode)));
  parts.push(...(spec.extra ?? []));
  return cat(...parts);
}

/** A valid span with span id `sid(n)`. */
function goodSpan(n: number, spec: SpanSpec = {}): Buffer {
  return spanBytes({ spanId: sid(n), name: `good-${n}`, ...spec });
}

/** A KeyValue field `field` (9: Span.attributes) with `value` as encoded AnyValue content. */
function kv(field: number, key: string, value: Uint8Array): Buffer {
  return len(field, cat(len(1, key), len(2, value)));
}

const strValue = (s: string): Buffer => len(1, s);

/**
 * An AnyValue whose value is `levels` nested arrays around a string. Levels count from 1 for
 * the attribute's value (as `maxValueDepth` and span-details do): the string is at level
 * `levels + 1`.
 */
function nestedArrays(levels: number): Buffer {
  let v = strValue('leaf');
  for (let i = 0; i < levels; i++) v = len(5, len(1, v));
  return v;
}

/** An AnyValue whose value is `levels` nested kvlists around a string. */
function nestedKvlists(levels: number): Buffer {
  let v = strValue('leaf');
  for (let i = 0; i < levels; i++) v = len(6, kv(1, `k${i}`, v));
  return v;
}

function resourceBytes(serviceName: string, extra: Buffer[] = []): Buffer {
  return cat(kv(1, 'service.name', strValue(serviceName)), ...extra);
}

function scopeBytes(name: string, version: string): Buffer {
  return cat(len(1, name), len(2, version));
}

interface ScopeSpansSpec {
  scope?: Buffer;
  schemaUrl?: string;
  /** Write the scope and schema URL after the spans. */
  scopeLast?: boolean;
}

/** The content of a ScopeSpans message holding `spans` (each a Span's content). */
function scopeSpansBytes(spans: Buffer[], spec: ScopeSpansSpec = {}): Buffer {
  const head: Buffer[] = [];
  if (spec.scope !== undefined) head.push(len(1, spec.scope));
  if (spec.schemaUrl !== undefined) head.push(len(3, spec.schemaUrl));
  const body = spans.map((s) => len(2, s));
  return spec.scopeLast ? cat(...body, ...head) : cat(...head, ...body);
}

interface ResourceSpansSpec {
  resource?: Buffer;
  schemaUrl?: string;
  resourceLast?: boolean;
}

function resourceSpansBytes(scopeSpans: Buffer[], spec: ResourceSpansSpec = {}): Buffer {
  const head: Buffer[] = [];
  if (spec.resource !== undefined) head.push(len(1, spec.resource));
  if (spec.schemaUrl !== undefined) head.push(len(3, spec.schemaUrl));
  const body = scopeSpans.map((s) => len(2, s));
  return spec.resourceLast ? cat(...body, ...head) : cat(...head, ...body);
}

/** An ExportTraceServiceRequest from ResourceSpans contents. */
function request(...resourceSpans: Buffer[]): Buffer {
  return cat(...resourceSpans.map((rs) => len(1, rs)));
}

/** A request holding `spans` in one resource and one scope. */
function batch(...spans: Buffer[]): Buffer {
  return request(
    resourceSpansBytes([scopeSpansBytes(spans, { scope: scopeBytes('test-scope', '1.0.0') })], {
      resource: resourceBytes('test-service'),
    }),
  );
}

function ids(b: DecodedBatch): string[] {
  return b.spans.map((s) => s.spanId);
}

/** Asserts that decoding throws a ProtoDecodeError whose message matches `pattern`. */
function assertDecodeError(bytes: Uint8Array, pattern: RegExp): ProtoDecodeError {
  let caught: unknown;
  try {
    decodeTraceRequest(bytes);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ProtoDecodeError, `expected ProtoDecodeError, got ${caught}`);
  assert.match(caught.message, pattern);
  assert.ok(caught.offset >= 0 && caught.offset <= bytes.length, `offset ${caught.offset}`);
  return caught;
}

// ---------------------------------------------------------------------------------------------
// Requests from the OpenTelemetry JS SDK

interface SdkExport {
  bytes: Uint8Array;
  spans: ReadableSpan[];
  json: SdkJsonRequest;
}

interface SdkJsonRequest {
  resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[];
}

const FOREIGN_LINK = { traceId: OTHER_TRACE_ID, spanId: PARENT_ID, traceFlags: 1 };

/**
 * Records a small pipeline trace with the SDK (every span kind, attributes of each type,
 * events, a link, OK and ERROR statuses) and serializes it as the OTLP exporter would.
 */
function sdkExport(): SdkExport {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'inference-api', 'host.name': 'gpu-1' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('stagelight-test', '0.4.2');
  const root = tracer.startSpan('POST /predict', {
    kind: ApiSpanKind.SERVER,
    attributes: { 'http.method': 'POST', batch: 8, ratio: 0.25, ok: true, dims: [1, 3, 224] },
  });
  const rootCtx = trace.setSpan(context.active(), root);
  const pre = tracer.startSpan('preprocess', { kind: ApiSpanKind.INTERNAL }, rootCtx);
  pre.addEvent('resized', { width: 224 });
  pre.setStatus({ code: SpanStatusCode.OK });
  pre.end();
  const enqueue = tracer.startSpan('enqueue', { kind: ApiSpanKind.PRODUCER }, rootCtx);
  enqueue.end();
  const infer = tracer.startSpan(
    'infer',
    { kind: ApiSpanKind.CONSUMER, links: [{ context: FOREIGN_LINK }] },
    rootCtx,
  );
  const call = tracer.startSpan(
    'triton.call',
    { kind: ApiSpanKind.CLIENT },
    trace.setSpan(rootCtx, infer),
  );
  call.setStatus({ code: SpanStatusCode.ERROR, message: 'CUDA out of memory' });
  call.recordException(new Error('CUDA out of memory'));
  call.end();
  infer.end();
  root.end();
  const spans = exporter.getFinishedSpans();
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  const jsonBytes = JsonTraceSerializer.serializeRequest(spans);
  assert.ok(bytes && jsonBytes);
  const json = JSON.parse(Buffer.from(jsonBytes).toString('utf8')) as SdkJsonRequest;
  return { bytes, spans, json };
}

function hrTimeToNs(t: [number, number]): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}

/**
 * The SDK's OTLP/JSON of a span, brought to `decodeSpanJson`'s conventions: int64 as decimal
 * strings, and proto3 defaults (zero counts, empty status) left out.
 */
function normalizeSdkJson(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => normalizeSdkJson(v));
  if (value === null || typeof value !== 'object') {
    return key === 'intValue' ? String(value) : value;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (/^dropped.*Count$|^flags$|^code$/.test(k) && v === 0) continue;
    if ((k === 'message' || k === 'traceState' || k === 'parentSpanId') && !v) continue;
    out[k] = normalizeSdkJson(v, k);
  }
  return out;
}

describe('decodeTraceRequest on SDK-encoded requests', () => {
  const { bytes, spans: sdkSpans, json } = sdkExport();
  const batchOut = decodeTraceRequest(bytes);
  const byId = new Map(batchOut.spans.map((s) => [s.spanId, s]));

  it('returns every span and rejects none', () => {
    assert.equal(batchOut.rejected, 0);
    assert.deepEqual(batchOut.rejectReasons, []);
    assert.equal(batchOut.spans.length, sdkSpans.length);
    assert.equal(byId.size, sdkSpans.length);
  });

  it('fills ids, parent, name, kind, times and status from the wire', () => {
    for (const s of sdkSpans) {
      const ctx = s.spanContext();
      const rec = byId.get(ctx.spanId);
      assert.ok(rec, `span ${s.name} missing`);
      assert.equal(rec.traceId, ctx.traceId);
      assert.match(rec.traceId, /^[0-9a-f]{32}$/);
      assert.match(rec.spanId, /^[0-9a-f]{16}$/);
      assert.equal(rec.parentSpanId, s.parentSpanContext?.spanId ?? '');
      assert.equal(rec.name, s.name);
      // The API's SpanKind starts at INTERNAL = 0; OTLP's reserves 0 for UNSPECIFIED.
      assert.equal(rec.kind, s.kind + 1);
      assert.equal(rec.statusCode, s.status.code);
      // Milliseconds as doubles: the nearest double of ns / 1e6 ...
      assert.equal(rec.startMs, Number(hrTimeToNs(s.startTime)) / 1e6);
      assert.equal(rec.endMs, Number(hrTimeToNs(s.endTime)) / 1e6);
      // ... which is the SDK's hrTime to well under a microsecond.
      assert.ok(Math.abs(rec.startMs - (s.startTime[0] * 1e3 + s.startTime[1] / 1e6)) < 1e-3);
      assert.ok(Math.abs(rec.endMs - (s.endTime[0] * 1e3 + s.endTime[1] / 1e6)) < 1e-3);
      assert.ok(rec.endMs >= rec.startMs);
    }
    const kinds = new Set(batchOut.spans.map((s) => s.kind));
    for (const k of [
      SpanKind.INTERNAL,
      SpanKind.SERVER,
      SpanKind.CLIENT,
      SpanKind.PRODUCER,
      SpanKind.CONSUMER,
    ]) {
      assert.ok(kinds.has(k), `kind ${k} not covered`);
    }
    const call = batchOut.spans.find((s) => s.name === 'triton.call');
    assert.equal(call?.statusCode, StatusCode.ERROR);
    assert.equal(call?.isError, true);
    assert.equal(batchOut.spans.find((s) => s.name === 'preprocess')?.statusCode, StatusCode.OK);
  });

  it('keeps links, and NO_LINKS-style empty arrays otherwise', () => {
    const infer = batchOut.spans.find((s) => s.name === 'infer');
    assert.deepEqual(infer?.links, [{ traceId: OTHER_TRACE_ID, spanId: PARENT_ID }]);
    for (const s of batchOut.spans) if (s !== infer) assert.deepEqual(s.links, []);
  });

  it('attaches the resource and the scope', () => {
    for (const s of batchOut.spans) {
      assert.equal(s.serviceName, 'inference-api');
      assert.equal(s.resource.serviceName, 'inference-api');
      assert.deepEqual(
        s.resource.attributes.find((a) => a.key === 'host.name'),
        { key: 'host.name', value: { stringValue: 'gpu-1' } },
      );
      assert.equal(s.scope.name, 'stagelight-test');
      assert.equal(s.scope.version, '0.4.2');
      // One resource and one scope object for the whole batch.
      assert.equal(s.resource, batchOut.spans[0]!.resource);
      assert.equal(s.scope, batchOut.spans[0]!.scope);
    }
  });

  it('keeps raw bytes that decode back to the SDK span', () => {
    const jsonSpans = json.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    assert.equal(jsonSpans.length, batchOut.spans.length);
    for (const expected of jsonSpans) {
      const rec = byId.get(expected['spanId'] as string);
      assert.ok(rec);
      assert.deepEqual(decodeSpanJson(rec.raw), normalizeSdkJson(expected));
    }
    const pre = decodeSpanJson(
      byId.get(sdkSpans.find((s) => s.name === 'preprocess')!.spanContext().spanId)!.raw,
    );
    assert.equal(pre.events[0]?.name, 'resized');
    const call = decodeSpanJson(batchOut.spans.find((s) => s.name === 'triton.call')!.raw);
    assert.deepEqual(call.status, { code: 2, message: 'CUDA out of memory' });
    assert.equal(call.events[0]?.name, 'exception');
  });

  it('copies raw out of the request buffer', () => {
    const copy = Buffer.from(bytes);
    const out = decodeTraceRequest(copy);
    const before = Buffer.from(out.spans[0]!.raw);
    copy.fill(0);
    assert.deepEqual(Buffer.from(out.spans[0]!.raw), before);
    assert.equal(out.spans[0]!.scope.name, 'stagelight-test');
    assert.equal(out.spans[0]!.serviceName, 'inference-api');
  });

  it('decodes a request that is a view into a larger buffer', () => {
    const big = new Uint8Array(bytes.length + 20).fill(0xff);
    big.set(bytes, 7);
    const out = decodeTraceRequest(big.subarray(7, 7 + bytes.length));
    assert.deepEqual(ids(out), ids(batchOut));
  });

  it('shares resources and scopes across batches through the DecodeCache', () => {
    const cache = new DecodeCache();
    const a = decodeTraceRequest(bytes, cache);
    const b = decodeTraceRequest(Buffer.from(bytes), cache);
    assert.equal(a.spans[0]!.resource, b.spans[0]!.resource);
    assert.equal(a.spans[0]!.scope, b.spans[0]!.scope);
    // Names are interned too: the same string instance whatever batch it came from.
    assert.equal(a.spans[0]!.name, b.spans[0]!.name);
    // A fresh cache makes fresh objects: identity is the cache's doing.
    const c = decodeTraceRequest(bytes, new DecodeCache());
    assert.notEqual(a.spans[0]!.resource, c.spans[0]!.resource);
    // Another service's resource is another object.
    const other = decodeTraceRequest(
      request(
        resourceSpansBytes(
          [scopeSpansBytes([goodSpan(1)], { scope: scopeBytes('stagelight-test', '0.4.2') })],
          {
            resource: resourceBytes('other-service'),
          },
        ),
      ),
      cache,
    );
    assert.notEqual(other.spans[0]!.resource, a.spans[0]!.resource);
    assert.equal(other.spans[0]!.serviceName, 'other-service');
  });
});

// ---------------------------------------------------------------------------------------------

describe('decodeTraceRequest on hand-made requests', () => {
  it('decodes the empty request as zero spans', () => {
    assert.deepEqual(decodeTraceRequest(new Uint8Array(0)), {
      spans: [],
      rejected: 0,
      rejectReasons: [],
    });
  });

  it('decodes a span with every field, and raw round-trips', () => {
    const span = spanBytes({
      spanId: sid(7),
      parentSpanId: PARENT_ID,
      name: 'tokenize',
      kind: SpanKind.CLIENT,
      startNs: T0 + 123_456n,
      endNs: T0 + 2_000_000_789n,
      extra: [
        len(3, 'vendor=1'),
        kv(9, 'k', strValue('v')),
        varint(10, 2),
        len(11, cat(fixed64(1, T0 + 1n), len(2, 'ev'))),
        varint(12, 3),
        len(13, cat(len(1, hex(OTHER_TRACE_ID)), len(2, hex(sid(9))))),
        varint(14, 4),
        len(15, cat(len(2, 'bad'), varint(3, StatusCode.ERROR))),
        fixed32(16, 0x101),
      ],
    });
    const out = decodeTraceRequest(batch(span));
    assert.equal(out.rejected, 0);
    const [rec] = out.spans as [SpanRecord];
    assert.equal(rec.traceId, TRACE_ID);
    assert.equal(rec.spanId, sid(7));
    assert.equal(rec.parentSpanId, PARENT_ID);
    assert.equal(rec.name, 'tokenize');
    assert.equal(rec.kind, SpanKind.CLIENT);
    assert.equal(rec.startMs, Number(T0 + 123_456n) / 1e6);
    assert.equal(rec.endMs, Number(T0 + 2_000_000_789n) / 1e6);
    assert.ok(Math.abs(rec.durationMs - 1999.877333) < 1e-3);
    assert.equal(rec.statusCode, StatusCode.ERROR);
    assert.deepEqual(rec.links, [{ traceId: OTHER_TRACE_ID, spanId: sid(9) }]);
    assert.equal(rec.serviceName, 'test-service');
    assert.deepEqual([rec.scope.name, rec.scope.version], ['test-scope', '1.0.0']);
    assert.deepEqual(Buffer.from(rec.raw), span);
    assert.deepEqual(decodeSpanJson(rec.raw), {
      traceId: TRACE_ID,
      spanId: sid(7),
      parentSpanId: PARENT_ID,
      traceState: 'vendor=1',
      name: 'tokenize',
      kind: SpanKind.CLIENT,
      startTimeUnixNano: String(T0 + 123_456n),
      endTimeUnixNano: String(T0 + 2_000_000_789n),
      attributes: [{ key: 'k', value: { stringValue: 'v' } }],
      droppedAttributesCount: 2,
      events: [{ timeUnixNano: String(T0 + 1n), name: 'ev', attributes: [] }],
      droppedEventsCount: 3,
      links: [{ traceId: OTHER_TRACE_ID, spanId: sid(9), attributes: [] }],
      droppedLinksCount: 4,
      status: { code: StatusCode.ERROR, message: 'bad' },
      flags: 0x101,
    });
  });

  it('treats an empty or all-zero parent_span_id as a root', () => {
    const out = decodeTraceRequest(
      batch(goodSpan(1, { parentSpanId: '' }), goodSpan(2, { parentSpanId: '0000000000000000' })),
    );
    assert.deepEqual(
      out.spans.map((s) => s.parentSpanId),
      ['', ''],
    );
  });

  it('accepts fields in any order: resource after scope_spans, scope after spans', () => {
    const reversed = (s: Buffer): Buffer => {
      // The span's own fields reversed: times before ids, name last.
      const fields = [
        fixed64(8, T0 + 9n),
        fixed64(7, T0),
        varint(6, SpanKind.SERVER),
        len(4, hex(PARENT_ID)),
        len(2, s),
        len(1, hex(TRACE_ID)),
        len(5, 'reordered'),
      ];
      return cat(...fields);
    };
    const bytes = request(
      resourceSpansBytes(
        [
          scopeSpansBytes([reversed(hex(sid(1))), goodSpan(2)], {
            scope: scopeBytes('late-scope', '9'),
            schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
            scopeLast: true,
          }),
        ],
        { resource: resourceBytes('late-service'), schemaUrl: 'https://r', resourceLast: true },
      ),
    );
    const out = decodeTraceRequest(bytes);
    assert.equal(out.rejected, 0);
    assert.deepEqual(ids(out), [sid(1), sid(2)]);
    const [a] = out.spans as [SpanRecord];
    assert.equal(a.name, 'reordered');
    assert.equal(a.kind, SpanKind.SERVER);
    assert.equal(a.parentSpanId, PARENT_ID);
    assert.equal(a.endMs, Number(T0 + 9n) / 1e6);
    for (const s of out.spans) {
      assert.equal(s.serviceName, 'late-service');
      assert.equal(s.resource.schemaUrl, 'https://r');
      assert.equal(s.scope.name, 'late-scope');
      assert.equal(s.scope.version, '9');
      assert.equal(s.scope.schemaUrl, 'https://opentelemetry.io/schemas/1.26.0');
    }
  });

  it('keeps each resource and scope with its own spans', () => {
    const bytes = request(
      resourceSpansBytes(
        [
          scopeSpansBytes([goodSpan(1)], { scope: scopeBytes('s1', '1') }),
          scopeSpansBytes([goodSpan(2)], { scope: scopeBytes('s2', '2') }),
        ],
        { resource: resourceBytes('svc-a') },
      ),
      resourceSpansBytes([scopeSpansBytes([goodSpan(3)])], { resource: resourceBytes('svc-b') }),
      resourceSpansBytes([scopeSpansBytes([goodSpan(4)])]),
    );
    const out = decodeTraceRequest(bytes);
    assert.deepEqual(
      out.spans.map((s) => [s.spanId, s.serviceName, s.scope.name]),
      [
        [sid(1), 'svc-a', 's1'],
        [sid(2), 'svc-a', 's2'],
        [sid(3), 'svc-b', ''],
        [sid(4), 'unknown_service', ''],
      ],
    );
    assert.equal(out.spans[0]!.resource, out.spans[1]!.resource);
    assert.deepEqual(out.spans[3]!.resource.attributes, []);
    assert.equal(out.spans[3]!.resource.raw.length, 0);
  });

  it('shares one resource object between ResourceSpans with the same bytes', () => {
    const res = resourceBytes('svc');
    const out = decodeTraceRequest(
      request(
        resourceSpansBytes([scopeSpansBytes([goodSpan(1)])], { resource: res }),
        resourceSpansBytes([scopeSpansBytes([goodSpan(2)])], { resource: res }),
      ),
    );
    assert.equal(out.spans[0]!.resource, out.spans[1]!.resource);
  });

  it('skips unknown fields of every wire type at every level', () => {
    const unknown = [
      varint(20, 12345678901234n),
      fixed64(21, 7n),
      len(22, 'future'),
      fixed32(23, 9),
      varint(1000, 1),
      len(536870911, cat(varint(1, 1))),
    ];
    const bytes = cat(
      ...unknown,
      len(
        1,
        cat(
          ...unknown,
          len(1, resourceBytes('svc', unknown)),
          len(
            2,
            cat(
              ...unknown,
              len(1, cat(scopeBytes('scope', 'v'), ...unknown)),
              len(2, goodSpan(1, { extra: unknown })),
              ...unknown,
            ),
          ),
          ...unknown,
        ),
      ),
      ...unknown,
    );
    const out = decodeTraceRequest(bytes);
    assert.equal(out.rejected, 0, out.rejectReasons.join());
    assert.deepEqual(ids(out), [sid(1)]);
    assert.equal(out.spans[0]!.serviceName, 'svc');
    assert.equal(out.spans[0]!.scope.name, 'scope');
    assert.equal(decodeSpanJson(out.spans[0]!.raw).spanId, sid(1));
  });

  it('accepts spans recorded long ago or in the future', () => {
    const times: [bigint, bigint][] = [
      [1n, 2n], // the first nanoseconds of 1970
      [1_000_000n, 1_000_000n], // a zero-length span in 1970
      [157_766_400_000_000_000n, 157_766_400_500_000_000n], // 1975
      [1_000_000_000_000_000_000n, 1_000_000_001_000_000_000n], // 2001-09-09
      [4_102_444_800_000_000_000n, 4_102_444_800_250_000_000n], // 2100, clock skew
      [0xffff_ffff_ffff_fff0n, 0xffff_ffff_ffff_ffffn], // the last representable instant
    ];
    const spans = times.map(([startNs, endNs], i) => goodSpan(i + 1, { startNs, endNs }));
    const out = decodeTraceRequest(batch(...spans));
    assert.equal(out.rejected, 0, out.rejectReasons.join());
    assert.equal(out.spans.length, times.length);
    out.spans.forEach((s, i) => {
      const [startNs, endNs] = times[i]!;
      assert.equal(s.startMs, Number(startNs) / 1e6);
      assert.equal(s.endMs, Number(endNs) / 1e6);
      assert.ok(s.endMs >= s.startMs);
      const json = decodeSpanJson(s.raw);
      assert.equal(json.startTimeUnixNano, String(startNs));
      assert.equal(json.endTimeUnixNano, String(endNs));
    });
  });

  it('accepts spans exactly at the limits', () => {
    const limits: DecodeLimits = {
      maxAttributesPerSpan: 2,
      maxEventsPerSpan: 2,
      maxLinksPerSpan: 2,
      maxValueDepth: 2,
    };
    const event = len(
      11,
      cat(fixed64(1, T0), len(2, 'e'), kv(3, 'a', strValue('1')), kv(3, 'b', strValue('2'))),
    );
    const link = len(
      13,
      cat(len(1, hex(OTHER_TRACE_ID)), len(2, hex(PARENT_ID)), kv(4, 'a', strValue('1'))),
    );
    const span = goodSpan(1, {
      // Values at level 2 = maxValueDepth: one array or kvlist around a scalar.
      extra: [kv(9, 'a', nestedArrays(1)), kv(9, 'b', nestedKvlists(1)), event, event, link, link],
    });
    const out = decodeTraceRequest(batch(span), new DecodeCache(), limits);
    assert.equal(out.rejected, 0, out.rejectReasons.join());
    assert.equal(out.spans[0]!.links.length, 2);
    const json = decodeSpanJson(out.spans[0]!.raw);
    assert.equal(json.attributes.length, 2);
    assert.equal(json.events.length, 2);
  });

  it('keeps a link with unusable ids in raw but does not return it as a LinkRef', () => {
    const badLink = len(13, cat(len(1, hex('abcd')), len(2, hex(PARENT_ID))));
    const out = decodeTraceRequest(batch(goodSpan(1, { extra: [badLink] })));
    assert.equal(out.rejected, 0);
    assert.deepEqual(out.spans[0]!.links, []);
    assert.equal(decodeSpanJson(out.spans[0]!.raw).links[0]?.traceId, 'abcd');
  });
});

// ---------------------------------------------------------------------------------------------

describe('span rejections (partial success)', () => {
  const small: DecodeLimits = {
    maxAttributesPerSpan: 2,
    maxEventsPerSpan: 2,
    maxLinksPerSpan: 2,
    maxValueDepth: 2,
  };
  const event = len(11, cat(fixed64(1, T0), len(2, 'e')));
  const link = len(13, cat(len(1, hex(OTHER_TRACE_ID)), len(2, hex(PARENT_ID))));
  const attr = (i: number): Buffer => kv(9, `a${i}`, strValue('v'));

  const cases: { name: string; span: Buffer; reason: string | RegExp; limits?: DecodeLimits }[] = [
    {
      name: 'trace id of 15 bytes',
      span: spanBytes({ traceId: TRACE_ID.slice(2) }),
      reason: 'trace_id must be 16 bytes, got 15',
    },
    {
      name: 'trace id of 17 bytes',
      span: spanBytes({ traceId: TRACE_ID + 'ff' }),
      reason: 'trace_id must be 16 bytes, got 17',
    },
    {
      name: 'empty trace id',
      span: spanBytes({ traceId: '' }),
      reason: 'trace_id must be 16 bytes, got 0',
    },
    {
      name: 'all-zero trace id',
      span: spanBytes({ traceId: '0'.repeat(32) }),
      reason: 'trace_id is all zero',
    },
    {
      name: 'all-zero span id',
      span: spanBytes({ spanId: '0'.repeat(16) }),
      reason: 'span_id is all zero',
    },
    {
      name: 'span id of 7 bytes',
      span: spanBytes({ spanId: 'aabbccddeeff00' }),
      reason: 'span_id must be 8 bytes, got 7',
    },
    {
      name: 'span id of 16 bytes',
      span: spanBytes({ spanId: TRACE_ID }),
      reason: 'span_id must be 8 bytes, got 16',
    },
    {
      name: 'parent id of 9 bytes',
      span: spanBytes({ parentSpanId: PARENT_ID + '01' }),
      reason: 'parent_span_id must be 8 bytes, got 9',
    },
    {
      name: 'parent id of 4 bytes',
      span: spanBytes({ parentSpanId: 'deadbeef' }),
      reason: 'parent_span_id must be 8 bytes, got 4',
    },
    { name: 'missing trace id', span: spanBytes({ traceId: null }), reason: 'trace_id missing' },
    { name: 'missing span id', span: spanBytes({ spanId: null }), reason: 'span_id missing' },
    {
      name: 'end before start',
      span: spanBytes({ startNs: T0 + 1_000_000n, endNs: T0 }),
      reason: 'end_time_unix_nano is before start_time_unix_nano',
    },
    {
      name: 'missing start time',
      span: spanBytes({ startNs: null }),
      reason: 'start_time_unix_nano missing',
    },
    {
      name: 'missing end time',
      span: spanBytes({ endNs: null }),
      reason: 'end_time_unix_nano missing',
    },
    {
      name: 'zero start time (proto3 default: same as missing)',
      span: spanBytes({ startNs: 0n }),
      reason: 'start_time_unix_nano missing',
    },
    { name: 'kind 6', span: spanBytes({ kind: 6 }), reason: 'kind 6 is not a SpanKind' },
    {
      name: 'negative kind (sign-extended int32)',
      span: spanBytes({ extra: [varint(6, 0xffff_ffff_ffff_ffffn)] }),
      reason: 'kind 4294967295 is not a SpanKind',
    },
    {
      name: 'status code 3',
      span: spanBytes({ statusCode: 3 }),
      reason: 'status code 3 is not a StatusCode',
    },
    {
      name: 'more attributes than maxAttributesPerSpan',
      span: spanBytes({ extra: [attr(1), attr(2), attr(3)] }),
      reason: 'more than 2 attributes',
      limits: small,
    },
    {
      name: 'more events than maxEventsPerSpan',
      span: spanBytes({ extra: [event, event, event] }),
      reason: 'more than 2 events',
      limits: small,
    },
    {
      name: 'more links than maxLinksPerSpan',
      span: spanBytes({ extra: [link, link, link] }),
      reason: 'more than 2 links',
      limits: small,
    },
    {
      name: 'an event with too many attributes',
      span: spanBytes({
        extra: [len(11, cat(len(2, 'e'), ...[1, 2, 3].map((i) => kv(3, `a${i}`, strValue('v')))))],
      }),
      reason: 'an event has more than 2 attributes',
      limits: small,
    },
    {
      name: 'a link with too many attributes',
      span: spanBytes({
        extra: [
          len(
            13,
            cat(
              len(1, hex(OTHER_TRACE_ID)),
              ...[1, 2, 3].map((i) => kv(4, `a${i}`, strValue('v'))),
            ),
          ),
        ],
      }),
      reason: 'a link has more than 2 attributes',
      limits: small,
    },
    {
      name: 'arrays nested deeper than maxValueDepth',
      span: spanBytes({ extra: [kv(9, 'deep', nestedArrays(2))] }),
      reason: 'attribute value nested deeper than 2 levels',
      limits: small,
    },
    {
      name: 'kvlists nested deeper than maxValueDepth',
      span: spanBytes({ extra: [kv(9, 'deep', nestedKvlists(2))] }),
      reason: 'attribute value nested deeper than 2 levels',
      limits: small,
    },
    {
      name: 'an event attribute nested deeper than maxValueDepth',
      span: spanBytes({ extra: [len(11, kv(3, 'deep', nestedArrays(2)))] }),
      reason: 'attribute value nested deeper than 2 levels',
      limits: small,
    },
    {
      name: 'values nested deeper than the default maxValueDepth',
      span: spanBytes({
        extra: [kv(9, 'deep', nestedArrays(DEFAULT_DECODE_LIMITS.maxValueDepth))],
      }),
      reason: `attribute value nested deeper than ${DEFAULT_DECODE_LIMITS.maxValueDepth} levels`,
    },
    {
      name: 'a well-delimited span whose inside is truncated',
      span: spanBytes().subarray(0, 10),
      reason: /^malformed span: length 16 runs past the end of the message \(at byte \d+\)$/,
    },
    {
      name: 'a span ending in the middle of a varint',
      span: cat(spanBytes(), Buffer.from([0x30, 0x80])),
      reason: /^malformed span: truncated varint \(at byte \d+\)$/,
    },
    {
      name: 'a span ending in the middle of a fixed64',
      span: cat(spanBytes({ endNs: null }), Buffer.from([0x41, 1, 2, 3])),
      reason: /^malformed span: truncated fixed64 \(at byte \d+\)$/,
    },
    {
      name: 'an attribute whose inside is truncated',
      span: spanBytes({ extra: [len(9, cat(len(1, 'k'), Buffer.from([0x12, 0x05, 0x0a])))] }),
      reason: /^malformed span: length 5 runs past the end of the message \(at byte \d+\)$/,
    },
    {
      name: 'a known field with the wrong wire type (start time as varint)',
      span: spanBytes({ startNs: null, extra: [varint(7, T0)] }),
      reason: /^malformed span: Span field 7 has wire type 0 \(at byte \d+\)$/,
    },
    {
      name: 'a known field with the wrong wire type (trace id as fixed64)',
      span: spanBytes({ traceId: null, extra: [fixed64(1, 5n)] }),
      reason: /^malformed span: Span field 1 has wire type 1 \(at byte \d+\)$/,
    },
    {
      name: 'a group inside a span',
      span: spanBytes({ extra: [Buffer.from([0xf3, 0x01])] }), // field 30, wire type 3
      reason: /^malformed span: unsupported wire type 3 \(at byte \d+\)$/,
    },
    {
      name: 'field number 0 inside a span',
      span: spanBytes({ extra: [Buffer.from([0x02, 0x00])] }),
      reason: /^malformed span: field number 0 \(at byte \d+\)$/,
    },
  ];

  for (const c of cases) {
    it(`rejects ${c.name}, keeping the other spans`, () => {
      const bytes = batch(goodSpan(1), c.span, goodSpan(2));
      const out = decodeTraceRequest(bytes, new DecodeCache(), c.limits ?? DEFAULT_DECODE_LIMITS);
      assert.equal(out.rejected, 1, `accepted: ${JSON.stringify(ids(out))}`);
      assert.equal(out.rejectReasons.length, 1);
      if (typeof c.reason === 'string') assert.equal(out.rejectReasons[0], c.reason);
      else assert.match(out.rejectReasons[0]!, c.reason);
      assert.deepEqual(ids(out), [sid(1), sid(2)]);
      for (const s of out.spans)
        assert.deepEqual(Buffer.from(s.raw), goodSpan(s === out.spans[0] ? 1 : 2));
    });
  }

  it('applies the default limits: 4096 attributes pass, 4097 do not', () => {
    const attrs = (n: number): Buffer[] =>
      Array.from({ length: n }, (_, i) => kv(9, `a${i}`, strValue('v')));
    const max = DEFAULT_DECODE_LIMITS.maxAttributesPerSpan;
    const out = decodeTraceRequest(
      batch(goodSpan(1, { extra: attrs(max) }), goodSpan(2, { extra: attrs(max + 1) })),
    );
    assert.deepEqual(ids(out), [sid(1)]);
    assert.deepEqual(out.rejectReasons, [`more than ${max} attributes`]);
  });

  it('counts every rejected span and lists the first five distinct reasons once each', () => {
    const bad = [
      spanBytes({ kind: 6 }),
      spanBytes({ kind: 6 }),
      spanBytes({ kind: 7 }),
      spanBytes({ statusCode: 9 }),
      spanBytes({ traceId: null }),
      spanBytes({ spanId: null }),
      spanBytes({ startNs: null }),
      spanBytes({ endNs: null }),
    ];
    const out = decodeTraceRequest(batch(goodSpan(1), ...bad, goodSpan(2)));
    assert.equal(out.rejected, bad.length);
    assert.deepEqual(out.rejectReasons, [
      'kind 6 is not a SpanKind',
      'kind 7 is not a SpanKind',
      'status code 9 is not a StatusCode',
      'trace_id missing',
      'span_id missing',
    ]);
    assert.deepEqual(ids(out), [sid(1), sid(2)]);
  });

  it('keeps decoding after a rejected span in another scope and resource', () => {
    const bytes = request(
      resourceSpansBytes(
        [
          scopeSpansBytes([spanBytes({ kind: 9 })], { scope: scopeBytes('a', '') }),
          scopeSpansBytes([goodSpan(1)], { scope: scopeBytes('b', '') }),
        ],
        { resource: resourceBytes('r1') },
      ),
      resourceSpansBytes([scopeSpansBytes([goodSpan(2)])], { resource: resourceBytes('r2') }),
    );
    const out = decodeTraceRequest(bytes);
    assert.equal(out.rejected, 1);
    assert.deepEqual(
      out.spans.map((s) => [s.spanId, s.scope.name, s.serviceName]),
      [
        [sid(1), 'b', 'r1'],
        [sid(2), '', 'r2'],
      ],
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('whole-request errors', () => {
  it('handles truncation at every byte offset: a prefix at a top-level boundary, else an error', () => {
    // Three top-level fields; a cut exactly between two of them leaves a valid, shorter request.
    const rsA = len(
      1,
      resourceSpansBytes(
        [scopeSpansBytes([goodSpan(1), goodSpan(2)], { scope: scopeBytes('s', '1') })],
        { resource: resourceBytes('a') },
      ),
    );
    const unknown = varint(7, 300);
    const rsB = len(
      1,
      resourceSpansBytes([scopeSpansBytes([goodSpan(3)])], { resource: resourceBytes('b') }),
    );
    const full = cat(rsA, unknown, rsB);
    const prefixes = new Map<number, string[]>([
      [0, []],
      [rsA.length, [sid(1), sid(2)]],
      [rsA.length + unknown.length, [sid(1), sid(2)]],
      [full.length, [sid(1), sid(2), sid(3)]],
    ]);
    for (let cut = 0; cut <= full.length; cut++) {
      const bytes = full.subarray(0, cut);
      const expected = prefixes.get(cut);
      let out: DecodedBatch | undefined;
      try {
        out = decodeTraceRequest(bytes);
      } catch (e) {
        assert.ok(e instanceof ProtoDecodeError, `cut ${cut}: threw ${e}`);
        assert.ok(expected === undefined, `cut ${cut}: a valid prefix threw ${e}`);
        assert.match(e.message, /truncated varint|runs past the end/);
        continue;
      }
      assert.ok(expected !== undefined, `cut ${cut}: a truncated request decoded`);
      assert.equal(out.rejected, 0);
      assert.deepEqual(ids(out), expected);
    }
  });

  it('handles truncation of an SDK request at every byte offset', () => {
    const { bytes } = sdkExport();
    const full = decodeTraceRequest(bytes);
    assert.ok(full.spans.length > 0);
    for (let cut = 0; cut < bytes.length; cut++) {
      const prefix = bytes.subarray(0, cut);
      if (cut === 0) {
        assert.equal(decodeTraceRequest(prefix).spans.length, 0);
        continue;
      }
      // One ResourceSpans: any cut inside it breaks the outer length.
      assert.throws(
        () => decodeTraceRequest(prefix),
        (e: unknown) => e instanceof ProtoDecodeError,
        `cut ${cut}`,
      );
    }
  });

  it('rejects a top-level length running past the end', () => {
    const good = batch(goodSpan(1));
    const bytes = Buffer.from(good);
    bytes[1] = bytes[1]! + 1; // ResourceSpans length one too long (a one-byte prefix here)
    assert.ok(good[1]! < 0x7f);
    assertDecodeError(bytes, /^length \d+ runs past the end of the message \(at byte 2\)$/);
    assertDecodeError(
      cat(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])),
      /length 4294967295 runs past the end/,
    );
  });

  it('rejects a span whose length runs past its ScopeSpans', () => {
    const span = goodSpan(1);
    // ScopeSpans { spans: <length claims 4 more bytes than the ScopeSpans holds> }, then 4
    // bytes of padding outside the ScopeSpans but inside the ResourceSpans.
    const scopeSpans = cat(Buffer.from([0x12, span.length + 4]), span);
    const bytes = request(cat(len(2, scopeSpans), varint(9, 1), varint(9, 1)));
    assertDecodeError(
      bytes,
      new RegExp(`^length ${span.length + 4} runs past the end of the message`),
    );
  });

  it('rejects a resource whose length runs past its ResourceSpans', () => {
    const rs = cat(Buffer.from([0x0a, 0x40]), resourceBytes('svc'));
    assertDecodeError(request(rs), /^length 64 runs past the end of the message/);
  });

  it('rejects varints longer than 10 bytes', () => {
    const eleven = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    // As a tag, as a length, and as the value of a skipped unknown field.
    assertDecodeError(eleven, /^varint longer than 10 bytes/);
    assertDecodeError(cat(Buffer.from([0x0a]), eleven), /^varint longer than 10 bytes/);
    assertDecodeError(
      cat(Buffer.from([0x78]), eleven, batch(goodSpan(1))),
      /^varint longer than 10 bytes/,
    );
    // Ten bytes is the longest legal varint: skipped without complaint.
    const ten = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert.deepEqual(ids(decodeTraceRequest(cat(Buffer.from([0x78]), ten, batch(goodSpan(1))))), [
      sid(1),
    ]);
  });

  it('rejects a truncated varint at the end of the request', () => {
    assertDecodeError(Buffer.from([0x80]), /^truncated varint \(at byte 1\)$/);
    assertDecodeError(cat(batch(goodSpan(1)), Buffer.from([0x78, 0x80])), /^truncated varint/);
    assertDecodeError(cat(batch(goodSpan(1)), Buffer.from([0x79, 1, 2, 3])), /^truncated fixed64/);
    assertDecodeError(cat(batch(goodSpan(1)), Buffer.from([0x7d, 1, 2, 3])), /^truncated fixed32/);
  });

  it('rejects field number 0 at the request and ResourceSpans levels', () => {
    assertDecodeError(Buffer.from([0x00, 0x00]), /^field number 0 \(at byte 1\)$/);
    assertDecodeError(Buffer.from([0x02, 0x00]), /^field number 0/);
    assertDecodeError(request(Buffer.from([0x00, 0x01])), /^field number 0/);
    assertDecodeError(
      request(resourceSpansBytes([cat(Buffer.from([0x00, 0x01]), len(2, goodSpan(1)))])),
      /^field number 0/,
    );
  });

  it('rejects group wire types and the undefined wire types 6 and 7', () => {
    for (const wt of [WireType.SGROUP, WireType.EGROUP, 6, 7]) {
      assertDecodeError(Buffer.from([(9 << 3) | wt]), new RegExp(`^unsupported wire type ${wt}`));
      assertDecodeError(
        request(resourceSpansBytes([cat(Buffer.from([(9 << 3) | wt]), len(2, goodSpan(1)))])),
        new RegExp(`^unsupported wire type ${wt}`),
      );
    }
  });

  it('rejects known request, resource and scope fields with the wrong wire type', () => {
    assertDecodeError(
      varint(1, 5),
      /^field ExportTraceServiceRequest\.resource_spans has wire type 0, expected 2/,
    );
    assertDecodeError(
      request(cat(varint(1, 5), len(2, scopeSpansBytes([goodSpan(1)])))),
      /^field ResourceSpans\.resource has wire type 0, expected 2/,
    );
    assertDecodeError(request(fixed64(2, 1n)), /^field ResourceSpans\.scope_spans has wire type 1/);
    assertDecodeError(request(fixed32(3, 1)), /^field ResourceSpans\.schema_url has wire type 5/);
    assertDecodeError(
      request(resourceSpansBytes([cat(varint(1, 1), len(2, goodSpan(1)))])),
      /^field ScopeSpans\.scope has wire type 0/,
    );
    assertDecodeError(
      request(resourceSpansBytes([cat(varint(2, 1))])),
      /^field ScopeSpans\.spans has wire type 0, expected 2/,
    );
    assertDecodeError(
      request(resourceSpansBytes([cat(len(2, goodSpan(1)), varint(3, 1))])),
      /^field ScopeSpans\.schema_url has wire type 0/,
    );
  });

  it('never throws anything but ProtoDecodeError on these inputs', () => {
    const inputs = [
      Buffer.from([0xff]),
      Buffer.from([0x0a, 0x05, 0x12, 0x03, 0x12, 0x01]),
      Buffer.alloc(64, 0xff),
    ];
    for (const bytes of inputs) {
      assert.throws(() => decodeTraceRequest(bytes), ProtoDecodeError);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('consistency of the ingest decoder with decodeSpanJson and itself', () => {
  it('accepts values at the default depth limit, and decodeSpanJson decodes them', () => {
    const depth = DEFAULT_DECODE_LIMITS.maxValueDepth;
    const span = goodSpan(1, { extra: [kv(9, 'deep', nestedArrays(depth - 1))] });
    const out = decodeTraceRequest(batch(span));
    assert.equal(out.rejected, 0, out.rejectReasons.join());
    let v = decodeSpanJson(out.spans[0]!.raw).attributes[0]!.value;
    for (let i = 1; i < depth; i++) {
      assert.ok('arrayValue' in v, `level ${i}`);
      v = v.arrayValue.values[0]!;
    }
    assert.deepEqual(v, { stringValue: 'leaf' });
    // One level more: refused by both decoders.
    const deeper = decodeTraceRequest(
      batch(goodSpan(1, { extra: [kv(9, 'deep', nestedArrays(depth))] })),
    );
    assert.equal(deeper.rejected, 1);
    assert.throws(
      () => decodeSpanJson(goodSpan(1, { extra: [kv(9, 'deep', nestedArrays(depth))] })),
      ProtoDecodeError,
    );
  });

  const misTyped: [string, Buffer, RegExp][] = [
    [
      'KeyValue.key as varint',
      len(9, cat(varint(1, 5), len(2, strValue('v')))),
      /KeyValue field 1 has wire type 0/,
    ],
    [
      'KeyValue.value as fixed32',
      len(9, cat(len(1, 'k'), fixed32(2, 5))),
      /KeyValue field 2 has wire type 5/,
    ],
    [
      'AnyValue.bool_value as fixed64',
      kv(9, 'k', fixed64(2, 1n)),
      /AnyValue field 2 has wire type 1/,
    ],
    [
      'AnyValue.double_value as varint',
      kv(9, 'k', varint(4, 1)),
      /AnyValue field 4 has wire type 0/,
    ],
    [
      'ArrayValue.values as varint',
      kv(9, 'k', len(5, varint(1, 1))),
      /ArrayValue field 1 has wire type 0/,
    ],
    [
      'an AnyValue in a kvlist, mis-typed',
      kv(9, 'k', len(6, kv(1, 'in', varint(1, 1)))),
      /AnyValue field 1 has wire type 0/,
    ],
    [
      'Event.time_unix_nano as varint',
      len(11, cat(varint(1, 5), len(2, 'e'))),
      /Event field 1 has wire type 0/,
    ],
    [
      'an event attribute, mis-typed',
      len(11, kv(3, 'k', fixed32(3, 1))),
      /AnyValue field 3 has wire type 5/,
    ],
    [
      'Link.trace_id as varint',
      len(13, cat(varint(1, 5), len(2, hex(PARENT_ID)))),
      /Link field 1 has wire type 0/,
    ],
    ['Link.flags as varint', len(13, varint(6, 1)), /Link field 6 has wire type 0/],
    ['Status.code as bytes', len(15, len(3, 'x')), /Status field 3 has wire type 2/],
    ['Status.message as varint', len(15, varint(2, 1)), /Status field 2 has wire type 0/],
  ];
  for (const [name, field, reason] of misTyped) {
    it(`rejects at ingest what decodeSpanJson would refuse: ${name}`, () => {
      assert.throws(() => decodeSpanJson(goodSpan(3, { extra: [field] })), ProtoDecodeError);
      const out = decodeTraceRequest(
        batch(goodSpan(1), goodSpan(3, { extra: [field] }), goodSpan(2)),
      );
      assert.equal(out.rejected, 1);
      assert.match(out.rejectReasons[0]!, /^malformed span: /);
      assert.match(out.rejectReasons[0]!, reason);
      assert.deepEqual(ids(out), [sid(1), sid(2)]);
    });
  }

  it('accepts the deprecated Status.code (field 1, an enum) that old SDKs send', () => {
    const status = len(15, cat(varint(1, 2), varint(3, StatusCode.ERROR)));
    assert.deepEqual(decodeSpanJson(goodSpan(1, { extra: [status] })).status, { code: 2 });
    const out = decodeTraceRequest(batch(goodSpan(1, { extra: [status] })));
    assert.deepEqual(out.rejectReasons, []);
    assert.equal(out.spans[0]?.statusCode, StatusCode.ERROR);
  });

  it('rejects the spans of a resource whose attributes cannot be decoded, keeps the rest', () => {
    const bad = cat(resourceBytes('svc'), len(1, cat(varint(1, 5))));
    assert.throws(() => decodeResource(bad), ProtoDecodeError);
    const out = decodeTraceRequest(
      request(
        resourceSpansBytes([scopeSpansBytes([goodSpan(1)])], { resource: resourceBytes('ok') }),
        resourceSpansBytes(
          [scopeSpansBytes([goodSpan(2), goodSpan(3)]), scopeSpansBytes([goodSpan(4)])],
          {
            resource: bad,
          },
        ),
        resourceSpansBytes([scopeSpansBytes([goodSpan(5)])], {
          resource: Buffer.from([0x00, 0x00]),
        }),
        resourceSpansBytes([scopeSpansBytes([goodSpan(6)])]),
      ),
    );
    assert.deepEqual(ids(out), [sid(1), sid(6)]);
    assert.equal(out.rejected, 4);
    assert.equal(out.rejectReasons.length, 2);
    assert.match(out.rejectReasons[0]!, /^malformed resource: field KeyValue\.key has wire type 0/);
    assert.match(out.rejectReasons[1]!, /^malformed resource: field number 0 \(at byte \d+\)$/);
    for (const s of out.spans) assert.doesNotThrow(() => s.resource.attributes);
  });

  it('rejects the spans of a malformed instrumentation scope, keeps the rest', () => {
    const out = decodeTraceRequest(
      request(
        resourceSpansBytes(
          [
            scopeSpansBytes([goodSpan(1), goodSpan(2)], { scope: varint(1, 1) }),
            scopeSpansBytes([goodSpan(3)], { scope: scopeBytes('fine', '1') }),
          ],
          { resource: resourceBytes('svc') },
        ),
      ),
    );
    assert.deepEqual(ids(out), [sid(3)]);
    assert.equal(out.rejected, 2);
    assert.match(
      out.rejectReasons[0]!,
      /^malformed instrumentation scope: field InstrumentationScope\.name has wire type 0/,
    );
  });

  it('rejects end before start by a few nanoseconds at present-day timestamps', () => {
    // Both times round to the same double (they are 256 ns apart at 2023): the compare must
    // be on the exact 64-bit values.
    assert.equal(Number(T0 + 100n), Number(T0));
    const out = decodeTraceRequest(
      batch(
        goodSpan(1, { startNs: T0 + 100n, endNs: T0 }),
        goodSpan(2, { startNs: T0, endNs: T0 + 1n }),
      ),
    );
    assert.equal(out.rejected, 1);
    assert.deepEqual(out.rejectReasons, ['end_time_unix_nano is before start_time_unix_nano']);
    assert.deepEqual(ids(out), [sid(2)]);
    const hi = decodeTraceRequest(
      batch(goodSpan(1, { startNs: (1n << 32n) + 5n, endNs: (1n << 32n) - 1n })),
    );
    assert.equal(hi.rejected, 1);
  });

  it('rejects lengths and tags that do not fit in 32 bits instead of wrapping them', () => {
    // A ResourceSpans length of 2^32 would wrap to 0 and decode as an empty request.
    assertDecodeError(
      Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x10]),
      /^length does not fit in 32 bits/,
    );
    // 2^32 + 2 would wrap to 2 and turn the next two bytes into an "empty" ResourceSpans.
    assertDecodeError(
      Buffer.from([0x0a, 0x82, 0x80, 0x80, 0x80, 0x10, 0x78, 0x00]),
      /^length does not fit in 32 bits/,
    );
    // A tag 2^32 | (field 1, LEN) would wrap to field 1, LEN.
    assertDecodeError(
      Buffer.from([0x8a, 0x80, 0x80, 0x80, 0x10, 0x00]),
      /^tag does not fit in 32 bits/,
    );
    // Inside a span: the span alone is rejected.
    const out = decodeTraceRequest(
      batch(
        goodSpan(1, { extra: [Buffer.from([0x4a, 0x80, 0x80, 0x80, 0x80, 0x10])] }),
        goodSpan(2),
      ),
    );
    assert.match(out.rejectReasons[0] ?? '', /^malformed span: length does not fit in 32 bits/);
    assert.deepEqual(ids(out), [sid(2)]);
    // Non-canonical but 32-bit values are fine: a length of 1 written in five bytes.
    const padded = cat(Buffer.from([0x0a, 0x81, 0x80, 0x80, 0x80, 0x00, 0x00]));
    assertDecodeError(padded, /^field number 0/);
  });

  it('keeps (schema URL, resource) pairs apart in the DecodeCache', () => {
    // Resource A's bytes end with resource B's, and B's schema URL ends with A's first bytes:
    // a key of plain concatenation (url + separator + bytes) would make them one entry.
    const prefix = cat(kv(1, 'service.name', strValue('a')), Buffer.from([0x10]));
    const resB = kv(1, 'foo', strValue('bar'));
    const resA = cat(prefix, Buffer.from([0x00]), resB); // ..., dropped_attributes_count = 0, B
    const reqFor = (res: Buffer, schemaUrl: string): Buffer =>
      request(resourceSpansBytes([scopeSpansBytes([goodSpan(1)])], { resource: res, schemaUrl }));
    const cache = new DecodeCache();
    const a = decodeTraceRequest(reqFor(resA, 'S'), cache);
    const b = decodeTraceRequest(reqFor(resB, 'S\u0000' + prefix.toString('latin1')), cache);
    assert.equal(a.spans[0]!.serviceName, 'a');
    assert.notEqual(b.spans[0]!.resource, a.spans[0]!.resource);
    assert.equal(b.spans[0]!.serviceName, 'unknown_service');
    assert.equal(b.spans[0]!.resource.schemaUrl, 'S\u0000' + prefix.toString('latin1'));
  });

  it('counts links with unusable ids towards maxLinksPerSpan', () => {
    const limits = { ...DEFAULT_DECODE_LIMITS, maxLinksPerSpan: 2 };
    const badLink = len(13, cat(len(1, hex('abcd')), len(2, hex(PARENT_ID))));
    const out = decodeTraceRequest(
      batch(goodSpan(1, { extra: [badLink, badLink, badLink] })),
      new DecodeCache(),
      limits,
    );
    assert.deepEqual(out.rejectReasons, ['more than 2 links']);
  });
});
