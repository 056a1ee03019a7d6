/**
 * Derived, read-only indexes over one `TracePayload`, computed once per payload in O(n) with
 * typed arrays (no per-row objects), so that a 1M-span trace stays a handful of arrays.
 *
 * Assumes the payload's rows are in pre-order DFS order (the protocol's invariant): a row's
 * subtree is the contiguous run after it with a greater depth, and a parent precedes its
 * children.
 */

import {
  SpanFlag,
  TRACE_PAYLOAD_COLUMNS,
  type TracePayload,
} from '../../../src/protocol/messages.js';

export interface TraceModel {
  readonly payload: TracePayload;
  readonly rowCount: number;
  /** Exclusive end of each row's subtree: rows [i + 1, subtreeEnd[i]) are its descendants. */
  readonly subtreeEnd: Int32Array;
  /** Rows with the PLACEHOLDER flag (parents not received yet): rows that are not spans. */
  readonly placeholderRows: number;
  /** Rows with the ERROR flag, ascending. */
  readonly errorRows: Int32Array;
  /**
   * Critical-path time per row in CSR form: the row's segments are the pairs
   * `critSegs[2k], critSegs[2k + 1]` (start, end in relative ms) for k in
   * [critOffsets[row], critOffsets[row + 1]).
   */
  readonly critOffsets: Int32Array;
  readonly critSegs: Float64Array;
  /** Consumer row -> indices of its queue waits (quadruples in `payload.queueWaits`). */
  readonly waitsByConsumer: ReadonlyMap<number, readonly number[]>;
  /** Row -> indices of its log marks (`payload.logMarks` triples), in time order. */
  readonly logMarksByRow: ReadonlyMap<number, readonly number[]>;
  readonly maxDepth: number;
  /** Lower-cased `payload.names` and `payload.services`, for case-insensitive search. */
  readonly namesLower: readonly string[];
  readonly servicesLower: readonly string[];
}

export function buildTraceModel(payload: TracePayload): TraceModel {
  const n = payload.spanCount;
  const depth = payload.depth;

  // Subtree ends with one backward-free pass and a stack of open rows: a row closes when a row
  // at its depth or shallower arrives.
  const subtreeEnd = new Int32Array(n);
  const stack = new Int32Array(n + 1);
  let top = 0;
  let maxDepth = 0;
  for (let i = 0; i < n; i++) {
    const d = depth[i] as number;
    if (d > maxDepth) maxDepth = d;
    while (top > 0 && (depth[stack[top - 1] as number] as number) >= d) {
      subtreeEnd[stack[--top] as number] = i;
    }
    stack[top++] = i;
  }
  while (top > 0) subtreeEnd[stack[--top] as number] = n;

  let errors = 0;
  let placeholderRows = 0;
  for (let i = 0; i < n; i++) {
    const f = payload.flags[i] as number;
    if (f & SpanFlag.ERROR) errors++;
    if (f & SpanFlag.PLACEHOLDER) placeholderRows++;
  }
  const errorRows = new Int32Array(errors);
  for (let i = 0, k = 0; i < n; i++) {
    if ((payload.flags[i] as number) & SpanFlag.ERROR) errorRows[k++] = i;
  }

  const cp = payload.criticalPath;
  const segCount = Math.floor(cp.length / 3);
  const critOffsets = new Int32Array(n + 1);
  for (let k = 0; k < segCount; k++) {
    const row = cp[k * 3] as number;
    if (row >= 0 && row < n) (critOffsets[row + 1] as number)++;
  }
  for (let i = 0; i < n; i++)
    critOffsets[i + 1] = (critOffsets[i + 1] as number) + (critOffsets[i] as number);
  const critSegs = new Float64Array((critOffsets[n] as number) * 2);
  const fill = critOffsets.slice(0, n);
  for (let k = 0; k < segCount; k++) {
    const row = cp[k * 3] as number;
    if (row < 0 || row >= n) continue;
    const at = (fill[row] as number)++;
    critSegs[at * 2] = cp[k * 3 + 1] as number;
    critSegs[at * 2 + 1] = cp[k * 3 + 2] as number;
  }

  const waitsByConsumer = new Map<number, number[]>();
  for (let k = 0; k + 3 < payload.queueWaits.length; k += 4) {
    const consumer = payload.queueWaits[k + 1] as number;
    if (consumer < 0 || consumer >= n) continue;
    const list = waitsByConsumer.get(consumer);
    if (list === undefined) waitsByConsumer.set(consumer, [k / 4]);
    else list.push(k / 4);
  }

  const logMarksByRow = new Map<number, number[]>();
  const marks = payload.logMarks;
  if (marks !== undefined) {
    for (let k = 0; k + 2 < marks.length; k += 3) {
      const row = marks[k] as number;
      if (row < 0 || row >= n) continue;
      const list = logMarksByRow.get(row);
      if (list === undefined) logMarksByRow.set(row, [k / 3]);
      else list.push(k / 3);
    }
  }

  return {
    payload,
    rowCount: n,
    subtreeEnd,
    placeholderRows,
    errorRows,
    critOffsets,
    critSegs,
    waitsByConsumer,
    logMarksByRow,
    maxDepth,
    namesLower: payload.names.map((s) => s.toLowerCase()),
    servicesLower: payload.services.map((s) => s.toLowerCase()),
  };
}

export function hasChildren(model: TraceModel, row: number): boolean {
  return (model.subtreeEnd[row] as number) > row + 1;
}

export function nameOf(model: TraceModel, row: number): string {
  return model.payload.names[model.payload.name[row] as number] ?? '';
}

export function serviceOf(model: TraceModel, row: number): string {
  return model.payload.services[model.payload.service[row] as number] ?? '';
}

/** Share of the trace's end-to-end duration this row spends on the critical path, in [0, 1]. */
export function criticalShare(model: TraceModel, row: number): number {
  const d = model.payload.durationMs;
  return d > 0 ? (model.payload.criticalMs[row] as number) / d : 0;
}

/** Ancestors of `row`, root first (the breadcrumb), not including the row itself. */
export function ancestors(model: TraceModel, row: number): number[] {
  const out: number[] = [];
  let p = model.payload.parent[row] ?? -1;
  // Bounded by the row count so that a malformed parent array cannot loop forever.
  for (let guard = 0; p >= 0 && guard < model.rowCount; guard++) {
    out.push(p);
    p = model.payload.parent[p] ?? -1;
  }
  return out.reverse();
}

const LOG_COLUMNS = {
  logCount: Uint32Array,
  logSeverity: Uint8Array,
  logMarks: Float64Array,
} as const;

const PER_ROW = [
  'parent',
  'depth',
  'start',
  'duration',
  'criticalMs',
  'selfMs',
  'name',
  'service',
  'kind',
  'flags',
] as const;

/**
 * Checks a payload from the host and makes its columns typed arrays: a transport that
 * serialises to JSON turns them into arrays (or index-keyed objects). Returns null when the
 * shape is wrong: a column of the wrong length, a parent that does not precede its child, or a
 * name/service index out of range (the row logic relies on all three).
 */
export function normalizePayload(raw: unknown): TracePayload | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const p = { ...(raw as Record<string, unknown>) };
  const n = p.spanCount;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return null;
  if (!Array.isArray(p.names) || !Array.isArray(p.services) || !Array.isArray(p.queueNames))
    return null;
  for (const [key, Ctor] of Object.entries(TRACE_PAYLOAD_COLUMNS)) {
    const v = p[key];
    if (ArrayBuffer.isView(v) && v instanceof Ctor) continue;
    if (Array.isArray(v)) p[key] = Ctor.from(v as number[]);
    else if (typeof v === 'object' && v !== null)
      p[key] = Ctor.from(Object.values(v as Record<string, number>));
    else return null;
  }
  // The log columns are optional: a payload without them (a file opened alone) has no marks.
  for (const [key, Ctor] of Object.entries(LOG_COLUMNS)) {
    const v = p[key];
    if (v === undefined || (ArrayBuffer.isView(v) && v instanceof Ctor)) continue;
    if (Array.isArray(v)) p[key] = Ctor.from(v as number[]);
    else if (typeof v === 'object' && v !== null)
      p[key] = Ctor.from(Object.values(v as Record<string, number>));
    else return null;
  }
  const t = p as unknown as TracePayload;
  for (const key of PER_ROW) if (t[key].length !== n) return null;
  if (t.logCount !== undefined && t.logCount.length !== n) return null;
  if (t.logSeverity !== undefined && t.logSeverity.length !== n) return null;
  if (t.logMarks !== undefined) {
    const texts = t.logTexts;
    if (!Array.isArray(texts) || t.logMarks.length !== texts.length * 3) return null;
    for (let k = 0; k < t.logMarks.length; k += 3) {
      const row = t.logMarks[k] as number;
      if (!Number.isInteger(row) || row < 0 || row >= n) return null;
    }
  }
  for (let i = 0; i < n; i++) {
    const par = t.parent[i] as number;
    if (par >= i || par < -1) return null;
    if ((t.name[i] as number) >= t.names.length || (t.service[i] as number) >= t.services.length)
      return null;
  }
  return t;
}
