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

import { ProtoReader, WireType, utf8Of } from './proto-reader.js';
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

/** Reads the messages of repeated field 1 (`name`) of the message at the reader with `readOne`. */
function readRepeated<T>(r: ProtoReader, name: string, readOne: (r: ProtoReader) => T): T[] {
  const values: T[] = [];
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === t(1, LEN)) values.push(nested(r, readOne));
    else if (fieldOf(tag) === 1) r.expect(tag, LEN, name);
    else r.skip(tag & 7);
  }
  return values;
}

/** Reads an ArrayValue message; its elements are at nesting level `depth`. */
function readArrayValue(r: ProtoReader, depth: number): AnyValueJson[] {
  return readRepeated(r, 'ArrayValue.values', (r) => readAnyValue(r, depth));
}

/** Reads a KeyValueList message; its values are at nesting level `depth`. */
function readKeyValueList(r: ProtoReader, depth: number): KeyValueJson[] {
  return readRepeated(r, 'KeyValueList.values', (r) => readKeyValue(r, depth));
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
// Messages read by field tables
//
// The details path (one span's details on demand, the read API's OTLP JSON) reads each message
// through a table from field number to its wire type, its name for errors and how it is stored,
// instead of a switch per message. Unknown field numbers are skipped; a known field number with
// another wire type is refused with its name. The ingest decoder (trace-request-decoder.ts)
// keeps its hand-written switches: it is the measured hot path.

interface FieldSpec<T> {
  readonly wire: number;
  readonly name: string;
  readonly read: (r: ProtoReader, into: T) => void;
}

type FieldTable<T> = ReadonlyArray<FieldSpec<T> | undefined>;

function fields<T>(
  message: string,
  specs: Record<number, [wire: number, field: string, read: FieldSpec<T>['read']]>,
): FieldTable<T> {
  const table: Array<FieldSpec<T> | undefined> = [];
  for (const [n, [wire, field, read]] of Object.entries(specs)) {
    table[Number(n)] = { wire, name: `${message}.${field}`, read };
  }
  return table;
}

/** Reads the message spanning [r.pos, r.end) into `into`, field by field. */
function readMessage<T>(r: ProtoReader, into: T, table: FieldTable<T>): T {
  while (r.pos < r.end) {
    const tag = r.tag();
    const spec = table[fieldOf(tag)];
    if (spec === undefined) {
      r.skip(tag & 7);
      continue;
    }
    r.expect(tag, spec.wire, spec.name);
    spec.read(r, into);
  }
  return into;
}

/** Sets an optional numeric field, or removes it for the proto3 default 0. */
function setCount<K extends string>(obj: { [P in K]?: number }, key: K, v: number): void {
  if (v !== 0) obj[key] = v;
  else delete obj[key];
}

/** Sets an optional string field, or removes it for the proto3 default "". */
function setText<K extends string>(obj: { [P in K]?: string }, key: K, v: string): void {
  if (v !== '') obj[key] = v;
  else delete obj[key];
}

const { VARINT, I32, I64 } = WireType;

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

const RESOURCE = fields<ResourceDetails>('Resource', {
  1: [LEN, 'attributes', (r, o) => pushKeyValue(r, o.attributes)],
  2: [VARINT, 'dropped_attributes_count', (r, o) => (o.droppedAttributesCount = r.uint32())],
});

const SCOPE = fields<ScopeDetails>('InstrumentationScope', {
  1: [LEN, 'name', (r, o) => (o.name = r.string())],
  2: [LEN, 'version', (r, o) => (o.version = r.string())],
  3: [LEN, 'attributes', (r, o) => pushKeyValue(r, o.attributes)],
  4: [VARINT, 'dropped_attributes_count', (r, o) => (o.droppedAttributesCount = r.uint32())],
});

/** Decodes a `Resource` message (empty bytes: an absent resource, no attributes). */
export function decodeResource(raw: Uint8Array): ResourceDetails {
  return readMessage(new ProtoReader(raw), { attributes: [], droppedAttributesCount: 0 }, RESOURCE);
}

/** Decodes an `InstrumentationScope` message (empty bytes: an absent scope). */
export function decodeScope(raw: Uint8Array): ScopeDetails {
  const scope: ScopeDetails = { name: '', version: '', attributes: [], droppedAttributesCount: 0 };
  return readMessage(new ProtoReader(raw), scope, SCOPE);
}

// ---------------------------------------------------------------------------------------------
// Span

/** Field 1 of Status is the long-deprecated code: skipped. */
const STATUS = fields<SpanJson['status']>('Status', {
  2: [LEN, 'message', (r, o) => setText(o, 'message', r.string())],
  3: [VARINT, 'code', (r, o) => setCount(o, 'code', r.uint32() | 0)],
});

const EVENT = fields<EventJson>('Span.Event', {
  1: [I64, 'time_unix_nano', (r, o) => (o.timeUnixNano = r.fixed64String())],
  2: [LEN, 'name', (r, o) => (o.name = r.string())],
  3: [LEN, 'attributes', (r, o) => pushKeyValue(r, o.attributes)],
  4: [
    VARINT,
    'dropped_attributes_count',
    (r, o) => setCount(o, 'droppedAttributesCount', r.uint32()),
  ],
});

const LINK = fields<LinkJson>('Span.Link', {
  1: [LEN, 'trace_id', (r, o) => (o.traceId = r.hex())],
  2: [LEN, 'span_id', (r, o) => (o.spanId = r.hex())],
  3: [LEN, 'trace_state', (r, o) => setText(o, 'traceState', r.string())],
  4: [LEN, 'attributes', (r, o) => pushKeyValue(r, o.attributes)],
  5: [
    VARINT,
    'dropped_attributes_count',
    (r, o) => setCount(o, 'droppedAttributesCount', r.uint32()),
  ],
  6: [I32, 'flags', (r, o) => setCount(o, 'flags', r.fixed32())],
});

const SPAN = fields<SpanJson>('Span', {
  1: [LEN, 'trace_id', (r, o) => (o.traceId = r.hex())],
  2: [LEN, 'span_id', (r, o) => (o.spanId = r.hex())],
  3: [LEN, 'trace_state', (r, o) => setText(o, 'traceState', r.string())],
  4: [LEN, 'parent_span_id', (r, o) => setText(o, 'parentSpanId', r.hex())],
  5: [LEN, 'name', (r, o) => (o.name = r.string())],
  // An int32 enum: negative values arrive sign-extended; keep them negative.
  6: [VARINT, 'kind', (r, o) => (o.kind = r.uint32() | 0)],
  7: [I64, 'start_time_unix_nano', (r, o) => (o.startTimeUnixNano = r.fixed64String())],
  8: [I64, 'end_time_unix_nano', (r, o) => (o.endTimeUnixNano = r.fixed64String())],
  9: [LEN, 'attributes', (r, o) => pushKeyValue(r, o.attributes)],
  10: [
    VARINT,
    'dropped_attributes_count',
    (r, o) => setCount(o, 'droppedAttributesCount', r.uint32()),
  ],
  11: [LEN, 'events', (r, o) => o.events.push(nested(r, (r) => readMessage(r, newEvent(), EVENT)))],
  12: [VARINT, 'dropped_events_count', (r, o) => setCount(o, 'droppedEventsCount', r.uint32())],
  13: [LEN, 'links', (r, o) => o.links.push(nested(r, (r) => readMessage(r, newLink(), LINK)))],
  14: [VARINT, 'dropped_links_count', (r, o) => setCount(o, 'droppedLinksCount', r.uint32())],
  15: [LEN, 'status', (r, o) => nested(r, (r) => readMessage(r, o.status, STATUS))],
  16: [I32, 'flags', (r, o) => setCount(o, 'flags', r.fixed32())],
});

const newEvent = (): EventJson => ({ timeUnixNano: '0', name: '', attributes: [] });
const newLink = (): LinkJson => ({ traceId: '', spanId: '', attributes: [] });

/** Decodes a `Span` message in full. */
export function decodeSpanJson(raw: Uint8Array): SpanJson {
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
  return readMessage(new ProtoReader(raw), span, SPAN);
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
  const keyBytes = Buffer.from(key, 'utf8');
  let found: string | number | boolean | undefined;
  // Compares the key bytes in place, so non-matching attributes cost no string allocation.
  scanAttributes(span, (r, keyStart, keyEnd, valueStart, valueEnd) => {
    if (keyEnd - keyStart !== keyBytes.length || keyStart < 0) return false;
    if (!keyBytes.equals(r.buf.subarray(keyStart, keyEnd))) return false;
    if (valueStart >= 0) {
      r.pos = valueStart;
      r.end = valueEnd;
      found = readScalar(r);
    }
    return true;
  });
  return found;
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
  scanAttributes(span, (r, keyStart, keyEnd, valueStart, valueEnd) => {
    if (keyStart < 0 || valueStart < 0) return false;
    r.pos = valueStart;
    r.end = valueEnd;
    const value = readScalarText(r);
    if (value !== undefined) cb(utf8Of(r.buf, keyStart, keyEnd), value);
    return false;
  });
}

/**
 * Walks a span's attributes (`Span.attributes`, field 9) in its stored bytes, calling `visit`
 * with each KeyValue's key and value byte ranges (the last of each when repeated; -1 when
 * absent), until `visit` returns true. `visit` may move the reader within the value; the walk
 * puts it back. No allocation per attribute: this is the analysis's hot path.
 */
function scanAttributes(
  span: SpanRecord,
  visit: (
    r: ProtoReader,
    keyStart: number,
    keyEnd: number,
    valueStart: number,
    valueEnd: number,
  ) => boolean,
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
    let keyStart = -1;
    let keyEnd = -1;
    let valueStart = -1;
    let valueEnd = -1;
    while (r.pos < r.end) {
      const kt = r.tag();
      if (kt === t(1, LEN)) {
        keyEnd = r.lengthDelimitedEnd();
        keyStart = r.pos;
        r.pos = keyEnd;
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
    if (visit(r, keyStart, keyEnd, valueStart, valueEnd)) return;
    r.pos = kvEnd;
    r.end = saved;
  }
}

const NON_SCALAR_FIELDS = [
  'AnyValue.array_value',
  'AnyValue.kvlist_value',
  'AnyValue.bytes_value',
] as const;

/** An AnyValue spanning [r.pos, r.end) as text if it is a string, int or bool. */
function readScalarText(r: ProtoReader): string | undefined {
  return readScalar(r, true) as string | undefined;
}

/**
 * Reads an AnyValue spanning [r.pos, r.end) as a scalar, or `undefined` if it is not one. As
 * text (`asText`): strings, ints in decimal (exact) and bools only; a double is not a category
 * to group by.
 */
function readScalar(r: ProtoReader, asText = false): string | number | boolean | undefined {
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
        value = asText ? (r.bool() ? 'true' : 'false') : r.bool();
        break;
      case 3:
        r.expect(tag, WireType.VARINT, 'AnyValue.int_value');
        value = asText ? r.int64String() : int64Number(r);
        break;
      case 4:
        r.expect(tag, WireType.I64, 'AnyValue.double_value');
        value = r.double();
        if (asText) value = undefined;
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
