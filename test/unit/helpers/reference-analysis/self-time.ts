// Reference for analysis-columnar.test.ts, what the rewrite must equal:
// src/core/analysis/self-time.ts as of 7f90976 (before the columnar rewrite),
// unchanged but for its imports.
/**
 * Self time: how long a span ran while none of its children did.
 */

import type { TraceTree } from './trace-tree.js';

/**
 * Span id -> self time in ms: the span's duration minus the union of its children's intervals
 * clipped to the span. Parallel children that overlap count once, so self time is never
 * negative and never exceeds the duration.
 *
 * Link-adopted followers (see {@link TraceTree.isAdopted}) are not subtracted: follows-from means
 * the parent did not wait for them, so time they overlap is still the parent's own. A span that
 * ends before it starts (bad clock) has duration 0.
 */
export function selfTimes(tree: TraceTree): Map<string, number> {
  const result = new Map<string, number>();
  for (const span of tree.spans) {
    const start = span.startMs;
    const end = Math.max(start, span.endMs);
    let covered = 0;
    // Children come sorted by start; clipping every start to `start` keeps that order, so one
    // sweep merges the overlapping intervals.
    let runStart = 0;
    let runEnd = -Infinity;
    for (const child of tree.children(span.spanId)) {
      if (tree.isAdopted(child.spanId)) continue;
      const cs = Math.max(child.startMs, start);
      const ce = Math.min(child.endMs, end);
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
    result.set(span.spanId, Math.max(0, end - start - covered));
  }
  return result;
}
