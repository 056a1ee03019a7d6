/**
 * Untraced time: a stage whose spans have children, yet whose own time (no child running) is a
 * large part of the critical path. Time spent waiting around a call into another process is not
 * counted here: that is waiting for the worker (`remote-wait.ts`), not missing instrumentation.
 */

import { median } from '../statistics.js';
import type { StageKey } from '../../../shared/stage-key.js';
import { ms, pct, stage } from './common.js';
import type { Diagnosis, Finding } from './types.js';

export const untracedTime: Diagnosis = {
  kind: 'untraced-time',
  *run(ctx) {
    if (ctx.traces.length < 3) return [];
    const per = new Map<StageKey, { shares: number[]; untraced: number[]; traceIds: string[] }>();
    for (const t of ctx.traces) {
      yield;
      if (t.durationMs <= 0) continue;
      for (const [key, st] of t.stages) {
        if (st.untracedPathMs <= 0 && !per.has(key)) continue;
        let e = per.get(key);
        if (e === undefined) per.set(key, (e = { shares: [], untraced: [], traceIds: [] }));
        e.shares.push(st.untracedPathMs / t.durationMs);
        e.untraced.push(st.untracedPathMs);
        if (e.traceIds.length < 5) e.traceIds.push(t.traceId);
      }
    }
    const out: Finding[] = [];
    for (const [key, e] of per) {
      // Median over every trace in scope: a stage absent from a trace counts as 0 there.
      const pad = ctx.traces.length - e.shares.length;
      const shares = [...e.shares, ...new Array<number>(Math.max(0, pad)).fill(0)];
      const untraced = [...e.untraced, ...new Array<number>(Math.max(0, pad)).fill(0)];
      const share = median(shares);
      const untracedMs = median(untraced);
      if (share < 0.3 || untracedMs < 50) continue;
      const st = stage(key);
      out.push({
        kind: 'untraced-time',
        severity: share >= 0.5 ? 'warning' : 'info',
        score: untracedMs * 0.5,
        title:
          `${ms(untracedMs)} (${pct(share)} of the critical path) is inside ${st.name} ` +
          `but outside its child spans: add a span there`,
        stage: st,
        numbers: { untracedMs, shareOfCriticalPath: share },
        traceIds: e.traceIds,
      });
    }
    return out;
  },
};
