/**
 * One call that runs every per-trace analysis, for callers (the store's trace-complete hook, the
 * read API) that want all of it.
 */

import type { SpanRecord } from '../model.js';
import { computeCriticalPath, type CriticalPath } from './critical-path.js';
import { findQueueWaits, type AttributeGetter, type QueueWait } from './queue-waits.js';
import { selfTimes } from './self-time.js';
import { stageKey, type StageContribution, type StageKey } from './stage-stats.js';
import { buildTraceTree, type TraceTree } from './trace-tree.js';

/** Everything the per-trace analyses produce. */
export interface TraceAnalysis {
  readonly tree: TraceTree;
  readonly criticalPath: CriticalPath;
  /** Span id -> self time in ms. */
  readonly selfTimes: Map<string, number>;
  /** In consumer start order. */
  readonly queueWaits: QueueWait[];
  /**
   * Stage -> its part of the critical path (summed over the stage's spans), for stages with time
   * on it. With `stages`, the arguments of `StageStatsWindow.setTraceCriticalPath`.
   */
  readonly stageContributions: Map<StageKey, StageContribution>;
  /** Every stage with a span in the trace. */
  readonly stages: Set<StageKey>;
}

/** Builds the tree of `spans` (one trace) and runs every analysis over it. */
export function analyzeTrace(
  spans: readonly SpanRecord[],
  getAttribute: AttributeGetter,
): TraceAnalysis {
  const tree = buildTraceTree(spans);
  const criticalPath = computeCriticalPath(tree);

  const traceStages = new Set<StageKey>();
  for (const span of tree.spans) traceStages.add(stageKey(span.serviceName, span.name));
  const onPath = new Map<StageKey, number>();
  for (const [spanId, ms] of criticalPath.bySpan) {
    const span = tree.byId.get(spanId);
    if (span === undefined) continue;
    const key = stageKey(span.serviceName, span.name);
    onPath.set(key, (onPath.get(key) ?? 0) + ms);
  }
  const stageContributions = new Map<StageKey, StageContribution>();
  for (const [key, onPathMs] of onPath) {
    const share = criticalPath.durationMs > 0 ? onPathMs / criticalPath.durationMs : 0;
    stageContributions.set(key, { onPathMs, share });
  }

  return {
    tree,
    criticalPath,
    selfTimes: selfTimes(tree),
    queueWaits: findQueueWaits(tree, getAttribute),
    stageContributions,
    stages: traceStages,
  };
}
