/**
 * The aggregate critical path: across a set of traces, where critical-path time goes, as a tree
 * of stages by where they are called from (root operation > stage > sub-stage). Drawn as an
 * icicle in the webview and served by the read API.
 *
 * Invariant: a node's `ms` is its own critical-path time plus its children's, so children never
 * overflow their parent in the icicle (each span's subtree time is its own time plus its
 * children's, `TraceFacts.pathMs`). Spans of one stage under one node merge (three retrieval calls
 * are one box); a stage reached by two routes is two boxes, as in a flame graph.
 *
 * Times are means per trace of the set: a box is "what this stage adds to a typical request's
 * critical path here", and the top boxes sum to the mean critical-path time (a queue wait,
 * in no span, is on no box).
 */

import type { TraceFacts } from './trace-facts.js';
import { stageOf, type StageKey } from '../../shared/stage-key.js';

export interface PathTreeNode {
  readonly service: string;
  readonly name: string;
  /** Index of the parent node in `nodes`, -1 for an operation (a root). */
  readonly parent: number;
  readonly depth: number;
  /** Mean critical-path ms per trace of the set, the subtree's included. */
  readonly ms: number;
  /** Mean critical-path ms of the stage's own work (children excluded). */
  readonly selfMs: number;
  /** Traces in which the node has time on the critical path. */
  readonly traces: number;
  /** The trace where the node took the most critical-path time, and that time. */
  readonly slowestTraceId: string;
  readonly slowestMs: number;
}

export interface PathTree {
  /** Traces aggregated. */
  readonly traces: number;
  /** Mean critical-path duration over them, ms (the sum of the roots' `ms`). */
  readonly meanMs: number;
  /** Pre-order: each node after its parent, children by `ms` descending. */
  readonly nodes: readonly PathTreeNode[];
}

interface Building {
  key: StageKey;
  depth: number;
  ms: number;
  selfMs: number;
  traces: number;
  lastTrace: number;
  slowestTraceId: string;
  slowestMs: number;
  children: Map<StageKey, Building>;
}

/** Below this share of the mean critical path a box is not drawn (the icicle stays legible). */
const MIN_SHARE = 0.002;
const MAX_NODES = 400;

/** The aggregate critical path of `traces` (the last `limit` of them, oldest first in). */
export function pathTree(traces: readonly TraceFacts[], limit = 200): PathTree {
  const set = traces.slice(-limit);
  const roots = new Map<StageKey, Building>();
  const make = (key: StageKey, depth: number): Building => ({
    key,
    depth,
    ms: 0,
    selfMs: 0,
    traces: 0,
    lastTrace: -1,
    slowestTraceId: '',
    slowestMs: 0,
    children: new Map(),
  });
  // Per trace: the node of each span, from its parent's (parents come before children in the
  // facts' span order, as in the tree they were built from; an out-of-order parent is looked up
  // after the fact).
  for (let ti = 0; ti < set.length; ti++) {
    const t = set[ti]!;
    const n = t.spans.length;
    const nodeOf: Array<Building | undefined> = new Array(n);
    // Per node, this trace's time there (for the slowest trace).
    const inTrace = new Map<Building, number>();
    const resolve = (i: number, guard: number): Building | undefined => {
      const got = nodeOf[i];
      if (got !== undefined) return got;
      if (guard > n) return undefined; // a parent cycle: not a tree
      const p = t.parent[i]!;
      const key = t.stageOf[i]!;
      let node: Building | undefined;
      if (p < 0) {
        node = roots.get(key);
        if (node === undefined) roots.set(key, (node = make(key, 0)));
      } else {
        const up = resolve(p, guard + 1);
        if (up === undefined) return undefined;
        node = up.children.get(key);
        if (node === undefined) up.children.set(key, (node = make(key, up.depth + 1)));
      }
      nodeOf[i] = node;
      return node;
    };
    for (let i = 0; i < n; i++) {
      const own = t.ownPathMs[i]!;
      if (!(t.pathMs[i]! > 0)) continue;
      const node = resolve(i, 0);
      if (node === undefined) continue;
      // Time is added once per span, at its own node and at every ancestor node, through the
      // span's own part: the subtree totals then need no second pass.
      if (own > 0) {
        node.selfMs += own;
        for (let up: number = i; up >= 0; up = t.parent[up]!) {
          const b = nodeOf[up] ?? resolve(up, 0);
          if (b === undefined) break;
          b.ms += own;
          inTrace.set(b, (inTrace.get(b) ?? 0) + own);
          if (b.depth === 0) break;
        }
      }
    }
    for (const [b, ms] of inTrace) {
      if (b.lastTrace !== ti) {
        b.lastTrace = ti;
        b.traces++;
      }
      if (ms > b.slowestMs) {
        b.slowestMs = ms;
        b.slowestTraceId = t.traceId;
      }
    }
  }
  const count = Math.max(1, set.length);
  let total = 0;
  for (const r of roots.values()) total += r.ms;
  const meanMs = total / count;
  const nodes: PathTreeNode[] = [];
  const visit = (b: Building, parent: number): void => {
    if (nodes.length >= MAX_NODES || b.ms / count < MIN_SHARE * meanMs) return;
    const { service, name } = stageOf(b.key);
    const at = nodes.length;
    nodes.push({
      service,
      name,
      parent,
      depth: b.depth,
      ms: b.ms / count,
      selfMs: b.selfMs / count,
      traces: b.traces,
      slowestTraceId: b.slowestTraceId,
      slowestMs: b.slowestMs,
    });
    for (const c of [...b.children.values()].sort((x, y) => y.ms - x.ms)) visit(c, at);
  };
  for (const r of [...roots.values()].sort((x, y) => y.ms - x.ms)) visit(r, -1);
  return { traces: set.length, meanMs, nodes };
}
