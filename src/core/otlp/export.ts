/**
 * Export of stored spans as OTLP, and the export responses of the receiver.
 *
 * - `spansToOtlpJson`: an OTLP/JSON `ExportTraceServiceRequest` (files a user saves, the read
 *   API), importable by other OTLP tools and by `otlpJsonToProtobuf`.
 * - `spansToProtobuf`: the protobuf request assembled from the stored bytes (`raw`) with
 *   length prefixes only, never re-encoding a span, so it is exact and cheap (persistence
 *   compaction, forwarding).
 * - `decodeExportRequestJson`: the inverse of both, a full decode of a protobuf request into
 *   the JSON shape (slow path: tests, debugging, tools).
 *
 * Spans are grouped by their `resource` and `scope` objects (identity, which the decoder's
 * interning makes meaningful), in order of first appearance; spans keep their order.
 */

import { ProtoReader, WireType } from './proto-reader.js';
import { ProtoWriter, lengthPrefixSize } from './proto-writer.js';
import { decodeResource, decodeScope, decodeSpanJson } from './span-details.js';
import type { KeyValueJson, ResourceInfo, ScopeInfo, SpanJson, SpanRecord } from '../model.js';

export interface ResourceJson {
  attributes: KeyValueJson[];
  droppedAttributesCount: number;
}

/** `attributes`/`droppedAttributesCount` only when the scope has attributes (as OTel JS does). */
export interface ScopeJson {
  name: string;
  version: string;
  attributes?: KeyValueJson[];
  droppedAttributesCount?: number;
}

export interface ScopeSpansJson {
  scope: ScopeJson;
  spans: SpanJson[];
  schemaUrl: string;
}

export interface ResourceSpansJson {
  resource: ResourceJson;
  scopeSpans: ScopeSpansJson[];
  schemaUrl: string;
}

/** An OTLP/JSON `ExportTraceServiceRequest`. */
export interface ExportTraceServiceRequestJson {
  resourceSpans: ResourceSpansJson[];
}

/** OTLP `ExportTracePartialSuccess`: spans refused and why. */
export interface PartialSuccess {
  /** Spans, log records or data points refused. */
  rejected: number;
  errorMessage: string;
}

/** The JSON name of the rejected count in each signal's partial success. */
const REJECTED_KEY = {
  traces: 'rejectedSpans',
  logs: 'rejectedLogRecords',
  metrics: 'rejectedDataPoints',
} as const;

/** An OTLP/JSON `ExportTraceServiceResponse` (or `ExportLogs…`, `ExportMetrics…`). */
export interface ExportTraceServiceResponseJson {
  partialSuccess?: { errorMessage: string } & Partial<
    Record<(typeof REJECTED_KEY)[keyof typeof REJECTED_KEY], number>
  >;
}

/**
 * What the envelope encoder needs of an item (a span, a log record): its resource, its scope
 * and its own encoded bytes.
 */
export interface EnvelopeItem {
  readonly resource: ResourceInfo;
  readonly scope: ScopeInfo;
  readonly raw: Uint8Array;
}

type Groups<T extends EnvelopeItem> = Map<ResourceInfo, Map<ScopeInfo, T[]>>;

/** Items by resource, then scope (by identity), in order of first appearance. */
export function groupSpans<T extends EnvelopeItem>(spans: readonly T[]): Groups<T> {
  const groups: Groups<T> = new Map();
  for (const span of spans) {
    let scopes = groups.get(span.resource);
    if (scopes === undefined) {
      scopes = new Map();
      groups.set(span.resource, scopes);
    }
    let list = scopes.get(span.scope);
    if (list === undefined) {
      list = [];
      scopes.set(span.scope, list);
    }
    list.push(span);
  }
  return groups;
}

export function scopeJson(details: ReturnType<typeof decodeScope>): ScopeJson {
  const scope: ScopeJson = { name: details.name, version: details.version };
  if (details.attributes.length > 0 || details.droppedAttributesCount !== 0) {
    scope.attributes = details.attributes;
    scope.droppedAttributesCount = details.droppedAttributesCount;
  }
  return scope;
}

/** Builds an OTLP/JSON `ExportTraceServiceRequest` of `spans`, decoding each span in full. */
export function spansToOtlpJson(spans: readonly SpanRecord[]): ExportTraceServiceRequestJson {
  const resourceSpans: ResourceSpansJson[] = [];
  for (const [resource, scopes] of groupSpans(spans)) {
    const scopeSpans: ScopeSpansJson[] = [];
    for (const [scope, list] of scopes) {
      scopeSpans.push({
        scope: scopeJson(decodeScope(scope.raw)),
        spans: list.map((s) => decodeSpanJson(s.raw)),
        schemaUrl: scope.schemaUrl,
      });
    }
    resourceSpans.push({
      resource: {
        attributes: [...resource.attributes],
        droppedAttributesCount: resource.droppedAttributesCount,
      },
      scopeSpans,
      schemaUrl: resource.schemaUrl,
    });
  }
  return { resourceSpans };
}

/**
 * A `JSON.stringify` replacer for OTLP/JSON: writes non-finite doubles as the proto3 JSON
 * strings "NaN", "Infinity" and "-Infinity". Plain `JSON.stringify` writes them as `null`,
 * which reads back as an absent value. In our shapes only `doubleValue` can be non-finite.
 */
export function otlpJsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/** `JSON.stringify` with `otlpJsonReplacer`: the text to send or save OTLP/JSON as. */
export function stringifyOtlpJson(value: unknown): string {
  return JSON.stringify(value, otlpJsonReplacer);
}

/** Encoded size of a length-delimited field with a one-byte tag (fields 1..15). */
function fieldSize(len: number): number {
  return 1 + lengthPrefixSize(len) + len;
}

function stringFieldSize(s: string): number {
  return s === '' ? 0 : fieldSize(Buffer.byteLength(s, 'utf8'));
}

function optionalFieldSize(raw: Uint8Array): number {
  return raw.length === 0 ? 0 : fieldSize(raw.length);
}

/**
 * Builds a protobuf `ExportTraceServiceRequest` of `spans` from their stored bytes. Message
 * sizes are computed first, so every byte is written once into an exactly sized buffer. An
 * empty `raw` (absent resource or scope) is left out, which decodes the same. Log records make
 * an `ExportLogsServiceRequest` the same way: its envelope has the same field numbers.
 */
export function spansToProtobuf(spans: readonly EnvelopeItem[]): Uint8Array {
  const groups = groupSpans(spans);
  // Pass 1: sizes of each ScopeSpans and ResourceSpans message, in iteration order.
  const scopeSizes: number[] = [];
  const resourceSizes: number[] = [];
  let total = 0;
  for (const [resource, scopes] of groups) {
    let rs = optionalFieldSize(resource.raw) + stringFieldSize(resource.schemaUrl);
    for (const [scope, list] of scopes) {
      let ss = optionalFieldSize(scope.raw) + stringFieldSize(scope.schemaUrl);
      for (const span of list) ss += fieldSize(span.raw.length);
      scopeSizes.push(ss);
      rs += fieldSize(ss);
    }
    resourceSizes.push(rs);
    total += fieldSize(rs);
  }
  // Pass 2: write.
  const w = new ProtoWriter(total);
  let si = 0;
  let ri = 0;
  for (const [resource, scopes] of groups) {
    w.tag(1, WireType.LEN).uint32(resourceSizes[ri++]!);
    if (resource.raw.length > 0) w.bytesField(1, resource.raw);
    for (const [scope, list] of scopes) {
      w.tag(2, WireType.LEN).uint32(scopeSizes[si++]!);
      if (scope.raw.length > 0) w.bytesField(1, scope.raw);
      for (const span of list) w.bytesField(2, span.raw);
      if (scope.schemaUrl !== '') w.stringField(3, scope.schemaUrl);
    }
    if (resource.schemaUrl !== '') w.stringField(3, resource.schemaUrl);
  }
  if (w.length !== total) {
    throw new Error(`spansToProtobuf: wrote ${w.length} bytes, sized ${total}`);
  }
  return w.finish();
}

/**
 * Decodes a protobuf `ExportTraceServiceRequest` in full into the OTLP/JSON shape (the shape
 * `spansToOtlpJson` returns). Throws `ProtoDecodeError` for malformed input.
 */
export function decodeExportRequestJson(bytes: Uint8Array): ExportTraceServiceRequestJson {
  const r = new ProtoReader(bytes);
  const resourceSpans: ResourceSpansJson[] = [];
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag >>> 3 !== 1) {
      r.skip(tag & 7);
      continue;
    }
    r.expect(tag, WireType.LEN, 'ExportTraceServiceRequest.resource_spans');
    resourceSpans.push(readResourceSpans(new ProtoReader(r.bytesView())));
  }
  return { resourceSpans };
}

function readResourceSpans(r: ProtoReader): ResourceSpansJson {
  const out: ResourceSpansJson = {
    resource: { attributes: [], droppedAttributesCount: 0 },
    scopeSpans: [],
    schemaUrl: '',
  };
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        r.expect(tag, WireType.LEN, 'ResourceSpans.resource');
        out.resource = decodeResource(r.bytesView());
        break;
      case 2:
        r.expect(tag, WireType.LEN, 'ResourceSpans.scope_spans');
        out.scopeSpans.push(readScopeSpans(new ProtoReader(r.bytesView())));
        break;
      case 3:
        r.expect(tag, WireType.LEN, 'ResourceSpans.schema_url');
        out.schemaUrl = r.string();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return out;
}

function readScopeSpans(r: ProtoReader): ScopeSpansJson {
  const out: ScopeSpansJson = { scope: { name: '', version: '' }, spans: [], schemaUrl: '' };
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        r.expect(tag, WireType.LEN, 'ScopeSpans.scope');
        out.scope = scopeJson(decodeScope(r.bytesView()));
        break;
      case 2:
        r.expect(tag, WireType.LEN, 'ScopeSpans.spans');
        out.spans.push(decodeSpanJson(r.bytesView()));
        break;
      case 3:
        r.expect(tag, WireType.LEN, 'ScopeSpans.schema_url');
        out.schemaUrl = r.string();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return out;
}

/**
 * Encodes a protobuf `ExportTraceServiceResponse` (the logs' and metrics' responses have the
 * same fields). Without `partial` (everything accepted) the
 * response has no `partial_success`, as OTLP requires, which is the empty message. A `Buffer`,
 * as gRPC's serializer wants.
 */
export function encodeExportResponse(partial?: PartialSuccess): Buffer {
  if (partial === undefined) return Buffer.alloc(0);
  const w = new ProtoWriter(32 + partial.errorMessage.length * 3);
  w.openMessage(1);
  // rejected_spans, rejected_log_records and rejected_data_points are all field 1.
  if (partial.rejected !== 0) w.tag(1, WireType.VARINT).int64(partial.rejected);
  if (partial.errorMessage !== '') w.stringField(2, partial.errorMessage);
  w.closeMessage();
  return w.finish();
}

/**
 * The OTLP/JSON `ExportTraceServiceResponse` (or the logs' or metrics' response, whose count has
 * another name): `{}` when everything was accepted. The int64 `rejectedSpans` is a JSON number (a count, far below 2^53), which proto3 JSON parsers accept
 * and OpenTelemetry JS expects.
 */
export function exportResponseJson(
  partial?: PartialSuccess,
  signal: keyof typeof REJECTED_KEY = 'traces',
): ExportTraceServiceResponseJson {
  if (partial === undefined) return {};
  return {
    partialSuccess: {
      [REJECTED_KEY[signal]]: partial.rejected,
      errorMessage: partial.errorMessage,
    },
  };
}
