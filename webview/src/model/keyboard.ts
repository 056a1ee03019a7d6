/**
 * Keyboard navigation of the waterfall: keys -> actions, and the pure selection moves the
 * actions make over the visible rows (a tree-grid: up/down move, left/right collapse/expand or
 * go to parent/first child, like VS Code's own trees).
 */

import { indexOfRow, nextInList } from './rows.js';
import { hasChildren, type TraceModel } from './trace-model.js';

export type KeyAction =
  | { type: 'move'; by: number }
  | { type: 'home' }
  | { type: 'end' }
  | { type: 'left' }
  | { type: 'right' }
  | { type: 'toggle' }
  | { type: 'details' }
  | { type: 'source' }
  | { type: 'error'; dir: 1 | -1 }
  | { type: 'match'; dir: 1 | -1 }
  | { type: 'zoom'; factor: number }
  | { type: 'pan'; by: number }
  | { type: 'zoomToSpan' }
  | { type: 'resetZoom' }
  | { type: 'expandAll' }
  | { type: 'collapseAll' }
  | { type: 'depth'; depth: number }
  | { type: 'search' }
  | { type: 'escape' }
  | { type: 'follow' };

export interface KeyInput {
  key: string;
  shiftKey?: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}

/** The key bindings, also shown in the help tooltip. */
export const KEY_HELP: readonly [string, string][] = [
  ['↑ ↓ PgUp PgDn Home End', 'move'],
  ['← →', 'collapse / expand, parent / child'],
  ['Space', 'toggle subtree'],
  ['Enter', 'details'],
  ['G', 'go to source'],
  ['E / Shift+E, F8 / Shift+F8', 'next / previous error'],
  ['N / Shift+N', 'next / previous match'],
  ['+ − / A D', 'zoom / pan'],
  ['Z', 'zoom to span'],
  ['0', 'whole trace'],
  ['1…9', 'expand to depth'],
  ['* /', 'expand all / collapse all: Shift+8, Shift+C'],
  ['Ctrl+F or /', 'search'],
  ['F', 'follow latest'],
];

/** `pageRows`: rows per page. Returns undefined for keys that are not bindings. */
export function keyAction(e: KeyInput, pageRows: number): KeyAction | undefined {
  if (e.ctrlKey || e.metaKey) {
    return e.key === 'f' || e.key === 'F' ? { type: 'search' } : undefined;
  }
  if (e.altKey) return undefined;
  switch (e.key) {
    case 'ArrowUp':
      return { type: 'move', by: -1 };
    case 'ArrowDown':
      return { type: 'move', by: 1 };
    case 'PageUp':
      return { type: 'move', by: -Math.max(1, pageRows - 1) };
    case 'PageDown':
      return { type: 'move', by: Math.max(1, pageRows - 1) };
    case 'Home':
      return { type: 'home' };
    case 'End':
      return { type: 'end' };
    case 'ArrowLeft':
      return { type: 'left' };
    case 'ArrowRight':
      return { type: 'right' };
    case ' ':
      return { type: 'toggle' };
    case 'Enter':
      return { type: 'details' };
    case 'g':
    case 'G':
      return { type: 'source' };
    case 'e':
      return { type: 'error', dir: 1 };
    case 'E':
      return { type: 'error', dir: -1 };
    case 'F8':
      return { type: 'error', dir: e.shiftKey ? -1 : 1 };
    case 'n':
      return { type: 'match', dir: 1 };
    case 'N':
      return { type: 'match', dir: -1 };
    case '+':
    case '=':
      return { type: 'zoom', factor: 0.5 };
    case '-':
    case '_':
      return { type: 'zoom', factor: 2 };
    case 'a':
    case 'A':
      return { type: 'pan', by: -0.2 };
    case 'd':
    case 'D':
      return { type: 'pan', by: 0.2 };
    case 'z':
    case 'Z':
      return { type: 'zoomToSpan' };
    case '0':
      return { type: 'resetZoom' };
    case '*':
      return { type: 'expandAll' };
    case 'C':
      return { type: 'collapseAll' };
    case '/':
      return { type: 'search' };
    case 'Escape':
      return { type: 'escape' };
    case 'f':
    case 'F':
      return { type: 'follow' };
  }
  if (/^[1-9]$/.test(e.key)) return { type: 'depth', depth: Number(e.key) };
  return undefined;
}

/** What a selection move asks of the view. */
export interface MoveResult {
  /** The row to select (-1: none). */
  row: number;
  /** Collapse (0) or expand (1) this row first; -1 for neither. */
  toggleRow: number;
  toggleTo: 0 | 1 | -1;
}

/**
 * Applies a movement action to the selection. `visible` is the ascending list of visible rows;
 * `selected` may be -1 or a row that is not visible (then moves start from the top).
 */
export function moveSelection(
  model: TraceModel,
  visible: Int32Array,
  collapsed: Uint8Array,
  selected: number,
  action: KeyAction,
): MoveResult {
  const none: MoveResult = { row: selected, toggleRow: -1, toggleTo: -1 };
  if (visible.length === 0) return { row: -1, toggleRow: -1, toggleTo: -1 };
  const at = selected >= 0 ? indexOfRow(visible, selected) : -1;
  const clampIdx = (i: number): number => Math.min(visible.length - 1, Math.max(0, i));
  switch (action.type) {
    case 'move': {
      const i = at < 0 ? (action.by > 0 ? 0 : visible.length - 1) : clampIdx(at + action.by);
      return { ...none, row: visible[i] as number };
    }
    case 'home':
      return { ...none, row: visible[0] as number };
    case 'end':
      return { ...none, row: visible[visible.length - 1] as number };
    case 'left': {
      if (at < 0) return { ...none, row: visible[0] as number };
      if (hasChildren(model, selected) && collapsed[selected] !== 1) {
        return { row: selected, toggleRow: selected, toggleTo: 1 };
      }
      const p = model.payload.parent[selected] as number;
      return { ...none, row: p >= 0 ? p : selected };
    }
    case 'right': {
      if (at < 0) return { ...none, row: visible[0] as number };
      if (!hasChildren(model, selected)) return none;
      if (collapsed[selected] === 1) return { row: selected, toggleRow: selected, toggleTo: 0 };
      // The first child is the next row in pre-order; it is visible unless filtered out.
      const next = visible[at + 1];
      return {
        ...none,
        row: next !== undefined && next < (model.subtreeEnd[selected] as number) ? next : selected,
      };
    }
    case 'toggle':
      if (at < 0 || !hasChildren(model, selected)) return none;
      return { row: selected, toggleRow: selected, toggleTo: collapsed[selected] === 1 ? 0 : 1 };
    case 'error': {
      const row = nextInList(model.errorRows, selected, action.dir);
      return { ...none, row: row < 0 ? selected : row };
    }
    default:
      return none;
  }
}
