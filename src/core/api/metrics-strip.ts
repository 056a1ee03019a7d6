/**
 * The metrics strip above a trace's waterfall: for the trace's time range, the series of the
 * metrics the user chose (by default those an ML pipeline is read by: GPU, queue, batch,
 * request rate), each as at most `MAX_STRIP_POINTS` (time, value) pairs, with the exemplars
 * that lead to a trace. Computed here, once; the webview only draws it.
 *
 * A histogram point is drawn as its mean (sum / count; points without a sum are left out); its
 * exemplars are the points to click. A series keeps the last point before the range and the
 * first after it, so that a gauge exported every few seconds still draws across a short trace;
 * a trace shorter than the export interval often has no point in it, and then the reading just
 * before it (or just after it) is its value, when it is at most `NEAR_MS` away.
 */

import type { MetricPoint } from '../otlp/metrics-request-decoder.js';
import type { MetricStore } from '../store/metric-store.js';
import { logValueText } from '../store/log-store.js';
import type { MetricsStripPayload, StripMetric, StripSeries } from '../../protocol/messages.js';

/** Most points of one series sent to the strip (evenly thinned beyond). */
export const MAX_STRIP_POINTS = 120;
/** Most series drawn: the strip is a few lines high. */
export const MAX_STRIP_SERIES = 8;
/** Most exemplars of one series. */
const MAX_EXEMPLARS = 50;

/**
 * How far before or after the range a point may be and still stand for it: the OpenTelemetry
 * SDKs export metrics every 60 s by default (OTEL_METRIC_EXPORT_INTERVAL), plus some slack.
 */
export const NEAR_MS = 65_000;

/**
 * Names an ML pipeline is read by, most telling first: GPU use and memory, queues and lag,
 * utilisation, batches, requests.
 */
const DEFAULT_ORDER = [/gpu/i, /queue|lag/i, /util/i, /batch/i, /request/i];
/** Metrics shown when the user has not chosen (each may be several series). */
export const DEFAULT_METRICS = 4;

export const metricKey = (service: string, name: string): string => `${service}/${name}`;

/**
 * The metrics shown when the user has not chosen: the first `DEFAULT_METRICS` whose names match
 * `DEFAULT_ORDER`, in its order (a queue's depth before a batch size), else as listed.
 */
export function defaultMetrics(available: readonly StripMetric[]): string[] {
  return available
    .map((m, i) => ({ m, i, rank: DEFAULT_ORDER.findIndex((re) => re.test(m.name)) }))
    .filter((x) => x.rank >= 0)
    .sort((a, b) => a.rank - b.rank || a.i - b.i)
    .slice(0, DEFAULT_METRICS)
    .map((x) => x.m.key);
}

function valueOf(p: MetricPoint): number | undefined {
  if (p.value !== undefined) return Number.isFinite(p.value) ? p.value : undefined;
  const h = p.histogram;
  if (h === undefined || h.sum === undefined || !(h.count > 0)) return undefined;
  return h.sum / h.count;
}

function thin<T>(list: readonly T[], max: number): T[] {
  if (list.length <= max) return [...list];
  const out: T[] = [];
  for (let k = 0; k < max; k++) out.push(list[Math.round((k * (list.length - 1)) / (max - 1))]!);
  return out;
}

/**
 * The strip for [fromMs, toMs]: the `chosen` metric keys (undefined: the default ones; keys of
 * metrics not held are dropped), at most `MAX_STRIP_SERIES` series.
 */
export function metricsStrip(
  store: Pick<MetricStore, 'list' | 'query'>,
  fromMs: number,
  toMs: number,
  chosen?: readonly string[],
): MetricsStripPayload {
  const available: StripMetric[] = store.list().map((m) => ({
    key: metricKey(m.service, m.name),
    service: m.service,
    name: m.name,
    unit: m.unit,
    kind: m.kind,
  }));
  const byKey = new Map(available.map((m) => [m.key, m]));
  const keys = (chosen ?? defaultMetrics(available)).filter((k) => byKey.has(k));
  const series: StripSeries[] = [];
  if (Number.isFinite(fromMs) && Number.isFinite(toMs) && toMs >= fromMs) {
    for (const key of keys) {
      const m = byKey.get(key)!;
      // Points further out than NEAR_MS cannot be drawn: left out by the store's own filter.
      const near = { sinceMs: fromMs - NEAR_MS, untilMs: toMs + NEAR_MS };
      for (const { series: s, points } of store.query({
        name: m.name,
        service: m.service,
        ...near,
      })) {
        if (series.length >= MAX_STRIP_SERIES) break;
        const valued: Array<[number, number, MetricPoint]> = [];
        for (const p of points) {
          const v = valueOf(p);
          if (v !== undefined) valued.push([p.timeMs, v, p]);
        }
        // The range, with the point just before it and the one just after.
        let lo = valued.findIndex((x) => x[0] >= fromMs);
        if (lo < 0) lo = valued.length;
        let hi = valued.findIndex((x) => x[0] > toMs);
        if (hi < 0) hi = valued.length;
        // (Points further than NEAR_MS out were left out by the query.)
        const used = valued.slice(Math.max(0, lo - 1), Math.min(valued.length, hi + 1));
        if (used.length === 0) continue;
        const exemplars: StripSeries['exemplars'] = [];
        for (const [, , p] of used) {
          for (const e of p.exemplars) {
            if (e.traceId === '' || !Number.isFinite(e.value)) continue;
            if (e.timeMs < fromMs || e.timeMs > toMs) continue;
            if (exemplars.length < MAX_EXEMPLARS)
              exemplars.push({ timeMs: e.timeMs, value: e.value, traceId: e.traceId });
          }
        }
        const drawn = thin(used, MAX_STRIP_POINTS).map(([t, v]) => [t, v] as [number, number]);
        let min = Infinity;
        let max = -Infinity;
        for (const [, v] of drawn) {
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
        series.push({
          ...m,
          attributes: s.attributes.map((kv) => `${kv.key}=${logValueText(kv.value)}`),
          points: drawn,
          min,
          max,
          exemplars,
        });
      }
    }
  }
  return { fromMs, toMs, available, chosen: keys, series };
}
