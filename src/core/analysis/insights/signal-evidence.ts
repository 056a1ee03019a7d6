/**
 * Evidence from the other signals for the findings: the log line a failing span wrote, and a
 * queue-depth metric over the time the slow requests waited. Each read is one indexed lookup
 * (a trace's log records) or a walk over one service's series of a few metric names, so a
 * diagnosis calls them inside its slices.
 *
 * What a log record says is the user's program's text, never ours: it is carried as data (in
 * `evidence`, whole up to `QUOTE_CHARS`) and quoted in titles on one line, shortened.
 */

import type { LogRecordEntry } from '../../otlp/logs-request-decoder.js';
import type { MetricPoint } from '../../otlp/metrics-request-decoder.js';
import { logValueText, severityLevel } from '../../store/log-store.js';
import type { TraceFacts } from '../trace-facts.js';
import type { StageKey } from '../../../shared/stage-key.js';
import type { InsightSignals } from './types.js';

/** Longest log body kept in a finding's evidence. */
const QUOTE_CHARS = 2000;
/** Longest log body quoted in a title. */
const TITLE_QUOTE_CHARS = 100;

/** A log record as a finding quotes it. */
export interface LogQuote {
  readonly traceId: string;
  readonly spanId: string;
  /** Name of the span that wrote it. */
  readonly spanName: string;
  readonly service: string;
  readonly timeMs: number;
  readonly severityNumber: number;
  /** The record's own severity text, else the level of its number ("ERROR"); may be ''. */
  readonly severity: string;
  /** The body as text, at most `QUOTE_CHARS`. */
  readonly body: string;
}

function quoteOf(r: LogRecordEntry, spanName: string): LogQuote {
  const body = logValueText(r.body);
  return {
    traceId: r.traceId,
    spanId: r.spanId,
    spanName,
    service: r.resource.serviceName,
    timeMs: r.timeMs,
    severityNumber: r.severityNumber,
    severity: r.severityText !== '' ? r.severityText : severityLevel(r.severityNumber),
    body: body.length > QUOTE_CHARS ? `${body.slice(0, QUOTE_CHARS - 1)}…` : body,
  };
}

/**
 * The log line that tells most about the failure of span `span` of `t`: the highest-severity
 * record the failing span wrote, else one of its ancestors up to the span of `stage` (a
 * handler often logs the exception its callee raised). Between equals, the one nearest the
 * failing span, then the earliest. Undefined when none of those spans logged.
 */
export function failingSpanLog(
  signals: InsightSignals | undefined,
  t: TraceFacts,
  span: number,
  stage: StageKey,
): LogQuote | undefined {
  if (signals === undefined) return undefined;
  let best: { r: LogRecordEntry; spanName: string } | undefined;
  for (let i = span; i >= 0; i = t.parent[i]!) {
    const s = t.spans[i]!;
    // `forTrace` returns the span's records by time: the first of a severity is the earliest.
    for (const r of signals.logStore.forTrace(t.traceId, s.spanId)) {
      if (best === undefined || r.severityNumber > best.r.severityNumber) {
        best = { r, spanName: s.name };
      }
    }
    if (t.stageOf[i] === stage) break;
  }
  return best === undefined ? undefined : quoteOf(best.r, best.spanName);
}

/** A log quote on one line for a title: `ERROR "text"`, shortened, controls as spaces. */
export function titleQuote(q: LogQuote): string {
  // eslint-disable-next-line no-control-regex
  let text = q.body.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  if (text.length > TITLE_QUOTE_CHARS) text = `${text.slice(0, TITLE_QUOTE_CHARS - 1)}…`;
  return `${q.severity === '' ? '' : `${q.severity} `}"${text}"`;
}

/** Names a queue's backlog metric goes by: `queue.depth`, `consumer_queue_lag`, `queue.size`. */
export function isQueueDepthMetric(name: string): boolean {
  const n = name.toLowerCase();
  return n.includes('queue') && /depth|lag|size/.test(n);
}

/** A queue-depth metric over a time range: its value at the start and at the end. */
export interface QueueMetricTrend {
  readonly name: string;
  readonly service: string;
  readonly unit: string;
  /** The series' attributes, as `key=value`. */
  readonly attributes: readonly string[];
  readonly firstValue: number;
  readonly lastValue: number;
  readonly firstMs: number;
  readonly lastMs: number;
  readonly direction: 'rising' | 'falling' | 'steady';
  /** The series' points over the range, [time ms, value], at most `MAX_TREND_POINTS`. */
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/**
 * A gauge exported every minute (the SDKs' default interval) has its value at the range's
 * start in a point up to a minute before it.
 */
const LOOKBACK_MS = 60_000;
const MAX_TREND_POINTS = 60;

/**
 * The queue-depth metric of `services` over [fromMs, toMs], first vs last value: per series,
 * the value at `fromMs` (its last point at or before it, within `LOOKBACK_MS`, else its first
 * in the range) and its last point in the range. Of several series, the one that rose most.
 * Only gauges and sums are read (a depth is a number); undefined when no series has two points.
 */
export function queueMetricTrend(
  signals: InsightSignals | undefined,
  services: ReadonlySet<string>,
  fromMs: number,
  toMs: number,
): QueueMetricTrend | undefined {
  if (signals === undefined || !(toMs >= fromMs)) return undefined;
  let best: QueueMetricTrend | undefined;
  for (const m of signals.metricStore.list()) {
    if (!services.has(m.service) || !isQueueDepthMetric(m.name)) continue;
    if (m.kind !== 'gauge' && m.kind !== 'sum') continue;
    const found = signals.metricStore.query({
      name: m.name,
      service: m.service,
      sinceMs: fromMs - LOOKBACK_MS,
      untilMs: toMs,
    });
    for (const { series, points } of found) {
      const valued = points.filter(
        (p): p is MetricPoint & { value: number } =>
          p.value !== undefined && Number.isFinite(p.value),
      );
      let start = -1;
      for (let i = 0; i < valued.length; i++) {
        if (valued[i]!.timeMs <= fromMs) start = i;
        else break;
      }
      if (start < 0) start = 0;
      const used = valued.slice(start);
      if (used.length < 2) continue;
      const first = used[0]!;
      const last = used[used.length - 1]!;
      const rise = last.value - first.value;
      // Steady within a tenth of the larger value (and one unit): depths are counts.
      const tolerance = Math.max(1, 0.1 * Math.max(Math.abs(first.value), Math.abs(last.value)));
      const trend: QueueMetricTrend = {
        name: series.name,
        service: series.service,
        unit: series.unit,
        attributes: series.attributes.map((kv) => `${kv.key}=${logValueText(kv.value)}`),
        firstValue: first.value,
        lastValue: last.value,
        firstMs: first.timeMs,
        lastMs: last.timeMs,
        direction: rise > tolerance ? 'rising' : rise < -tolerance ? 'falling' : 'steady',
        points: thin(used).map((p) => [p.timeMs, p.value] as const),
      };
      if (best === undefined || rise > best.lastValue - best.firstValue) best = trend;
    }
  }
  return best;
}

/** At most `MAX_TREND_POINTS`, evenly picked, the first and the last kept. */
function thin<T>(list: readonly T[]): T[] {
  if (list.length <= MAX_TREND_POINTS) return [...list];
  const out: T[] = [];
  for (let k = 0; k < MAX_TREND_POINTS; k++) {
    out.push(list[Math.round((k * (list.length - 1)) / (MAX_TREND_POINTS - 1))]!);
  }
  return out;
}
