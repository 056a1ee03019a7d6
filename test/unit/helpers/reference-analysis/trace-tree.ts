// Reference for analysis-columnar.test.ts, what the rewrite must equal:
// src/core/analysis/trace-tree.ts as of 7f90976 (before the columnar rewrite),
// unchanged but for its imports.
/**
 * The parent/child structure of one trace, rebuilt from spans that may arrive in any order, more
 * than once, or not at all (a parent that was never exported).
 *
 * Everything else in `analysis/` walks this tree instead of `parentSpanId`, so the repairs made
 * here (orphans promoted to roots, follows-from adoption through links, broken cycles, clock skew
 * between processes) are made in exactly one place.
 */

import type { SpanRecord } from '../../../../src/core/model.js';
import { adjustClockSkew } from './clock-skew.js';

/** A trace's spans arranged as a forest. Built by {@link buildTraceTree}; immutable. */
export interface TraceTree {
  /** The trace id of the first input span ('' for an empty trace). */
  readonly traceId: string;
  /**
   * The deduplicated spans in pre-order depth-first order: roots by start time, each followed by
   * its subtree, children by start time. A parent therefore always precedes its descendants,
   * and iterating backwards visits every child before its parent.
   */
  readonly spans: readonly SpanRecord[];
  /** Span id -> span (the last one received when the id was duplicated). */
  readonly byId: ReadonlyMap<string, SpanRecord>;
  /** Spans without an effective parent, by start time. Orphans are among them unless adopted. */
  readonly roots: readonly SpanRecord[];
  /** Earliest start over all spans (0 for an empty trace). */
  readonly startMs: number;
  /** Latest end over all spans; never less than `startMs` (0 for an empty trace). */
  readonly endMs: number;
  /** Input records dropped because a later record had the same span id. */
  readonly duplicateCount: number;
  /** Spans whose `parentSpanId` names a span that is not in the trace. */
  readonly orphanCount: number;
  /** Parent links ignored because they formed a cycle (malformed data). */
  readonly brokenCycleCount: number;
  /**
   * Span id -> milliseconds its times were shifted by the clock-skew adjustment (see
   * `clock-skew.ts`); only shifted spans are listed. The records in this tree carry the
   * adjusted times; the raw ones are the record's times minus the shift (and in its bytes).
   */
  readonly clockShifts: ReadonlyMap<string, number>;
  /** The clock-skew shift of a span in ms (0 when none). */
  clockShiftOf(spanId: string): number;
  /**
   * Children of a span (effective ones: real children plus link-adopted followers), by start
   * time. Empty for an unknown id.
   */
  children(spanId: string): readonly SpanRecord[];
  /** The effective parent: the real parent when present, else the span it was adopted under. */
  parentOf(span: SpanRecord | string): SpanRecord | undefined;
  /** True when the span hangs under its effective parent through a link, not `parentSpanId`. */
  isAdopted(spanId: string): boolean;
  /** Distance from the span's root (roots are 0); -1 for an unknown id. */
  depthOf(spanId: string): number;
}

const NO_CHILDREN: readonly SpanRecord[] = Object.freeze([]);

/** Orders by start time, then span id, so that the result does not depend on arrival order. */
function byStart(a: SpanRecord, b: SpanRecord): number {
  return a.startMs - b.startMs || (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0);
}

/**
 * Builds the tree of one trace. `spans` should all belong to one trace; links are only followed
 * to spans with the same trace id.
 *
 * Repairs, in this order:
 * 1. Duplicate span ids: the last record wins (a re-export carries the newest data).
 * 2. A `parentSpanId` that is absent from the trace makes the span an orphan, i.e. a root.
 * 3. Parent cycles (only possible in malformed data) are cut at the span of the cycle that
 *    started first (ties: smallest span id), which becomes a root.
 * 4. Follows-from adoption: a root (orphans included) that links to a span of the same trace is
 *    attached under the first linked span that is not in its own subtree. Roots are considered
 *    latest-start first, so that when two roots link to each other the later one hangs under
 *    the earlier one (a consumer under its producer, not the reverse).
 * 5. Clock skew: a child in another process that a synchronous call placed outside its parent
 *    is shifted into it (`clock-skew.ts`); the shifts are in `clockShifts`.
 *
 * Runs in O(n log n) with no recursion, so 100,000-deep chains are fine.
 */
export function buildTraceTree(spans: readonly SpanRecord[]): TraceTree {
  const byId = new Map<string, SpanRecord>();
  for (const span of spans) byId.set(span.spanId, span);
  const duplicateCount = spans.length - byId.size;
  const unique = [...byId.values()];
  const traceId = spans[0]?.traceId ?? '';

  // Step 2: real parents that exist.
  const parent = new Map<string, SpanRecord>();
  let orphanCount = 0;
  for (const span of unique) {
    if (span.parentSpanId === '') continue;
    const p = byId.get(span.parentSpanId);
    if (p === undefined) orphanCount++;
    else parent.set(span.spanId, p);
  }

  // Step 3: each span has at most one parent, so the parent edges form a functional graph whose
  // cycles are found by walking up with three colours (0 unvisited, 1 on the current walk, 2 done).
  let brokenCycleCount = 0;
  const colour = new Map<string, 1 | 2>();
  for (const start of unique) {
    if (colour.has(start.spanId)) continue;
    const walk: SpanRecord[] = [];
    let cur: SpanRecord | undefined = start;
    while (cur !== undefined && !colour.has(cur.spanId)) {
      colour.set(cur.spanId, 1);
      walk.push(cur);
      cur = parent.get(cur.spanId);
    }
    if (cur !== undefined && colour.get(cur.spanId) === 1) {
      // `cur` is on this walk: the cycle is walk[indexOf(cur)..].
      const cycle = walk.slice(walk.indexOf(cur));
      let cut = cycle[0] as SpanRecord;
      for (const s of cycle) if (byStart(s, cut) < 0) cut = s;
      parent.delete(cut.spanId);
      brokenCycleCount++;
    }
    for (const s of walk) colour.set(s.spanId, 2);
  }

  // Step 4: union-find over the components of the parent forest. Attaching a root under a span
  // of another component cannot close a cycle; under its own component it would.
  const uf = new Map<string, string>();
  const find = (id: string): string => {
    let root = id;
    for (let next = uf.get(root); next !== undefined && next !== root; next = uf.get(root)) {
      root = next;
    }
    // Path compression keeps later finds near O(1).
    for (let cur = id; cur !== root;) {
      const next = uf.get(cur) as string;
      uf.set(cur, root);
      cur = next;
    }
    return root;
  };
  for (const span of unique) uf.set(span.spanId, span.spanId);
  for (const [childId, p] of parent) uf.set(find(childId), find(p.spanId));

  const adopted = new Set<string>();
  const initialRoots = unique.filter((s) => !parent.has(s.spanId) && s.links.length > 0);
  initialRoots.sort((a, b) => byStart(b, a));
  for (const span of initialRoots) {
    for (const link of span.links) {
      if (link.traceId !== span.traceId || link.spanId === span.spanId) continue;
      const target = byId.get(link.spanId);
      if (target === undefined) continue;
      const a = find(span.spanId);
      const b = find(target.spanId);
      if (a === b) continue;
      parent.set(span.spanId, target);
      adopted.add(span.spanId);
      uf.set(a, b);
      break;
    }
  }

  const childMap = new Map<string, SpanRecord[]>();
  const roots: SpanRecord[] = [];
  const arrange = (): void => {
    childMap.clear();
    roots.length = 0;
    for (const span of byId.values()) {
      const p = parent.get(span.spanId);
      if (p === undefined) {
        roots.push(span);
        continue;
      }
      const list = childMap.get(p.spanId);
      if (list === undefined) childMap.set(p.spanId, [span]);
      else list.push(span);
    }
    roots.sort(byStart);
    for (const list of childMap.values()) list.sort(byStart);
  };
  arrange();
  let ordered = preorder(roots, childMap);

  // Step 5: clock skew across processes. The adjusted copies replace the records everywhere,
  // and since a shift can reorder siblings, the tree is arranged again.
  const skew = adjustClockSkew(
    ordered,
    (s) => parent.get(s.spanId),
    (id) => adopted.has(id),
  );
  if (skew.shifts.size > 0) {
    for (const span of skew.spans) byId.set(span.spanId, span);
    for (const [childId, p] of parent) parent.set(childId, byId.get(p.spanId) as SpanRecord);
    arrange();
    ordered = preorder(roots, childMap);
  }
  const depth = new Map<string, number>();
  for (const span of ordered) {
    const p = parent.get(span.spanId);
    depth.set(span.spanId, p === undefined ? 0 : (depth.get(p.spanId) ?? 0) + 1);
  }

  let startMs = Infinity;
  let endMs = -Infinity;
  for (const span of ordered) {
    if (span.startMs < startMs) startMs = span.startMs;
    // A span that ends before it starts (bad clock) still occupies its start instant.
    const end = Math.max(span.startMs, span.endMs);
    if (end > endMs) endMs = end;
  }
  if (ordered.length === 0) startMs = endMs = 0;

  return {
    traceId,
    spans: ordered,
    byId,
    roots,
    startMs,
    endMs,
    duplicateCount,
    orphanCount,
    brokenCycleCount,
    clockShifts: skew.shifts,
    clockShiftOf: (spanId) => skew.shifts.get(spanId) ?? 0,
    children: (spanId) => childMap.get(spanId) ?? NO_CHILDREN,
    parentOf: (span) => parent.get(typeof span === 'string' ? span : span.spanId),
    isAdopted: (spanId) => adopted.has(spanId),
    depthOf: (spanId) => depth.get(spanId) ?? -1,
  };
}

/** Pre-order DFS with an explicit stack (no recursion: 100,000-deep chains are fine). */
function preorder(
  roots: readonly SpanRecord[],
  childMap: ReadonlyMap<string, readonly SpanRecord[]>,
): SpanRecord[] {
  const ordered: SpanRecord[] = [];
  const stack: SpanRecord[] = [];
  // Children are pushed in reverse to pop in start order.
  for (let i = roots.length - 1; i >= 0; i--) stack.push(roots[i] as SpanRecord);
  while (stack.length > 0) {
    const span = stack.pop() as SpanRecord;
    ordered.push(span);
    const kids = childMap.get(span.spanId);
    if (kids === undefined) continue;
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i] as SpanRecord);
  }
  return ordered;
}
