// Reference for analysis-columnar.test.ts, what the rewrite must equal:
// src/core/api/trace-payload.ts as of 7f90976 (before the columnar rewrite),
// unchanged but for its imports.
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

import type { TraceAnalysis } from './analyze-trace.js';
import type { SpanRecord } from '../../../../src/core/model.js';
import { attributeValue } from '../../../../src/core/otlp/span-details.js';
import type { TraceEntry, TraceSummary } from '../../../../src/core/store/trace-store.js';
import {
  SpanFlag,
  type TracePayload,
  type TraceSummaryPayload,
} from '../../../../src/protocol/messages.js';

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
 * The payload of one trace. O(n) over the analysis plus one attribute scan per span for the
 * source flag (attributes stay in the span's bytes; only the key bytes are compared).
 */
export function buildTracePayload(
  entry: TraceEntry,
  analysis: TraceAnalysis,
  opts: TracePayloadOptions = {},
): TracePayload {
  const tree = analysis.tree;
  const spans = tree.spans;
  const n = spans.length;
  const rows = rowIndex(analysis);
  const t0 = tree.startMs;

  const parent = new Int32Array(n);
  const depth = new Uint16Array(n);
  const start = new Float64Array(n);
  const duration = new Float64Array(n);
  const criticalMs = new Float64Array(n);
  const selfMs = new Float64Array(n);
  const name = new Uint32Array(n);
  const service = new Uint32Array(n);
  const kind = new Uint8Array(n);
  const flags = new Uint8Array(n);
  const names = new Interner();
  const services = new Interner();

  for (let i = 0; i < n; i++) {
    const span = spans[i] as SpanRecord;
    const p = tree.parentOf(span);
    parent[i] = p === undefined ? -1 : (rows.get(p.spanId) ?? -1);
    // Uint16 depth: a deeper chain (malformed or pathological) is clamped, not wrapped, so the
    // "subtree = following rows with greater depth" rule degrades gracefully.
    depth[i] = Math.min(tree.depthOf(span.spanId), 0xffff);
    start[i] = span.startMs - t0;
    duration[i] = Math.max(0, span.endMs - span.startMs);
    criticalMs[i] = analysis.criticalPath.bySpan.get(span.spanId) ?? 0;
    selfMs[i] = analysis.selfTimes.get(span.spanId) ?? 0;
    name[i] = names.id(span.name);
    service[i] = services.id(span.serviceName);
    kind[i] = span.kind & 0xff;
    let f = 0;
    if (span.isError) f |= SpanFlag.ERROR;
    if ((criticalMs[i] as number) > 0) f |= SpanFlag.CRITICAL;
    if (tree.isAdopted(span.spanId)) f |= SpanFlag.ADOPTED;
    if (span.parentSpanId !== '' && !tree.byId.has(span.parentSpanId)) f |= SpanFlag.ORPHAN;
    if (tree.clockShiftOf(span.spanId) !== 0) f |= SpanFlag.CLOCK_ADJUSTED;
    if (sourceFileOf(span) !== undefined || opts.hasSource?.(span) === true)
      f |= SpanFlag.HAS_SOURCE;
    flags[i] = f;
  }

  const segs = analysis.criticalPath.segments;
  const criticalPath = new Float64Array(segs.length * 3);
  for (let k = 0; k < segs.length; k++) {
    const seg = segs[k]!;
    criticalPath[k * 3] = seg.spanId === null ? -1 : (rows.get(seg.spanId) ?? -1);
    criticalPath[k * 3 + 1] = seg.startMs - t0;
    criticalPath[k * 3 + 2] = seg.endMs - t0;
  }

  const waits = analysis.queueWaits;
  const queueWaits = new Float64Array(waits.length * 4);
  const queueNames: string[] = [];
  for (let k = 0; k < waits.length; k++) {
    const w = waits[k]!;
    queueWaits[k * 4] = rows.get(w.producer.spanId) ?? -1;
    queueWaits[k * 4 + 1] = rows.get(w.consumer.spanId) ?? -1;
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
    gapMs: analysis.criticalPath.gapMs,
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
  return rowIndex(analysis).get(spanId) ?? -1;
}

// An analysis is immutable, so its row index can be cached for as long as it lives.
const rowIndexes = new WeakMap<TraceAnalysis, Map<string, number>>();

function rowIndex(analysis: TraceAnalysis): Map<string, number> {
  let index = rowIndexes.get(analysis);
  if (index === undefined) {
    index = new Map();
    const spans = analysis.tree.spans;
    for (let i = 0; i < spans.length; i++) index.set((spans[i] as SpanRecord).spanId, i);
    rowIndexes.set(analysis, index);
  }
  return index;
}

/**
 * The source file a span's `code.*` attributes name, or undefined. Malformed span bytes read as
 * "no attribute": one bad span must not cost the trace its waterfall.
 */
export function sourceFileOf(span: SpanRecord): string | undefined {
  if (span.raw.length === 0) return undefined;
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
