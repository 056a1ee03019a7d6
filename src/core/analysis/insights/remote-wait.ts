/**
 * Waiting for another process: time a stage spends before its remote child starts (the request
 * in transit, in the callee's queue, or with a busy worker that has not picked it up) or after
 * it ends (the response on its way back). It is time no span covers, but adding a span would not
 * explain it: the answer is in the callee's capacity.
 *
 * Which kind of wait, from the evidence: when, during the wait, the same worker process was
 * serving other requests (calls of other traces into it), the worker was busy; else the request
 * was in transit or queued before the worker's span began.
 */

import { callKey } from '../baseline.js';
import { median } from '../statistics.js';
import type { CallFact, TraceFacts } from '../trace-facts.js';
import type { StageKey } from '../../../shared/stage-key.js';
import { ms, pct, stage } from './common.js';
import type { Diagnosis, Finding } from './types.js';
import { formatCount } from '../../../shared/format.js';

const MIN_TRACES = 3;

/** Per worker process: the intervals it spent serving calls, sorted by start. */
type Busy = Map<string, Array<[number, number, string]>>;

function busyIntervals(window: readonly TraceFacts[]): Busy {
  const busy: Busy = new Map();
  for (const t of window) {
    for (const c of t.calls) {
      let list = busy.get(c.calleeProcess);
      if (list === undefined) busy.set(c.calleeProcess, (list = []));
      list.push([c.waitEndMs, c.calleeEndMs, t.traceId]);
    }
  }
  for (const list of busy.values()) list.sort((a, b) => a[0] - b[0]);
  return busy;
}

/** Fraction of [lo, hi] during which the process served calls of other traces. */
function busyShare(busy: Busy, c: CallFact, traceId: string): number {
  const lo = c.waitStartMs;
  const hi = c.waitEndMs;
  if (hi <= lo) return 0;
  let covered = 0;
  let cursor = lo;
  for (const [s, e, id] of busy.get(c.calleeProcess) ?? []) {
    if (s >= hi) break;
    if (id === traceId || e <= cursor) continue;
    const a = Math.max(s, cursor);
    const b = Math.min(e, hi);
    if (b > a) {
      covered += b - a;
      cursor = b;
    }
  }
  return covered / (hi - lo);
}

export const remoteWait: Diagnosis = {
  kind: 'remote-wait',
  *run(ctx) {
    const busy = busyIntervals(ctx.window);
    yield;
    interface Acc {
      caller: StageKey;
      service: string;
      instances: Set<string>;
      before: number[];
      after: number[];
      shares: number[];
      busy: number[];
      traces: TraceFacts[];
    }
    const groups = new Map<string, Acc>();
    for (const t of ctx.traces) {
      yield;
      if (t.durationMs <= 0) continue;
      const perCall = new Map<string, { before: number; after: number; busy: number }>();
      for (const c of t.calls) {
        const k = callKey(c.callerStage, c.calleeService);
        let acc = groups.get(k);
        if (acc === undefined) {
          groups.set(
            k,
            (acc = {
              caller: c.callerStage,
              service: c.calleeService,
              instances: new Set(),
              before: [],
              after: [],
              shares: [],
              busy: [],
              traces: [],
            }),
          );
        }
        if (c.calleeInstance !== undefined) acc.instances.add(c.calleeInstance);
        const p = perCall.get(k) ?? { before: 0, after: 0, busy: 0 };
        p.before += c.beforeOnPathMs;
        p.after += c.afterOnPathMs;
        if (c.beforeOnPathMs > 0) p.busy = Math.max(p.busy, busyShare(busy, c, t.traceId));
        perCall.set(k, p);
      }
      for (const [k, p] of perCall) {
        const acc = groups.get(k)!;
        acc.before.push(p.before);
        acc.after.push(p.after);
        acc.shares.push((p.before + p.after) / t.durationMs);
        acc.busy.push(p.busy);
        acc.traces.push(t);
      }
    }
    const out: Finding[] = [];
    for (const [k, acc] of groups) {
      if (acc.traces.length < MIN_TRACES) continue;
      const before = median(acc.before);
      const after = median(acc.after);
      const wait = median(acc.before.map((b, i) => b + (acc.after[i] ?? 0)));
      const share = median(acc.shares);
      const e2e = median(acc.traces.map((t) => t.durationMs));
      if (!(wait >= Math.max(50, 0.1 * e2e) && share >= 0.1)) continue;
      const busyTraces = acc.busy.filter((b) => b >= 0.5).length;
      const isBusy = before >= after && busyTraces >= 0.5 * acc.traces.length;
      const caller = stage(acc.caller);
      const workers =
        acc.instances.size > 0
          ? ` (${formatCount(acc.instances.size, 'worker')}: ${[...acc.instances].slice(0, 3).join(', ')})`
          : '';
      const why = isBusy
        ? `the worker was busy with other requests during the wait in ${busyTraces} of ${formatCount(acc.traces.length, 'trace')}`
        : before >= after
          ? 'in transit or queued before the worker started it'
          : 'the response took that long to come back';
      // Steady waiting is how the pipeline runs; a wait that grew against the baseline is news.
      const was = ctx.baseline?.calls[k];
      const grew = was !== undefined && wait >= 1.5 * was && wait - was >= 50;
      const severity: Finding['severity'] =
        was === undefined
          ? share >= 0.3
            ? 'warning'
            : 'info'
          : grew
            ? share >= 0.3
              ? 'critical'
              : 'warning'
            : 'info';
      out.push({
        kind: 'remote-wait',
        severity,
        score: wait,
        title:
          `${caller.name} waits ${ms(wait)} for ${acc.service}${workers} ` +
          `(${pct(share)} of the request${was !== undefined ? `, ${ms(was)} in the baseline` : ''}): ${why}`,
        stage: caller,
        numbers: {
          waitMs: wait,
          waitBeforeMs: before,
          waitAfterMs: after,
          shareOfRequest: share,
          callee: acc.service,
          workers: acc.instances.size,
          busyTraces,
          traces: acc.traces.length,
          ...(was !== undefined ? { baselineWaitMs: was } : {}),
        },
        traceIds: [...acc.traces]
          .map((t, i) => ({ t, w: (acc.before[i] ?? 0) + (acc.after[i] ?? 0) }))
          .sort((a, b) => b.w - a.w)
          .slice(0, 5)
          .map((x) => x.t.traceId),
        evidence: {
          cause: isBusy ? 'busy-worker' : before >= after ? 'transit-or-queue' : 'response',
        },
      });
    }
    return out;
  },
};
