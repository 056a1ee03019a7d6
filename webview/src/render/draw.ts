/**
 * Canvas drawing of the waterfall: the rows (tree column + bars), the time axis and the
 * minimap. Everything here draws what it is given and decides nothing: which rows, which time
 * window and what is selected come from the pure model (`../model/`), where things sit from
 * `./row-layout.ts`, and each row state's colours from `./row-style.ts` (checked for contrast
 * once per theme). Only rows on screen are touched, so a frame costs the same at 100 and at
 * 1,000,000 spans.
 */

import { SpanFlag } from '../../../src/protocol/messages.js';
import { formatDelta } from '../../../src/shared/format.js';
import { formatDuration, ticks, xOf, type TimeWindow } from '../model/layout.js';
import {
  criticalShare,
  hasChildren,
  nameOf,
  serviceOf,
  type TraceModel,
} from '../model/trace-model.js';
import type { Theme } from './theme-colors.js';
import { parseRgba, type Rgba } from './contrast.js';
import { logMarkColor, rowStyles, type RowState, type RowStyle } from './row-style.js';
import { BAR_HEIGHT, durationLabel, labelX, nameX, ROW_HEIGHT, twistyX } from './row-layout.js';

/** Fill opacity of a bar, or of its part, off the critical path while the path is shown. */
const DIMMED_ALPHA = 0.3;
const OFF_PATH_ALPHA = 0.55;

// The layout is pure (./row-layout.ts); its row height and twisty are the input layer's too.
export { ROW_HEIGHT, twistyX } from './row-layout.js';

export interface RowsFrame {
  model: TraceModel;
  visible: Int32Array;
  /** Index into `visible` of the row at the top of the canvas (fractional: partial rows). */
  top: number;
  collapsed: Uint8Array;
  /** Search hits to highlight (1 = hit), or null. */
  matches: Uint8Array | null;
  selected: number;
  hover: number;
  window: TimeWindow;
  /** Width of the tree column in CSS px. */
  treeWidth: number;
  showCritical: boolean;
  /**
   * While comparing: per row, its stage's change on the critical path (NaN: none to mark), and
   * what it is against ("vs typical").
   */
  compare?: { rowDelta: Float64Array; against: string };
}

/** Hatching patterns by colour and pixel ratio (a few: one per row state at most). */
const hatches = new Map<string, CanvasPattern | null>();

/** Diagonal hatching for queue waits, made once per colour. */
function hatchPattern(
  ctx: CanvasRenderingContext2D,
  color: string,
  dpr: number,
): CanvasPattern | null {
  const key = `${color}@${dpr}`;
  const made = hatches.get(key);
  if (made !== undefined) return made;
  if (hatches.size > 16) hatches.clear();
  const size = Math.round(6 * dpr);
  const c = document.createElement('canvas');
  c.width = c.height = size;
  const g = c.getContext('2d');
  if (g === null) return null;
  g.strokeStyle = color;
  g.lineWidth = Math.max(1, dpr);
  g.beginPath();
  g.moveTo(-1, size + 1);
  g.lineTo(size + 1, -1);
  g.moveTo(-1, 1);
  g.lineTo(1, -1);
  g.moveTo(size - 1, size + 1);
  g.lineTo(size + 1, size - 1);
  g.stroke();
  const pattern = ctx.createPattern(c, 'repeat');
  pattern?.setTransform(new DOMMatrix().scale(1 / dpr));
  hatches.set(key, pattern);
  return pattern;
}

export function serviceColor(theme: Theme, service: number): string {
  return theme.palette[service % theme.palette.length] as string;
}

/** A row's state, as drawn: the selection first, then a search match, then the hover. */
function stateOf(f: RowsFrame, row: number): RowState {
  if (row === f.selected) return 'selected';
  if (f.matches !== null && f.matches[row] === 1) return 'match';
  return row === f.hover ? 'hover' : 'normal';
}

/** Draws the visible rows into a canvas of `width` x `height` CSS px (already DPR-scaled). */
export function drawRows(
  ctx: CanvasRenderingContext2D,
  width: number,
  height: number,
  f: RowsFrame,
  theme: Theme,
  dpr: number,
): void {
  const p = f.model.payload;
  const styles = rowStyles(theme);
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, width, height);
  const tx = f.treeWidth;
  const tw = Math.max(1, width - tx - 8);
  ctx.font = `${theme.fontSize}px ${theme.font}`;
  ctx.textBaseline = 'middle';

  // Grid lines at the axis ticks, under everything.
  const { times } = ticks(f.window, tw);
  ctx.fillStyle = theme.border;
  for (const t of times) ctx.fillRect(Math.round(xOf(t, f.window, tx, tw)), 0, 1, height);

  const first = Math.max(0, Math.floor(f.top));
  const offset = (f.top - first) * ROW_HEIGHT;
  const count = Math.ceil(height / ROW_HEIGHT) + 1;

  for (let k = 0; k < count; k++) {
    const vi = first + k;
    if (vi >= f.visible.length) break;
    const row = f.visible[vi] as number;
    const y = k * ROW_HEIGHT - offset;
    const mid = y + ROW_HEIGHT / 2;
    const flags = p.flags[row] as number;
    const st = styles[stateOf(f, row)];

    if (st.fill !== null) {
      ctx.fillStyle = st.fill;
      ctx.fillRect(0, y, width, ROW_HEIGHT);
    }
    if (st.outline !== null) {
      ctx.strokeStyle = st.outline.color;
      ctx.setLineDash(st.outline.dashed ? [3, 2] : []);
      ctx.strokeRect(0.5, y + 0.5, width - 1, ROW_HEIGHT - 1);
      ctx.setLineDash([]);
    }

    // ---- tree column: twisty, service colour, name, service
    let x = twistyX(p.depth[row] as number);
    if (hasChildren(f.model, row)) {
      ctx.fillStyle = st.muted;
      ctx.beginPath();
      if (f.collapsed[row] === 1) {
        ctx.moveTo(x + 2, mid - 4);
        ctx.lineTo(x + 6, mid);
        ctx.lineTo(x + 2, mid + 4);
      } else {
        ctx.moveTo(x, mid - 2);
        ctx.lineTo(x + 8, mid - 2);
        ctx.lineTo(x + 4, mid + 2);
      }
      ctx.fill();
    }
    const color = st.bars[(p.service[row] as number) % st.bars.length] as string;
    // A placeholder (a parent not received yet) is no span: no service colour, muted name, and
    // an empty dashed bar over its orphans' extent.
    const placeholder = (flags & SpanFlag.PLACEHOLDER) !== 0;
    x = nameX(p.depth[row] as number);
    if (!placeholder) {
      ctx.fillStyle = color;
      ctx.fillRect(x - 8, mid - 4, 3, 8);
    }

    ctx.save();
    ctx.beginPath();
    ctx.rect(0, y, tx - 26, ROW_HEIGHT);
    ctx.clip();
    const name = nameOf(f.model, row);
    ctx.fillStyle = placeholder ? st.muted : st.text;
    ctx.fillText(name, x, mid);
    const nameW = ctx.measureText(name).width;
    ctx.fillStyle = st.muted;
    ctx.fillText(serviceOf(f.model, row), x + nameW + 6, mid);
    ctx.restore();

    if (flags & SpanFlag.ERROR) {
      drawErrorMark(ctx, tx - 14, mid, st);
    } else if (flags & SpanFlag.HAS_SOURCE) {
      // A small bracket: "this span maps to a source line" (G opens it).
      ctx.fillStyle = st.muted;
      ctx.fillText('‹›', tx - 20, mid);
    }

    // ---- timeline: bar, critical segments, queue wait, label
    const start = p.start[row] as number;
    const dur = p.duration[row] as number;
    let x0 = xOf(start, f.window, tx, tw);
    let x1 = xOf(start + dur, f.window, tx, tw);
    const barY = mid - BAR_HEIGHT / 2;

    const waits = f.model.waitsByConsumer.get(row);
    const pattern = waits !== undefined ? hatchPattern(ctx, st.gap, dpr) : null;
    if (waits !== undefined && pattern !== null) {
      for (const wi of waits) {
        const ws = xOf(p.queueWaits[wi * 4 + 2] as number, f.window, tx, tw);
        const we = xOf(p.queueWaits[wi * 4 + 3] as number, f.window, tx, tw);
        if (we <= tx || ws >= width || we - ws < 0.5) continue;
        const a = Math.max(ws, tx);
        const b = Math.min(we, width);
        ctx.fillStyle = pattern;
        ctx.fillRect(a, barY, b - a, BAR_HEIGHT);
        ctx.strokeStyle = st.gap;
        ctx.strokeRect(a + 0.5, barY + 0.5, Math.max(0, b - a - 1), BAR_HEIGHT - 1);
      }
    }

    const visibleBar = x1 >= tx && x0 <= width;
    if (visibleBar && placeholder) {
      x0 = Math.max(x0, tx);
      x1 = Math.min(x1, width);
      ctx.strokeStyle = st.muted;
      ctx.setLineDash([4, 3]);
      ctx.strokeRect(x0 + 0.5, barY + 0.5, Math.max(1, x1 - x0 - 1), BAR_HEIGHT - 1);
      ctx.setLineDash([]);
    } else if (visibleBar) {
      x0 = Math.max(x0, tx);
      x1 = Math.min(x1, width);
      const w = Math.max(1, x1 - x0);
      const critical = (flags & SpanFlag.CRITICAL) !== 0;
      ctx.fillStyle = color;
      if (f.showCritical) {
        // Off the path, or the parts of a critical span that are not: a faint fill in a full-
        // colour edge; the path itself in full colour, underlined.
        ctx.globalAlpha = critical ? OFF_PATH_ALPHA : DIMMED_ALPHA;
        ctx.fillRect(x0, barY, w, BAR_HEIGHT);
        ctx.globalAlpha = 1;
        if (w >= 3) {
          ctx.strokeStyle = color;
          ctx.strokeRect(x0 + 0.5, barY + 0.5, w - 1, BAR_HEIGHT - 1);
        }
      } else {
        ctx.fillRect(x0, barY, w, BAR_HEIGHT);
      }
      if (f.showCritical && critical) {
        const from = f.model.critOffsets[row] as number;
        const to = f.model.critOffsets[row + 1] as number;
        for (let s = from; s < to; s++) {
          const a = Math.max(xOf(f.model.critSegs[s * 2] as number, f.window, tx, tw), tx);
          const b = Math.min(xOf(f.model.critSegs[s * 2 + 1] as number, f.window, tx, tw), width);
          if (b < a) continue;
          ctx.fillStyle = color;
          ctx.fillRect(a, barY, Math.max(1, b - a), BAR_HEIGHT);
          ctx.fillStyle = st.critical;
          ctx.fillRect(a, barY + BAR_HEIGHT - 2, Math.max(1, b - a), 2);
        }
      }
      if (flags & SpanFlag.ERROR) {
        ctx.strokeStyle = st.error;
        ctx.lineWidth = 2;
        ctx.strokeRect(x0, barY, w, BAR_HEIGHT);
        ctx.lineWidth = 1;
      }
    }

    const logMarks = f.model.logMarksByRow.get(row);
    if (logMarks !== undefined) drawLogMarks(ctx, f, logMarks, barY, tx, tw, width, st, theme);

    const delta = f.compare?.rowDelta[row];
    const label =
      durationLabel(dur, criticalShare(f.model, row)) +
      (delta !== undefined && !Number.isNaN(delta)
        ? ` · ${formatDelta(delta)} ${f.compare!.against}`
        : '');
    const lw = ctx.measureText(label).width;
    const lx = labelX(
      xOf(start, f.window, tx, tw),
      xOf(start + dur, f.window, tx, tw),
      lw,
      tx,
      width,
    );
    if (visibleBar && lx < x1 && lx + lw > x0) {
      // No room beside the bar: the label sits on it, inside a halo of the row's background.
      ctx.strokeStyle = st.fill ?? theme.background;
      ctx.lineWidth = 3;
      ctx.lineJoin = 'round';
      ctx.strokeText(label, lx, mid);
      ctx.lineWidth = 1;
      ctx.lineJoin = 'miter';
    }
    ctx.fillStyle = st.text;
    ctx.fillText(label, lx, mid);
  }

  // Column divider.
  ctx.fillStyle = theme.border;
  ctx.fillRect(tx - 4, 0, 1, height);
}

function drawErrorMark(ctx: CanvasRenderingContext2D, x: number, y: number, st: RowStyle): void {
  ctx.fillStyle = st.error;
  ctx.beginPath();
  ctx.arc(x, y, 5, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = st.errorInk;
  ctx.fillRect(x - 0.75, y - 3, 1.5, 3.5);
  ctx.fillRect(x - 0.75, y + 1.5, 1.5, 1.5);
}

/**
 * A span's log lines: a tick per line at its time, in its level's colour, edged in the
 * background so it reads on any bar; lines that land on the same pixel draw once, the most
 * severe on top (marks are in time order, so the later wins only when it is as severe).
 */
function drawLogMarks(
  ctx: CanvasRenderingContext2D,
  f: RowsFrame,
  marks: readonly number[],
  barY: number,
  tx: number,
  tw: number,
  width: number,
  st: RowStyle,
  theme: Theme,
): void {
  const lm = f.model.payload.logMarks as Float64Array;
  const byPixel = new Map<number, number>();
  for (const k of marks) {
    const x = Math.round(xOf(lm[k * 3 + 1] as number, f.window, tx, tw));
    if (x < tx || x > width) continue;
    const sev = lm[k * 3 + 2] as number;
    if ((byPixel.get(x) ?? -1) <= sev) byPixel.set(x, sev);
  }
  for (const [x, sev] of byPixel) {
    ctx.fillStyle = theme.background;
    ctx.fillRect(x - 2, barY - 3, 4, BAR_HEIGHT + 6);
    ctx.fillStyle = st.logs[logMarkColor(sev)];
    ctx.fillRect(x - 1, barY - 2, 2, BAR_HEIGHT + 4);
  }
}

/** The time axis above the rows: column titles and tick labels. */
export function drawAxis(
  ctx: CanvasRenderingContext2D,
  width: number,
  height: number,
  window: TimeWindow,
  treeWidth: number,
  theme: Theme,
  title: string,
): void {
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, width, height);
  ctx.font = `${theme.fontSize - 1}px ${theme.font}`;
  ctx.textBaseline = 'middle';
  const muted = rowStyles(theme).normal.muted;
  ctx.fillStyle = muted;
  ctx.fillText(title, 8, height / 2);
  const tw = Math.max(1, width - treeWidth - 8);
  const { step, times } = ticks(window, tw);
  for (const t of times) {
    const x = Math.round(xOf(t, window, treeWidth, tw));
    ctx.fillStyle = theme.border;
    ctx.fillRect(x, height - 6, 1, 6);
    const label = formatDuration(t, step);
    const lw = ctx.measureText(label).width;
    ctx.fillStyle = muted;
    ctx.fillText(label, Math.min(x + 3, width - lw - 2), height / 2 - 1);
  }
  ctx.fillStyle = theme.border;
  ctx.fillRect(0, height - 1, width, 1);
  ctx.fillRect(treeWidth - 4, 0, 1, height);
}

/**
 * The minimap's static image: span density over (time, row) for the whole trace, errors in the
 * error colour. Built once per payload in O(n + pixels) with one difference array per pixel
 * line, however wide the spans are.
 */
export function buildMinimap(
  model: TraceModel,
  width: number,
  height: number,
  theme: Theme,
): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = Math.max(1, Math.floor(width));
  c.height = Math.max(1, Math.floor(height));
  const g = c.getContext('2d');
  if (g === null) return c;
  const W = c.width;
  const H = c.height;
  const p = model.payload;
  const n = model.rowCount;
  const total = p.durationMs > 0 ? p.durationMs : 1;
  const diff = new Float32Array((W + 1) * H);
  const errors = new Uint8Array(W * H);
  for (let i = 0; i < n; i++) {
    const y = Math.min(H - 1, Math.floor((i / n) * H));
    const s = p.start[i] as number;
    const a = Math.min(W - 1, Math.max(0, Math.floor((s / total) * W)));
    const b = Math.min(
      W,
      Math.max(a + 1, Math.ceil(((s + (p.duration[i] as number)) / total) * W)),
    );
    diff[y * (W + 1) + a] = (diff[y * (W + 1) + a] as number) + 1;
    diff[y * (W + 1) + b] = (diff[y * (W + 1) + b] as number) - 1;
    if ((p.flags[i] as number) & SpanFlag.ERROR) errors[y * W + a] = 1;
  }
  const rowsPerLine = Math.max(1, n / H);
  const img = g.createImageData(W, H);
  const grey: Rgba = [128, 128, 128, 1];
  const fg = parseRgba(serviceColor(theme, 0)) ?? grey;
  const err = parseRgba(theme.error) ?? grey;
  for (let y = 0; y < H; y++) {
    let acc = 0;
    for (let x = 0; x < W; x++) {
      acc += diff[y * (W + 1) + x] as number;
      const o = (y * W + x) * 4;
      if (errors[y * W + x] === 1) {
        img.data[o] = err[0];
        img.data[o + 1] = err[1];
        img.data[o + 2] = err[2];
        img.data[o + 3] = 255;
      } else if (acc > 0) {
        img.data[o] = fg[0];
        img.data[o + 1] = fg[1];
        img.data[o + 2] = fg[2];
        img.data[o + 3] = Math.round(90 + 165 * Math.min(1, acc / rowsPerLine));
      }
    }
  }
  g.putImageData(img, 0, 0);
  return c;
}

/** The minimap with the visible region (time window x visible rows) outlined. */
export function drawMinimap(
  ctx: CanvasRenderingContext2D,
  width: number,
  height: number,
  image: HTMLCanvasElement | null,
  model: TraceModel,
  window: TimeWindow,
  firstRow: number,
  lastRow: number,
  theme: Theme,
): void {
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, width, height);
  if (image !== null) ctx.drawImage(image, 0, 0, width, height);
  const total = model.payload.durationMs > 0 ? model.payload.durationMs : 1;
  const n = Math.max(1, model.rowCount);
  const x0 = (window.start / total) * width;
  const x1 = (window.end / total) * width;
  const y0 = (firstRow / n) * height;
  const y1 = Math.max(y0 + 3, ((lastRow + 1) / n) * height);
  ctx.fillStyle = theme.hover;
  ctx.globalAlpha = 0.35;
  ctx.fillRect(x0, 0, x1 - x0, height);
  ctx.globalAlpha = 1;
  ctx.strokeStyle = theme.focus;
  ctx.lineWidth = 1;
  ctx.strokeRect(
    Math.round(x0) + 0.5,
    Math.round(y0) + 0.5,
    Math.max(2, Math.round(x1 - x0) - 1),
    Math.round(y1 - y0) - 1,
  );
  ctx.fillStyle = theme.border;
  ctx.fillRect(0, height - 1, width, 1);
}
