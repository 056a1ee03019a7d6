/**
 * One call that runs every per-trace analysis, for callers (the analysis service, the read API,
 * the waterfall) that want all of it.
 */

import type { ResourceInfo, SpanRecord } from '../model.js';
import { computeCriticalPath, type CriticalPath } from './critical-path.js';
import { findQueueWaits, type AttributeGetter, type QueueWait } from './queue-waits.js';
import { findRemoteCalls, type RemoteCallsResult } from './remote-calls.js';
import { RowMap } from './row-map.js';
import { selfTimeRows } from './self-time.js';
import { stageKey, type StageContribution, type StageKey } from './stage-stats.js';
import { buildTraceTree, type TraceTree } from './trace-tree.js';

/**
 * Everything the per-trace analyses produce. The id-keyed maps are views over the per-row
 * columns (row = index into `tree.spans`); code that walks every span reads the columns.
 */
export interface TraceAnalysis {
  readonly tree: TraceTree;
  readonly criticalPath: CriticalPath;
  /** Span id -> self time in ms. */
  readonly selfTimes: ReadonlyMap<string, number>;
  /** Self time in ms per row. */
  readonly selfMs: Float64Array;
  /** In consumer start order. */
  readonly queueWaits: QueueWait[];
  /** Synchronous calls into other processes and the waits around them. */
  readonly remoteCalls: RemoteCallsResult;
  /** Span id -> critical-path time of the span and its whole subtree. */
  readonly inclusivePath: ReadonlyMap<string, number>;
  /** Critical-path time of the span and its whole subtree, per row. */
  readonly inclusiveMs: Float64Array;
  /**
   * Stage -> the critical-path time spent in it (its outermost spans with their subtrees), for
   * stages with time on it. With `stages`, the arguments of `StageStatsWindow.addTrace`.
   */
  readonly stageContributions: Map<StageKey, StageContribution>;
  /** Every stage with a span in the trace. */
  readonly stages: Set<StageKey>;
}

/**
 * Critical-path time per row including its subtree. Rows are pre-order, so walking them
 * backwards adds each span's total to its parent after all of its descendants were added.
 */
export function inclusivePathRows(tree: TraceTree, cp: CriticalPath): Float64Array {
  const inclusive = cp.ownMs.slice();
  const parentRow = tree.parentRow;
  for (let i = inclusive.length - 1; i >= 0; i--) {
    const p = parentRow[i] as number;
    if (p >= 0) inclusive[p] = (inclusive[p] as number) + (inclusive[i] as number);
  }
  return inclusive;
}

/** Span id -> critical-path time of the span and its subtree (see {@link inclusivePathRows}). */
export function inclusivePathTimes(tree: TraceTree, cp: CriticalPath): ReadonlyMap<string, number> {
  return RowMap.dense(tree, inclusivePathRows(tree, cp));
}

/**
 * Dense stage numbers per row. A stage key is a JSON string, costly to build per span; it is
 * built once per (resource, name) pair, and the rows compare numbers.
 */
function stageNumbers(tree: TraceTree): { stage: Int32Array; keys: StageKey[] } {
  const spans = tree.spans;
  const stage = new Int32Array(spans.length);
  const keys: StageKey[] = [];
  const numberOfKey = new Map<StageKey, number>();
  // Spans of a batch share a resource object; names repeat within a resource.
  const byResource = new Map<ResourceInfo, Map<string, number>>();
  let lastResource: ResourceInfo | undefined;
  let names: Map<string, number> | undefined;
  for (let r = 0; r < spans.length; r++) {
    const span = spans[r] as SpanRecord;
    if (span.resource !== lastResource || names === undefined) {
      lastResource = span.resource;
      names = byResource.get(lastResource);
      if (names === undefined) byResource.set(lastResource, (names = new Map()));
    }
    let k = names.get(span.name);
    if (k === undefined) {
      // Two resources of one service share the key, hence the second lookup by key.
      const key = stageKey(span.serviceName, span.name);
      k = numberOfKey.get(key);
      if (k === undefined) {
        k = keys.length;
        keys.push(key);
        numberOfKey.set(key, k);
      }
      names.set(span.name, k);
    }
    stage[r] = k;
  }
  return { stage, keys };
}

/** Builds the tree of `spans` (one trace) and runs every analysis over it. */
export function analyzeTrace(
  spans: readonly SpanRecord[],
  getAttribute: AttributeGetter,
): TraceAnalysis {
  const tree = buildTraceTree(spans);
  const criticalPath = computeCriticalPath(tree);
  const inclusiveMs = inclusivePathRows(tree, criticalPath);

  // Per stage: time on the path (in the order stages first get some, as the Map keeps it),
  // and whether a root is of it (in the order of the roots).
  const { stage, keys } = stageNumbers(tree);
  const onPathMs = new Float64Array(keys.length);
  const onPathOrder: number[] = [];
  const isRoot = new Uint8Array(keys.length);
  const rootOrder: number[] = [];
  const parentRow = tree.parentRow;
  for (let r = 0; r < stage.length; r++) {
    const k = stage[r] as number;
    const p = parentRow[r] as number;
    if (p < 0 && isRoot[k] === 0) {
      isRoot[k] = 1;
      rootOrder.push(k);
    }
    // A stage nested in itself (retries, recursion) counts its outermost spans only.
    if (p >= 0 && stage[p] === k) continue;
    const ms = inclusiveMs[r] as number;
    if (ms > 0) {
      if (onPathMs[k] === 0) onPathOrder.push(k);
      onPathMs[k] = (onPathMs[k] as number) + ms;
    }
  }
  const stageContributions = new Map<StageKey, StageContribution>();
  const d = criticalPath.durationMs;
  for (const k of onPathOrder) {
    const ms = onPathMs[k] as number;
    stageContributions.set(keys[k] as StageKey, {
      onPathMs: ms,
      share: d > 0 ? Math.min(1, ms / d) : 0,
      isRoot: isRoot[k] === 1,
    });
  }
  for (const k of rootOrder) {
    const key = keys[k] as StageKey;
    if (!stageContributions.has(key)) {
      stageContributions.set(key, { onPathMs: 0, share: 0, isRoot: true });
    }
  }

  const selfMs = selfTimeRows(tree);
  return {
    tree,
    criticalPath,
    selfTimes: RowMap.dense(tree, selfMs),
    selfMs,
    queueWaits: findQueueWaits(tree, getAttribute),
    remoteCalls: findRemoteCalls(tree, criticalPath),
    inclusivePath: RowMap.dense(tree, inclusiveMs),
    inclusiveMs,
    stageContributions,
    // Keys are numbered in first-seen row order, the order the Set kept them in.
    stages: new Set(keys),
  };
}
