/**
 * Queueing: requests waiting in a message queue between a producer and its consumer (see
 * `queue-waits.ts`), with the trend over the scope and, when the consumer's own work slowed, the
 * reason the queue grows (consumers slower than arrivals). When the waiting stage's service
 * sends a queue-depth metric, its value over the time of the requests that waited (first vs
 * last, see `signal-evidence.ts`) shows the backlog from the queue's own side.
 */

import { baselineRows } from '../baseline.js';
import { median } from '../statistics.js';
import type { TraceFacts } from '../trace-facts.js';
import { formatCount } from '../../../shared/format.js';
import { ms, pct } from './common.js';
import { queueMetricTrend } from './signal-evidence.js';
import type { Diagnosis } from './types.js';

const MIN_TRACES = 3;

/** A metric value as a title shows it: whole numbers as they are, others to 3 digits. */
function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
}
/** A backlog building up is read in the latest traces, before it holds the whole scope. */
const LATEST = 5;

export const queueing: Diagnosis = {
  kind: 'queueing',
  *run(ctx) {
    const rows: Array<{ t: TraceFacts; queued: number; share: number }> = [];
    for (const t of ctx.traces) {
      if (t.durationMs <= 0) continue;
      let queued = 0;
      for (const w of t.queueWaits.values()) queued += w;
      rows.push({ t, queued, share: queued / t.durationMs });
    }
    yield;
    if (rows.length < MIN_TRACES) return [];
    // The whole scope, else its latest traces: a queue that backs up shows in the newest
    // requests first (the first ones did not wait), and the median over the scope would only
    // cross the bar once most requests had waited.
    const queues = (list: typeof rows) => ({
      share: median(list.map((r) => r.share)),
      wait: median(list.map((r) => r.queued)),
    });
    const holds = (q: { share: number; wait: number }) => q.share >= 0.3 && q.wait >= 50;
    let basis = rows;
    let q = queues(rows);
    if (!holds(q) && rows.length > LATEST) {
      basis = rows.slice(-LATEST);
      q = queues(basis);
    }
    if (!holds(q)) return [];
    const { share: medianShare, wait: medianWait } = q;
    const totals = new Map<string, number>();
    for (const r of rows)
      for (const [q, w] of r.t.queueWaits) totals.set(q, (totals.get(q) ?? 0) + w);
    const queue = [...totals].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'a queue';
    const trend = rows.map((r) => r.queued);
    const half = Math.floor(trend.length / 2);
    const first = median(trend.slice(0, half));
    const second = median(trend.slice(half));
    const direction = second > first * 1.2 ? 'rising' : second < first / 1.2 ? 'falling' : 'steady';
    const medianDuration = median(basis.map((r) => r.t.durationMs));
    const latestOnly = basis !== rows ? ` in the latest ${formatCount(basis.length, 'trace')}` : '';
    const was = ctx.baseline?.queues[queue];

    // Why the queue grows: the consumer's own stage slowed against the baseline.
    let consumer: { name: string; nowMs: number; wasMs: number } | undefined;
    if (ctx.baseline !== undefined) {
      const op = rows[0]!.t.operation;
      const base = baselineRows(ctx.baseline, op);
      let best: { key: string; ratio: number; nowMs: number; wasMs: number } | undefined;
      const keys = new Set<string>();
      for (const r of rows.slice(-5))
        for (const [k, st] of r.t.stages) if (st.depth >= 2) keys.add(k);
      for (const k of keys) {
        const nowMs = median(rows.map((r) => r.t.stages.get(k)?.pathMs ?? 0));
        const wasMs = median(base.pathOf(k));
        const ratio = nowMs / Math.max(wasMs, 1e-3);
        if (nowMs - wasMs >= 10 && ratio >= 3 && (best === undefined || ratio > best.ratio)) {
          best = { key: k, ratio, nowMs, wasMs };
        }
      }
      if (best !== undefined) {
        consumer = {
          name: JSON.parse(best.key)[1] as string,
          nowMs: best.nowMs,
          wasMs: best.wasMs,
        };
      }
    }
    // The queue's own count of what waits, on the consumers' side, while these requests waited.
    const consumers = new Set<string>();
    let fromMs = Infinity;
    let toMs = -Infinity;
    for (const r of basis) {
      const svc = r.t.queueConsumers.get(queue);
      if (svc !== undefined) consumers.add(svc);
      fromMs = Math.min(fromMs, r.t.startMs);
      toMs = Math.max(toMs, r.t.startMs + r.t.durationMs);
    }
    yield;
    const depth = queueMetricTrend(ctx.signals, consumers, fromMs, toMs);
    const depthText =
      depth === undefined || depth.direction !== 'rising'
        ? ''
        : `; ${depth.name} on ${depth.service} rose from ${formatNumber(depth.firstValue)} to ${formatNumber(depth.lastValue)}`;
    return [
      {
        kind: 'queueing',
        severity: medianShare >= 0.5 ? 'critical' : 'warning',
        score: medianWait,
        title:
          `${ms(medianWait)} of ${ms(medianDuration)} spent waiting in ${queue}${latestOnly} ` +
          `(${pct(medianShare)} of the request, ${direction}` +
          (was !== undefined ? `; ${ms(was)} in the baseline` : '') +
          ')' +
          (consumer !== undefined
            ? `: the consumer's ${consumer.name} takes ${ms(consumer.nowMs)} (was ${ms(consumer.wasMs)}), slower than requests arrive`
            : '') +
          depthText,
        numbers: {
          queue,
          medianWaitMs: medianWait,
          medianDurationMs: medianDuration,
          medianShare,
          trend: direction,
          ...(basis !== rows ? { latestTraces: basis.length } : {}),
          ...(was !== undefined ? { baselineWaitMs: was } : {}),
          ...(depth !== undefined
            ? {
                queueMetric: depth.name,
                queueMetricFirst: depth.firstValue,
                queueMetricLast: depth.lastValue,
                queueMetricTrend: depth.direction,
              }
            : {}),
        },
        traceIds: [...rows]
          .sort((a, b) => b.queued - a.queued)
          .slice(0, 5)
          .map((r) => r.t.traceId),
        evidence: {
          waitsMs: trend,
          ...(consumer !== undefined ? { consumer } : {}),
          ...(depth !== undefined ? { queueMetric: depth } : {}),
        },
      },
    ];
  },
};
