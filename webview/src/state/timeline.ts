/**
 * The time window (zoom and pan, the minimap) and the layout widths (the tree column, the side
 * panel). Every window that enters the state goes through `clampWindow`, so it stays inside the
 * trace and at least `MIN_WINDOW_MS` wide.
 */

import {
  clampWindow,
  fullWindow,
  pan,
  windowAround,
  zoomAt,
  type TimeWindow,
} from '../model/layout.js';
import { withEffect, type ViewState } from './view-state.js';

/** The tree column is at least this wide, and leaves the timeline at least `TREE_MARGIN`. */
const MIN_TREE = 140;
const TREE_MARGIN = 160;

export function zoom(s: ViewState, factor: number, anchor?: number): ViewState {
  if (s.model === null) return s;
  const a = anchor ?? (s.window.start + s.window.end) / 2;
  return { ...s, window: zoomAt(s.window, factor, a, s.model.payload.durationMs) };
}

export function panBy(s: ViewState, byMs: number): ViewState {
  if (s.model === null) return s;
  return { ...s, window: pan(s.window, byMs, s.model.payload.durationMs) };
}

export function setWindow(s: ViewState, w: TimeWindow): ViewState {
  if (s.model === null) return s;
  return { ...s, window: clampWindow(w, s.model.payload.durationMs) };
}

export function resetZoom(s: ViewState): ViewState {
  if (s.model === null) return s;
  return { ...s, window: fullWindow(s.model.payload.durationMs) };
}

/** The selected span fills the window (with a margin). */
export function zoomToSelection(s: ViewState): ViewState {
  const model = s.model;
  if (model === null || s.selected < 0) return s;
  const start = model.payload.start[s.selected] as number;
  const end = start + (model.payload.duration[s.selected] as number);
  return { ...s, window: windowAround(start, end, model.payload.durationMs) };
}

/**
 * A click in the minimap: the window, its width kept, centred on `time`; the rows scrolled so
 * that `row` (or the first visible row after it) shows a few rows below the top.
 */
export function minimapJump(s: ViewState, time: number, row: number): ViewState {
  if (s.model === null) return s;
  const w = s.window.end - s.window.start;
  const window = clampWindow(
    { start: time - w / 2, end: time + w / 2 },
    s.model.payload.durationMs,
  );
  let i = 0;
  while (i < s.visible.length - 1 && (s.visible[i] as number) < row) i++;
  return withEffect({ ...s, window }, { type: 'scroll', to: 'index', index: Math.max(0, i - 3) });
}

/** The widest the tree column may be in a timeline `width` px wide. */
function maxTree(width: number): number {
  return Math.max(MIN_TREE, width - TREE_MARGIN);
}

/**
 * The tree column's width as drawn in a timeline `width` px wide. Differs from `treeWidth` only
 * while the timeline is narrower than when the state last heard of its width (a scrollbar came).
 */
export function treeWidthIn(s: ViewState, width: number): number {
  return Math.min(s.treeWidth, maxTree(width));
}

/** The column divider dragged to `x` in a timeline `width` px wide. */
export function resizeTree(s: ViewState, x: number, width: number): ViewState {
  const dragged = Math.min(Math.max(MIN_TREE, x), width - 120);
  return { ...s, treeWidth: Math.min(dragged, maxTree(width)) };
}

/** The timeline became `width` px wide: the tree column narrows with it if it must. */
export function resized(s: ViewState, width: number): ViewState {
  if (width <= 0) return s;
  const treeWidth = Math.min(s.treeWidth, maxTree(width));
  return treeWidth === s.treeWidth ? s : { ...s, treeWidth };
}

/** The side panel at `px` wide: at least 220 px, and leaving the waterfall 360 px. */
export function resizeDetails(s: ViewState, px: number, windowWidth: number): ViewState {
  if (!Number.isFinite(px)) return s;
  const detailsWidth = Math.min(Math.max(220, px), Math.max(260, windowWidth - 360));
  return detailsWidth === s.detailsWidth ? s : { ...s, detailsWidth };
}
