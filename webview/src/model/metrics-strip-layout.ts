/**
 * Where the metrics strip draws a series: its points and exemplars scaled into a box of
 * `width` x `height` (y grows downward) over the strip's time range and the series' value
 * range. Pure, for the unit tests; `ui/metrics-strip.ts` only draws what it returns.
 */
import type { StripSeries } from '../../../src/protocol/messages.js';

export interface StripLayout {
  /** SVG polyline `points`: "x,y x,y ...". */
  readonly line: string;
  readonly exemplars: ReadonlyArray<{ x: number; y: number; traceId: string; label: string }>;
}

export function layoutSeries(
  s: Pick<StripSeries, 'points' | 'min' | 'max' | 'exemplars' | 'unit'>,
  fromMs: number,
  toMs: number,
  width: number,
  height: number,
): StripLayout {
  const span = toMs > fromMs ? toMs - fromMs : 1;
  // A flat series sits in the middle; otherwise min at the bottom and max at the top, with a
  // pixel of margin so the line is not cut.
  const lo = s.min;
  const hi = s.max > s.min ? s.max : s.min + 1;
  const flat = !(s.max > s.min);
  const x = (t: number) => Math.min(width, Math.max(0, ((t - fromMs) / span) * width));
  const y = (v: number) =>
    flat ? height / 2 : 1 + (height - 2) * (1 - Math.min(1, Math.max(0, (v - lo) / (hi - lo))));
  const r = (n: number) => Math.round(n * 10) / 10;
  return {
    line: s.points.map(([t, v]) => `${r(x(t))},${r(y(v))}`).join(' '),
    exemplars: s.exemplars.map((e) => ({
      x: r(x(e.timeMs)),
      y: r(y(e.value)),
      traceId: e.traceId,
      label: `${formatValue(e.value)}${s.unit === '' || s.unit === '1' ? '' : ` ${s.unit}`}: open trace ${e.traceId}`,
    })),
  };
}

/** A metric value for a label: up to 3 significant digits, whole numbers as they are. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
}
