/**
 * Remote calls: where a span waits for a child that runs in another process.
 *
 * A caller's self time is the time none of its children covers. Next to a child in another
 * process, that time is not missing instrumentation: before the child starts, the request is in
 * transit, in the callee's queue, or waiting for a busy worker to pick it up; after the child
 * ends, the response is on its way back. Calling it "untraced time: add a span there" would send
 * the user to instrument the wrong thing, so the waits are measured here, per call, and the
 * diagnoses name them as waiting.
 *
 * A call is synchronous when the child is not a queue consumer, its parent not a producer, and
 * it is not link-adopted: those are asynchronous by design and measured as queue waits.
 */

import { SpanKind, type SpanRecord } from '../model.js';
import { processKeyOf } from './clock-skew.js';
import type { CriticalPath } from './critical-path.js';
import { Float64Column, Int32Column } from './growable-column.js';
import { RowMap } from './row-map.js';
import type { TraceTree } from './trace-tree.js';

/** One synchronous call into another process, with the caller's waits around it. */
export interface RemoteCall {
  /** The calling span and the remote child (its SERVER span, typically). */
  readonly caller: SpanRecord;
  readonly callee: SpanRecord;
  /**
   * The caller's uncovered time right before the callee started: transport of the request, the
   * callee's queue, or a busy worker that had not picked it up yet.
   */
  readonly beforeMs: number;
  /** The caller's uncovered time right after the callee ended, until its next child or its end. */
  readonly afterMs: number;
  /** The part of `beforeMs` on the critical path. */
  readonly beforeOnPathMs: number;
  /** The part of `afterMs` on the critical path. */
  readonly afterOnPathMs: number;
}

export interface RemoteCallsResult {
  /** The calls as objects, callers in row order, each caller's calls by start (made on access). */
  readonly calls: readonly RemoteCall[];
  /**
   * Span id -> the part of the span's own critical-path time that is waiting around remote
   * calls (so `own critical time - this` is time no span explains).
   */
  readonly waitOnPathBySpan: ReadonlyMap<string, number>;
  /** `waitOnPathBySpan` per tree row (0 where none). */
  readonly waitOnPathMs: Float64Array;
  /** The calls as columns, in `calls` order: caller and callee rows, and the four waits. */
  readonly callerRow: Int32Array;
  readonly calleeRow: Int32Array;
  readonly beforeMs: Float64Array;
  readonly afterMs: Float64Array;
  readonly beforeOnPathMs: Float64Array;
  readonly afterOnPathMs: Float64Array;
}

/** Whether `child` is a synchronous call from `parent` into another process. */
export function isRemoteCall(tree: TraceTree, parent: SpanRecord, child: SpanRecord): boolean {
  if (tree.isAdopted(child.spanId)) return false;
  if (child.kind === SpanKind.CONSUMER || parent.kind === SpanKind.PRODUCER) return false;
  return processKeyOf(child.resource) !== processKeyOf(parent.resource);
}

/** {@link isRemoteCall} on tree rows. */
function isRemoteRow(tree: TraceTree, parent: number, child: number): boolean {
  if (tree.adopted[child] === 1) return false;
  if (tree.kind[child] === SpanKind.CONSUMER || tree.kind[parent] === SpanKind.PRODUCER) {
    return false;
  }
  return tree.process[child] !== tree.process[parent];
}

/**
 * Finds every remote call of the trace and the waits around it. O(n log n): one sweep over each
 * span's children (already in start order) and over its critical-path segments. Works on rows,
 * with scratch arrays sized by the largest family, so nothing is allocated per span.
 */
export function findRemoteCalls(tree: TraceTree, cp: CriticalPath): RemoteCallsResult {
  const n = tree.spans.length;
  const { childOffset, childRow, adopted, spanStartMs, spanEndMs } = tree;

  // The critical-path segments of each row, in time order, as CSR over the segment columns.
  const segCount = cp.segmentRow.length;
  const segOffset = new Int32Array(n + 1);
  for (let k = 0; k < segCount; k++) {
    const row = cp.segmentRow[k] as number;
    if (row >= 0) segOffset[row + 1]!++;
  }
  for (let r = 0; r < n; r++) segOffset[r + 1]! += segOffset[r] as number;
  const segOf = new Int32Array(segOffset[n] as number);
  {
    const fill = segOffset.slice(0, n);
    for (let k = 0; k < segCount; k++) {
      const row = cp.segmentRow[k] as number;
      if (row >= 0) segOf[fill[row]!++] = k;
    }
  }
  const onPath = (row: number, lo: number, hi: number): number => {
    let ms = 0;
    const end = segOffset[row + 1] as number;
    for (let i = segOffset[row] as number; i < end; i++) {
      const k = segOf[i] as number;
      const a = Math.max(cp.segmentStartMs[k] as number, lo);
      const b = Math.min(cp.segmentEndMs[k] as number, hi);
      if (b > a) ms += b - a;
    }
    return ms;
  };

  let maxKids = 0;
  for (let r = 0; r < n; r++) {
    maxKids = Math.max(maxKids, (childOffset[r + 1] as number) - (childOffset[r] as number));
  }
  // Covered runs of one parent's children: start, end, and (as positions in its child list) the
  // child that starts the run and the one that ends it (the latest-ending child of the run).
  const runStart = new Float64Array(maxKids);
  const runEnd = new Float64Array(maxKids);
  const runFirst = new Int32Array(maxKids);
  const runLast = new Int32Array(maxKids);
  // Per position in the child list: the waits before and after it, and their on-path parts.
  const before = new Float64Array(maxKids);
  const after = new Float64Array(maxKids);
  const beforeOn = new Float64Array(maxKids);
  const afterOn = new Float64Array(maxKids);

  const callerRow = new Int32Column(n >> 2);
  const calleeRow = new Int32Column(n >> 2);
  const beforeMs = new Float64Column(n >> 2);
  const afterMs = new Float64Column(n >> 2);
  const beforeOnPathMs = new Float64Column(n >> 2);
  const afterOnPathMs = new Float64Column(n >> 2);
  const waitOnPathMs = new Float64Array(n);
  const waitRows = new Int32Column(n >> 4);
  for (let parent = 0; parent < n; parent++) {
    const lo0 = childOffset[parent] as number;
    const hi0 = childOffset[parent + 1] as number;
    if (lo0 === hi0) continue;
    const ps = spanStartMs[parent] as number;
    const pe = Math.max(ps, spanEndMs[parent] as number);
    let runs = 0;
    for (let k = lo0; k < hi0; k++) {
      const child = childRow[k] as number;
      if (adopted[child] === 1) continue;
      const s = spanStartMs[child] as number;
      const cs = Math.max(s, ps);
      const ce = Math.min(Math.max(s, spanEndMs[child] as number), pe);
      if (ce <= cs) continue;
      if (runs > 0 && cs <= (runEnd[runs - 1] as number)) {
        if (ce > (runEnd[runs - 1] as number)) {
          runEnd[runs - 1] = ce;
          runLast[runs - 1] = k - lo0;
        }
      } else {
        runStart[runs] = cs;
        runEnd[runs] = ce;
        runFirst[runs] = k - lo0;
        runLast[runs] = k - lo0;
        runs++;
      }
    }
    if (runs === 0) continue;
    for (let j = 0; j < hi0 - lo0; j++) {
      before[j] = 0;
      after[j] = 0;
      beforeOn[j] = 0;
      afterOn[j] = 0;
    }
    for (let i = 0; i <= runs; i++) {
      const lo = i === 0 ? ps : (runEnd[i - 1] as number);
      const hi = i === runs ? pe : (runStart[i] as number);
      if (hi <= lo) continue;
      // A gap before a remote child is waiting for it; else a gap after one is its response.
      if (
        i < runs &&
        isRemoteRow(tree, parent, childRow[lo0 + (runFirst[i] as number)] as number)
      ) {
        const j = runFirst[i] as number;
        before[j] = (before[j] as number) + (hi - lo);
        beforeOn[j] = (beforeOn[j] as number) + onPath(parent, lo, hi);
      } else if (
        i > 0 &&
        isRemoteRow(tree, parent, childRow[lo0 + (runLast[i - 1] as number)] as number)
      ) {
        const j = runLast[i - 1] as number;
        after[j] = (after[j] as number) + (hi - lo);
        afterOn[j] = (afterOn[j] as number) + onPath(parent, lo, hi);
      }
    }
    for (let k = lo0; k < hi0; k++) {
      const child = childRow[k] as number;
      if (!isRemoteRow(tree, parent, child)) continue;
      const j = k - lo0;
      const bp = beforeOn[j] as number;
      const ap = afterOn[j] as number;
      callerRow.push(parent);
      calleeRow.push(child);
      beforeMs.push(before[j] as number);
      afterMs.push(after[j] as number);
      beforeOnPathMs.push(bp);
      afterOnPathMs.push(ap);
      if (bp + ap > 0) {
        if (waitOnPathMs[parent] === 0) waitRows.push(parent);
        waitOnPathMs[parent] = (waitOnPathMs[parent] as number) + bp + ap;
      }
    }
  }
  return new ColumnarCalls(
    tree,
    waitOnPathMs,
    waitRows.finish(),
    callerRow.finish(),
    calleeRow.finish(),
    beforeMs.finish(),
    afterMs.finish(),
    beforeOnPathMs.finish(),
    afterOnPathMs.finish(),
  );
}

class ColumnarCalls implements RemoteCallsResult {
  private callList: readonly RemoteCall[] | undefined;
  private waitView: ReadonlyMap<string, number> | undefined;

  constructor(
    private readonly tree: TraceTree,
    readonly waitOnPathMs: Float64Array,
    private readonly waitRows: Int32Array,
    readonly callerRow: Int32Array,
    readonly calleeRow: Int32Array,
    readonly beforeMs: Float64Array,
    readonly afterMs: Float64Array,
    readonly beforeOnPathMs: Float64Array,
    readonly afterOnPathMs: Float64Array,
  ) {}

  get calls(): readonly RemoteCall[] {
    if (this.callList === undefined) {
      const spans = this.tree.spans;
      const out: RemoteCall[] = [];
      for (let k = 0; k < this.callerRow.length; k++) {
        out.push({
          caller: spans[this.callerRow[k] as number] as SpanRecord,
          callee: spans[this.calleeRow[k] as number] as SpanRecord,
          beforeMs: this.beforeMs[k] as number,
          afterMs: this.afterMs[k] as number,
          beforeOnPathMs: this.beforeOnPathMs[k] as number,
          afterOnPathMs: this.afterOnPathMs[k] as number,
        });
      }
      this.callList = out;
    }
    return this.callList;
  }

  get waitOnPathBySpan(): ReadonlyMap<string, number> {
    return (this.waitView ??= RowMap.sparse(this.tree, this.waitOnPathMs, this.waitRows));
  }
}
