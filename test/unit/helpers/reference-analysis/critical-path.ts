// Reference for analysis-columnar.test.ts, what the rewrite must equal:
// src/core/analysis/critical-path.ts as of 7f90976 (before the columnar rewrite),
// unchanged but for its imports.
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

import type { SpanRecord } from '../../../../src/core/model.js';
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
}

interface Frame {
  /** Index into `tree.spans`, or -1 for the virtual root. */
  readonly node: number;
  /** The walk still has to attribute [clampedStart(node), cursor]. */
  cursor: number;
  /** The node's children (indices), by effective end, descending. */
  readonly kids: readonly number[];
  /** Next candidate in `kids`. */
  pos: number;
}

const NO_KIDS: readonly number[] = [];

/**
 * Clock tolerance: a child that ends at most this far past the cursor is still taken as the one
 * that gated it, its end clamped to the cursor. SDKs that stamp spans with a millisecond clock
 * (OpenTelemetry JS uses `Date.now()` for the epoch anchor) put sequential siblings in different
 * processes up to ~1 ms "over" each other; without this the walk skips such a sibling and hands
 * its whole time to the parent. Capped at half the child's own duration so short spans are not
 * swallowed by it.
 */
const SKEW_TOLERANCE_MS = 1;

/**
 * Computes the critical path of a trace. O(n log n) time, no recursion (an explicit stack), so
 * a 100,000-deep chain of spans is fine.
 */
export function computeCriticalPath(tree: TraceTree): CriticalPath {
  const spans = tree.spans;
  const n = spans.length;
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set((spans[i] as SpanRecord).spanId, i);

  // `tree.spans` is pre-order, so a forward pass sees parents first (clamped starts flow down)
  // and a backward pass sees children first (effective ends flow up).
  const parentIdx = new Int32Array(n).fill(-1);
  const clampedStart = new Float64Array(n);
  const ownEnd = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const span = spans[i] as SpanRecord;
    const p = tree.parentOf(span);
    const pi = p === undefined ? -1 : (index.get(p.spanId) ?? -1);
    parentIdx[i] = pi;
    const start = pi < 0 ? span.startMs : Math.max(span.startMs, clampedStart[pi] as number);
    clampedStart[i] = start;
    ownEnd[i] = Math.max(start, span.endMs);
  }
  const effEnd = Float64Array.from(ownEnd);
  for (let i = n - 1; i >= 0; i--) {
    const pi = parentIdx[i] as number;
    if (pi >= 0 && (effEnd[i] as number) > (effEnd[pi] as number)) effEnd[pi] = effEnd[i] as number;
  }

  // Candidates in the order the walk wants them: latest effective end first; on a tie the one
  // that started first, since it covers more of the parent's waiting with child work.
  const order = (a: number, b: number): number =>
    (effEnd[b] as number) - (effEnd[a] as number) ||
    (clampedStart[a] as number) - (clampedStart[b] as number) ||
    a - b;
  const kidsOf = (node: number): readonly number[] => {
    const kids = node < 0 ? tree.roots : tree.children((spans[node] as SpanRecord).spanId);
    if (kids.length === 0) return NO_KIDS;
    return kids.map((k) => index.get(k.spanId) as number).sort(order);
  };

  // Segments are produced backwards in time and reversed at the end.
  const backwards: CriticalPathSegment[] = [];
  const emit = (spanId: string | null, startMs: number, endMs: number): void => {
    if (endMs > startMs) backwards.push({ spanId, startMs, endMs });
  };
  /** Attributes [lo, hi], which no chosen child covers, to the node or, past its end, to a gap. */
  const attribute = (node: number, lo: number, hi: number): void => {
    if (node < 0) {
      emit(null, lo, hi);
      return;
    }
    const end = ownEnd[node] as number;
    if (hi > end) emit(null, Math.max(lo, end), hi);
    emit((spans[node] as SpanRecord).spanId, lo, Math.min(hi, end));
  };

  // Roots come sorted by start; they are never clamped.
  const traceStart = tree.roots[0]?.startMs ?? tree.startMs;
  const stack: Frame[] = [{ node: -1, cursor: tree.endMs, kids: kidsOf(-1), pos: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    const kids = frame.kids;
    // The cursor only moves back, so a child that ends after it never qualifies again: one
    // pointer per frame makes the whole walk linear in the number of children. Skipped children
    // overlap the child already chosen; they did not gate it (Jaeger's rule).
    while (frame.pos < kids.length) {
      const k = kids[frame.pos] as number;
      const over = (effEnd[k] as number) - frame.cursor;
      const slack = Math.min(
        SKEW_TOLERANCE_MS,
        0.5 * ((effEnd[k] as number) - (clampedStart[k] as number)),
      );
      if (over <= 0 || over <= slack) break;
      frame.pos++;
    }
    if (frame.pos < kids.length) {
      const kid = kids[frame.pos++] as number;
      // Within the skew tolerance a child may end just past the cursor: clamp it there.
      const kidEnd = Math.min(effEnd[kid] as number, frame.cursor);
      attribute(frame.node, kidEnd, frame.cursor);
      // The child's walk covers [clampedStart(kid), kidEnd]; the parent resumes below it.
      frame.cursor = clampedStart[kid] as number;
      stack.push({ node: kid, cursor: kidEnd, kids: kidsOf(kid), pos: 0 });
    } else {
      const lo = frame.node < 0 ? traceStart : (clampedStart[frame.node] as number);
      attribute(frame.node, lo, frame.cursor);
      stack.pop();
    }
  }

  // Chronological order; adjacent pieces of the same span (split by an empty child) are merged.
  const segments: CriticalPathSegment[] = [];
  for (let i = backwards.length - 1; i >= 0; i--) {
    const seg = backwards[i] as CriticalPathSegment;
    const prev = segments[segments.length - 1];
    if (prev !== undefined && prev.spanId === seg.spanId && prev.endMs === seg.startMs) {
      segments[segments.length - 1] = {
        spanId: seg.spanId,
        startMs: prev.startMs,
        endMs: seg.endMs,
      };
    } else {
      segments.push(seg);
    }
  }

  const bySpan = new Map<string, number>();
  let gapMs = 0;
  for (const seg of segments) {
    const ms = seg.endMs - seg.startMs;
    if (seg.spanId === null) gapMs += ms;
    else bySpan.set(seg.spanId, (bySpan.get(seg.spanId) ?? 0) + ms);
  }
  const durationMs = tree.endMs - traceStart;

  return {
    segments,
    bySpan,
    startMs: traceStart,
    endMs: tree.endMs,
    durationMs,
    gapMs,
    shareOf: (spanId) => (durationMs > 0 ? (bySpan.get(spanId) ?? 0) / durationMs : 0),
  };
}
