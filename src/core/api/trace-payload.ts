/**
 * Builds the waterfall's columnar `TracePayload` from a stored trace and its analysis, and maps
 * payload rows back to spans for the host's details and go-to-source requests.
 *
 * Invariant shared with the webview: the rows are in pre-order DFS (roots by start time,
 * children by start time), so a span's subtree is the contiguous run of rows after it with a
 * greater depth. The rows are the tree's rows, except that the orphans naming the same missing
 * parent (a parent not received yet: a trace still arriving) hang under one placeholder row for
 * that parent, placed where its first orphan was: the trace reads as one tree, not as a forest
 * of its stages. `payloadRows` is the map between the two orders; it is derived from the tree
 * alone, so the host needs no row table of its own: the analysis it built the payload from is
 * the table.
 *
 * Pure and plain Node: no `vscode`, no I/O.
 */

import type { TraceAnalysis } from '../analysis/analyze-trace.js';
import { missingParents, type MissingParent, type TraceTree } from '../analysis/trace-tree.js';
import type { SpanRecord } from '../model.js';
import { attributeValue } from '../otlp/span-details.js';
import { traceListItemText } from './trace-list-item.js';
import type { TraceEntry, TraceSummary } from '../store/trace-store.js';
import { traceLogColumns, type TraceLogSource } from './span-logs.js';
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
  /** The log records (`engine.signals.logStore`): their counts and marks go on the rows. */
  logs?: TraceLogSource;
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
  const layout = payloadRows(tree);
  const { treeRow, payloadRow } = layout;
  const n = treeRow.length;
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
  const { spanStartMs, spanEndMs, adopted, shiftMs, declaredParentRow } = tree;
  // Spans of a batch share their resource: its service's id is looked up once per run of them.
  let lastResource: SpanRecord['resource'] | undefined;
  let lastService = 0;

  for (let i = 0; i < n; i++) {
    const t = treeRow[i] as number;
    if (t < 0) {
      const missing = layout.placeholders.get(i) as MissingParent;
      parent[i] = -1;
      start[i] = missing.startMs - t0;
      duration[i] = Math.max(0, missing.endMs - missing.startMs);
      name[i] = names.id(placeholderName(missing.spanId));
      service[i] = services.id('');
      flags[i] = SpanFlag.PLACEHOLDER;
      continue;
    }
    const span = spans[t] as SpanRecord;
    const lift = layout.lifted[i] as number;
    const tp = tree.parentRow[t] as number;
    parent[i] =
      tp >= 0 ? (payloadRow[tp] as number) : lift === 1 ? (layout.rootParent.get(i) ?? -1) : -1;
    // Uint16 depth: a deeper chain (malformed or pathological) is clamped, not wrapped, so the
    // "subtree = following rows with greater depth" rule degrades gracefully.
    depth[i] = Math.min((tree.depth[t] as number) + lift, 0xffff);
    const s = spanStartMs[t] as number;
    const e = spanEndMs[t] as number;
    start[i] = s - t0;
    duration[i] = Math.max(0, e - s);
    criticalMs[i] = cp.ownMs[t] as number;
    selfMs[i] = analysis.selfMs[t] as number;
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
    if (adopted[t] === 1) f |= SpanFlag.ADOPTED;
    if (declaredParentRow[t] === -1 && span.parentSpanId !== '') f |= SpanFlag.ORPHAN;
    if (shiftMs[t] !== 0) f |= SpanFlag.CLOCK_ADJUSTED;
    if (sourceFileOf(span) !== undefined || opts.hasSource?.(span) === true)
      f |= SpanFlag.HAS_SOURCE;
    flags[i] = f;
  }

  // A placeholder does no work of its own: time between its orphans stays a gap of the path.
  const segCount = cp.segmentRow.length;
  const criticalPath = new Float64Array(segCount * 3);
  for (let k = 0; k < segCount; k++) {
    const r = cp.segmentRow[k] as number;
    criticalPath[k * 3] = r < 0 ? -1 : (payloadRow[r] as number);
    criticalPath[k * 3 + 1] = (cp.segmentStartMs[k] as number) - t0;
    criticalPath[k * 3 + 2] = (cp.segmentEndMs[k] as number) - t0;
  }

  const waits = analysis.queueWaits;
  const queueWaits = new Float64Array(waits.length * 4);
  const queueNames: string[] = [];
  for (let k = 0; k < waits.length; k++) {
    const w = waits[k]!;
    queueWaits[k * 4] = rowOfSpan(analysis, w.producer.spanId);
    queueWaits[k * 4 + 1] = rowOfSpan(analysis, w.consumer.spanId);
    // The reported (lower-bound) wait ends where the consumer starts; 0 when they overlapped.
    queueWaits[k * 4 + 2] = w.consumer.startMs - w.waitMs - t0;
    queueWaits[k * 4 + 3] = w.consumer.startMs - t0;
    queueNames.push(w.queue);
  }

  const logColumns =
    opts.logs === undefined ? {} : traceLogColumns(analysis, payloadRow, opts.logs, t0, flags);

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
    ...logColumns,
  };
}

/** The trace list's row for a trace. */
export function traceSummaryPayload(summary: TraceSummary): TraceSummaryPayload {
  return {
    traceId: summary.traceId,
    rootService: summary.rootService,
    // The picker names a trace as the Traces view does: a partial one says so.
    rootName: traceListItemText(summary).label,
    startMs: summary.startMs,
    durationMs: summary.durationMs,
    spanCount: summary.spanCount,
    errorCount: summary.errorCount,
  };
}

/**
 * The span shown at `row` of a payload built from `analysis`; undefined when out of range or
 * when the row is a placeholder for a parent not received yet.
 */
export function spanAtRow(analysis: TraceAnalysis, row: number): SpanRecord | undefined {
  if (!Number.isInteger(row) || row < 0) return undefined;
  const t = payloadRows(analysis.tree).treeRow[row];
  return t === undefined || t < 0 ? undefined : analysis.tree.spans[t];
}

/** The row of a span in a payload built from `analysis`, or -1 when it is not in the trace. */
export function rowOfSpan(analysis: TraceAnalysis, spanId: string): number {
  const t = analysis.tree.rowOf(spanId);
  return t < 0 ? -1 : (payloadRows(analysis.tree).payloadRow[t] as number);
}

/** The name a placeholder row shows: the missing span's id, and that it has not arrived. */
export function placeholderName(spanId: string): string {
  return `${spanId} (not received yet)`;
}

/** How a payload's rows map onto its tree's (see the module comment). */
export interface PayloadRows {
  /** Payload row -> tree row; -1 for a placeholder. */
  readonly treeRow: Int32Array;
  /** Tree row -> payload row. */
  readonly payloadRow: Int32Array;
  /** Placeholder row -> the missing parent it stands for. */
  readonly placeholders: ReadonlyMap<number, MissingParent>;
  /** 1 where the row is one level deeper than in the tree (under a placeholder). */
  readonly lifted: Uint8Array;
  /** Payload row of an orphan root -> the payload row of its placeholder. */
  readonly rootParent: ReadonlyMap<number, number>;
}

const rowsOfTree = new WeakMap<TraceTree, PayloadRows>();

/**
 * The payload's row order for a tree: the tree's pre-order, with one placeholder row per missing
 * parent put where its first orphan root was, followed by every orphan that names it (each with
 * its subtree, one level deeper), by start time. Every other root keeps its place, so a trace
 * without orphans maps row for row. Computed once per tree (the tree is immutable).
 */
export function payloadRows(tree: TraceTree): PayloadRows {
  const cached = rowsOfTree.get(tree);
  if (cached !== undefined) return cached;
  const n = tree.spans.length;
  const missing = missingParents(tree);
  const treeRow = new Int32Array(n + missing.length);
  const payloadRow = new Int32Array(n);
  const lifted = new Uint8Array(n + missing.length);
  const placeholders = new Map<number, MissingParent>();
  const rootParent = new Map<number, number>();
  const roots = tree.rootRow;
  /** Root row -> its index in `rootRow`, for the orphans' roots only. */
  const rootIndex = new Map<number, number>();
  const groupOf = new Map<number, number>();
  for (let g = 0; g < missing.length; g++) {
    for (const r of (missing[g] as MissingParent).rootRows) groupOf.set(r, g);
  }
  if (groupOf.size > 0) {
    for (let k = 0; k < roots.length; k++) rootIndex.set(roots[k] as number, k);
  }
  let out = 0;
  /** Appends root `k`'s subtree (the rows up to the next root). */
  const emitSubtree = (k: number, lift: 0 | 1): void => {
    const first = roots[k] as number;
    const last = k + 1 < roots.length ? (roots[k + 1] as number) : n;
    for (let r = first; r < last; r++) {
      treeRow[out] = r;
      payloadRow[r] = out;
      lifted[out] = lift;
      out++;
    }
  };
  for (let k = 0; k < roots.length; k++) {
    const g = groupOf.get(roots[k] as number);
    if (g === undefined) {
      emitSubtree(k, 0);
      continue;
    }
    const group = missing[g] as MissingParent;
    // Only the group's first root places it; the later ones were emitted with it.
    if (group.rootRows[0] !== roots[k]) continue;
    const at = out++;
    treeRow[at] = -1;
    placeholders.set(at, group);
    for (const r of group.rootRows) {
      rootParent.set(out, at);
      emitSubtree(rootIndex.get(r) as number, 1);
    }
  }
  const rows: PayloadRows = { treeRow, payloadRow, placeholders, lifted, rootParent };
  rowsOfTree.set(tree, rows);
  return rows;
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
