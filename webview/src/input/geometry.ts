/**
 * Pixels to rows and times, for the input bindings: where the rows are under the scroller, and
 * how wide the time part of them is. Reads the DOM's live geometry and the state; changes
 * neither.
 */

import { scrollMap } from '../model/layout.js';
import { ROW_HEIGHT } from '../render/draw.js';
import { treeWidthIn } from '../state/timeline.js';
import type { ViewState } from '../state/view-state.js';

/** The row drawn at `clientY`, or -1 below the last one. */
export function rowAtClientY(scroller: HTMLElement, s: ViewState, clientY: number): number {
  const rect = scroller.getBoundingClientRect();
  const top = scrollMap(s.visible.length, ROW_HEIGHT, scroller.clientHeight).rowAt(
    scroller.scrollTop,
  );
  const i = Math.floor(top + (clientY - rect.top) / ROW_HEIGHT);
  return i >= 0 && i < s.visible.length ? (s.visible[i] as number) : -1;
}

/** The tree column's width as drawn now. */
export function treeWidthOf(scroller: HTMLElement, s: ViewState): number {
  return treeWidthIn(s, scroller.clientWidth);
}

/** Width of the bars' part of the rows, px (at least 1). */
export function timelineWidth(scroller: HTMLElement, s: ViewState): number {
  return Math.max(1, scroller.clientWidth - treeWidthOf(scroller, s) - 8);
}
