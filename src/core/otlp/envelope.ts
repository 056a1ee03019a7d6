/**
 * The envelope every OTLP export request shares (`Resource<Signal>s` holding a resource and
 * `Scope<Signal>s`, each holding a scope and the items: spans, log records), read the same way by
 * the trace and the logs decoders: where the header fields lie, how often a field occurs. The
 * fields of a message may come in any order on the wire, so each decoder notes where its parts
 * are first (tags and lengths only) and decodes the resource and scope before the items.
 */
import { type ProtoReader, WireType } from './proto-reader.js';

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
