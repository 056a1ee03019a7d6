/**
 * Canvas drawing of the waterfall: the rows (tree column + bars), the time axis and the
 * minimap. Everything here draws what it is given and decides nothing: which rows, which time
 * window and what is selected come from the pure model (`../model/`). Only rows on screen are
 * touched, so a frame costs the same at 100 and at 1,000,000 spans.
 */

import { SpanFlag } from '../../../src/protocol/messages.js';
import { formatDelta } from '../../../src/shared/format.js';
import { formatDuration, formatShare, ticks, xOf, type TimeWindow } from '../model/layout.js';
import {
  criticalShare,
  hasChildren,
  nameOf,
  serviceOf,
  type TraceModel,
} from '../model/trace-model.js';
import type { Theme } from '../ui/theme.js';

export const ROW_HEIGHT = 22;
const INDENT = 12;
/** Indentation stops growing here so that a very deep tree keeps room for names. */
const MAX_INDENT_LEVELS = 24;
const BAR_HEIGHT = 12;
const LABEL_GAP = 4;

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

/** Left edge of the twisty (and of the row's label) in the tree column, for a row at `depth`. */
export function twistyX(depth: number): number {
  return 6 + Math.min(depth, MAX_INDENT_LEVELS) * INDENT;
}

let hatch: { key: string; pattern: CanvasPattern | null } | undefined;

/** Diagonal hatching for queue waits, made once per colour. */
function hatchPattern(
  ctx: CanvasRenderingContext2D,
  color: string,
  dpr: number,
): CanvasPattern | null {
  const key = `${color}@${dpr}`;
  if (hatch?.key === key) return hatch.pattern;
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
  hatch = { key, pattern };
  return pattern;
}

export function serviceColor(theme: Theme, service: number): string {
  return theme.palette[service % theme.palette.length] as string;
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
  const pattern = hatchPattern(ctx, theme.gap, dpr);

  for (let k = 0; k < count; k++) {
    const vi = first + k;
    if (vi >= f.visible.length) break;
    const row = f.visible[vi] as number;
    const y = k * ROW_HEIGHT - offset;
    const mid = y + ROW_HEIGHT / 2;
    const flags = p.flags[row] as number;
    const selected = row === f.selected;

    if (selected) {
      ctx.fillStyle = theme.selection;
      ctx.fillRect(0, y, width, ROW_HEIGHT);
    } else if (f.matches !== null && f.matches[row] === 1) {
      ctx.fillStyle = theme.match;
      ctx.fillRect(0, y, width, ROW_HEIGHT);
    } else if (row === f.hover) {
      ctx.fillStyle = theme.hover;
      ctx.fillRect(0, y, width, ROW_HEIGHT);
    }
    if (selected && theme.highContrast) {
      ctx.strokeStyle = theme.focus;
      ctx.strokeRect(0.5, y + 0.5, width - 1, ROW_HEIGHT - 1);
    }

    // ---- tree column: twisty, service colour, name, service
    let x = twistyX(p.depth[row] as number);
    const fg = selected ? theme.selectionForeground : theme.foreground;
    if (hasChildren(f.model, row)) {
      ctx.fillStyle = theme.muted;
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
    x += 12;
    ctx.fillStyle = serviceColor(theme, p.service[row] as number);
    ctx.fillRect(x, mid - 4, 3, 8);
    x += 8;

    ctx.save();
    ctx.beginPath();
    ctx.rect(0, y, tx - 26, ROW_HEIGHT);
    ctx.clip();
    const name = nameOf(f.model, row);
    ctx.fillStyle = fg;
    ctx.fillText(name, x, mid);
    const nameW = ctx.measureText(name).width;
    ctx.fillStyle = selected ? theme.selectionForeground : theme.muted;
    ctx.fillText(serviceOf(f.model, row), x + nameW + 6, mid);
    ctx.restore();

    if (flags & SpanFlag.ERROR) {
      drawErrorMark(ctx, tx - 14, mid, theme);
    } else if (flags & SpanFlag.HAS_SOURCE) {
      // A small bracket: "this span maps to a source line" (G opens it).
      ctx.fillStyle = theme.muted;
      ctx.fillText('‹›', tx - 20, mid);
    }

    // ---- timeline: bar, critical segments, queue wait, label
    const start = p.start[row] as number;
    const dur = p.duration[row] as number;
    let x0 = xOf(start, f.window, tx, tw);
    let x1 = xOf(start + dur, f.window, tx, tw);
    const barY = mid - BAR_HEIGHT / 2;
    const color = serviceColor(theme, p.service[row] as number);

    const waits = f.model.waitsByConsumer.get(row);
    if (waits !== undefined && pattern !== null) {
      for (const wi of waits) {
        const ws = xOf(p.queueWaits[wi * 4 + 2] as number, f.window, tx, tw);
        const we = xOf(p.queueWaits[wi * 4 + 3] as number, f.window, tx, tw);
        if (we <= tx || ws >= width || we - ws < 0.5) continue;
        const a = Math.max(ws, tx);
        const b = Math.min(we, width);
        ctx.fillStyle = pattern;
        ctx.fillRect(a, barY, b - a, BAR_HEIGHT);
        ctx.strokeStyle = theme.gap;
        ctx.strokeRect(a + 0.5, barY + 0.5, Math.max(0, b - a - 1), BAR_HEIGHT - 1);
      }
    }

    const visibleBar = x1 >= tx && x0 <= width;
    if (visibleBar) {
      x0 = Math.max(x0, tx);
      x1 = Math.min(x1, width);
      const w = Math.max(1, x1 - x0);
      const critical = (flags & SpanFlag.CRITICAL) !== 0;
      ctx.globalAlpha = f.showCritical ? (critical ? 0.55 : 0.3) : 0.85;
      ctx.fillStyle = color;
      ctx.fillRect(x0, barY, w, BAR_HEIGHT);
      ctx.globalAlpha = 1;
      if (f.showCritical && critical) {
        const from = f.model.critOffsets[row] as number;
        const to = f.model.critOffsets[row + 1] as number;
        for (let s = from; s < to; s++) {
          const a = Math.max(xOf(f.model.critSegs[s * 2] as number, f.window, tx, tw), tx);
          const b = Math.min(xOf(f.model.critSegs[s * 2 + 1] as number, f.window, tx, tw), width);
          if (b < a) continue;
          ctx.fillStyle = color;
          ctx.fillRect(a, barY, Math.max(1, b - a), BAR_HEIGHT);
          ctx.fillStyle = theme.critical;
          ctx.fillRect(a, barY + BAR_HEIGHT - 2, Math.max(1, b - a), 2);
        }
      }
      if (flags & SpanFlag.ERROR) {
        ctx.strokeStyle = theme.error;
        ctx.lineWidth = 2;
        ctx.strokeRect(x0, barY, w, BAR_HEIGHT);
        ctx.lineWidth = 1;
      }
    }

    const share = criticalShare(f.model, row);
    const delta = f.compare?.rowDelta[row];
    const label =
      (share >= 0.005
        ? `${formatDuration(dur)} · ${formatShare(share)} of path`
        : formatDuration(dur)) +
      (delta !== undefined && !Number.isNaN(delta)
        ? ` · ${formatDelta(delta)} ${f.compare!.against}`
        : '');
    const lw = ctx.measureText(label).width;
    ctx.fillStyle = fg;
    const rx = xOf(start + dur, f.window, tx, tw);
    const lx = xOf(start, f.window, tx, tw);
    if (rx + LABEL_GAP + lw <= width) ctx.fillText(label, Math.max(rx, tx) + LABEL_GAP, mid);
    else if (lx - LABEL_GAP - lw >= tx) ctx.fillText(label, lx - LABEL_GAP - lw, mid);
    else ctx.fillText(label, Math.max(tx + 2, width - lw - 4), mid);
  }

  // Column divider.
  ctx.fillStyle = theme.border;
  ctx.fillRect(tx - 4, 0, 1, height);
}

function drawErrorMark(ctx: CanvasRenderingContext2D, x: number, y: number, theme: Theme): void {
  ctx.fillStyle = theme.error;
  ctx.beginPath();
  ctx.arc(x, y, 5, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = theme.background;
  ctx.fillRect(x - 0.75, y - 3, 1.5, 3.5);
  ctx.fillRect(x - 0.75, y + 1.5, 1.5, 1.5);
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
  ctx.fillStyle = theme.muted;
  ctx.fillText(title, 8, height / 2);
  const tw = Math.max(1, width - treeWidth - 8);
  const { step, times } = ticks(window, tw);
  for (const t of times) {
    const x = Math.round(xOf(t, window, treeWidth, tw));
    ctx.fillStyle = theme.border;
    ctx.fillRect(x, height - 6, 1, 6);
    const label = formatDuration(t, step);
    const lw = ctx.measureText(label).width;
    ctx.fillStyle = theme.muted;
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
  const fg = parseColor(serviceColor(theme, 0));
  const err = parseColor(theme.error);
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

/** `#rgb`, `#rrggbb`, `#rrggbbaa` or `rgb(a)()` -> [r, g, b]; grey for anything else. */
export function parseColor(c: string): [number, number, number] {
  const hex = /^#([0-9a-f]{3,8})$/i.exec(c.trim());
  if (hex !== null) {
    const h = hex[1] as string;
    if (h.length === 3 || h.length === 4) {
      return [0, 1, 2].map((i) => parseInt((h[i] as string) + (h[i] as string), 16)) as [
        number,
        number,
        number,
      ];
    }
    return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
  }
  const rgb = /rgba?\(\s*(\d+)[,\s]+(\d+)[,\s]+(\d+)/i.exec(c);
  if (rgb !== null) return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])];
  return [128, 128, 128];
}
