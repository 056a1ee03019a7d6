/**
 * Where compute goes against where latency goes: each model stage's share of the device time
 * (the compute spans that carry `model.device`, divided among the requests of their batch)
 * against its share of the critical path. "reranking uses 55% of the cpu time for 35% of the
 * latency" says where an optimisation buys throughput and where it buys latency.
 *
 * Device time of a request is a compute span's duration over its `batch_size`: a batch of four
 * runs once for four requests. The figures are `info`; one finding per device, naming the stage
 * whose two shares differ most.
 */

import type { StageKey } from '../../../shared/stage-key.js';
import { attrOf } from '../trace-facts.js';
import { pct, stage } from './common.js';
import type { Diagnosis, Finding } from './types.js';

/** The request-level stage a compute span belongs to: the root's child above it. */
function topStage(parent: Int32Array, stageOf: readonly StageKey[], i: number): StageKey {
  let top = i;
  while (parent[top]! >= 0 && parent[parent[top]!]! >= 0) top = parent[top]!;
  return stageOf[top]!;
}

export const computeShare: Diagnosis = {
  kind: 'compute-share',
  *run(ctx) {
    // device -> stage -> device ms; stage -> critical-path ms; totals.
    const device = new Map<string, Map<StageKey, number>>();
    const path = new Map<StageKey, number>();
    let pathTotal = 0;
    for (const t of ctx.traces) {
      yield;
      pathTotal += t.durationMs;
      for (const [k, st] of t.stages)
        if (st.depth === 1) path.set(k, (path.get(k) ?? 0) + st.pathMs);
      for (let i = 0; i < t.spans.length; i++) {
        const a = t.attrs[i];
        const dev = attrOf(a, 'model.device');
        if (dev === undefined) continue;
        // Compute spans are leaves; a span with children is a request or a call around them.
        if (i + 1 < t.spans.length && t.parent[i + 1] === i) continue;
        const s = t.spans[i]!;
        const batch = Number(attrOf(a, 'batch_size') ?? '1');
        const share =
          Math.max(0, s.endMs - s.startMs) / (Number.isFinite(batch) && batch >= 1 ? batch : 1);
        const k = topStage(t.parent, t.stageOf, i);
        let m = device.get(dev);
        if (m === undefined) device.set(dev, (m = new Map()));
        m.set(k, (m.get(k) ?? 0) + share);
      }
    }
    const out: Finding[] = [];
    if (ctx.traces.length < 3 || pathTotal <= 0) return out;
    for (const [dev, byStage] of device) {
      const total = [...byStage.values()].reduce((s, x) => s + x, 0);
      if (total <= 0 || byStage.size < 2) continue;
      let best: { key: StageKey; compute: number; latency: number } | undefined;
      for (const [k, ms] of byStage) {
        const compute = ms / total;
        const latency = (path.get(k) ?? 0) / pathTotal;
        if (
          best === undefined ||
          Math.abs(compute - latency) > Math.abs(best.compute - best.latency)
        ) {
          best = { key: k, compute, latency };
        }
      }
      if (best === undefined || Math.abs(best.compute - best.latency) < 0.15) continue;
      const st = stage(best.key);
      const rows = [...byStage]
        .sort((a, b) => b[1] - a[1])
        .map(([k, ms]) => ({
          ...stage(k),
          computeShare: ms / total,
          latencyShare: (path.get(k) ?? 0) / pathTotal,
        }));
      out.push({
        kind: 'compute-share',
        severity: 'info',
        score: 0.25,
        title:
          `${st.name} uses ${pct(best.compute)} of the ${dev} time for ${pct(best.latency)} of the latency` +
          (best.compute > best.latency
            ? ': a faster one buys throughput more than latency'
            : ': it gates requests more than it loads the device'),
        stage: st,
        numbers: {
          device: dev,
          computeShare: best.compute,
          latencyShare: best.latency,
          traces: ctx.traces.length,
        },
        traceIds: [],
        evidence: { stages: rows },
      });
    }
    return out;
  },
};
