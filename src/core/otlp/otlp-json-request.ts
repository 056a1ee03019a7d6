/**
 * OTLP/JSON ingest: converts an OTLP/JSON `ExportTraceServiceRequest` (or
 * `ExportLogsServiceRequest`) into the protobuf encoding of the same request, so that JSON and
 * protobuf requests share one decoder (the protobuf ingest path) and one set of validation
 * rules.
 *
 * The OTLP/JSON rules (OTLP specification, "JSON Protobuf Encoding"), as applied here:
 * - keys are lowerCamelCase; unknown keys are ignored (forward compatibility); `null` means
 *   "absent", as in the proto3 JSON mapping;
 * - trace and span ids are hex strings, either case (not base64, unlike plain proto3 JSON);
 * - enums are integers (the proto enum names are accepted too, as the Collector does);
 * - 64-bit integers (times, `intValue`) are decimal strings or JSON numbers, both read exactly
 *   (json-exact-integers.ts keeps integer literals of any length exact; a number written with
 *   a fraction or an exponent is refused past 2^53, where it could not be exact); `bytesValue`
 *   is base64 (standard or URL-safe alphabet); `doubleValue` may also be the strings "NaN",
 *   "Infinity", "-Infinity" or a decimal number in a string.
 *
 * Error policy: anything structurally wrong (invalid JSON, a field of the wrong JSON type, a
 * time that is not an unsigned integer, an id that is not hex) throws `OtlpJsonError` naming
 * the path of the offending field (shortened when long), and the whole request is refused. Ids
 * that are valid hex but of the wrong length, or all zero, too many attributes, and values
 * nested deeper than the store accepts (`MAX_ANY_VALUE_DEPTH`), are encoded as given: the
 * protobuf decoder rejects those spans one by one (partial success), or the spans of a
 * resource or scope that has them, exactly as it would the same request sent as protobuf.
 * Values nested deeper than `JSON_MAX_NESTING` are cut there (see it).
 *
 * Cost: one pass over the parsed document, recursion bounded by the fixed message nesting plus
 * `JSON_MAX_NESTING`, so work is linear in the input size (`ProtoWriter` notes the constant).
 * Fields are written in field-number order, and proto3 default values (0, "") are omitted.
 */

import { WireType } from './proto-reader.js';
import { ProtoWriter } from './proto-writer.js';
import { markedInteger, parseJsonWithExactIntegers } from './json-exact-integers.js';

/**
 * Bound on the converter's recursion into AnyValues. A value nested deeper is cut at this
 * level (written as an empty AnyValue) instead of converted: it is far past what the store
 * accepts (`MAX_ANY_VALUE_DEPTH` in span-details.ts, 32), so the protobuf decoder rejects its
 * span alone, with the same short reason as for the same request in protobuf, and nothing
 * below the cut is walked. Invariant: JSON_MAX_NESTING > MAX_ANY_VALUE_DEPTH, or a cut value
 * could be stored (the tests check it).
 */
export const JSON_MAX_NESTING = 256;

/** Paths longer than this are shortened in messages (they grow with nesting and indexes). */
const MAX_PATH_IN_MESSAGE = 160;

function shortPath(path: string): string {
  if (path.length <= MAX_PATH_IN_MESSAGE) return path;
  return `${path.slice(0, 90)} ... ${path.slice(-60)}`;
}

/** A structural error in an OTLP/JSON request; `path` locates the field (empty: the root). */
export class OtlpJsonError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(path === '' ? problem : `${shortPath(path)}: ${problem}`);
    this.name = 'OtlpJsonError';
  }
}

/**
 * The marker of the long integers that `parseJsonWithExactIntegers` turned into strings, for the
 * conversion in progress. Conversion is synchronous, so one module variable serves: set at its
 * start, cleared at its end.
 */
let integerMarker: string | undefined;

type JsonObject = Record<string, unknown>;

const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const TWO_POW_32 = 4294967296;

const UNSIGNED_DECIMAL = /^[0-9]+$/;
const SIGNED_DECIMAL = /^-?[0-9]+$/;
const HEX = /^[0-9a-fA-F]*$/;
// Standard or URL-safe alphabet, optional padding (proto3 JSON accepts both).
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
// Unambiguous (no two quantifiers compete for the same digits), so matching stays linear.
const DOUBLE_STRING = /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** OTLP/JSON's enum names of `Span.kind` and their numbers. */
export const SPAN_KIND_NAMES: Readonly<Record<string, number>> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};

/** OTLP/JSON's enum names of `Status.code` and their numbers. */
export const STATUS_CODE_NAMES: Readonly<Record<string, number>> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

/** What differs between the signals' export requests: the names of the envelope's lists. */
interface JsonSignal {
  request: string;
  resources: string;
  scopes: string;
  items: string;
  writeItem: (w: ProtoWriter, o: JsonObject, path: string) => void;
}

const TRACES: JsonSignal = {
  request: 'ExportTraceServiceRequest',
  resources: 'resourceSpans',
  scopes: 'scopeSpans',
  items: 'spans',
  writeItem: (w, o, path) => writeSpan(w, o, path),
};

const METRICS: JsonSignal = {
  request: 'ExportMetricsServiceRequest',
  resources: 'resourceMetrics',
  scopes: 'scopeMetrics',
  items: 'metrics',
  writeItem: (w, o, path) => writeMetric(w, o, path),
};

const LOGS: JsonSignal = {
  request: 'ExportLogsServiceRequest',
  resources: 'resourceLogs',
  scopes: 'scopeLogs',
  items: 'logRecords',
  writeItem: (w, o, path) => writeLogRecord(w, o, path),
};

/**
 * Converts an OTLP/JSON `ExportTraceServiceRequest` (text or UTF-8 bytes) into protobuf
 * `ExportTraceServiceRequest` bytes. Throws `OtlpJsonError` for structurally invalid input.
 */
export function otlpJsonToProtobuf(body: string | Uint8Array): Uint8Array {
  return convertRequest(body, TRACES);
}

/** The same for an OTLP/JSON `ExportLogsServiceRequest`. */
export function otlpLogsJsonToProtobuf(body: string | Uint8Array): Uint8Array {
  return convertRequest(body, LOGS);
}

/** The same for an OTLP/JSON `ExportMetricsServiceRequest`. */
export function otlpMetricsJsonToProtobuf(body: string | Uint8Array): Uint8Array {
  return convertRequest(body, METRICS);
}

function convertRequest(body: string | Uint8Array, signal: JsonSignal): Uint8Array {
  let text =
    typeof body === 'string'
      ? body
      : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  // A UTF-8 byte order mark is not JSON, but some clients send one.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let doc: unknown;
  try {
    const parsed = parseJsonWithExactIntegers(text);
    doc = parsed.value;
    integerMarker = parsed.marker;
  } catch (e) {
    throw new OtlpJsonError('', `invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    if (!isObject(doc)) {
      throw new OtlpJsonError('', `expected a JSON object (${signal.request})`);
    }
    // Protobuf is usually well under half the size of the JSON (hex ids, decimal times, keys).
    const w = new ProtoWriter(Math.max(256, text.length >>> 1));
    const resources = arrayField(doc, signal.resources, '');
    for (let i = 0; i < resources.length; i++) {
      const path = `${signal.resources}[${i}]`;
      w.openMessage(1);
      writeResourceList(w, elementObject(resources[i], path), path, signal);
      w.closeMessage();
    }
    return w.finish();
  } finally {
    integerMarker = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Messages, in the order they nest

function writeResourceList(w: ProtoWriter, o: JsonObject, path: string, signal: JsonSignal): void {
  const resource = objectField(o, 'resource', path);
  if (resource !== undefined) {
    const p = `${path}.resource`;
    w.openMessage(1);
    writeAttributes(w, 1, resource, p);
    writeUint32(w, 2, resource, 'droppedAttributesCount', p);
    w.closeMessage();
  }
  const scopes = arrayField(o, signal.scopes, path);
  for (let i = 0; i < scopes.length; i++) {
    const p = `${path}.${signal.scopes}[${i}]`;
    w.openMessage(2);
    writeScopeList(w, elementObject(scopes[i], p), p, signal);
    w.closeMessage();
  }
  writeString(w, 3, o, 'schemaUrl', path);
}

function writeScopeList(w: ProtoWriter, o: JsonObject, path: string, signal: JsonSignal): void {
  const scope = objectField(o, 'scope', path);
  if (scope !== undefined) {
    const p = `${path}.scope`;
    w.openMessage(1);
    writeString(w, 1, scope, 'name', p);
    writeString(w, 2, scope, 'version', p);
    writeAttributes(w, 3, scope, p);
    writeUint32(w, 4, scope, 'droppedAttributesCount', p);
    w.closeMessage();
  }
  const items = arrayField(o, signal.items, path);
  for (let i = 0; i < items.length; i++) {
    const p = `${path}.${signal.items}[${i}]`;
    w.openMessage(2);
    signal.writeItem(w, elementObject(items[i], p), p);
    w.closeMessage();
  }
  writeString(w, 3, o, 'schemaUrl', path);
}

/** OTLP `SeverityNumber` names, accepted where JSON gives the name instead of the number. */
export const SEVERITY_NUMBER_NAMES: Readonly<Record<string, number>> = Object.fromEntries([
  ['SEVERITY_NUMBER_UNSPECIFIED', 0],
  ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((level, i) =>
    ['', '2', '3', '4'].map((n, j) => [`SEVERITY_NUMBER_${level}${n}`, i * 4 + j + 1] as const),
  ),
]);

export const AGGREGATION_TEMPORALITY_NAMES: Readonly<Record<string, number>> = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
  AGGREGATION_TEMPORALITY_DELTA: 1,
  AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
};

/** Each metric kind's JSON key, its `Metric` field, and how its points are written. */
const METRIC_DATA: readonly [string, number, (w: ProtoWriter, o: JsonObject, p: string) => void][] =
  [
    ['gauge', 5, (w, o, p) => writeNumberPoint(w, o, p)],
    ['sum', 7, (w, o, p) => writeNumberPoint(w, o, p)],
    ['histogram', 9, (w, o, p) => writeHistogramPoint(w, o, p)],
    ['exponentialHistogram', 10, (w, o, p) => writeExponentialPoint(w, o, p)],
    ['summary', 11, () => {}],
  ];

function writeMetric(w: ProtoWriter, o: JsonObject, path: string): void {
  writeString(w, 1, o, 'name', path);
  writeString(w, 2, o, 'description', path);
  writeString(w, 3, o, 'unit', path);
  for (const [key, field, writePoint] of METRIC_DATA) {
    const data = objectField(o, key, path);
    if (data === undefined) continue;
    const p = `${path}.${key}`;
    w.openMessage(field);
    const points = arrayField(data, 'dataPoints', p);
    for (let i = 0; i < points.length; i++) {
      const pp = `${p}.dataPoints[${i}]`;
      w.openMessage(1);
      writePoint(w, elementObject(points[i], pp), pp);
      w.closeMessage();
    }
    if (key !== 'gauge' && key !== 'summary') {
      writeEnum(w, 2, data, 'aggregationTemporality', p, AGGREGATION_TEMPORALITY_NAMES);
    }
    if (key === 'sum' && data.isMonotonic !== undefined && data.isMonotonic !== null) {
      if (typeof data.isMonotonic !== 'boolean') fail(at(p, 'isMonotonic'), 'expected a boolean');
      if (data.isMonotonic) w.tag(3, WireType.VARINT).bool(true);
    }
    w.closeMessage();
  }
}

function writeDouble(w: ProtoWriter, field: number, o: JsonObject, key: string, path: string) {
  const v = o[key];
  if (v === undefined || v === null) return;
  w.tag(field, WireType.I64).double(doubleValue(v, path, key));
}

/** An `sfixed64` (`asInt`): the int64 in two's complement, as 8 bytes. */
function writeSfixed64(w: ProtoWriter, field: number, o: JsonObject, key: string, path: string) {
  const v = o[key];
  if (v === undefined || v === null) return;
  w.tag(field, WireType.I64).fixed64(BigInt.asUintN(64, BigInt(int64Value(v, path, key))));
}

function writeExemplars(w: ProtoWriter, field: number, o: JsonObject, path: string): void {
  const exemplars = arrayField(o, 'exemplars', path);
  for (let i = 0; i < exemplars.length; i++) {
    const p = `${path}.exemplars[${i}]`;
    const e = elementObject(exemplars[i], p);
    w.openMessage(field);
    writeFixed64(w, 2, e, 'timeUnixNano', p);
    writeDouble(w, 3, e, 'asDouble', p);
    writeId(w, 4, e, 'spanId', p);
    writeId(w, 5, e, 'traceId', p);
    writeSfixed64(w, 6, e, 'asInt', p);
    w.closeMessage();
  }
}

function writeNumberPoint(w: ProtoWriter, o: JsonObject, path: string): void {
  writeFixed64(w, 2, o, 'startTimeUnixNano', path);
  writeFixed64(w, 3, o, 'timeUnixNano', path);
  writeDouble(w, 4, o, 'asDouble', path);
  writeExemplars(w, 5, o, path);
  writeSfixed64(w, 6, o, 'asInt', path);
  writeAttributes(w, 7, o, path);
  writeUint32(w, 8, o, 'flags', path);
}

/** A repeated fixed64 (`kind` 'fixed64') or double, each element with its own tag. */
function writeRepeated64(
  w: ProtoWriter,
  field: number,
  o: JsonObject,
  key: string,
  path: string,
  kind: 'fixed64' | 'double',
): void {
  const values = arrayField(o, key, path);
  for (let i = 0; i < values.length; i++) {
    const p = `${at(path, key)}[${i}]`;
    if (kind === 'double') w.tag(field, WireType.I64).double(doubleValue(values[i], p, ''));
    else w.tag(field, WireType.I64).fixed64(uint64Value(values[i], p));
  }
}

function writeHistogramPoint(w: ProtoWriter, o: JsonObject, path: string): void {
  writeFixed64(w, 2, o, 'startTimeUnixNano', path);
  writeFixed64(w, 3, o, 'timeUnixNano', path);
  writeFixed64(w, 4, o, 'count', path);
  writeDouble(w, 5, o, 'sum', path);
  writeRepeated64(w, 6, o, 'bucketCounts', path, 'fixed64');
  writeRepeated64(w, 7, o, 'explicitBounds', path, 'double');
  writeExemplars(w, 8, o, path);
  writeAttributes(w, 9, o, path);
  writeUint32(w, 10, o, 'flags', path);
  writeDouble(w, 11, o, 'min', path);
  writeDouble(w, 12, o, 'max', path);
}

function writeExponentialPoint(w: ProtoWriter, o: JsonObject, path: string): void {
  writeAttributes(w, 1, o, path);
  writeFixed64(w, 2, o, 'startTimeUnixNano', path);
  writeFixed64(w, 3, o, 'timeUnixNano', path);
  writeFixed64(w, 4, o, 'count', path);
  writeDouble(w, 5, o, 'sum', path);
  const scale = o.scale;
  if (scale !== undefined && scale !== null) {
    if (typeof scale !== 'number' || !Number.isInteger(scale) || Math.abs(scale) > 0x7fffffff) {
      fail(at(path, 'scale'), 'expected an integer');
    }
    // sint32: zigzag
    w.tag(6, WireType.VARINT).uint32(scale >= 0 ? scale * 2 : -scale * 2 - 1);
  }
  writeFixed64(w, 7, o, 'zeroCount', path);
  for (const [key, field] of [
    ['positive', 8],
    ['negative', 9],
  ] as const) {
    const b = objectField(o, key, path);
    if (b === undefined) continue;
    const p = `${path}.${key}`;
    w.openMessage(field);
    const offset = b.offset;
    if (offset !== undefined && offset !== null) {
      if (
        typeof offset !== 'number' ||
        !Number.isInteger(offset) ||
        Math.abs(offset) > 0x7fffffff
      ) {
        fail(at(p, 'offset'), 'expected an integer');
      }
      w.tag(1, WireType.VARINT).uint32(offset >= 0 ? offset * 2 : -offset * 2 - 1);
    }
    const counts = arrayField(b, 'bucketCounts', p);
    for (let i = 0; i < counts.length; i++) {
      w.tag(2, WireType.VARINT).uint64(uint64Value(counts[i], `${p}.bucketCounts[${i}]`));
    }
    w.closeMessage();
  }
  writeUint32(w, 10, o, 'flags', path);
  writeExemplars(w, 11, o, path);
  writeDouble(w, 12, o, 'min', path);
  writeDouble(w, 13, o, 'max', path);
  writeDouble(w, 14, o, 'zeroThreshold', path);
}

function writeLogRecord(w: ProtoWriter, o: JsonObject, path: string): void {
  writeFixed64(w, 1, o, 'timeUnixNano', path);
  writeEnum(w, 2, o, 'severityNumber', path, SEVERITY_NUMBER_NAMES);
  writeString(w, 3, o, 'severityText', path);
  const body = objectField(o, 'body', path);
  if (body !== undefined) {
    w.openMessage(5);
    writeAnyValue(w, body, `${path}.body`, 1);
    w.closeMessage();
  }
  writeAttributes(w, 6, o, path);
  writeUint32(w, 7, o, 'droppedAttributesCount', path);
  writeFixed32(w, 8, o, 'flags', path);
  writeId(w, 9, o, 'traceId', path);
  writeId(w, 10, o, 'spanId', path);
  writeFixed64(w, 11, o, 'observedTimeUnixNano', path);
  writeString(w, 12, o, 'eventName', path);
}

function writeSpan(w: ProtoWriter, o: JsonObject, path: string): void {
  writeId(w, 1, o, 'traceId', path);
  writeId(w, 2, o, 'spanId', path);
  writeString(w, 3, o, 'traceState', path);
  writeId(w, 4, o, 'parentSpanId', path);
  writeString(w, 5, o, 'name', path);
  writeEnum(w, 6, o, 'kind', path, SPAN_KIND_NAMES);
  writeFixed64(w, 7, o, 'startTimeUnixNano', path);
  writeFixed64(w, 8, o, 'endTimeUnixNano', path);
  writeAttributes(w, 9, o, path);
  writeUint32(w, 10, o, 'droppedAttributesCount', path);
  const events = arrayField(o, 'events', path);
  for (let i = 0; i < events.length; i++) {
    const p = `${path}.events[${i}]`;
    const e = elementObject(events[i], p);
    w.openMessage(11);
    writeFixed64(w, 1, e, 'timeUnixNano', p);
    writeString(w, 2, e, 'name', p);
    writeAttributes(w, 3, e, p);
    writeUint32(w, 4, e, 'droppedAttributesCount', p);
    w.closeMessage();
  }
  writeUint32(w, 12, o, 'droppedEventsCount', path);
  const links = arrayField(o, 'links', path);
  for (let i = 0; i < links.length; i++) {
    const p = `${path}.links[${i}]`;
    const l = elementObject(links[i], p);
    w.openMessage(13);
    writeId(w, 1, l, 'traceId', p);
    writeId(w, 2, l, 'spanId', p);
    writeString(w, 3, l, 'traceState', p);
    writeAttributes(w, 4, l, p);
    writeUint32(w, 5, l, 'droppedAttributesCount', p);
    writeFixed32(w, 6, l, 'flags', p);
    w.closeMessage();
  }
  writeUint32(w, 14, o, 'droppedLinksCount', path);
  const status = objectField(o, 'status', path);
  if (status !== undefined) {
    const p = `${path}.status`;
    w.openMessage(15);
    writeString(w, 2, status, 'message', p);
    writeEnum(w, 3, status, 'code', p, STATUS_CODE_NAMES);
    w.closeMessage();
  }
  writeFixed32(w, 16, o, 'flags', path);
}

/** Writes `o.attributes` (repeated KeyValue) as field `field`. */
function writeAttributes(w: ProtoWriter, field: number, o: JsonObject, path: string): void {
  const attributes = arrayField(o, 'attributes', path);
  for (let i = 0; i < attributes.length; i++) {
    const p = `${path}.attributes[${i}]`;
    w.openMessage(field);
    writeKeyValue(w, elementObject(attributes[i], p), p, 1);
    w.closeMessage();
  }
}

/** Writes a KeyValue's fields; its value is at AnyValue nesting level `depth`. */
function writeKeyValue(w: ProtoWriter, o: JsonObject, path: string, depth: number): void {
  writeString(w, 1, o, 'key', path);
  const value = objectField(o, 'value', path);
  if (value !== undefined) {
    w.openMessage(2);
    writeAnyValue(w, value, `${path}.value`, depth);
    w.closeMessage();
  }
}

const ANY_VALUE_KEYS = [
  'stringValue',
  'boolValue',
  'intValue',
  'doubleValue',
  'arrayValue',
  'kvlistValue',
  'bytesValue',
] as const;

/** Writes an AnyValue's fields (at most one: it is a oneof). */
function writeAnyValue(w: ProtoWriter, o: JsonObject, path: string, depth: number): void {
  if (depth > JSON_MAX_NESTING) return; // cut: see JSON_MAX_NESTING
  let which: (typeof ANY_VALUE_KEYS)[number] | undefined;
  for (const key of ANY_VALUE_KEYS) {
    if (o[key] === undefined || o[key] === null) continue;
    if (which !== undefined) {
      throw new OtlpJsonError(path, `more than one value set (${which}, ${key})`);
    }
    which = key;
  }
  if (which === undefined) return; // the empty AnyValue
  const v = o[which];
  // Paths are built only on the way to an error, except below arrays and kvlists.
  switch (which) {
    case 'stringValue':
      if (!isString(v)) fail(at(path, which), 'expected a string');
      w.stringField(1, v);
      return;
    case 'boolValue':
      if (typeof v !== 'boolean') fail(at(path, which), 'expected a boolean');
      w.tag(2, WireType.VARINT).bool(v);
      return;
    case 'intValue':
      w.tag(3, WireType.VARINT).int64(int64Value(v, path, which));
      return;
    case 'doubleValue':
      w.tag(4, WireType.I64).double(doubleValue(v, path, which));
      return;
    case 'arrayValue': {
      const p = at(path, which);
      if (!isObject(v)) fail(p, 'expected an object');
      const values = arrayField(v, 'values', p);
      w.openMessage(5);
      for (let i = 0; i < values.length; i++) {
        const ep = `${p}.values[${i}]`;
        w.openMessage(1);
        writeAnyValue(w, elementObject(values[i], ep), ep, depth + 1);
        w.closeMessage();
      }
      w.closeMessage();
      return;
    }
    case 'kvlistValue': {
      const p = at(path, which);
      if (!isObject(v)) fail(p, 'expected an object');
      const values = arrayField(v, 'values', p);
      w.openMessage(6);
      for (let i = 0; i < values.length; i++) {
        const ep = `${p}.values[${i}]`;
        w.openMessage(1);
        writeKeyValue(w, elementObject(values[i], ep), ep, depth + 1);
        w.closeMessage();
      }
      w.closeMessage();
      return;
    }
    case 'bytesValue':
      if (typeof v !== 'string' || !BASE64.test(v))
        fail(at(path, which), 'expected a base64 string');
      w.bytesField(7, Buffer.from(v, 'base64'));
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Field helpers. Each reads `o[key]`, validates it, and writes it unless absent or default.

function fail(path: string, problem: string): never {
  throw new OtlpJsonError(path, problem);
}

function at(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** A string the client sent (not a long integer that the parser turned into one). */
function isString(v: unknown): v is string {
  return typeof v === 'string' && markedInteger(v, integerMarker) === undefined;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function objectField(o: JsonObject, key: string, path: string): JsonObject | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) fail(at(path, key), 'expected an object');
  return v;
}

function arrayField(o: JsonObject, key: string, path: string): readonly unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(at(path, key), 'expected an array');
  return v;
}

function elementObject(v: unknown, path: string): JsonObject {
  if (!isObject(v)) fail(path, 'expected an object');
  return v;
}

function writeString(w: ProtoWriter, field: number, o: JsonObject, key: string, path: string) {
  const v = o[key];
  if (v === undefined || v === null) return;
  if (!isString(v)) fail(at(path, key), 'expected a string');
  if (v !== '') w.stringField(field, v);
}

/** A trace or span id: hex of any even length (the decoder judges the length). */
function writeId(w: ProtoWriter, field: number, o: JsonObject, key: string, path: string) {
  const v = o[key];
  if (v === undefined || v === null) return;
  if (typeof v !== 'string' || !HEX.test(v)) fail(at(path, key), 'expected a hex string');
  if (v.length % 2 !== 0) fail(at(path, key), 'expected a hex string of even length');
  if (v !== '') w.bytesField(field, Buffer.from(v, 'hex'));
}

function writeUint32(w: ProtoWriter, field: number, o: JsonObject, key: string, path: string) {
  const v = o[key];
  if (v === undefined || v === null) return;
  const n = uint32Value(v, at(path, key));
  if (n !== 0) w.tag(field, WireType.VARINT).uint32(n);
}

function writeFixed32(w: ProtoWriter, field: number, o: JsonObject, key: string, path: string) {
  const v = o[key];
  if (v === undefined || v === null) return;
  const n = uint32Value(v, at(path, key));
  if (n !== 0) w.tag(field, WireType.I32).fixed32(n);
}

function writeFixed64(w: ProtoWriter, field: number, o: JsonObject, key: string, path: string) {
  const v = o[key];
  if (v === undefined || v === null) return;
  const n = uint64Value(v, at(path, key));
  if (n !== 0n) w.tag(field, WireType.I64).fixed64(n);
}

function writeEnum(
  w: ProtoWriter,
  field: number,
  o: JsonObject,
  key: string,
  path: string,
  names: Record<string, number>,
) {
  const v = o[key];
  if (v === undefined || v === null) return;
  let n: number | undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) n = v;
  else if (typeof v === 'string' && Object.hasOwn(names, v)) n = names[v];
  if (n === undefined) fail(at(path, key), 'expected an enum integer');
  if (n !== 0) w.tag(field, WireType.VARINT).int32(n);
}

function uint32Value(v: unknown, path: string): number {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v < TWO_POW_32) return v;
  } else if (typeof v === 'string' && v.length <= 10 && UNSIGNED_DECIMAL.test(v)) {
    const n = Number(v);
    if (n < TWO_POW_32) return n;
  }
  return fail(path, 'expected an unsigned 32-bit integer');
}

/**
 * A JSON number that reached the converter as a double. Integer literals of more than 15 digits
 * arrive as marked strings instead (exact); what is left past 2^53 was written with a fraction
 * or an exponent, and its digits are gone: refused, as the alternative is a silently wrong value.
 */
function safeIntegerNumber(v: number, path: string, expected: string): bigint {
  if (!Number.isInteger(v)) fail(path, expected);
  if (!Number.isSafeInteger(v)) {
    fail(
      path,
      'a JSON number past 2^53 written with a fraction or exponent is not exact; ' +
        'send it as a decimal string',
    );
  }
  return BigInt(v);
}

/** A uint64 from a decimal string or a JSON number. */
function uint64Value(v: unknown, path: string): bigint {
  let b: bigint | undefined;
  if (typeof v === 'string') {
    const s = markedInteger(v, integerMarker) ?? v;
    if (!UNSIGNED_DECIMAL.test(s)) fail(path, 'expected an unsigned integer string');
    b = bigDecimal(s, 20);
  } else if (typeof v === 'number') {
    if (v < 0) fail(path, 'expected an unsigned integer string');
    b = safeIntegerNumber(v, path, 'expected an unsigned integer string');
  } else fail(path, 'expected an unsigned integer string');
  if (b === undefined || b > UINT64_MAX) fail(path, 'out of the uint64 range');
  return b;
}

/** The int64 in `v`, the value of field `key` of the object at `parent` (for error paths). */
function int64Value(v: unknown, parent: string, key: string): bigint | number {
  let b: bigint | undefined;
  if (typeof v === 'string') {
    const s = markedInteger(v, integerMarker) ?? v;
    if (!SIGNED_DECIMAL.test(s)) fail(at(parent, key), 'expected an integer string');
    // Up to 15 digits is exact as a double: skip BigInt for the common small values.
    if (s.length <= 15) return Number(s);
    b = bigDecimal(s, 20);
  } else if (typeof v === 'number') {
    b = safeIntegerNumber(v, at(parent, key), 'expected an integer string');
  } else fail(at(parent, key), 'expected an integer string');
  if (b === undefined || b < INT64_MIN || b > INT64_MAX)
    fail(at(parent, key), 'out of the int64 range');
  return b;
}

/**
 * Parses a validated decimal string, or returns `undefined` when it has more than `maxDigits`
 * significant digits (out of range anyway): BigInt parsing of a megabyte of digits is not
 * linear, and hostile input must not get to ask for it.
 */
function bigDecimal(s: string, maxDigits: number): bigint | undefined {
  const negative = s.charCodeAt(0) === 0x2d;
  let i = negative ? 1 : 0;
  while (i < s.length - 1 && s.charCodeAt(i) === 0x30) i++;
  if (s.length - i > maxDigits) return undefined;
  const b = BigInt(s.slice(i));
  return negative ? -b : b;
}

function doubleValue(v: unknown, parent: string, key: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    // A long integer literal: the double JSON.parse would have made of it.
    const digits = markedInteger(v, integerMarker);
    if (digits !== undefined) return Number(digits);
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (DOUBLE_STRING.test(v)) return Number(v);
  }
  return fail(at(parent, key), 'expected a number');
}
