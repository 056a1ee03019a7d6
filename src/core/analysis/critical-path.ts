/**
 * The critical path of a trace: the chain of work that determines its end-to-end duration.
 *
 * The walk is the backward one of Jaeger UI's `criticalPath.ts`: start at the end, at each span
 * step into the child that finished last before the cursor, attribute the time no chosen child
 * covers to the span itself, and continue from that child's start. It differs from Jaeger in
 * three ways, all needed for asynchronous ML pipelines:
 * - A child that outlives its parent (fire-and-forget work, a link-adopted queue consumer)
 *   extends the path instead of being truncated: every span is walked with its subtree's
 *   effective end, max(own end, children's effective ends).
 * - Several roots hang under a virtual root spanning the whole trace, and time in which the
 *   path is not inside any span (between roots, or between a parent's end and its async
 *   child's start, e.g. a message waiting in a queue) is reported as a gap, attributed to no span.
 * - Clock skew is clamped: a child is never considered to start before its parent.
 */

import { Float64Column, Int32Column } from './growable-column.js';
import { RowMap } from './row-map.js';
import type { TraceTree } from './trace-tree.js';

/** One interval of the critical path, attributed to a span's own work or to nobody (a gap). */
export interface CriticalPathSegment {
  /** The span doing the critical work, or null for a gap in which no span of the path runs. */
  readonly spanId: string | null;
  readonly startMs: number;
  /** Always greater than `startMs`; empty intervals are not reported. */
  readonly endMs: number;
}

/**
 * Invariants: `segments` are chronological, non-overlapping, and tile [startMs, endMs] exactly
 * (each starts where the previous ended), so their durations sum to `durationMs` up to float
 * rounding; a span's segments lie inside its [startMs, endMs] (clamped to its parent's start).
 */
export interface CriticalPath {
  /** The segments as objects (made on first access from the columns below). */
  readonly segments: readonly CriticalPathSegment[];
  /** Span id -> milliseconds of that span's own work on the path (spans on it only). */
  readonly bySpan: ReadonlyMap<string, number>;
  /**
   * The earliest root start. Equals {@link TraceTree.startMs} except when a child claims to start
   * before its parent (clock skew): that child is clamped, so it does not stretch the path.
   */
  readonly startMs: number;
  /** The trace's end, {@link TraceTree.endMs}. */
  readonly endMs: number;
  /** endMs - startMs. */
  readonly durationMs: number;
  /** Milliseconds of the path in gap segments. */
  readonly gapMs: number;
  /** The span's fraction of the end-to-end duration, in [0, 1]; 0 for an empty trace. */
  shareOf(spanId: string): number;
  /** Per tree row: milliseconds of its own work on the path (0 off the path; > 0 on it). */
  readonly ownMs: Float64Array;
  /** The segments as columns, in `segments` order: the span's row (-1 for a gap), start, end. */
  readonly segmentRow: Int32Array;
  readonly segmentStartMs: Float64Array;
  readonly segmentEndMs: Float64Array;
}

/**
 * Clock tolerance: a child that ends at most this far past the cursor is still taken as the one
 * that gated it, its end clamped to the cursor. SDKs that stamp spans with a millisecond clock
 * (OpenTelemetry JS uses `Date.now()` for the epoch anchor) put sequential siblings in different
 * processes up to ~1 ms "over" each other; without this the walk skips such a sibling and hands
 * its whole time to the parent. Capped at half the child's own duration so short spans are not
 * swallowed by it.
 */
const SKEW_TOLERANCE_MS = 1;

/** Lists up to this long are sorted by insertion; longer ones by Array#sort. */
const INSERTION_SORT_MAX = 16;

/**
 * Computes the critical path of a trace. O(n log n) time, no recursion (an explicit stack), so
 * a 100,000-deep chain of spans is fine. Works on the tree's row columns: no Map and no object
 * per span (the walk's frames and candidate lists are typed-array stacks).
 */
export function computeCriticalPath(tree: TraceTree): CriticalPath {
  const n = tree.spans.length;
  const parentRow = tree.parentRow;

  // Rows are pre-order, so a forward pass sees parents first (clamped starts flow down) and a
  // backward pass sees children first (effective ends flow up).
  const clampedStart = new Float64Array(n);
  // The effective end starts as the span's own end, max(clamped start, end), which `attribute`
  // recomputes rather than keeping another column (at 1M spans each is 8 MB for the GC).
  const effEnd = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const pi = parentRow[i] as number;
    const s = tree.spanStartMs[i] as number;
    const start = pi < 0 ? s : Math.max(s, clampedStart[pi] as number);
    clampedStart[i] = start;
    effEnd[i] = Math.max(start, tree.spanEndMs[i] as number);
  }
  for (let i = n - 1; i >= 0; i--) {
    const pi = parentRow[i] as number;
    if (pi >= 0 && (effEnd[i] as number) > (effEnd[pi] as number)) effEnd[pi] = effEnd[i] as number;
  }

  // Candidates in the order the walk wants them: latest effective end first; on a tie the one
  // that started first, since it covers more of the parent's waiting with child work.
  const order = (a: number, b: number): number =>
    (effEnd[b] as number) - (effEnd[a] as number) ||
    (clampedStart[a] as number) - (clampedStart[b] as number) ||
    a - b;

  // The walk's stack of frames, as columns; a frame is a span on the path below the virtual
  // root, so the stack is never deeper than the tree plus one. A frame's candidates sit in
  // `kids[kidLo, kidHi)`: frames are pushed and popped in LIFO order, so their candidate lists
  // form a stack too, and since every span is some frame's candidate at most once, n slots are
  // enough.
  let maxDepth = 0;
  for (let i = 0; i < n; i++)
    if ((tree.depth[i] as number) > maxDepth) maxDepth = tree.depth[i] as number;
  const frames = maxDepth + 2;
  const frameNode = new Int32Array(frames); // row, or -1 for the virtual root
  const frameCursor = new Float64Array(frames); // the walk still has to attribute [start, cursor]
  const framePos = new Int32Array(frames); // next candidate in `kids`
  const frameKidHi = new Int32Array(frames);
  const frameKidLo = new Int32Array(frames);
  const kids = new Int32Array(n);
  let kidTop = 0;
  let depth = 0;
  /** Pushes a frame for `node` with its children (the roots for -1), sorted by `order`. */
  const push = (node: number, cursor: number): void => {
    const lo = kidTop;
    if (node < 0) {
      const roots = tree.rootRow;
      for (let i = 0; i < roots.length; i++) kids[kidTop++] = roots[i] as number;
    } else {
      const b = tree.childOffset[node + 1] as number;
      for (let i = tree.childOffset[node] as number; i < b; i++) {
        kids[kidTop++] = tree.childRow[i] as number;
      }
    }
    sortRange(kids, lo, kidTop, order);
    frameNode[depth] = node;
    frameCursor[depth] = cursor;
    framePos[depth] = lo;
    frameKidLo[depth] = lo;
    frameKidHi[depth] = kidTop;
    depth++;
  };

  // Segments are produced backwards in time, and reversed at the end. A path has one or two
  // segments per span on it (a parent's time before and after its child), hence the initial
  // capacity: growing would copy, and allocate twice.
  const capacity = n + (n >> 1);
  const backRow = new Int32Column(capacity);
  const backStart = new Float64Column(capacity);
  const backEnd = new Float64Column(capacity);
  const emit = (row: number, startMs: number, endMs: number): void => {
    if (endMs > startMs) {
      backRow.push(row);
      backStart.push(startMs);
      backEnd.push(endMs);
    }
  };
  /** Attributes [lo, hi], which no chosen child covers, to the node or, past its end, to a gap. */
  const attribute = (node: number, lo: number, hi: number): void => {
    if (node < 0) {
      emit(-1, lo, hi);
      return;
    }
    const end = Math.max(clampedStart[node] as number, tree.spanEndMs[node] as number);
    if (hi > end) emit(-1, Math.max(lo, end), hi);
    emit(node, lo, Math.min(hi, end));
  };

  // Roots come sorted by start; they are never clamped.
  const firstRoot = tree.rootRow.length > 0 ? (tree.rootRow[0] as number) : -1;
  const traceStart = firstRoot < 0 ? tree.startMs : (tree.spanStartMs[firstRoot] as number);
  push(-1, tree.endMs);
  while (depth > 0) {
    const f = depth - 1;
    const hi = frameKidHi[f] as number;
    let pos = framePos[f] as number;
    const cursor = frameCursor[f] as number;
    // The cursor only moves back, so a child that ends after it never qualifies again: one
    // pointer per frame makes the whole walk linear in the number of children. Skipped children
    // overlap the child already chosen; they did not gate it (Jaeger's rule).
    while (pos < hi) {
      const k = kids[pos] as number;
      const over = (effEnd[k] as number) - cursor;
      const slack = Math.min(
        SKEW_TOLERANCE_MS,
        0.5 * ((effEnd[k] as number) - (clampedStart[k] as number)),
      );
      if (over <= 0 || over <= slack) break;
      pos++;
    }
    const node = frameNode[f] as number;
    if (pos < hi) {
      const kid = kids[pos] as number;
      framePos[f] = pos + 1;
      // Within the skew tolerance a child may end just past the cursor: clamp it there.
      const kidEnd = Math.min(effEnd[kid] as number, cursor);
      attribute(node, kidEnd, cursor);
      // The child's walk covers [clampedStart(kid), kidEnd]; the parent resumes below it.
      frameCursor[f] = clampedStart[kid] as number;
      push(kid, kidEnd);
    } else {
      const lo = node < 0 ? traceStart : (clampedStart[node] as number);
      attribute(node, lo, cursor);
      kidTop = frameKidLo[f] as number;
      depth--;
    }
  }

  // Chronological order, in place; adjacent pieces of the same span (split by an empty child)
  // are merged, also in place (the write position never passes the read position).
  const segRow = backRow.view().reverse();
  const segStart = backStart.view().reverse();
  const segEnd = backEnd.view().reverse();
  let count = 0;
  for (let i = 0; i < segRow.length; i++) {
    const row = segRow[i] as number;
    const s = segStart[i] as number;
    const e = segEnd[i] as number;
    if (count > 0 && segRow[count - 1] === row && segEnd[count - 1] === s) {
      segEnd[count - 1] = e;
    } else {
      segRow[count] = row;
      segStart[count] = s;
      segEnd[count] = e;
      count++;
    }
  }

  // Each segment is longer than 0, so a row's total is > 0 exactly when it is on the path; the
  // rows are listed in the order of their first segment (the order `bySpan` iterates in).
  const ownMs = new Float64Array(n);
  const pathRows = new Int32Column(n >> 2);
  let gapMs = 0;
  for (let k = 0; k < count; k++) {
    const ms = (segEnd[k] as number) - (segStart[k] as number);
    const row = segRow[k] as number;
    if (row < 0) gapMs += ms;
    else {
      if (ownMs[row] === 0) pathRows.push(row);
      ownMs[row] = (ownMs[row] as number) + ms;
    }
  }
  return new ColumnarPath(
    tree,
    segRow.subarray(0, count),
    segStart.subarray(0, count),
    segEnd.subarray(0, count),
    ownMs,
    pathRows.finish(),
    traceStart,
    gapMs,
  );
}

/** Sorts `a[lo, hi)` by `cmp`. Most spans have a handful of children: insertion sort them. */
function sortRange(
  a: Int32Array,
  lo: number,
  hi: number,
  cmp: (x: number, y: number) => number,
): void {
  if (hi - lo <= INSERTION_SORT_MAX) {
    for (let i = lo + 1; i < hi; i++) {
      const x = a[i] as number;
      let j = i - 1;
      while (j >= lo && cmp(a[j] as number, x) > 0) {
        a[j + 1] = a[j] as number;
        j--;
      }
      a[j + 1] = x;
    }
    return;
  }
  // Array#sort (TimSort) is adaptive: children come by start, and sequential ones end in the
  // same order, so the list is mostly one descending run.
  const list = Array.from(a.subarray(lo, hi)).sort(cmp);
  a.set(list, lo);
}

class ColumnarPath implements CriticalPath {
  readonly endMs: number;
  readonly durationMs: number;
  private segmentList: readonly CriticalPathSegment[] | undefined;
  private bySpanView: ReadonlyMap<string, number> | undefined;

  constructor(
    private readonly tree: TraceTree,
    readonly segmentRow: Int32Array,
    readonly segmentStartMs: Float64Array,
    readonly segmentEndMs: Float64Array,
    readonly ownMs: Float64Array,
    private readonly pathRows: Int32Array,
    readonly startMs: number,
    readonly gapMs: number,
  ) {
    this.endMs = tree.endMs;
    this.durationMs = tree.endMs - startMs;
  }

  get segments(): readonly CriticalPathSegment[] {
    if (this.segmentList === undefined) {
      const out: CriticalPathSegment[] = [];
      for (let k = 0; k < this.segmentRow.length; k++) {
        const row = this.segmentRow[k] as number;
        out.push({
          spanId: row < 0 ? null : this.tree.spanIdAt(row),
          startMs: this.segmentStartMs[k] as number,
          endMs: this.segmentEndMs[k] as number,
        });
      }
      this.segmentList = out;
    }
    return this.segmentList;
  }

  get bySpan(): ReadonlyMap<string, number> {
    return (this.bySpanView ??= RowMap.sparse(this.tree, this.ownMs, this.pathRows));
  }

  shareOf(spanId: string): number {
    const row = this.tree.rowOf(spanId);
    return this.durationMs > 0 && row >= 0 ? (this.ownMs[row] as number) / this.durationMs : 0;
  }
}
