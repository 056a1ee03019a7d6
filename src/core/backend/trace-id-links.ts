/**
 * Trace ids in terminal output and log files, found so that the editor can make them links that
 * open the trace: `trace_id=<32 hex>` (and `traceId`, `trace.id`, `"trace_id": "..."`), a W3C
 * `traceparent` value `00-<32 hex>-<16 hex>-<2 hex>`, and a bare 32-hex id when the word "trace"
 * comes shortly before it on the line. An id inside a longer run of letters or digits is not one
 * (a SHA-256, a UUID without dashes glued to more text), and neither is the all-zero id.
 *
 * Cost: one pass of one regular expression whose alternatives each anchor on a fixed prefix or a
 * boundary and read at most a few dozen characters, so time is linear in the line; lines are read
 * up to {@link MAX_SCANNED_CHARS} (a minified bundle or a base64 blob in a log is not searched to
 * its end).
 */

export interface TraceIdLink {
  /** Offset of the id's first hex digit in the line. */
  readonly start: number;
  /** Offset just past the id. */
  readonly end: number;
  /** Lowercase, 32 hex digits. */
  readonly traceId: string;
}

/** Characters of a line searched at most. */
export const MAX_SCANNED_CHARS = 64 * 1024;
/** How far before a bare id the word "trace" may be. */
const NEAR_CHARS = 48;

const HEX32 = '[0-9a-fA-F]{32}';
const PATTERN = new RegExp(
  [
    // traceparent: version 00, trace id, parent id, flags.
    `(?<![0-9A-Za-z-])00-(${HEX32})-[0-9a-fA-F]{16}-[0-9a-fA-F]{2}(?![0-9A-Za-z])`,
    // A key naming a trace id, then = or :, optionally quoted.
    `trace[_.-]?id["']?\\s{0,4}[=:]\\s{0,4}["']?(${HEX32})(?![0-9A-Za-z])`,
    // A bare id (the word "trace" must come before it; checked below).
    `(?<![0-9A-Za-z])(${HEX32})(?![0-9A-Za-z])`,
  ].join('|'),
  'gi',
);
const NEAR = /trace/i;
const ZERO = /^0+$/;

/** The trace ids in one line, left to right. */
export function findTraceIdLinks(line: string): TraceIdLink[] {
  const text = line.length > MAX_SCANNED_CHARS ? line.slice(0, MAX_SCANNED_CHARS) : line;
  const out: TraceIdLink[] = [];
  PATTERN.lastIndex = 0;
  for (let m = PATTERN.exec(text); m !== null; m = PATTERN.exec(text)) {
    const id = m[1] ?? m[2] ?? m[3]!;
    const start = m.index + m[0].indexOf(id);
    if (m[3] !== undefined && !NEAR.test(text.slice(Math.max(0, start - NEAR_CHARS), start))) {
      continue;
    }
    if (ZERO.test(id)) continue;
    out.push({ start, end: start + 32, traceId: id.toLowerCase() });
  }
  return out;
}
