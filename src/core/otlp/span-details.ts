/**
 * The slow path: full decoding of stored protobuf bytes (`SpanRecord.raw`, `ResourceInfo.raw`,
 * `ScopeInfo.raw`) into the OTLP JSON shape of `model.ts`, on demand (read API, export,
 * analysis that needs an attribute).
 *
 * Output conventions (proto3 JSON mapping, as OTLP/JSON uses it):
 * - ids are lowercase hex; times and int64 values are exact decimal strings; bytes are base64;
 *   enums (span kind, status code) are numbers.
 * - Optional fields of `SpanJson` & co. (`traceState`, `parentSpanId`, `flags`, dropped
 *   counts, status code and message) are present only when they differ from the proto3
 *   default (empty, 0): proto3 cannot tell "absent" from "default" anyway. Required-shaped
 *   fields (ids, name, kind, times, attributes, events, links, status) are always present.
 *
 * Decoding rules: unknown fields are skipped (forward compatibility); a known field with the
 * wrong wire type is a `ProtoDecodeError`, as is truncation. A repeated scalar field seen twice
 * keeps the last value; a nested message seen twice is merged (protobuf semantics). AnyValue
 * nesting deeper than `MAX_ANY_VALUE_DEPTH` is refused, so hostile input cannot exhaust the
 * stack; everything else is a single forward pass, linear in the input.
 */

import { ProtoReader, WireType } from './proto-reader.js';
import type {
  AnyValueJson,
  EventJson,
  KeyValueJson,
  LinkJson,
  SpanJson,
  SpanRecord,
} from '../model.js';

/**
 * Deepest AnyValue nesting accepted: an attribute's value is level 1, each array/kvlist adds a
 * level. Matches the ingest decoder's default `maxValueDepth`.
 */
export const MAX_ANY_VALUE_DEPTH = 32;

const TWO_POW_32 = 4294967296;

// Tags (field number << 3 | wire type) of the fields decoded here, for a single compare per
// field in the common case. A known field number with any other wire type falls through to
// the `expect` call that reports it.
const LEN = WireType.LEN;
const t = (field: number, wireType: number): number => ((field << 3) | wireType) >>> 0;

/** Reads the sub-message at the reader's position (after its tag) with `read`. */
function nested<T>(r: ProtoReader, read: (r: ProtoReader) => T): T {
  const end = r.lengthDelimitedEnd();
  const saved = r.end;
  r.end = end;
  const v = read(r);
  r.end = saved;
  r.pos = end;
  return v;
}

function fieldOf(tag: number): number {
  return tag >>> 3;
}

// ---------------------------------------------------------------------------------------------
// AnyValue / KeyValue

/**
 * Reads an AnyValue message spanning [r.pos, r.end). `depth` is this value's nesting level
 * (1 for an attribute value).
 */
export function readAnyValue(r: ProtoReader, depth: number): AnyValueJson {
  if (depth > MAX_ANY_VALUE_DEPTH) {
    r.fail(`AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  }
  // A oneof: when several members are on the wire, the last one wins.
  let value: AnyValueJson = {};
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 1:
        r.expect(tag, LEN, 'AnyValue.string_value');
        value = { stringValue: r.string() };
        break;
      case 2:
        r.expect(tag, WireType.VARINT, 'AnyValue.bool_value');
        value = { boolValue: r.bool() };
        break;
      case 3:
        r.expect(tag, WireType.VARINT, 'AnyValue.int_value');
        value = { intValue: r.int64String() };
        break;
      case 4:
        r.expect(tag, WireType.I64, 'AnyValue.double_value');
        value = { doubleValue: r.double() };
        break;
      case 5: {
        r.expect(tag, LEN, 'AnyValue.array_value');
        const values = nested(r, (r) => readArrayValue(r, depth + 1));
        value = { arrayValue: { values } };
        break;
      }
      case 6: {
        r.expect(tag, LEN, 'AnyValue.kvlist_value');
        const values = nested(r, (r) => readKeyValueList(r, depth + 1));
        value = { kvlistValue: { values } };
        break;
      }
      case 7:
        r.expect(tag, LEN, 'AnyValue.bytes_value');
        value = { bytesValue: r.bytesView().toString('base64') };
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return value;
}

/** Reads an ArrayValue message; its elements are at nesting level `depth`. */
function readArrayValue(r: ProtoReader, depth: number): AnyValueJson[] {
  const values: AnyValueJson[] = [];
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === t(1, LEN)) {
      values.push(nested(r, (r) => readAnyValue(r, depth)));
    } else if (fieldOf(tag) === 1) {
      r.expect(tag, LEN, 'ArrayValue.values');
    } else r.skip(tag & 7);
  }
  return values;
}

/** Reads a KeyValueList message; its values are at nesting level `depth`. */
function readKeyValueList(r: ProtoReader, depth: number): KeyValueJson[] {
  const values: KeyValueJson[] = [];
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === t(1, LEN)) {
      values.push(nested(r, (r) => readKeyValue(r, depth)));
    } else if (fieldOf(tag) === 1) {
      r.expect(tag, LEN, 'KeyValueList.values');
    } else r.skip(tag & 7);
  }
  return values;
}

/**
 * Reads a KeyValue message; its value is at nesting level `depth`. A KeyValue without a value
 * gets the empty AnyValue `{}`.
 */
export function readKeyValue(r: ProtoReader, depth: number): KeyValueJson {
  let key = '';
  let value: AnyValueJson = {};
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 1:
        r.expect(tag, LEN, 'KeyValue.key');
        key = r.string();
        break;
      case 2:
        r.expect(tag, LEN, 'KeyValue.value');
        value = nested(r, (r) => readAnyValue(r, depth));
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return { key, value };
}

/** Reads one element of a repeated KeyValue field (after its tag) and appends it. */
function pushKeyValue(r: ProtoReader, out: KeyValueJson[]): void {
  out.push(nested(r, (r) => readKeyValue(r, 1)));
}

/** Decodes an `AnyValue` message. */
export function decodeAnyValue(raw: Uint8Array): AnyValueJson {
  return readAnyValue(new ProtoReader(raw), 1);
}

/**
 * Decodes a buffer holding a sequence of `KeyValue` messages, each as a length-delimited field
 * `field` (the shape of a message's repeated attributes field, or of a KeyValueList when
 * `field` is 1). Other fields are skipped.
 */
export function decodeKeyValues(raw: Uint8Array, field = 1): KeyValueJson[] {
  const r = new ProtoReader(raw);
  const out: KeyValueJson[] = [];
  while (r.pos < r.end) {
    const tag = r.tag();
    if (fieldOf(tag) === field) {
      r.expect(tag, LEN, 'attributes');
      pushKeyValue(r, out);
    } else r.skip(tag & 7);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Resource and InstrumentationScope

export interface ResourceDetails {
  attributes: KeyValueJson[];
  droppedAttributesCount: number;
}

export interface ScopeDetails {
  name: string;
  version: string;
  attributes: KeyValueJson[];
  droppedAttributesCount: number;
}

/** Decodes a `Resource` message (empty bytes: an absent resource, no attributes). */
export function decodeResource(raw: Uint8Array): ResourceDetails {
  const r = new ProtoReader(raw);
  const attributes: KeyValueJson[] = [];
  let droppedAttributesCount = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 1:
        r.expect(tag, LEN, 'Resource.attributes');
        pushKeyValue(r, attributes);
        break;
      case 2:
        r.expect(tag, WireType.VARINT, 'Resource.dropped_attributes_count');
        droppedAttributesCount = r.uint32();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return { attributes, droppedAttributesCount };
}

/** Decodes an `InstrumentationScope` message (empty bytes: an absent scope). */
export function decodeScope(raw: Uint8Array): ScopeDetails {
  const r = new ProtoReader(raw);
  let name = '';
  let version = '';
  const attributes: KeyValueJson[] = [];
  let droppedAttributesCount = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 1:
        r.expect(tag, LEN, 'InstrumentationScope.name');
        name = r.string();
        break;
      case 2:
        r.expect(tag, LEN, 'InstrumentationScope.version');
        version = r.string();
        break;
      case 3:
        r.expect(tag, LEN, 'InstrumentationScope.attributes');
        pushKeyValue(r, attributes);
        break;
      case 4:
        r.expect(tag, WireType.VARINT, 'InstrumentationScope.dropped_attributes_count');
        droppedAttributesCount = r.uint32();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return { name, version, attributes, droppedAttributesCount };
}

// ---------------------------------------------------------------------------------------------
// Span

/** Decodes a `Span` message in full. */
export function decodeSpanJson(raw: Uint8Array): SpanJson {
  const r = new ProtoReader(raw);
  const span: SpanJson = {
    traceId: '',
    spanId: '',
    name: '',
    kind: 0,
    startTimeUnixNano: '0',
    endTimeUnixNano: '0',
    attributes: [],
    events: [],
    links: [],
    status: {},
  };
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 1:
        r.expect(tag, LEN, 'Span.trace_id');
        span.traceId = r.hex();
        break;
      case 2:
        r.expect(tag, LEN, 'Span.span_id');
        span.spanId = r.hex();
        break;
      case 3: {
        r.expect(tag, LEN, 'Span.trace_state');
        const s = r.string();
        if (s !== '') span.traceState = s;
        else delete span.traceState;
        break;
      }
      case 4: {
        r.expect(tag, LEN, 'Span.parent_span_id');
        const s = r.hex();
        if (s !== '') span.parentSpanId = s;
        else delete span.parentSpanId;
        break;
      }
      case 5:
        r.expect(tag, LEN, 'Span.name');
        span.name = r.string();
        break;
      case 6:
        r.expect(tag, WireType.VARINT, 'Span.kind');
        // An int32 enum: negative values arrive sign-extended; keep them negative.
        span.kind = r.uint32() | 0;
        break;
      case 7:
        r.expect(tag, WireType.I64, 'Span.start_time_unix_nano');
        span.startTimeUnixNano = r.fixed64String();
        break;
      case 8:
        r.expect(tag, WireType.I64, 'Span.end_time_unix_nano');
        span.endTimeUnixNano = r.fixed64String();
        break;
      case 9:
        r.expect(tag, LEN, 'Span.attributes');
        pushKeyValue(r, span.attributes);
        break;
      case 10:
        r.expect(tag, WireType.VARINT, 'Span.dropped_attributes_count');
        setCount(span, 'droppedAttributesCount', r.uint32());
        break;
      case 11:
        r.expect(tag, LEN, 'Span.events');
        span.events.push(nested(r, readEvent));
        break;
      case 12:
        r.expect(tag, WireType.VARINT, 'Span.dropped_events_count');
        setCount(span, 'droppedEventsCount', r.uint32());
        break;
      case 13:
        r.expect(tag, LEN, 'Span.links');
        span.links.push(nested(r, readLink));
        break;
      case 14:
        r.expect(tag, WireType.VARINT, 'Span.dropped_links_count');
        setCount(span, 'droppedLinksCount', r.uint32());
        break;
      case 15:
        r.expect(tag, LEN, 'Span.status');
        nested(r, (r) => readStatus(r, span.status));
        break;
      case 16:
        r.expect(tag, WireType.I32, 'Span.flags');
        setCount(span, 'flags', r.fixed32());
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return span;
}

/** Sets an optional numeric field, or removes it for the proto3 default 0. */
function setCount<K extends string>(obj: { [P in K]?: number }, key: K, v: number): void {
  if (v !== 0) obj[key] = v;
  else delete obj[key];
}

function readEvent(r: ProtoReader): EventJson {
  const event: EventJson = { timeUnixNano: '0', name: '', attributes: [] };
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 1:
        r.expect(tag, WireType.I64, 'Span.Event.time_unix_nano');
        event.timeUnixNano = r.fixed64String();
        break;
      case 2:
        r.expect(tag, LEN, 'Span.Event.name');
        event.name = r.string();
        break;
      case 3:
        r.expect(tag, LEN, 'Span.Event.attributes');
        pushKeyValue(r, event.attributes);
        break;
      case 4:
        r.expect(tag, WireType.VARINT, 'Span.Event.dropped_attributes_count');
        setCount(event, 'droppedAttributesCount', r.uint32());
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return event;
}

function readLink(r: ProtoReader): LinkJson {
  const link: LinkJson = { traceId: '', spanId: '', attributes: [] };
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 1:
        r.expect(tag, LEN, 'Span.Link.trace_id');
        link.traceId = r.hex();
        break;
      case 2:
        r.expect(tag, LEN, 'Span.Link.span_id');
        link.spanId = r.hex();
        break;
      case 3: {
        r.expect(tag, LEN, 'Span.Link.trace_state');
        const s = r.string();
        if (s !== '') link.traceState = s;
        else delete link.traceState;
        break;
      }
      case 4:
        r.expect(tag, LEN, 'Span.Link.attributes');
        pushKeyValue(r, link.attributes);
        break;
      case 5:
        r.expect(tag, WireType.VARINT, 'Span.Link.dropped_attributes_count');
        setCount(link, 'droppedAttributesCount', r.uint32());
        break;
      case 6:
        r.expect(tag, WireType.I32, 'Span.Link.flags');
        setCount(link, 'flags', r.fixed32());
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return link;
}

/** Merges a `Status` message into `status` (field 1 is the long-deprecated code: skipped). */
function readStatus(r: ProtoReader, status: SpanJson['status']): void {
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 2: {
        r.expect(tag, LEN, 'Status.message');
        const s = r.string();
        if (s !== '') status.message = s;
        else delete status.message;
        break;
      }
      case 3:
        r.expect(tag, WireType.VARINT, 'Status.code');
        setCount(status, 'code', r.uint32() | 0);
        break;
      default:
        r.skip(tag & 7);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Attribute access for analysis

/** Decodes a span's attributes (`Span.attributes`, field 9) from its stored bytes. */
export function spanAttributes(span: SpanRecord): KeyValueJson[] {
  return decodeKeyValues(span.raw, 9);
}

/**
 * The scalar value of attribute `key` of a span, decoded from `span.raw` without decoding the
 * other attributes: strings, booleans, doubles, and ints as numbers (nearest double beyond
 * 2^53). `undefined` when the span has no such attribute or its value is not a scalar (array,
 * kvlist, bytes, empty). Keys are unique per span in valid OTLP; the first match is returned.
 * Malformed bytes throw `ProtoDecodeError`.
 */
export function attributeValue(
  span: SpanRecord,
  key: string,
): string | number | boolean | undefined {
  const r = new ProtoReader(span.raw);
  const keyBytes = Buffer.from(key, 'utf8');
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag !== t(9, LEN)) {
      if (fieldOf(tag) === 9) r.expect(tag, LEN, 'Span.attributes');
      r.skip(tag & 7);
      continue;
    }
    const kvEnd = r.lengthDelimitedEnd();
    const saved = r.end;
    r.end = kvEnd;
    // Key and value may come in any order; remember where the value is and compare the key
    // bytes in place, so non-matching attributes cost no string allocation.
    let keyMatches = false;
    let valueStart = -1;
    let valueEnd = -1;
    while (r.pos < r.end) {
      const kt = r.tag();
      if (kt === t(1, LEN)) {
        const end = r.lengthDelimitedEnd();
        keyMatches = end - r.pos === keyBytes.length && keyBytes.equals(r.buf.subarray(r.pos, end));
        r.pos = end;
      } else if (kt === t(2, LEN)) {
        valueEnd = r.lengthDelimitedEnd();
        valueStart = r.pos;
        r.pos = valueEnd;
      } else {
        if (fieldOf(kt) === 1) r.expect(kt, LEN, 'KeyValue.key');
        if (fieldOf(kt) === 2) r.expect(kt, LEN, 'KeyValue.value');
        r.skip(kt & 7);
      }
    }
    if (keyMatches) {
      if (valueStart < 0) return undefined;
      r.pos = valueStart;
      r.end = valueEnd;
      return readScalar(r);
    }
    r.end = saved;
  }
  return undefined;
}

/**
 * Calls `cb` with each scalar attribute of a span as text (strings as they are, ints in decimal,
 * booleans as true/false; doubles, arrays, maps and bytes are skipped), straight from the span's
 * bytes. Hand-written for the analysis's hot path: decoding every attribute into JSON objects
 * for each settled trace was the largest allocation of the background analysis.
 */
export function forEachScalarAttribute(
  span: SpanRecord,
  cb: (key: string, value: string) => void,
): void {
  const r = new ProtoReader(span.raw);
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag !== t(9, LEN)) {
      if (fieldOf(tag) === 9) r.expect(tag, LEN, 'Span.attributes');
      r.skip(tag & 7);
      continue;
    }
    const kvEnd = r.lengthDelimitedEnd();
    const saved = r.end;
    r.end = kvEnd;
    let key: string | undefined;
    let value: string | undefined;
    while (r.pos < r.end) {
      const kt = r.tag();
      if (kt === t(1, LEN)) key = r.string();
      else if (kt === t(2, LEN)) {
        const end = r.lengthDelimitedEnd();
        const outer = r.end;
        r.end = end;
        value = readScalarText(r);
        r.pos = end;
        r.end = outer;
      } else {
        if (fieldOf(kt) === 1) r.expect(kt, LEN, 'KeyValue.key');
        if (fieldOf(kt) === 2) r.expect(kt, LEN, 'KeyValue.value');
        r.skip(kt & 7);
      }
    }
    r.end = saved;
    if (key !== undefined && value !== undefined) cb(key, value);
  }
}

/** An AnyValue spanning [r.pos, r.end) as text if it is a string, int or bool. */
function readScalarText(r: ProtoReader): string | undefined {
  let value: string | undefined;
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 1:
        r.expect(tag, LEN, 'AnyValue.string_value');
        value = r.string();
        break;
      case 2:
        r.expect(tag, WireType.VARINT, 'AnyValue.bool_value');
        value = r.bool() ? 'true' : 'false';
        break;
      case 3:
        r.expect(tag, WireType.VARINT, 'AnyValue.int_value');
        value = r.int64String();
        break;
      default:
        // Doubles and the non-scalar members: not a category to group by.
        r.skip(tag & 7);
        value = undefined;
    }
  }
  return value;
}

const NON_SCALAR_FIELDS = [
  'AnyValue.array_value',
  'AnyValue.kvlist_value',
  'AnyValue.bytes_value',
] as const;

/** Reads an AnyValue spanning [r.pos, r.end) as a scalar, or `undefined` if it is not one. */
function readScalar(r: ProtoReader): string | number | boolean | undefined {
  let value: string | number | boolean | undefined;
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (fieldOf(tag)) {
      case 1:
        r.expect(tag, LEN, 'AnyValue.string_value');
        value = r.string();
        break;
      case 2:
        r.expect(tag, WireType.VARINT, 'AnyValue.bool_value');
        value = r.bool();
        break;
      case 3: {
        r.expect(tag, WireType.VARINT, 'AnyValue.int_value');
        value = int64Number(r);
        break;
      }
      case 4:
        r.expect(tag, WireType.I64, 'AnyValue.double_value');
        value = r.double();
        break;
      case 5:
      case 6:
      case 7:
        // Non-scalar members of the oneof: the value is not a scalar (last one wins).
        r.expect(tag, LEN, NON_SCALAR_FIELDS[fieldOf(tag) - 5] ?? 'AnyValue');
        r.skip(LEN);
        value = undefined;
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return value;
}

/** Reads an int64 varint as the nearest double. */
function int64Number(r: ProtoReader): number {
  const [lo, hi] = r.varint64();
  if (hi === 0) return lo;
  if (hi === 0xffffffff && lo !== 0) return lo - TWO_POW_32; // small negative
  return Number(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)));
}
