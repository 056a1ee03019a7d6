/**
 * What a speed-up is worth: end-to-end p95 with one stage `factor` times faster, each trace
 * losing the saved part of that stage's time on its critical path. A first-order estimate: it
 * assumes the path stays critical (another branch may become the limit), so it is an upper
 * bound on the gain, and labelled so.
 */

import { quantile } from '../statistics.js';
import type { TraceFacts } from '../trace-facts.js';
import type { StageKey } from '../../../shared/stage-key.js';
import { stage } from './common.js';
import type { WhatIf } from './types.js';

export function speedupWhatIf(traces: readonly TraceFacts[], factor = 2): WhatIf[] {
  if (traces.length === 0) return [];
  const stages = new Set<StageKey>();
  for (const t of traces)
    for (const [k, st] of t.stages) if (st.depth >= 1 && st.pathMs > 0) stages.add(k);
  const before = quantile(
    traces.map((t) => t.durationMs),
    0.95,
  );
  const out: WhatIf[] = [];
  for (const key of stages) {
    const after = quantile(
      traces.map((t) => t.durationMs - (t.stages.get(key)?.pathMs ?? 0) * (1 - 1 / factor)),
      0.95,
    );
    out.push({
      stage: stage(key),
      factor,
      p95BeforeMs: before,
      p95AfterMs: after,
      traces: traces.length,
    });
  }
  return out.sort((a, b) => a.p95AfterMs - b.p95AfterMs);
}
