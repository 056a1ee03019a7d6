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
  const pts = clip(s.points, fromMs, toMs);
  const y = (v: number) =>
    flat ? height / 2 : 1 + (height - 2) * (1 - Math.min(1, Math.max(0, (v - lo) / (hi - lo))));
  const r = (n: number) => Math.round(n * 10) / 10;
  return {
    // One reading (the range fell between two exports) holds across the whole range.
    line:
      pts.length === 1
        ? `0,${r(y(pts[0]![1]))} ${width},${r(y(pts[0]![1]))}`
        : pts.map(([t, v]) => `${r(x(t))},${r(y(v))}`).join(' '),
    exemplars: s.exemplars
      .filter((e) => e.timeMs >= fromMs && e.timeMs <= toMs)
      .map((e) => ({
        x: r(x(e.timeMs)),
        y: r(y(e.value)),
        traceId: e.traceId,
        label: `${formatValue(e.value)}${unitSuffix(s.unit)}: open trace ${e.traceId}`,
      })),
  };
}

/**
 * The points drawn over [fromMs, toMs]: those inside, and where the line crosses an edge, the
 * value there (linear between the two readings around it), so that a zoomed strip shows the
 * window's part of the line instead of the points outside piled on its edges. A series with
 * no point inside and readings on one side only keeps its nearest reading.
 */
export function clip(
  points: readonly (readonly [number, number])[],
  fromMs: number,
  toMs: number,
): Array<readonly [number, number]> {
  if (points.length <= 1) return [...points];
  const at = (a: readonly [number, number], b: readonly [number, number], t: number) =>
    [t, b[0] === a[0] ? b[1] : a[1] + ((b[1] - a[1]) * (t - a[0])) / (b[0] - a[0])] as const;
  const out: Array<readonly [number, number]> = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const prev = points[i - 1];
    if (prev !== undefined && prev[0] < fromMs && p[0] > fromMs) out.push(at(prev, p, fromMs));
    if (p[0] >= fromMs && p[0] <= toMs) out.push(p);
    if (prev !== undefined && prev[0] < toMs && p[0] > toMs) out.push(at(prev, p, toMs));
  }
  if (out.length === 0) {
    // All on one side of the window.
    out.push(points[0]![0] > toMs ? points[0]! : points[points.length - 1]!);
  }
  return out;
}

/**
 * The unit after a value: none for dimensionless units ("1") and for UCUM annotations such as
 * "{request}" (a count of requests: the metric's name says what is counted).
 */
export function unitSuffix(unit: string): string {
  return unit === '' || unit === '1' || /^\{[^}]*\}$/.test(unit) ? '' : ` ${unit}`;
}

/**
 * Row labels: the metric's name, and where several rows share it, what tells them apart: the
 * attributes that differ between rows of one service, and the service when theirs differ.
 */
export function seriesLabels(
  series: readonly Pick<StripSeries, 'name' | 'service' | 'attributes'>[],
): string[] {
  return series.map((s) => {
    const same = series.filter((o) => o.name === s.name);
    if (same.length === 1) return s.name;
    // The attributes first: a long label is cut at its end, and they tell rows of one service
    // apart.
    const parts = [s.name];
    const alike = same.filter((o) => o.service === s.service);
    if (alike.length > 1) {
      const differing = s.attributes.filter((a) => !alike.every((o) => o.attributes.includes(a)));
      // The value alone when it says something by itself ("generation-a"), else key=value.
      const shown = differing.map((a) => {
        const value = a.slice(a.indexOf('=') + 1);
        return value.length >= 3 && !/^[\d.]+$/.test(value) ? value : a;
      });
      if (shown.length > 0) parts.push(shown.join(', '));
    }
    if (new Set(same.map((o) => o.service)).size > 1) parts.push(s.service);
    return parts.join(' · ');
  });
}

/** A metric value for a label: up to 3 significant digits, whole numbers as they are. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
}
