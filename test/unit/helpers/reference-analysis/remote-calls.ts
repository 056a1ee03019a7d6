// Reference for analysis-columnar.test.ts, what the rewrite must equal:
// src/core/analysis/remote-calls.ts as of 7f90976 (before the columnar rewrite),
// unchanged but for its imports.
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

import { SpanKind, type SpanRecord } from '../../../../src/core/model.js';
import { processKeyOf } from './clock-skew.js';
import type { CriticalPath } from './critical-path.js';
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
  readonly calls: readonly RemoteCall[];
  /**
   * Span id -> the part of the span's own critical-path time that is waiting around remote
   * calls (so `own critical time - this` is time no span explains).
   */
  readonly waitOnPathBySpan: ReadonlyMap<string, number>;
}

/** Whether `child` is a synchronous call from `parent` into another process. */
export function isRemoteCall(tree: TraceTree, parent: SpanRecord, child: SpanRecord): boolean {
  if (tree.isAdopted(child.spanId)) return false;
  if (child.kind === SpanKind.CONSUMER || parent.kind === SpanKind.PRODUCER) return false;
  return processKeyOf(child.resource) !== processKeyOf(parent.resource);
}

/**
 * Finds every remote call of the trace and the waits around it. O(n log n): one sweep over each
 * span's children (already in start order) and over its critical-path segments.
 */
export function findRemoteCalls(tree: TraceTree, cp: CriticalPath): RemoteCallsResult {
  // The critical-path segments of each span, in time order.
  const segmentsOf = new Map<string, Array<[number, number]>>();
  for (const seg of cp.segments) {
    if (seg.spanId === null) continue;
    let list = segmentsOf.get(seg.spanId);
    if (list === undefined) segmentsOf.set(seg.spanId, (list = []));
    list.push([seg.startMs, seg.endMs]);
  }
  const onPath = (spanId: string, lo: number, hi: number): number => {
    let ms = 0;
    for (const [s, e] of segmentsOf.get(spanId) ?? []) {
      const a = Math.max(s, lo);
      const b = Math.min(e, hi);
      if (b > a) ms += b - a;
    }
    return ms;
  };

  const calls: RemoteCall[] = [];
  const waitOnPathBySpan = new Map<string, number>();
  for (const parent of tree.spans) {
    const kids = tree.children(parent.spanId);
    if (kids.length === 0) continue;
    const ps = parent.startMs;
    const pe = Math.max(ps, parent.endMs);
    // Covered runs of the children, each remembering the child that starts it and the one that
    // ends it (the latest-ending child of the run).
    interface Run {
      start: number;
      end: number;
      first: SpanRecord;
      last: SpanRecord;
    }
    const runs: Run[] = [];
    for (const child of kids) {
      if (tree.isAdopted(child.spanId)) continue;
      const cs = Math.max(child.startMs, ps);
      const ce = Math.min(Math.max(child.startMs, child.endMs), pe);
      if (ce <= cs) continue;
      const run = runs[runs.length - 1];
      if (run !== undefined && cs <= run.end) {
        if (ce > run.end) {
          run.end = ce;
          run.last = child;
        }
      } else {
        runs.push({ start: cs, end: ce, first: child, last: child });
      }
    }
    if (runs.length === 0) continue;
    const waits = new Map<SpanRecord, { before: number; after: number; bp: number; ap: number }>();
    const waitFor = (child: SpanRecord) => {
      let w = waits.get(child);
      if (w === undefined) waits.set(child, (w = { before: 0, after: 0, bp: 0, ap: 0 }));
      return w;
    };
    for (let i = 0; i <= runs.length; i++) {
      const prev = runs[i - 1];
      const next = runs[i];
      const lo = prev === undefined ? ps : prev.end;
      const hi = next === undefined ? pe : next.start;
      if (hi <= lo) continue;
      // A gap before a remote child is waiting for it; else a gap after one is its response.
      if (next !== undefined && isRemoteCall(tree, parent, next.first)) {
        const w = waitFor(next.first);
        w.before += hi - lo;
        w.bp += onPath(parent.spanId, lo, hi);
      } else if (prev !== undefined && isRemoteCall(tree, parent, prev.last)) {
        const w = waitFor(prev.last);
        w.after += hi - lo;
        w.ap += onPath(parent.spanId, lo, hi);
      }
    }
    for (const child of kids) {
      if (!isRemoteCall(tree, parent, child)) continue;
      const w = waits.get(child) ?? { before: 0, after: 0, bp: 0, ap: 0 };
      calls.push({
        caller: parent,
        callee: child,
        beforeMs: w.before,
        afterMs: w.after,
        beforeOnPathMs: w.bp,
        afterOnPathMs: w.ap,
      });
      if (w.bp + w.ap > 0) {
        waitOnPathBySpan.set(
          parent.spanId,
          (waitOnPathBySpan.get(parent.spanId) ?? 0) + w.bp + w.ap,
        );
      }
    }
  }
  return { calls, waitOnPathBySpan };
}
