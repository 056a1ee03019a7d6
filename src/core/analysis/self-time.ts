/**
 * Self time: how long a span ran while none of its children did.
 */

import { RowMap } from './row-map.js';
import type { TraceTree } from './trace-tree.js';

/**
 * Self time in ms per tree row: the span's duration minus the union of its children's intervals
 * clipped to the span. Parallel children that overlap count once, so self time is never
 * negative and never exceeds the duration.
 *
 * Link-adopted followers (see {@link TraceTree.isAdopted}) are not subtracted: follows-from means
 * the parent did not wait for them, so time they overlap is still the parent's own. A span that
 * ends before it starts (bad clock) has duration 0.
 */
export function selfTimeRows(tree: TraceTree): Float64Array {
  const n = tree.spans.length;
  const { childOffset, childRow, adopted, spanStartMs, spanEndMs } = tree;
  const result = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const start = spanStartMs[r] as number;
    const end = Math.max(start, spanEndMs[r] as number);
    let covered = 0;
    // Children come sorted by start; clipping every start to `start` keeps that order, so one
    // sweep merges the overlapping intervals.
    let runStart = 0;
    let runEnd = -Infinity;
    const hi = childOffset[r + 1] as number;
    for (let k = childOffset[r] as number; k < hi; k++) {
      const c = childRow[k] as number;
      if (adopted[c] === 1) continue;
      const cs = Math.max(spanStartMs[c] as number, start);
      const ce = Math.min(spanEndMs[c] as number, end);
      if (ce <= cs) continue;
      if (cs > runEnd) {
        if (runEnd > runStart) covered += runEnd - runStart;
        runStart = cs;
        runEnd = ce;
      } else if (ce > runEnd) {
        runEnd = ce;
      }
    }
    if (runEnd > runStart) covered += runEnd - runStart;
    result[r] = Math.max(0, end - start - covered);
  }
  return result;
}

/** Span id -> self time in ms (see {@link selfTimeRows}), every span of the tree, in row order. */
export function selfTimes(tree: TraceTree): ReadonlyMap<string, number> {
  return RowMap.dense(tree, selfTimeRows(tree));
}
