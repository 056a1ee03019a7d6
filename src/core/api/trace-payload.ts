/**
 * Builds the waterfall's columnar `TracePayload` from a stored trace and its analysis, and maps
 * payload rows back to spans for the host's details and go-to-source requests.
 *
 * Invariant shared with the webview: row `i` of a payload is `analysis.tree.spans[i]`, i.e. the
 * tree's pre-order DFS (roots by start time, children by start time). A span's subtree is
 * therefore the contiguous run of rows after it with a greater depth, and the host needs no
 * row table of its own: the analysis it built the payload from is the table.
 *
 * Pure and plain Node: no `vscode`, no I/O.
 */

import type { TraceAnalysis } from '../analysis/analyze-trace.js';
import type { SpanRecord } from '../model.js';
import { attributeValue } from '../otlp/span-details.js';
import type { TraceEntry, TraceSummary } from '../store/trace-store.js';
import { SpanFlag, type TracePayload, type TraceSummaryPayload } from '../../protocol/messages.js';

export interface TracePayloadOptions {
  /**
   * Whether a span maps to a source line by means other than its `code.*` attributes (a
   * matched span-start line, say). Called once per span without such attributes.
   */
  hasSource?: (span: SpanRecord) => boolean;
  /**
   * Version to stamp on the payload; defaults to `entry.version`. Details requests carry it
   * back, and the host answers only when it still matches.
   */
  version?: number;
}

/** The attribute keys that name a span's source file, newest convention first. */
export const SOURCE_FILE_KEYS = ['code.file.path', 'code.filepath'] as const;
/** The attribute keys that name a span's source line, paired with {@link SOURCE_FILE_KEYS}. */
export const SOURCE_LINE_KEYS = ['code.line.number', 'code.lineno'] as const;

/**
 * The payload of one trace. O(n) over the analysis's row columns (the payload's rows are the
 * tree's rows, so no span id is looked up per row) plus, per span, a check of its bytes for
 * the source attributes.
 */
export function buildTracePayload(
  entry: TraceEntry,
  analysis: TraceAnalysis,
  opts: TracePayloadOptions = {},
): TracePayload {
  const tree = analysis.tree;
  const cp = analysis.criticalPath;
  const spans = tree.spans;
  const n = spans.length;
  const t0 = tree.startMs;

  const parent = tree.parentRow.slice();
  const depth = new Uint16Array(n);
  const start = new Float64Array(n);
  const duration = new Float64Array(n);
  const criticalMs = cp.ownMs.slice();
  const selfMs = analysis.selfMs.slice();
  const name = new Uint32Array(n);
  const service = new Uint32Array(n);
  const kind = new Uint8Array(n);
  const flags = new Uint8Array(n);
  const names = new Interner();
  const services = new Interner();
  const { spanStartMs, spanEndMs, adopted, shiftMs, declaredParentRow } = tree;
  // Spans of a batch share their resource: its service's id is looked up once per run of them.
  let lastResource: SpanRecord['resource'] | undefined;
  let lastService = 0;

  for (let i = 0; i < n; i++) {
    const span = spans[i] as SpanRecord;
    // Uint16 depth: a deeper chain (malformed or pathological) is clamped, not wrapped, so the
    // "subtree = following rows with greater depth" rule degrades gracefully.
    depth[i] = Math.min(tree.depth[i] as number, 0xffff);
    const s = spanStartMs[i] as number;
    const e = spanEndMs[i] as number;
    start[i] = s - t0;
    duration[i] = Math.max(0, e - s);
    name[i] = names.id(span.name);
    if (span.resource !== lastResource) {
      lastResource = span.resource;
      lastService = services.id(span.serviceName);
    }
    service[i] = lastService;
    kind[i] = span.kind & 0xff;
    let f = 0;
    if (span.isError) f |= SpanFlag.ERROR;
    if ((criticalMs[i] as number) > 0) f |= SpanFlag.CRITICAL;
    if (adopted[i] === 1) f |= SpanFlag.ADOPTED;
    if (declaredParentRow[i] === -1 && span.parentSpanId !== '') f |= SpanFlag.ORPHAN;
    if (shiftMs[i] !== 0) f |= SpanFlag.CLOCK_ADJUSTED;
    if (sourceFileOf(span) !== undefined || opts.hasSource?.(span) === true)
      f |= SpanFlag.HAS_SOURCE;
    flags[i] = f;
  }

  const segCount = cp.segmentRow.length;
  const criticalPath = new Float64Array(segCount * 3);
  for (let k = 0; k < segCount; k++) {
    criticalPath[k * 3] = cp.segmentRow[k] as number;
    criticalPath[k * 3 + 1] = (cp.segmentStartMs[k] as number) - t0;
    criticalPath[k * 3 + 2] = (cp.segmentEndMs[k] as number) - t0;
  }

  const waits = analysis.queueWaits;
  const queueWaits = new Float64Array(waits.length * 4);
  const queueNames: string[] = [];
  for (let k = 0; k < waits.length; k++) {
    const w = waits[k]!;
    queueWaits[k * 4] = tree.rowOf(w.producer.spanId);
    queueWaits[k * 4 + 1] = tree.rowOf(w.consumer.spanId);
    // The reported (lower-bound) wait ends where the consumer starts; 0 when they overlapped.
    queueWaits[k * 4 + 2] = w.consumer.startMs - w.waitMs - t0;
    queueWaits[k * 4 + 3] = w.consumer.startMs - t0;
    queueNames.push(w.queue);
  }

  return {
    traceId: tree.traceId || entry.traceId,
    version: opts.version ?? entry.version,
    startMs: t0,
    durationMs: Math.max(0, tree.endMs - t0),
    spanCount: n,
    parent,
    depth,
    start,
    duration,
    criticalMs,
    selfMs,
    name,
    names: names.values,
    service,
    services: services.values,
    kind,
    flags,
    criticalPath,
    queueWaits,
    queueNames,
    gapMs: cp.gapMs,
  };
}

/** The trace list's row for a trace. */
export function traceSummaryPayload(summary: TraceSummary): TraceSummaryPayload {
  return {
    traceId: summary.traceId,
    rootService: summary.rootService,
    rootName: summary.rootName,
    startMs: summary.startMs,
    durationMs: summary.durationMs,
    spanCount: summary.spanCount,
    errorCount: summary.errorCount,
  };
}

/** The span shown at `row` of a payload built from `analysis`; undefined when out of range. */
export function spanAtRow(analysis: TraceAnalysis, row: number): SpanRecord | undefined {
  return Number.isInteger(row) && row >= 0 ? analysis.tree.spans[row] : undefined;
}

/** The row of a span in a payload built from `analysis`, or -1 when it is not in the trace. */
export function rowOfSpan(analysis: TraceAnalysis, spanId: string): number {
  return analysis.tree.rowOf(spanId);
}

/**
 * The bytes every key of {@link SOURCE_FILE_KEYS} starts with. Protobuf stores an attribute key
 * as its UTF-8 bytes verbatim, so a span whose bytes do not contain them has none of the keys.
 */
const SOURCE_KEY_PREFIX = Buffer.from(
  SOURCE_FILE_KEYS.reduce<string>((prefix, key) => {
    let i = 0;
    while (i < prefix.length && i < key.length && prefix[i] === key[i]) i++;
    return prefix.slice(0, i);
  }, SOURCE_FILE_KEYS[0]),
  'utf8',
);

/**
 * The source file a span's `code.*` attributes name, or undefined. Malformed span bytes read as
 * "no attribute": one bad span must not cost the trace its waterfall.
 *
 * Called for every span of a payload, and most spans have no `code.*` attributes: a native
 * byte search for the keys' common prefix rules them out before any decoding (an exact
 * pre-filter: it only skips spans that cannot have the attribute).
 */
export function sourceFileOf(span: SpanRecord): string | undefined {
  const raw = span.raw;
  if (raw.length === 0) return undefined;
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  if (bytes.indexOf(SOURCE_KEY_PREFIX) < 0) return undefined;
  for (const key of SOURCE_FILE_KEYS) {
    const v = safeAttribute(span, key);
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

export function safeAttribute(
  span: SpanRecord,
  key: string,
): string | number | boolean | undefined {
  try {
    return attributeValue(span, key);
  } catch {
    return undefined;
  }
}

/** Dense ids for repeated strings (span names, services), in first-seen order. */
class Interner {
  readonly values: string[] = [];
  private readonly ids = new Map<string, number>();

  id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(s);
      this.ids.set(s, id);
    }
    return id;
  }
}
