/**
 * Shared fixtures for the OTLP codec tests: real reference encodings from the OpenTelemetry JS
 * SDK, and helpers that turn protobuf requests into `SpanRecord`s without the ingest decoder
 * (so these tests pin the codec alone).
 */
import {
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  context,
  trace,
  type Link,
} from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';

import { ProtoReader, WireType } from '../../src/core/otlp/proto-reader.js';
import { decodeResource, decodeScope, decodeSpanJson } from '../../src/core/otlp/span-details.js';
import { SpanRecord, type ResourceInfo, type ScopeInfo } from '../../src/core/model.js';

export interface SdkReference {
  spans: ReadableSpan[];
  /** `ProtobufTraceSerializer` output. */
  protobuf: Uint8Array;
  /** `JsonTraceSerializer` output, as text. */
  jsonText: string;
}

/**
 * Spans from a real SDK pipeline carrying every attribute type the SDK supports, events with
 * attributes, links with attributes, an error status, two scopes and a resource.
 */
export function sdkReference(): SdkReference {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'tokenizer',
      'host.cpus': 16,
      'deployment.weight': 0.25,
      'feature.on': true,
    }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const pipeline = provider.getTracer('stagelight.pipeline', '1.2.3');
  const model = provider.getTracer('stagelight.model');

  const root = pipeline.startSpan('handle request', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.route': '/v1/generate',
      'http.ok': true,
      'batch.size': 32,
      'negative.int': -7,
      'big.int': 2 ** 60,
      temperature: 0.7,
      tags: ['a', 'b', ''],
      shape: [1, 512, 768],
      flags: [true, false],
      weights: [0.5, 1.25],
      unicode: 'héllo ✓ 𝄞',
    },
  });
  root.addEvent('queued', { 'queue.depth': 4, 'queue.name': 'gpu' });
  root.addEvent('dequeued');
  const rootCtx = root.spanContext();

  const child = model.startSpan(
    'forward',
    {
      kind: SpanKind.INTERNAL,
      links: [
        {
          context: {
            traceId: '0123456789abcdef0123456789abcdef',
            spanId: '0123456789abcdef',
            traceFlags: TraceFlags.SAMPLED,
          },
          attributes: { 'link.reason': 'batched', 'link.n': 2 },
        } satisfies Link,
      ],
    },
    trace.setSpanContext(context.active(), rootCtx),
  );
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'CUDA out of memory' });
  child.recordException(new Error('OOM'));
  child.end();
  root.setStatus({ code: SpanStatusCode.OK });
  root.end();

  const spans = exporter.getFinishedSpans();
  const protobuf = ProtobufTraceSerializer.serializeRequest(spans);
  const json = JsonTraceSerializer.serializeRequest(spans);
  if (protobuf === undefined || json === undefined) throw new Error('SDK serializer failed');
  return { spans, protobuf, jsonText: new TextDecoder().decode(json) };
}

// The JSON value types are loose on purpose: the normaliser walks what the SDK produced.
type Json = Record<string, unknown>;

/**
 * Rewrites the SDK's JSON serializer output into the exact shape our decoders produce. The
 * known representational differences, all allowed by the proto3 JSON mapping:
 * 1. `intValue`: the SDK writes a JSON number; we write the exact int64 decimal string. (For
 *    2^60 the SDK's number prints as 1152921504606847000; the value is still 2^60.)
 * 2. proto3 defaults: the SDK writes zero dropped counts, `status.code: 0` and undefined
 *    messages; we leave optional fields out when they hold the default.
 * 3. absent strings: the SDK omits an empty scope `version` and `schemaUrl`s; our request shape
 *    always has them (as '').
 */
export function normaliseSdkJson(doc: Json): Json {
  const rs = doc.resourceSpans as Json[];
  return {
    resourceSpans: rs.map((r) => ({
      resource: {
        attributes: normaliseKvs((r.resource as Json).attributes),
        droppedAttributesCount: (r.resource as Json).droppedAttributesCount ?? 0,
      },
      scopeSpans: (r.scopeSpans as Json[]).map((ss) => ({
        scope: { name: (ss.scope as Json).name, version: (ss.scope as Json).version ?? '' },
        spans: (ss.spans as Json[]).map(normaliseSdkSpan),
        schemaUrl: ss.schemaUrl ?? '',
      })),
      schemaUrl: r.schemaUrl ?? '',
    })),
  };
}

export function normaliseSdkSpan(s: Json): Json {
  const out: Json = {
    traceId: s.traceId,
    spanId: s.spanId,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: s.startTimeUnixNano,
    endTimeUnixNano: s.endTimeUnixNano,
    attributes: normaliseKvs(s.attributes),
    events: (s.events as Json[]).map((e) => {
      const ev: Json = {
        timeUnixNano: e.timeUnixNano,
        name: e.name,
        attributes: normaliseKvs(e.attributes),
      };
      if (e.droppedAttributesCount) ev.droppedAttributesCount = e.droppedAttributesCount;
      return ev;
    }),
    links: (s.links as Json[]).map((l) => {
      const link: Json = {
        traceId: l.traceId,
        spanId: l.spanId,
        attributes: normaliseKvs(l.attributes),
      };
      if (l.traceState) link.traceState = l.traceState;
      if (l.droppedAttributesCount) link.droppedAttributesCount = l.droppedAttributesCount;
      if (l.flags) link.flags = l.flags;
      return link;
    }),
    status: {},
  };
  if (s.parentSpanId) out.parentSpanId = s.parentSpanId;
  if (s.traceState) out.traceState = s.traceState;
  if (s.flags) out.flags = s.flags;
  for (const k of ['droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount']) {
    if (s[k]) out[k] = s[k];
  }
  const st = s.status as Json;
  const status = out.status as Json;
  if (st.code) status.code = st.code;
  if (st.message) status.message = st.message;
  return out;
}

function normaliseKvs(kvs: unknown): Json[] {
  return ((kvs ?? []) as Json[]).map((kv) => ({
    key: kv.key,
    value: normaliseValue(kv.value as Json),
  }));
}

function normaliseValue(v: Json): Json {
  if ('intValue' in v) return { intValue: BigInt(v.intValue as number).toString() };
  if ('arrayValue' in v) {
    const values = (v.arrayValue as Json).values as Json[];
    return { arrayValue: { values: values.map(normaliseValue) } };
  }
  if ('kvlistValue' in v) {
    return { kvlistValue: { values: normaliseKvs((v.kvlistValue as Json).values) } };
  }
  return v;
}

/** Each `Span` message's bytes in a protobuf request, in order (a minimal request walker). */
export function spanBytesOf(request: Uint8Array): Uint8Array[] {
  return recordsOf(request).map((s) => s.raw);
}

/**
 * Splits a protobuf request into `SpanRecord`s that share one resource/scope object per
 * ResourceSpans/ScopeSpans message, as the ingest decoder's interning does.
 */
export function recordsOf(request: Uint8Array): SpanRecord[] {
  const out: SpanRecord[] = [];
  const r = new ProtoReader(request);
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag !== ((1 << 3) | WireType.LEN)) {
      r.skip(tag & 7);
      continue;
    }
    const rs = new ProtoReader(r.bytesView());
    let resourceRaw: Uint8Array = new Uint8Array(0);
    let resourceSchema = '';
    const scopeSpans: Uint8Array[] = [];
    while (rs.pos < rs.end) {
      const t = rs.tag();
      if (t === ((1 << 3) | WireType.LEN)) resourceRaw = rs.bytesView();
      else if (t === ((2 << 3) | WireType.LEN)) scopeSpans.push(rs.bytesView());
      else if (t === ((3 << 3) | WireType.LEN)) resourceSchema = rs.string();
      else rs.skip(t & 7);
    }
    const resource = resourceInfo(resourceRaw, resourceSchema);
    for (const ssBytes of scopeSpans) {
      const ss = new ProtoReader(ssBytes);
      let scopeRaw: Uint8Array = new Uint8Array(0);
      let scopeSchema = '';
      const spans: Uint8Array[] = [];
      while (ss.pos < ss.end) {
        const t = ss.tag();
        if (t === ((1 << 3) | WireType.LEN)) scopeRaw = ss.bytesView();
        else if (t === ((2 << 3) | WireType.LEN)) spans.push(ss.bytesView());
        else if (t === ((3 << 3) | WireType.LEN)) scopeSchema = ss.string();
        else ss.skip(t & 7);
      }
      const scope = scopeInfo(scopeRaw, scopeSchema);
      for (const raw of spans) out.push(spanRecord(raw, resource, scope));
    }
  }
  return out;
}

export function resourceInfo(raw: Uint8Array, schemaUrl = ''): ResourceInfo {
  const { attributes, droppedAttributesCount } = decodeResource(raw);
  const name = attributes.find((kv) => kv.key === 'service.name')?.value;
  return {
    raw,
    serviceName: name && 'stringValue' in name ? name.stringValue : 'unknown_service',
    attributes,
    droppedAttributesCount,
    schemaUrl,
  };
}

export function scopeInfo(raw: Uint8Array, schemaUrl = ''): ScopeInfo {
  const { name, version } = decodeScope(raw);
  return { raw, name, version, schemaUrl };
}

export function spanRecord(raw: Uint8Array, resource: ResourceInfo, scope: ScopeInfo): SpanRecord {
  const s = decodeSpanJson(raw);
  const ms = (ns: string) => Number(BigInt(ns) / 1000n) / 1000;
  return new SpanRecord(
    s.traceId,
    s.spanId,
    s.parentSpanId ?? '',
    s.name,
    s.kind,
    ms(s.startTimeUnixNano),
    ms(s.endTimeUnixNano),
    s.status.code ?? 0,
    s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
    resource,
    scope,
    raw,
  );
}
