/**
 * Where things sit in a waterfall row, in CSS px: pure, so the renderer, the pointer bindings and
 * the browser tests that read drawn pixels back share one layout.
 */

import { formatDuration, formatShare } from '../model/layout.js';

export const ROW_HEIGHT = 22;
/** Bars are this high, centred in their row. */
export const BAR_HEIGHT = 12;
const INDENT = 12;
/** Indentation stops growing here so that a very deep tree keeps room for names. */
const MAX_INDENT_LEVELS = 24;
const LABEL_GAP = 4;

/** Left edge of the twisty (and of the row's label) in the tree column, for a row at `depth`. */
export function twistyX(depth: number): number {
  return 6 + Math.min(depth, MAX_INDENT_LEVELS) * INDENT;
}

/** Left edge of a row's name: after the twisty (12 px) and the service colour mark (8 px). */
export function nameX(depth: number): number {
  return twistyX(depth) + 20;
}

/** The text beside a bar: its duration, and its share of the critical path when it has one. */
export function durationLabel(durationMs: number, criticalShare: number): string {
  return criticalShare >= 0.005
    ? `${formatDuration(durationMs)} · ${formatShare(criticalShare)} of path`
    : formatDuration(durationMs);
}

/**
 * Left edge of a label `labelWidth` wide beside a bar from `x0` to `x1` in a timeline that
 * starts at `treeWidth` and ends at `width`: right of the bar when it fits, else left of it,
 * else against the right edge.
 */
export function labelX(
  x0: number,
  x1: number,
  labelWidth: number,
  treeWidth: number,
  width: number,
): number {
  if (x1 + LABEL_GAP + labelWidth <= width) return Math.max(x1, treeWidth) + LABEL_GAP;
  if (x0 - LABEL_GAP - labelWidth >= treeWidth) return x0 - LABEL_GAP - labelWidth;
  return Math.max(treeWidth + 2, width - labelWidth - 4);
}
