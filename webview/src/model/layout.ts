/**
 * The time axis: which slice of the trace is on screen (zoom and pan), time <-> pixel mapping,
 * tick marks, and the duration format shared by the axis, the rows and the details panel.
 */
import { formatDuration as formatSharedDuration } from '../../../src/shared/format.js';

/** The visible time window, in ms relative to the trace start. Invariant: end > start. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** Narrowest window allowed: 1 µs, well below anything a span measures meaningfully. */
export const MIN_WINDOW_MS = 1e-3;

/** The whole trace, with a little room so the last bar's label is not cut at the edge. */
export function fullWindow(durationMs: number): TimeWindow {
  const d = durationMs > 0 ? durationMs : 1;
  return { start: 0, end: d };
}

export function xOf(t: number, w: TimeWindow, x0: number, width: number): number {
  return x0 + ((t - w.start) / (w.end - w.start)) * width;
}

export function timeAt(x: number, w: TimeWindow, x0: number, width: number): number {
  return w.start + ((x - x0) / Math.max(1, width)) * (w.end - w.start);
}

/**
 * Clamps a window into [0, total] keeping its width where possible, and to at least
 * {@link MIN_WINDOW_MS} wide.
 */
export function clampWindow(w: TimeWindow, total: number): TimeWindow {
  const t = total > 0 ? total : 1;
  let width = Math.min(Math.max(w.end - w.start, MIN_WINDOW_MS), t);
  if (!Number.isFinite(width)) width = t;
  let start = Math.min(Math.max(w.start, 0), t - width);
  if (!Number.isFinite(start)) start = 0;
  return { start, end: start + width };
}

/** Zooms by `factor` (< 1 zooms in) keeping time `anchor` at the same pixel. */
export function zoomAt(w: TimeWindow, factor: number, anchor: number, total: number): TimeWindow {
  const start = anchor - (anchor - w.start) * factor;
  const end = anchor + (w.end - anchor) * factor;
  return clampWindow({ start, end }, total);
}

/** Moves the window by `deltaMs`. */
export function pan(w: TimeWindow, deltaMs: number, total: number): TimeWindow {
  return clampWindow({ start: w.start + deltaMs, end: w.end + deltaMs }, total);
}

/** A window that shows [start, end] with a margin of 5% on each side. */
export function windowAround(start: number, end: number, total: number): TimeWindow {
  const width = Math.max(end - start, MIN_WINDOW_MS);
  return clampWindow({ start: start - width * 0.05, end: end + width * 0.05 }, total);
}

/**
 * Tick times for the window: a 1-2-5 step chosen so ticks are at least `minPx` apart.
 * Returns the step and the tick times (multiples of the step) inside the window.
 */
export function ticks(
  w: TimeWindow,
  widthPx: number,
  minPx = 80,
): { step: number; times: number[] } {
  const span = w.end - w.start;
  const raw = (span * minPx) / Math.max(1, widthPx);
  const pow = Math.pow(10, Math.floor(Math.log10(raw)));
  let step = pow;
  for (const m of [1, 2, 5, 10]) {
    step = m * pow;
    if (step >= raw) break;
  }
  const times: number[] = [];
  const first = Math.ceil(w.start / step) * step;
  for (let t = first, k = 0; t <= w.end + step * 1e-9 && k < 1000; k++, t = first + k * step) {
    times.push(t);
  }
  return { step, times };
}

export { formatShare } from '../../../src/shared/format.js';

/**
 * A duration for display (the shared format). `step`, when given, picks the precision for axis
 * labels instead: enough decimals to tell neighbouring ticks apart.
 */
export function formatDuration(ms: number, step?: number): string {
  if (step === undefined || !Number.isFinite(ms)) return formatSharedDuration(ms);
  const sign = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  const unit = step >= 500 ? 1000 : step >= 0.5 ? 1 : step >= 5e-4 ? 1e-3 : 1e-6;
  const name = unit === 1000 ? 's' : unit === 1 ? 'ms' : unit === 1e-3 ? 'µs' : 'ns';
  const decimals = Math.max(0, -Math.floor(Math.log10(step / unit) + 1e-9));
  return `${sign}${(a / unit).toFixed(Math.min(decimals, 6))} ${name}`;
}

/**
 * Rows <-> scroll position. Browsers cap an element's height (around 16-33M px), so a 1M-row
 * spacer cannot be rowHeight * rows tall: past `maxPx` the scroll range is scaled and the
 * first visible row is proportional to the scroll position.
 */
export interface ScrollMap {
  /** Height to give the scroll spacer. */
  readonly spacerPx: number;
  /** First visible row (fractional) at scroll position `top`. */
  rowAt(top: number): number;
  /** Scroll position that puts `row` at the top. */
  topOf(row: number): number;
}

export function scrollMap(
  rows: number,
  rowHeight: number,
  viewportPx: number,
  maxPx = 8_000_000,
): ScrollMap {
  const natural = rows * rowHeight;
  const spacerPx = Math.min(natural, maxPx);
  const visibleRows = viewportPx / rowHeight;
  const maxRow = Math.max(0, rows - visibleRows);
  const maxTop = Math.max(0, spacerPx - viewportPx);
  if (natural <= maxPx) {
    return { spacerPx, rowAt: (top) => top / rowHeight, topOf: (row) => row * rowHeight };
  }
  return {
    spacerPx,
    rowAt: (top) => (maxTop > 0 ? (Math.min(top, maxTop) / maxTop) * maxRow : 0),
    topOf: (row) => (maxRow > 0 ? (Math.min(row, maxRow) / maxRow) * maxTop : 0),
  };
}
