/**
 * Where the time goes, without history: the stage that holds most of the critical path of the
 * slowest requests, followed down to the work inside it that holds most of its time
 * ("reranking: 3.4 s, 89% of the critical path of the slowest 20 traces; inside it, forward in
 * demo-reranking-runner 1.6 s and 1.2 s waiting for demo-reranking-runner").
 *
 * It needs no baseline and no change, so a fresh window still names the culprit. It is `info`:
 * that a stage dominates is not by itself a fault (in a healthy pipeline the LLM does), except
 * that, with a baseline, a stage whose share rose well above its baseline share is a `warning`.
 */

import { baselineRows } from '../baseline.js';
import { median } from '../statistics.js';
import type { TraceFacts } from '../trace-facts.js';
import type { StageKey } from '../../../shared/stage-key.js';
import { ms, pct, stage } from './common.js';
import { movedAttributes } from './regression.js';
import type { Diagnosis, Finding } from './types.js';
import { formatCount } from '../../../shared/format.js';

/** Slowest traces looked at per operation. */
const SLOWEST = 20;

/** The child stage holding most of `key`'s path time in these traces, and its share. */
function heaviestChild(
  traces: readonly TraceFacts[],
  key: StageKey,
): { key: StageKey; pathMs: number; share: number } | undefined {
  const sums = new Map<StageKey, number>();
  let parentSum = 0;
  for (const t of traces) {
    parentSum += t.stages.get(key)?.pathMs ?? 0;
    for (const [k, st] of t.stages) {
      if (st.parentKey === key && k !== key) sums.set(k, (sums.get(k) ?? 0) + st.pathMs);
    }
  }
  let best: [StageKey, number] | undefined;
  for (const e of sums) if (best === undefined || e[1] > best[1]) best = e;
  if (best === undefined || parentSum <= 0) return undefined;
  return { key: best[0], pathMs: best[1] / traces.length, share: best[1] / parentSum };
}

export const dominantStage: Diagnosis = {
  kind: 'dominant-stage',
  *run(ctx) {
    const out: Finding[] = [];
    for (const [op, list] of ctx.byOperation) {
      yield;
      const slowest = [...list].sort((a, b) => b.durationMs - a.durationMs).slice(0, SLOWEST);
      const total = slowest.reduce((s, t) => s + t.durationMs, 0);
      if (slowest.length === 0 || total <= 0) continue;
      // The request's own stages: direct children of the root.
      const sums = new Map<StageKey, number>();
      for (const t of slowest) {
        for (const [k, st] of t.stages) {
          if (st.depth === 1 && st.parentKey === op) sums.set(k, (sums.get(k) ?? 0) + st.pathMs);
        }
      }
      let top: [StageKey, number] | undefined;
      for (const e of sums) if (top === undefined || e[1] > top[1]) top = e;
      if (top === undefined) continue;
      const [key, sum] = top;
      const share = sum / total;
      if (share < 0.25) continue;
      const typicalMs = median(slowest.map((t) => t.stages.get(key)?.pathMs ?? 0));
      // Down the chain while one child holds most of the time.
      const chain: Array<{ key: StageKey; pathMs: number }> = [];
      let cur = key;
      for (let depth = 0; depth < 6; depth++) {
        const child = heaviestChild(slowest, cur);
        if (child === undefined || child.share < 0.5) break;
        chain.push({ key: child.key, pathMs: child.pathMs });
        cur = child.key;
      }
      // Waiting around remote calls made inside the stage's subtree.
      const callWaits = slowest.map((t) =>
        t.calls
          .filter((c) => c.callerStage === key || chain.some((x) => x.key === c.callerStage))
          .reduce((s, c) => s + c.beforeOnPathMs + c.afterOnPathMs, 0),
      );
      const waitMs = median(callWaits);
      const inside = chain.length > 0 ? chain[chain.length - 1]! : undefined;
      const parts: string[] = [];
      if (inside !== undefined) {
        const st = stage(inside.key);
        parts.push(`mostly ${st.name} in ${st.service} (${ms(inside.pathMs)})`);
      }
      const waits = waitMs >= Math.max(20, 0.1 * typicalMs);
      if (waits) parts.push(`${ms(waitMs)} waiting for a worker`);

      let severity: Finding['severity'] = 'info';
      let baselineShare: number | undefined;
      if (ctx.baseline !== undefined) {
        // Like with like: the share in the baseline's slowest traces, as many as looked at
        // here. The slowest normal requests are those with the longest answers, so the share of
        // generation in them is higher than over all of them; against all of them, normal
        // traffic read as a shift.
        const rows = baselineRows(ctx.baseline, op);
        const path = rows.pathOf(key);
        const pick = rows.durations
          .map((_, i) => i)
          .sort((a, b) => rows.durations[b]! - rows.durations[a]!)
          .slice(0, slowest.length);
        const d = pick.reduce((s, i) => s + rows.durations[i]!, 0);
        if (pick.length > 0 && d > 0) {
          baselineShare = pick.reduce((s, i) => s + path[i]!, 0) / d;
          if (share >= baselineShare + 0.2 && share >= 1.5 * baselineShare) severity = 'warning';
        }
      }
      // With a baseline, what moved with the stage (as the regression would say it).
      const moved =
        ctx.baseline === undefined ? [] : movedAttributes(key, slowest, ctx.baseline).slice(0, 2);
      if (moved.length > 0) parts.push(moved.map((m) => `${m.key} ${m.was} → ${m.now}`).join(', '));
      const st = stage(key);
      out.push({
        kind: 'dominant-stage',
        severity,
        // Time at stake, as every score: the answer when nothing else is.
        score: typicalMs * (severity === 'info' ? share : 1),
        title:
          `${st.name}: ${ms(typicalMs)}, ${pct(share)} of the critical path of the slowest ` +
          formatCount(slowest.length, 'trace') +
          (baselineShare !== undefined ? ` (baseline ${pct(baselineShare)})` : '') +
          (parts.length > 0 ? `; ${parts.join('; ')}` : ''),
        stage: st,
        numbers: {
          typicalMs,
          shareOfCriticalPath: share,
          traces: slowest.length,
          ...(baselineShare === undefined ? {} : { baselineShare }),
          ...(waits ? { waitMs } : {}),
        },
        traceIds: slowest.slice(0, 5).map((t) => t.traceId),
        evidence: {
          inside: chain.map((c) => ({ ...stage(c.key), pathMs: c.pathMs })),
          ...(moved.length > 0 ? { movedAttributes: moved } : {}),
        },
      });
    }
    return out;
  },
};
