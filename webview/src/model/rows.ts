/**
 * Which rows the waterfall shows: the tree with collapsed subtrees skipped, optionally narrowed
 * to a filter's matches (kept with their ancestors so each match keeps its context). Pure
 * functions over the `TraceModel`; the renderer draws only the slice of the result on screen.
 */

import { ancestors, hasChildren, type TraceModel } from './trace-model.js';

/**
 * The visible rows, in tree order. `collapsed[row]` hides the row's descendants; `include`,
 * when given, hides every row whose entry is 0. O(visible + collapsed subtrees skipped).
 */
export function visibleRows(
  model: TraceModel,
  collapsed: Uint8Array,
  include: Uint8Array | null = null,
): Int32Array {
  const n = model.rowCount;
  const out = new Int32Array(n);
  let k = 0;
  for (let i = 0; i < n;) {
    if (include !== null && include[i] === 0) {
      i++;
      continue;
    }
    out[k++] = i;
    i = collapsed[i] === 1 ? (model.subtreeEnd[i] as number) : i + 1;
  }
  return k === n ? out : out.slice(0, k);
}

/** A mask of `matches` plus every ancestor of a match. O(n): each row is marked once. */
export function withAncestors(model: TraceModel, matches: Uint8Array): Uint8Array {
  const out = Uint8Array.from(matches);
  const parent = model.payload.parent;
  for (let i = 0; i < model.rowCount; i++) {
    if (matches[i] !== 1) continue;
    for (let p = parent[i] as number; p >= 0 && out[p] !== 1; p = parent[p] as number) out[p] = 1;
  }
  return out;
}

/** Nothing collapsed. */
export function expandAll(model: TraceModel): Uint8Array {
  return new Uint8Array(model.rowCount);
}

/** Every row with children collapsed: only the roots show. */
export function collapseAll(model: TraceModel): Uint8Array {
  return collapseToDepth(model, 0);
}

/**
 * Shows rows down to `depth` (0 = roots only): rows at that depth and deeper with children
 * are collapsed, shallower ones expanded.
 */
export function collapseToDepth(model: TraceModel, depth: number): Uint8Array {
  const out = new Uint8Array(model.rowCount);
  for (let i = 0; i < model.rowCount; i++) {
    if ((model.payload.depth[i] as number) >= depth && hasChildren(model, i)) out[i] = 1;
  }
  return out;
}

/** Expands every ancestor of `row` so that it is visible (mutates and returns `collapsed`). */
export function reveal(model: TraceModel, collapsed: Uint8Array, row: number): Uint8Array {
  for (const a of ancestors(model, row)) collapsed[a] = 0;
  return collapsed;
}

/** Index of `row` in `visible` (which is ascending), or -1. Binary search. */
export function indexOfRow(visible: Int32Array, row: number): number {
  let lo = 0;
  let hi = visible.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = visible[mid] as number;
    if (v === row) return mid;
    if (v < row) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * The next (dir 1) or previous (dir -1) row of an ascending list after/before `from`, wrapping
 * around; -1 when the list is empty. Used for next/previous error and next/previous match.
 */
export function nextInList(list: Int32Array, from: number, dir: 1 | -1): number {
  const n = list.length;
  if (n === 0) return -1;
  // First index whose row is greater than `from`.
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) > from) hi = mid;
    else lo = mid + 1;
  }
  if (dir === 1) return list[lo < n ? lo : 0] as number;
  // Last index whose row is less than `from`.
  let j = lo - 1;
  while (j >= 0 && (list[j] as number) >= from) j--;
  return list[j >= 0 ? j : n - 1] as number;
}

/** The rows whose mask entry is 1, ascending. */
export function rowsOf(mask: Uint8Array): Int32Array {
  let count = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] === 1) count++;
  const out = new Int32Array(count);
  for (let i = 0, k = 0; i < mask.length; i++) if (mask[i] === 1) out[k++] = i;
  return out;
}
