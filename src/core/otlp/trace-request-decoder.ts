/**
 * The ingest hot path: decodes a protobuf `ExportTraceServiceRequest` straight into
 * `SpanRecord`s, without building the OTLP object tree.
 *
 * Per span it reads only what the store and the analysis need on every span (ids, name, kind,
 * times, status, links) and validates the rest (attribute counts, value nesting) with a
 * skip-walk; the span's bytes are copied once into `raw` for on-demand decoding later.
 *
 * Error policy, following the OTLP specification's partial success:
 * - A request whose framing is broken (truncated, lengths past the end, bad wire types at the
 *   request/resource/scope level) throws `ProtoDecodeError`: nothing in it is trusted.
 * - A span that is well delimited but invalid (bad ids, end before start, too many attributes,
 *   too deep values, malformed inside) is rejected alone and counted; the rest are accepted.
 * - A resource or instrumentation scope that is malformed, or has more attributes than a span
 *   may (`maxAttributesPerSpan`), rejects the spans under it, each counted as above.
 */
import { ProtoDecodeError, ProtoReader, WireType, hexOf } from './proto-reader.js';
import {
  NO_LINKS,
  SpanRecord,
  type KeyValueJson,
  type LinkRef,
  type ResourceInfo,
  type ScopeInfo,
} from '../model.js';
import { decodeResource, decodeScope } from './span-details.js';
import {
  forEachResource,
  forEachScope,
  isAllZero,
  reject,
  rejectScope,
  type EnvelopeNames,
} from './envelope.js';

/** Limits applied per span; a span over any of them is rejected with a reason. */
export interface DecodeLimits {
  /** Also the limit of a resource's and a scope's attributes (their spans are rejected). */
  maxAttributesPerSpan: number;
  maxEventsPerSpan: number;
  maxLinksPerSpan: number;
  /** Nesting depth of array/kvlist attribute values. */
  maxValueDepth: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxAttributesPerSpan: 4096,
  maxEventsPerSpan: 4096,
  maxLinksPerSpan: 4096,
  maxValueDepth: 32,
};

export interface DecodedBatch {
  spans: SpanRecord[];
  /** Spans refused individually (partial success). */
  rejected: number;
  /** Distinct reasons for the rejected spans, the first few, for the partial-success message. */
  rejectReasons: string[];
}

const UNKNOWN_SERVICE = 'unknown_service';
const EMPTY = new Uint8Array(0);

/**
 * Shares strings and resource/scope objects across batches: span names repeat endlessly and a
 * service sends the same resource with every batch, so interning them is most of the memory
 * saving per span. Bounded so that hostile input cannot grow it without limit.
 */
export class DecodeCache {
  private names = new Map<string, string>();
  private resources = new Map<string, ResourceInfo>();
  private scopes = new Map<string, ScopeInfo>();

  constructor(private readonly maxEntries = 20_000) {}

  private lastTraceId = '';
  private readonly lastTraceIdBytes = Buffer.alloc(16);

  /**
   * The hex trace id of the 16 bytes at `at`. Spans of one trace sit together in a batch, so
   * the previous id is compared first: one string per run of spans instead of one per span.
   */
  traceId(buf: Buffer, at: number): string {
    const last = this.lastTraceIdBytes;
    let same = this.lastTraceId !== '';
    for (let i = 0; same && i < 16; i++) same = buf[at + i] === last[i];
    if (same) return this.lastTraceId;
    buf.copy(last, 0, at, at + 16);
    this.lastTraceId = hexOf(buf, at, at + 16);
    return this.lastTraceId;
  }

  name(s: string): string {
    const hit = this.names.get(s);
    if (hit !== undefined) return hit;
    if (this.names.size >= this.maxEntries) this.names.clear();
    this.names.set(s, s);
    return s;
  }

  /**
   * The shared resource for these bytes; decoded in full on first sight (so a malformed
   * resource is refused at ingest, not when someone looks). Throws `ProtoDecodeError`.
   */
  resource(buf: Buffer, start: number, end: number, schemaUrl: string): ResourceInfo {
    return this.shared(this.resources, buf, start, end, schemaUrl, (bytes) => {
      return new StoredResource(bytes, schemaUrl);
    });
  }

  /** The shared scope for these bytes, validated like `resource`. */
  scope(buf: Buffer, start: number, end: number, schemaUrl: string): ScopeInfo {
    return this.shared(this.scopes, buf, start, end, schemaUrl, (bytes) => {
      return decodeScopeInfo(bytes, schemaUrl);
    });
  }

  /** The entry of `map` for these bytes and schema URL, made from a copy of them when new. */
  private shared<T>(
    map: Map<string, T>,
    buf: Buffer,
    start: number,
    end: number,
    schemaUrl: string,
    make: (bytes: Uint8Array) => T,
  ): T {
    const key = cacheKey(buf, start, end, schemaUrl);
    let v = map.get(key);
    if (v === undefined) {
      if (map.size >= this.maxEntries) map.clear();
      v = make(copyBytes(buf, start, end));
      map.set(key, v);
    }
    return v;
  }
}

/** Length-prefixing the schema URL keeps (url, bytes) pairs from colliding. */
function cacheKey(buf: Buffer, start: number, end: number, schemaUrl: string): string {
  return `${schemaUrl.length}:${schemaUrl}${buf.toString('latin1', start, end)}`;
}

/** A resource, decoded once per distinct encoding and shared by all its spans. */
class StoredResource implements ResourceInfo {
  readonly serviceName: string;
  readonly attributes: readonly KeyValueJson[];
  readonly droppedAttributesCount: number;

  constructor(
    readonly raw: Uint8Array,
    readonly schemaUrl: string,
  ) {
    const details = decodeResource(raw);
    this.attributes = details.attributes;
    this.droppedAttributesCount = details.droppedAttributesCount;
    const service = details.attributes.find((kv) => kv.key === 'service.name')?.value;
    this.serviceName =
      service !== undefined && 'stringValue' in service && service.stringValue !== ''
        ? service.stringValue
        : UNKNOWN_SERVICE;
  }
}

function copyBytes(buf: Buffer, start: number, end: number): Uint8Array {
  if (end <= start) return EMPTY;
  // allocUnsafe draws small buffers from Node's shared pool: far cheaper per span than a
  // dedicated ArrayBuffer, and spans of one batch, evicted together, share pool slabs.
  const out = Buffer.allocUnsafe(end - start);
  buf.copy(out, 0, start, end);
  return out;
}

function decodeScopeInfo(raw: Uint8Array, schemaUrl: string): ScopeInfo {
  const { name, version } = decodeScope(raw);
  return { raw, name, version, schemaUrl };
}

/** Span-level rejection: the span is dropped and the reason reported; the batch goes on. */
class SpanRejection extends Error {}

const NS_PER_MS = 1_000_000;

/**
 * Decodes one `ExportTraceServiceRequest`. Throws `ProtoDecodeError` when the request framing is
 * malformed; invalid spans inside a well-formed request are counted in `rejected`.
 */
export function decodeTraceRequest(
  bytes: Uint8Array,
  cache: DecodeCache = new DecodeCache(),
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): DecodedBatch {
  const out: DecodedBatch = { spans: [], rejected: 0, rejectReasons: [] };
  forEachResource(bytes, 'ExportTraceServiceRequest.resource_spans', (r, end) =>
    decodeResourceSpans(r, end, cache, limits, out),
  );
  return out;
}

const SPAN_ENVELOPE: EnvelopeNames = {
  resourceList: 'ResourceSpans',
  scopeList: 'ScopeSpans',
  scopesField: 'scope_spans',
  itemsField: 'spans',
};

function decodeResourceSpans(
  r: ProtoReader,
  end: number,
  cache: DecodeCache,
  limits: DecodeLimits,
  out: DecodedBatch,
): void {
  const outerEnd = r.end;
  forEachScope(
    r,
    end,
    cache,
    limits.maxAttributesPerSpan,
    SPAN_ENVELOPE,
    (scopeEnd, ctx, reason) => {
      if (ctx === undefined) rejectScope(r, scopeEnd, reason, out);
      else decodeScopeSpans(r, scopeEnd, ctx.resource, ctx.scope, cache, limits, out);
    },
  );
  r.end = outerEnd;
}

/** The spans of the ScopeSpans at [r.pos, end), whose resource and scope are known. */
function decodeScopeSpans(
  r: ProtoReader,
  end: number,
  resource: ResourceInfo,
  scope: ScopeInfo,
  cache: DecodeCache,
  limits: DecodeLimits,
  out: DecodedBatch,
): void {
  r.end = end;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag >>> 3 === 2) {
      const spanEnd = r.lengthDelimitedEnd();
      const spanStart = r.pos;
      try {
        out.spans.push(decodeSpan(r, spanStart, spanEnd, resource, scope, cache, limits));
      } catch (e) {
        if (!(e instanceof SpanRejection || e instanceof ProtoDecodeError)) throw e;
        reject(
          out,
          e instanceof ProtoDecodeError ? `malformed span: ${e.message}` : (e as Error).message,
        );
      }
      r.end = end;
      r.pos = spanEnd;
    } else {
      r.skip(tag & 7);
    }
  }
}

function decodeSpan(
  r: ProtoReader,
  start: number,
  end: number,
  resource: ResourceInfo,
  scope: ScopeInfo,
  cache: DecodeCache,
  limits: DecodeLimits,
): SpanRecord {
  r.end = end;
  const buf = r.buf;
  let traceId: string | undefined;
  let spanId: string | undefined;
  let parentSpanId = '';
  let name = '';
  let kind = 0;
  let startNs = 0;
  let endNs = 0;
  // Exact 64-bit times as (high, low) words: doubles at present-day nanoseconds are 256 ns
  // apart, too coarse to tell an end a few ns before its start.
  let startHi = 0;
  let startLo = 0;
  let endHi = 0;
  let endLo = 0;
  let statusCode = 0;
  let attributes = 0;
  let events = 0;
  let links: LinkRef[] | undefined;
  let linkCount = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (tag) {
      case (1 << 3) | WireType.LEN: {
        const e = r.lengthDelimitedEnd();
        if (e - r.pos !== 16)
          throw new SpanRejection(`trace_id must be 16 bytes, got ${e - r.pos}`);
        if (isAllZero(buf, r.pos, e)) throw new SpanRejection('trace_id is all zero');
        traceId = cache.traceId(buf, r.pos);
        r.pos = e;
        break;
      }
      case (2 << 3) | WireType.LEN: {
        const e = r.lengthDelimitedEnd();
        if (e - r.pos !== 8) throw new SpanRejection(`span_id must be 8 bytes, got ${e - r.pos}`);
        if (isAllZero(buf, r.pos, e)) throw new SpanRejection('span_id is all zero');
        spanId = hexOf(buf, r.pos, e);
        r.pos = e;
        break;
      }
      case (4 << 3) | WireType.LEN: {
        const e = r.lengthDelimitedEnd();
        const n = e - r.pos;
        if (n !== 0 && n !== 8) throw new SpanRejection(`parent_span_id must be 8 bytes, got ${n}`);
        // An all-zero parent is how some SDKs write "no parent". A repeated field: last wins.
        parentSpanId = n === 8 && !isAllZero(buf, r.pos, e) ? hexOf(buf, r.pos, e) : '';
        r.pos = e;
        break;
      }
      case (5 << 3) | WireType.LEN:
        name = cache.name(r.string());
        break;
      case (6 << 3) | WireType.VARINT:
        kind = r.uint32();
        if (kind > 5) throw new SpanRejection(`kind ${kind} is not a SpanKind`);
        break;
      case (7 << 3) | WireType.I64:
        startLo = r.peekUint32(0);
        startHi = r.peekUint32(4);
        startNs = r.fixed64Number();
        break;
      case (8 << 3) | WireType.I64:
        endLo = r.peekUint32(0);
        endHi = r.peekUint32(4);
        endNs = r.fixed64Number();
        break;
      case (9 << 3) | WireType.LEN: {
        if (++attributes > limits.maxAttributesPerSpan) {
          throw new SpanRejection(`more than ${limits.maxAttributesPerSpan} attributes`);
        }
        const e = r.lengthDelimitedEnd();
        checkKeyValue(r, e, 0, limits);
        break;
      }
      case (11 << 3) | WireType.LEN: {
        if (++events > limits.maxEventsPerSpan) {
          throw new SpanRejection(`more than ${limits.maxEventsPerSpan} events`);
        }
        const e = r.lengthDelimitedEnd();
        checkEvent(r, e, limits);
        break;
      }
      case (13 << 3) | WireType.LEN: {
        links ??= [];
        // Every link counts, also those whose ids are unusable and are not followed.
        if (++linkCount > limits.maxLinksPerSpan) {
          throw new SpanRejection(`more than ${limits.maxLinksPerSpan} links`);
        }
        const e = r.lengthDelimitedEnd();
        const link = decodeLink(r, e, limits);
        if (link) links.push(link);
        break;
      }
      case (15 << 3) | WireType.LEN: {
        const e = r.lengthDelimitedEnd();
        const saved = r.end;
        r.end = e;
        while (r.pos < r.end) {
          const t = r.tag();
          checkWireType(r, t, STATUS_WIRE_TYPES, 'Status');
          if (t === ((3 << 3) | WireType.VARINT)) statusCode = r.uint32();
          else r.skip(t & 7);
        }
        r.end = saved;
        if (statusCode > 2)
          throw new SpanRejection(`status code ${statusCode} is not a StatusCode`);
        break;
      }
      default: {
        const field = tag >>> 3;
        if (field >= 1 && field <= 16 && KNOWN_SPAN_WIRE_TYPES[field] !== (tag & 7)) {
          r.fail(`Span field ${field} has wire type ${tag & 7}`);
        }
        r.skip(tag & 7);
      }
    }
  }
  if (traceId === undefined) throw new SpanRejection('trace_id missing');
  if (spanId === undefined) throw new SpanRejection('span_id missing');
  if (startNs === 0) throw new SpanRejection('start_time_unix_nano missing');
  if (endNs === 0) throw new SpanRejection('end_time_unix_nano missing');
  if (endHi < startHi || (endHi === startHi && endLo < startLo)) {
    throw new SpanRejection('end_time_unix_nano is before start_time_unix_nano');
  }
  return new SpanRecord(
    traceId,
    spanId,
    parentSpanId,
    name,
    kind,
    startNs / NS_PER_MS,
    endNs / NS_PER_MS,
    statusCode,
    links ?? NO_LINKS,
    resource,
    scope,
    copyBytes(buf, start, end),
  );
}

/**
 * Wire types of the known fields of the messages inside a span (index = field number), so the
 * skip-walk refuses exactly what the full decoder (span-details.ts) would refuse later.
 */
// Status field 1 is the deprecated `deprecated_code` enum: still sent by old SDKs, skipped.
const STATUS_WIRE_TYPES = [-1, WireType.VARINT, WireType.LEN, WireType.VARINT];
const LINK_WIRE_TYPES = [
  -1,
  WireType.LEN,
  WireType.LEN,
  WireType.LEN,
  WireType.LEN,
  WireType.VARINT,
  WireType.I32,
];
const EVENT_WIRE_TYPES = [-1, WireType.I64, WireType.LEN, WireType.LEN, WireType.VARINT];
const KEY_VALUE_WIRE_TYPES = [-1, WireType.LEN, WireType.LEN];
const ANY_VALUE_WIRE_TYPES = [
  -1,
  WireType.LEN,
  WireType.VARINT,
  WireType.VARINT,
  WireType.I64,
  WireType.LEN,
  WireType.LEN,
  WireType.LEN,
];
const LIST_WIRE_TYPES = [-1, WireType.LEN];

function checkWireType(r: ProtoReader, tag: number, table: readonly number[], what: string): void {
  const field = tag >>> 3;
  const expected = table[field];
  if (expected !== undefined && expected >= 0 && expected !== (tag & 7)) {
    r.fail(`${what} field ${field} has wire type ${tag & 7}, expected ${table[field]}`);
  }
}

/** Wire type of each known Span field (index = field number), for rejecting mis-typed ones. */
const KNOWN_SPAN_WIRE_TYPES: readonly number[] = [
  -1,
  WireType.LEN, // 1 trace_id
  WireType.LEN, // 2 span_id
  WireType.LEN, // 3 trace_state
  WireType.LEN, // 4 parent_span_id
  WireType.LEN, // 5 name
  WireType.VARINT, // 6 kind
  WireType.I64, // 7 start
  WireType.I64, // 8 end
  WireType.LEN, // 9 attributes
  WireType.VARINT, // 10 dropped_attributes_count
  WireType.LEN, // 11 events
  WireType.VARINT, // 12 dropped_events_count
  WireType.LEN, // 13 links
  WireType.VARINT, // 14 dropped_links_count
  WireType.LEN, // 15 status
  WireType.I32, // 16 flags
];

function decodeLink(r: ProtoReader, end: number, limits: DecodeLimits): LinkRef | undefined {
  const saved = r.end;
  r.end = end;
  let traceId = '';
  let spanId = '';
  let attributes = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    checkWireType(r, tag, LINK_WIRE_TYPES, 'Link');
    if (tag === ((1 << 3) | WireType.LEN)) traceId = r.hex();
    else if (tag === ((2 << 3) | WireType.LEN)) spanId = r.hex();
    else if (tag === ((4 << 3) | WireType.LEN)) {
      if (++attributes > limits.maxAttributesPerSpan) {
        throw new SpanRejection(`a link has more than ${limits.maxAttributesPerSpan} attributes`);
      }
      checkKeyValue(r, r.lengthDelimitedEnd(), 0, limits);
    } else r.skip(tag & 7);
  }
  r.end = saved;
  // A link with unusable ids is kept in `raw` for display but not followed by the analysis.
  return traceId.length === 32 && spanId.length === 16 ? { traceId, spanId } : undefined;
}

function checkEvent(r: ProtoReader, end: number, limits: DecodeLimits): void {
  const saved = r.end;
  r.end = end;
  let attributes = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    checkWireType(r, tag, EVENT_WIRE_TYPES, 'Event');
    if (tag === ((3 << 3) | WireType.LEN)) {
      if (++attributes > limits.maxAttributesPerSpan) {
        throw new SpanRejection(`an event has more than ${limits.maxAttributesPerSpan} attributes`);
      }
      checkKeyValue(r, r.lengthDelimitedEnd(), 0, limits);
    } else r.skip(tag & 7);
  }
  r.end = saved;
}

/** Walks a KeyValue without materialising it, checking structure and nesting depth. */
function checkKeyValue(r: ProtoReader, end: number, depth: number, limits: DecodeLimits): void {
  const saved = r.end;
  r.end = end;
  while (r.pos < r.end) {
    const tag = r.tag();
    checkWireType(r, tag, KEY_VALUE_WIRE_TYPES, 'KeyValue');
    if (tag === ((2 << 3) | WireType.LEN)) checkAnyValue(r, r.lengthDelimitedEnd(), depth, limits);
    else r.skip(tag & 7);
  }
  r.end = saved;
  r.pos = end;
}

function checkAnyValue(r: ProtoReader, end: number, depth: number, limits: DecodeLimits): void {
  const saved = r.end;
  r.end = end;
  while (r.pos < r.end) {
    const tag = r.tag();
    const field = tag >>> 3;
    checkWireType(r, tag, ANY_VALUE_WIRE_TYPES, 'AnyValue');
    if (field === 5 || field === 6) {
      // `depth` counts the AnyValue levels above this one; the nested value would be level
      // depth + 2, counting from 1 as the on-demand decoder does (span-details.ts).
      if (depth + 2 > limits.maxValueDepth) {
        throw new SpanRejection(
          `attribute value nested deeper than ${limits.maxValueDepth} levels`,
        );
      }
      // ArrayValue{1: AnyValue} and KeyValueList{1: KeyValue}
      const listEnd = r.lengthDelimitedEnd();
      const s2 = r.end;
      r.end = listEnd;
      while (r.pos < r.end) {
        const t = r.tag();
        checkWireType(r, t, LIST_WIRE_TYPES, field === 5 ? 'ArrayValue' : 'KeyValueList');
        if (t === ((1 << 3) | WireType.LEN)) {
          const e = r.lengthDelimitedEnd();
          if (field === 5) checkAnyValue(r, e, depth + 1, limits);
          else checkKeyValue(r, e, depth + 1, limits);
          r.pos = e;
        } else r.skip(t & 7);
      }
      r.end = s2;
    } else {
      r.skip(tag & 7);
    }
  }
  r.end = saved;
  r.pos = end;
}
