/**
 * One trace against the typical trace of its operation, stage by stage: the "This trace vs
 * typical" table. Defined once here so that every view shows the same numbers.
 *
 * Rows are the request's own stages (direct children of the root), with their critical-path
 * time (subtree included) here and typically (the median over the peers). A row's share of the
 * excess is its increase over the trace's excess above typical, never above 100%: the positive
 * increases of the rows are the denominator when they add up to more than the excess (a stage
 * slower while another was faster).
 */

import { median } from '../statistics.js';
import type { TraceFacts } from '../trace-facts.js';
import type { StageKey } from '../../../shared/stage-key.js';
import { stage } from './common.js';

export interface ExplainRow {
  stage: { service: string; name: string };
  /** This trace's critical-path time in the stage (its subtree included). */
  ms: number;
  /** The same, median over the peers (0 where a peer has no such stage). */
  typicalMs: number;
  /** ms - typicalMs. */
  deltaMs: number;
  /** Of the trace's excess over the typical duration, the part this stage explains, in [0, 1]. */
  share: number;
}

export interface Explanation {
  traceId: string;
  durationMs: number;
  typicalMs: number;
  /** Peers the typical trace is the median of. */
  peers: number;
  rows: ExplainRow[];
}

export function explainTrace(trace: TraceFacts, peers: readonly TraceFacts[]): Explanation {
  const same = peers.filter((p) => p.operation === trace.operation && p.traceId !== trace.traceId);
  const typical = median(same.map((t) => t.durationMs));
  const excess = trace.durationMs - typical;
  const keys = new Set<StageKey>();
  for (const [k, st] of trace.stages) if (st.depth === 1) keys.add(k);
  const rows: ExplainRow[] = [];
  for (const key of keys) {
    const msHere = trace.stages.get(key)?.pathMs ?? 0;
    const typicalMs =
      same.length === 0 ? msHere : median(same.map((t) => t.stages.get(key)?.pathMs ?? 0));
    rows.push({ stage: stage(key), ms: msHere, typicalMs, deltaMs: msHere - typicalMs, share: 0 });
  }
  const positive = rows.reduce((s, r) => s + Math.max(0, r.deltaMs), 0);
  const denominator = Math.max(excess, positive);
  for (const r of rows) r.share = denominator > 0 ? Math.max(0, r.deltaMs) / denominator : 0;
  rows.sort((a, b) => b.deltaMs - a.deltaMs || b.ms - a.ms);
  return {
    traceId: trace.traceId,
    durationMs: trace.durationMs,
    typicalMs: same.length === 0 ? trace.durationMs : typical,
    peers: same.length,
    rows,
  };
}
