/**
 * The envelope every OTLP export request shares (`Resource<Signal>s` holding a resource and
 * `Scope<Signal>s`, each holding a scope and the items: spans, log records), read the same way by
 * the trace and the logs decoders: where the header fields lie, how often a field occurs. The
 * fields of a message may come in any order on the wire, so each decoder notes where its parts
 * are first (tags and lengths only) and decodes the resource and scope before the items.
 */
import { ProtoDecodeError, ProtoReader, WireType } from './proto-reader.js';
import type { ResourceInfo, ScopeInfo } from '../model.js';

/**
 * The first pass over a ResourceSpans / ResourceLogs or a ScopeSpans / ScopeLogs, whose fields
 * may come in any order: where field 1 (the resource, the scope) lies and field 3 (the schema
 * URL); `field2` is called at each field 2 (the scopes, the items) and must move past it. Other
 * fields are skipped.
 */
export function readHeader(
  r: ProtoReader,
  headerName: string,
  schemaName: string,
  field2: (tag: number) => void,
): { start: number; end: number; schemaUrl: string } {
  let start = 0;
  let end = 0;
  let schemaUrl = '';
  while (r.pos < r.end) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field === 1) {
      r.expect(tag, WireType.LEN, headerName);
      end = r.lengthDelimitedEnd();
      start = r.pos;
      r.pos = end;
    } else if (field === 2) {
      field2(tag);
    } else if (field === 3) {
      r.expect(tag, WireType.LEN, schemaName);
      schemaUrl = r.string();
    } else {
      r.skip(tag & 7);
    }
  }
  return { start, end, schemaUrl };
}

/**
 * How often field `field` occurs in the message at [start, end) (tags and lengths only); the
 * reader's position and end are left as they were. Throws `ProtoDecodeError` when malformed.
 */
export function countField(r: ProtoReader, start: number, end: number, field: number): number {
  const savedPos = r.pos;
  const savedEnd = r.end;
  r.pos = start;
  r.end = end;
  let n = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag >>> 3 === field) n++;
    r.skip(tag & 7);
  }
  r.pos = savedPos;
  r.end = savedEnd;
  return n;
}

/** True when the bytes at [start, end) are all zero (an id that means "none"). */
export function isAllZero(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Message and field names of one signal's envelope, for error messages. */
export interface EnvelopeNames {
  /** "ResourceSpans", "ResourceLogs", "ResourceMetrics". */
  resourceList: string;
  /** "ScopeSpans", ... */
  scopeList: string;
  /** "scope_spans", "scope_logs", "scope_metrics". */
  scopesField: string;
  /** "spans", "log_records", "metrics". */
  itemsField: string;
}

/** The resource and scope the items of one scope list belong to. */
export interface ScopeContext {
  resource: ResourceInfo;
  scope: ScopeInfo;
}

/** Where the envelope's resources and scopes are decoded and shared (`DecodeCache`). */
export interface EnvelopeCache {
  resource(buf: Buffer, start: number, end: number, schemaUrl: string): ResourceInfo;
  scope(buf: Buffer, start: number, end: number, schemaUrl: string): ScopeInfo;
}

/**
 * Walks one `Resource<Signal>s` message at [r.pos, end): decodes its resource, then for each
 * scope list its scope, and calls `visit` with the reader over the scope list's fields (the
 * items are its fields 2) and their resource and scope; or, when the resource or the scope is
 * malformed or has more than `maxAttributes` attributes, with `undefined` and the reason, so
 * that the caller refuses each of those items. Broken framing throws `ProtoDecodeError`. The
 * reader's position and end are left for the caller to restore.
 */
export function forEachScope(
  r: ProtoReader,
  end: number,
  cache: EnvelopeCache,
  maxAttributes: number,
  names: EnvelopeNames,
  visit: (scopeEnd: number, ctx: ScopeContext | undefined, reason: string) => void,
): void {
  r.end = end;
  const lists: number[] = [];
  const res = readHeader(
    r,
    `${names.resourceList}.resource`,
    `${names.resourceList}.schema_url`,
    (tag) => {
      r.expect(tag, WireType.LEN, `${names.resourceList}.${names.scopesField}`);
      const e = r.lengthDelimitedEnd();
      lists.push(r.pos, e);
      r.pos = e;
    },
  );
  let resource: ResourceInfo | undefined;
  let reason = '';
  try {
    // Counted before the resource is decoded in full, so an oversize one costs a skip-walk.
    if (countField(r, res.start, res.end, 1) > maxAttributes) {
      reason = `resource has more than ${maxAttributes} attributes`;
    } else {
      resource = cache.resource(r.buf, res.start, res.end, res.schemaUrl);
    }
  } catch (e) {
    if (!(e instanceof ProtoDecodeError)) throw e;
    reason = `malformed resource: ${e.message}`;
  }
  for (let i = 0; i < lists.length; i += 2) {
    const start = lists[i]!;
    const listEnd = lists[i + 1]!;
    r.pos = start;
    r.end = listEnd;
    let ctx: ScopeContext | undefined;
    let why = reason;
    if (resource !== undefined) {
      // First pass: the scope and schema URL, which may follow the items on the wire.
      const sc = readHeader(
        r,
        `${names.scopeList}.scope`,
        `${names.scopeList}.schema_url`,
        (tag) => {
          r.expect(tag, WireType.LEN, `${names.scopeList}.${names.itemsField}`);
          r.skip(WireType.LEN);
        },
      );
      try {
        if (countField(r, sc.start, sc.end, 3) > maxAttributes) {
          why = `instrumentation scope has more than ${maxAttributes} attributes`;
        } else {
          ctx = { resource, scope: cache.scope(r.buf, sc.start, sc.end, sc.schemaUrl) };
        }
      } catch (e) {
        if (!(e instanceof ProtoDecodeError)) throw e;
        why = `malformed instrumentation scope: ${e.message}`;
      }
      r.pos = start;
      r.end = listEnd;
    }
    visit(listEnd, ctx, why);
  }
}

/** Distinct reasons kept for the partial-success message; the rest are only counted. */
const MAX_REASONS = 5;

/** What partial success reports of a request: items refused one by one and the first reasons. */
export interface Rejections {
  rejected: number;
  rejectReasons: string[];
}

/** Counts one refused item, keeping its reason when it is one of the first few distinct ones. */
export function reject(out: Rejections, reason: string): void {
  out.rejected++;
  if (out.rejectReasons.length < MAX_REASONS && !out.rejectReasons.includes(reason)) {
    out.rejectReasons.push(reason);
  }
}

/** Refuses every item (field 2) of the scope list at [r.pos, end): its resource or scope is unusable. */
export function rejectScope(r: ProtoReader, end: number, reason: string, out: Rejections): void {
  r.end = end;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag >>> 3 === 2) reject(out, reason);
    r.skip(tag & 7);
  }
}

/**
 * Calls `each` with the end of every `Resource<Signal>s` (field 1) of an export request, the
 * reader at its start; `what` names the field in errors ("ExportTraceServiceRequest.resource_spans").
 */
export function forEachResource(
  bytes: Uint8Array,
  what: string,
  each: (r: ProtoReader, end: number) => void,
): void {
  const r = new ProtoReader(bytes);
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) {
      r.expect(tag, WireType.LEN, what);
      const end = r.lengthDelimitedEnd();
      each(r, end);
      r.pos = end;
      r.end = bytes.length;
    } else {
      r.skip(tag & 7);
    }
  }
}
