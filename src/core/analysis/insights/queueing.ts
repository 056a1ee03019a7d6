/**
 * Queueing: requests waiting in a message queue between a producer and its consumer (see
 * `queue-waits.ts`), with the trend over the scope and, when the consumer's own work slowed, the
 * reason the queue grows (consumers slower than arrivals).
 */

import { baselineRows } from '../baseline.js';
import { median } from '../statistics.js';
import type { TraceFacts } from '../trace-facts.js';
import { formatCount } from '../../../shared/format.js';
import { ms, pct } from './common.js';
import type { Diagnosis } from './types.js';

const MIN_TRACES = 3;
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
            : ''),
        numbers: {
          queue,
          medianWaitMs: medianWait,
          medianDurationMs: medianDuration,
          medianShare,
          trend: direction,
          ...(basis !== rows ? { latestTraces: basis.length } : {}),
          ...(was !== undefined ? { baselineWaitMs: was } : {}),
        },
        traceIds: [...rows]
          .sort((a, b) => b.queued - a.queued)
          .slice(0, 5)
          .map((r) => r.t.traceId),
        evidence: { waitsMs: trend, ...(consumer !== undefined ? { consumer } : {}) },
      },
    ];
  },
};
