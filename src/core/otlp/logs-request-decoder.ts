/**
 * Decodes a protobuf `ExportLogsServiceRequest` into `LogRecordEntry`s.
 *
 * Unlike spans, a log record is read whole when it is read at all (its body and attributes are
 * what a user looks at), so it is decoded in full at ingest into the OTLP JSON shape; its bytes
 * are kept too (`raw`), for the persistence log's compaction and for export.
 *
 * Error policy, the trace decoder's (OTLP partial success):
 * - broken framing of the request, a ResourceLogs or a ScopeLogs throws `ProtoDecodeError`;
 * - a record that is well delimited but invalid (malformed inside, ids of the wrong length,
 *   a severity outside 0-24, too many attributes, a body or value nested deeper than
 *   `MAX_ANY_VALUE_DEPTH`, which the value reader refuses) is rejected alone and counted, with
 *   the reason; the rest are accepted;
 * - a resource or scope that is malformed or has too many attributes rejects its records.
 * All-zero trace and span ids mean "no span context", as the specification says.
 */
import { ProtoDecodeError, ProtoReader, WireType, hexOf } from './proto-reader.js';
import type { AnyValueJson, KeyValueJson, ResourceInfo, ScopeInfo } from '../model.js';
import { readAnyValue, readKeyValue } from './span-details.js';
import {
  forEachResource,
  forEachScope,
  isAllZero,
  reject,
  rejectScope,
  type EnvelopeNames,
} from './envelope.js';
import { DecodeCache, DEFAULT_DECODE_LIMITS, type DecodeLimits } from './trace-request-decoder.js';

/** One stored log record, in the OTLP JSON shape where it has one. */
export interface LogRecordEntry {
  /** `time_unix_nano`, exact decimal; '0' when unknown. */
  readonly timeUnixNano: string;
  readonly observedTimeUnixNano: string;
  /** The record's time in ms: its own time, else the observed time, else when it arrived. */
  readonly timeMs: number;
  /** 0 (unspecified) to 24 (FATAL4). */
  readonly severityNumber: number;
  readonly severityText: string;
  /** The body; undefined when the record has none. */
  readonly body: AnyValueJson | undefined;
  readonly attributes: readonly KeyValueJson[];
  readonly droppedAttributesCount: number;
  readonly flags: number;
  /** Lowercase hex; '' when the record has no span context. */
  readonly traceId: string;
  readonly spanId: string;
  readonly eventName: string;
  readonly resource: ResourceInfo;
  readonly scope: ScopeInfo;
  /** The record's own encoding (a `LogRecord` message). */
  readonly raw: Uint8Array;
  /** What it costs the memory budget (see `RECORD_OVERHEAD_BYTES`). */
  readonly bytes: number;
}

export interface DecodedLogs {
  records: LogRecordEntry[];
  /** Records refused individually (partial success: `rejected_log_records`). */
  rejected: number;
  rejectReasons: string[];
}

/** Highest severity number the specification defines (FATAL4). */
export const MAX_SEVERITY_NUMBER = 24;

class RecordRejection extends Error {}

/**
 * Decodes one `ExportLogsServiceRequest`. Throws `ProtoDecodeError` when its framing is broken;
 * invalid records inside a well-formed request are counted in `rejected`.
 */
export function decodeLogsRequest(
  bytes: Uint8Array,
  cache: DecodeCache = new DecodeCache(),
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
  nowMs: number = Date.now(),
): DecodedLogs {
  const out: DecodedLogs = { records: [], rejected: 0, rejectReasons: [] };
  forEachResource(bytes, 'ExportLogsServiceRequest.resource_logs', (r, end) =>
    decodeResourceLogs(r, end, cache, limits, nowMs, out),
  );
  return out;
}

const LOG_ENVELOPE: EnvelopeNames = {
  resourceList: 'ResourceLogs',
  scopeList: 'ScopeLogs',
  scopesField: 'scope_logs',
  itemsField: 'log_records',
};

function decodeResourceLogs(
  r: ProtoReader,
  end: number,
  cache: DecodeCache,
  limits: DecodeLimits,
  nowMs: number,
  out: DecodedLogs,
): void {
  const outerEnd = r.end;
  forEachScope(r, end, cache, limits.maxAttributesPerSpan, LOG_ENVELOPE, (scopeEnd, ctx, why) => {
    if (ctx === undefined) rejectScope(r, scopeEnd, why, out);
    else decodeScopeLogs(r, scopeEnd, ctx.resource, ctx.scope, limits, nowMs, out);
  });
  r.end = outerEnd;
}

/** The records of the ScopeLogs at [r.pos, end), whose resource and scope are known. */
function decodeScopeLogs(
  r: ProtoReader,
  end: number,
  resource: ResourceInfo,
  scope: ScopeInfo,
  limits: DecodeLimits,
  nowMs: number,
  out: DecodedLogs,
): void {
  r.end = end;
  const first = out.records.length;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag >>> 3 === 2) {
      const recordEnd = r.lengthDelimitedEnd();
      try {
        out.records.push(decodeRecord(r, recordEnd, resource, scope, limits, nowMs));
      } catch (e) {
        if (!(e instanceof RecordRejection || e instanceof ProtoDecodeError)) throw e;
        reject(
          out,
          e instanceof ProtoDecodeError ? `malformed log record: ${e.message}` : e.message,
        );
      }
      r.end = end;
      r.pos = recordEnd;
    } else {
      r.skip(tag & 7);
    }
  }
  // The accepted records' bytes (`raw`, views of the request so far) move into one buffer of
  // exactly their size: one allocation per ScopeLogs rather than one per record, and neither
  // the request nor the bytes of records refused beside them stay held.
  let total = 0;
  for (let i = first; i < out.records.length; i++) total += out.records[i]!.raw.length;
  const kept = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = first; i < out.records.length; i++) {
    const rec = out.records[i] as { raw: Uint8Array };
    kept.set(rec.raw, at);
    rec.raw = kept.subarray(at, at + rec.raw.length);
    at += rec.raw.length;
  }
}

/**
 * A stored record costs its encoding three times over (the bytes kept, and the decoded strings
 * and objects, about twice the encoding) plus this fixed part (the entry, its arrays, index
 * slots).
 */
const RECORD_OVERHEAD_BYTES = 160;
const RECORD_BYTES_PER_ENCODED_BYTE = 3;

/** The id at the reader (a LEN field after its tag), '' when all zero; rejects other lengths. */
function readId(r: ProtoReader, size: number, what: string): string {
  const e = r.lengthDelimitedEnd();
  const n = e - r.pos;
  if (n === 0) return '';
  if (n !== size) throw new RecordRejection(`${what} must be ${size} bytes, got ${n}`);
  const id = isAllZero(r.buf, r.pos, e) ? '' : hexOf(r.buf, r.pos, e);
  r.pos = e;
  return id;
}

/** Reads the sub-message at the reader (after its tag) with `read`. */
function nested<T>(r: ProtoReader, read: () => T): T {
  const end = r.lengthDelimitedEnd();
  const saved = r.end;
  r.end = end;
  const v = read();
  r.end = saved;
  r.pos = end;
  return v;
}

function decodeRecord(
  r: ProtoReader,
  end: number,
  resource: ResourceInfo,
  scope: ScopeInfo,
  limits: DecodeLimits,
  nowMs: number,
): LogRecordEntry {
  const start = r.pos;
  r.end = end;
  let time = '0';
  let observed = '0';
  let timeNs = 0;
  let observedNs = 0;
  let severityNumber = 0;
  let severityText = '';
  let body: AnyValueJson | undefined;
  const attributes: KeyValueJson[] = [];
  let dropped = 0;
  let flags = 0;
  let traceId = '';
  let spanId = '';
  let eventName = '';
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        r.expect(tag, WireType.I64, 'LogRecord.time_unix_nano');
        time = r.fixed64String();
        timeNs = Number(time);
        break;
      case 11:
        r.expect(tag, WireType.I64, 'LogRecord.observed_time_unix_nano');
        observed = r.fixed64String();
        observedNs = Number(observed);
        break;
      case 2:
        r.expect(tag, WireType.VARINT, 'LogRecord.severity_number');
        severityNumber = r.uint32();
        if (severityNumber > MAX_SEVERITY_NUMBER) {
          throw new RecordRejection(
            `severity_number must be 0 to ${MAX_SEVERITY_NUMBER}, got ${severityNumber}`,
          );
        }
        break;
      case 3:
        r.expect(tag, WireType.LEN, 'LogRecord.severity_text');
        severityText = r.string();
        break;
      case 5:
        r.expect(tag, WireType.LEN, 'LogRecord.body');
        body = nested(r, () => readAnyValue(r, 1));
        break;
      case 6:
        r.expect(tag, WireType.LEN, 'LogRecord.attributes');
        if (attributes.length >= limits.maxAttributesPerSpan) {
          throw new RecordRejection(
            `log record has more than ${limits.maxAttributesPerSpan} attributes`,
          );
        }
        attributes.push(nested(r, () => readKeyValue(r, 1)));
        break;
      case 7:
        r.expect(tag, WireType.VARINT, 'LogRecord.dropped_attributes_count');
        dropped = r.uint32();
        break;
      case 8:
        r.expect(tag, WireType.I32, 'LogRecord.flags');
        flags = r.fixed32();
        break;
      case 9:
        r.expect(tag, WireType.LEN, 'LogRecord.trace_id');
        traceId = readId(r, 16, 'trace_id');
        break;
      case 10:
        r.expect(tag, WireType.LEN, 'LogRecord.span_id');
        spanId = readId(r, 8, 'span_id');
        break;
      case 12:
        r.expect(tag, WireType.LEN, 'LogRecord.event_name');
        eventName = r.string();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  // A span id means nothing without its trace.
  if (traceId === '') spanId = '';
  const ns = timeNs > 0 ? timeNs : observedNs;
  return {
    timeUnixNano: time,
    observedTimeUnixNano: observed,
    timeMs: ns > 0 ? ns / 1e6 : nowMs,
    severityNumber,
    severityText,
    body,
    attributes,
    droppedAttributesCount: dropped,
    flags,
    traceId,
    spanId,
    eventName,
    resource,
    scope,
    raw: r.buf.subarray(start, end),
    bytes: (end - start) * RECORD_BYTES_PER_ENCODED_BYTE + RECORD_OVERHEAD_BYTES,
  };
}
