// Reference for analysis-columnar.test.ts, what the rewrite must equal:
// src/core/analysis/analyze-trace.ts as of 7f90976 (before the columnar rewrite),
// unchanged but for its imports.
/**
 * One call that runs every per-trace analysis, for callers (the analysis service, the read API,
 * the waterfall) that want all of it.
 */

import type { SpanRecord } from '../../../../src/core/model.js';
import { computeCriticalPath, type CriticalPath } from './critical-path.js';
import { findQueueWaits, type AttributeGetter, type QueueWait } from './queue-waits.js';
import { findRemoteCalls, type RemoteCallsResult } from './remote-calls.js';
import { selfTimes } from './self-time.js';
import {
  stageKey,
  type StageContribution,
  type StageKey,
} from '../../../../src/core/analysis/stage-stats.js';
import { buildTraceTree, type TraceTree } from './trace-tree.js';

/** Everything the per-trace analyses produce. */
export interface TraceAnalysis {
  readonly tree: TraceTree;
  readonly criticalPath: CriticalPath;
  /** Span id -> self time in ms. */
  readonly selfTimes: Map<string, number>;
  /** In consumer start order. */
  readonly queueWaits: QueueWait[];
  /** Synchronous calls into other processes and the waits around them. */
  readonly remoteCalls: RemoteCallsResult;
  /** Span id -> critical-path time of the span and its whole subtree. */
  readonly inclusivePath: ReadonlyMap<string, number>;
  /**
   * Stage -> the critical-path time spent in it (its outermost spans with their subtrees), for
   * stages with time on it. With `stages`, the arguments of `StageStatsWindow.addTrace`.
   */
  readonly stageContributions: Map<StageKey, StageContribution>;
  /** Every stage with a span in the trace. */
  readonly stages: Set<StageKey>;
}

/**
 * Critical-path time per span including its subtree. `tree.spans` is pre-order, so walking it
 * backwards adds each span's total to its parent after all of its descendants were added.
 */
export function inclusivePathTimes(tree: TraceTree, cp: CriticalPath): Map<string, number> {
  const inclusive = new Map<string, number>();
  for (const s of tree.spans) inclusive.set(s.spanId, cp.bySpan.get(s.spanId) ?? 0);
  for (let i = tree.spans.length - 1; i >= 0; i--) {
    const s = tree.spans[i] as SpanRecord;
    const parent = tree.parentOf(s);
    if (parent === undefined) continue;
    inclusive.set(
      parent.spanId,
      (inclusive.get(parent.spanId) ?? 0) + (inclusive.get(s.spanId) ?? 0),
    );
  }
  return inclusive;
}

/** Builds the tree of `spans` (one trace) and runs every analysis over it. */
export function analyzeTrace(
  spans: readonly SpanRecord[],
  getAttribute: AttributeGetter,
): TraceAnalysis {
  const tree = buildTraceTree(spans);
  const criticalPath = computeCriticalPath(tree);
  const inclusivePath = inclusivePathTimes(tree, criticalPath);

  const traceStages = new Set<StageKey>();
  const onPath = new Map<StageKey, number>();
  const rootStages = new Set<StageKey>();
  for (const span of tree.spans) {
    const key = stageKey(span.serviceName, span.name);
    traceStages.add(key);
    const parent = tree.parentOf(span);
    if (parent === undefined) rootStages.add(key);
    // A stage nested in itself (retries, recursion) counts its outermost spans only.
    if (
      parent !== undefined &&
      parent.serviceName === span.serviceName &&
      parent.name === span.name
    )
      continue;
    const ms = inclusivePath.get(span.spanId) ?? 0;
    if (ms > 0) onPath.set(key, (onPath.get(key) ?? 0) + ms);
  }
  const stageContributions = new Map<StageKey, StageContribution>();
  const d = criticalPath.durationMs;
  for (const [key, onPathMs] of onPath) {
    stageContributions.set(key, {
      onPathMs,
      share: d > 0 ? Math.min(1, onPathMs / d) : 0,
      isRoot: rootStages.has(key),
    });
  }
  for (const key of rootStages) {
    if (!stageContributions.has(key))
      stageContributions.set(key, { onPathMs: 0, share: 0, isRoot: true });
  }

  return {
    tree,
    criticalPath,
    selfTimes: selfTimes(tree),
    queueWaits: findQueueWaits(tree, getAttribute),
    remoteCalls: findRemoteCalls(tree, criticalPath),
    inclusivePath,
    stageContributions,
    stages: traceStages,
  };
}
