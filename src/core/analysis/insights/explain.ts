/**
 * One trace against the typical trace of its operation, stage by stage: the "This trace vs
 * typical" table. Defined once here so that every view shows the same numbers.
 *
 * Rows are the request's own stages (direct children of the root), with their critical-path
 * time (subtree included) here and typically (the median over the peers). A row's share of the
 * excess is its increase over the trace's excess above typical, never above 100%: the positive
 * increases of the rows are the denominator when they add up to more than the excess (a stage
 * slower while another was faster). An increase under 1 ms or 2% of the typical duration is
 * jitter and explains nothing (share 0).
 */

import { median } from '../statistics.js';
import type { TraceFacts } from '../trace-facts.js';
import type { StageKey } from '../../../shared/stage-key.js';
import { stage } from './common.js';

/** A stage explains part of the excess from this much above its typical time (and 2% of it). */
const MIN_DELTA_MS = 1;
const MIN_DELTA_SHARE = 0.02;

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
  // A stage a hair above its typical time explains nothing: jitter is not a cause.
  const min = Math.max(MIN_DELTA_MS, MIN_DELTA_SHARE * typical);
  const counted = (r: ExplainRow) => (r.deltaMs >= min ? r.deltaMs : 0);
  const positive = rows.reduce((s, r) => s + counted(r), 0);
  const denominator = Math.max(excess, positive);
  for (const r of rows) r.share = denominator > 0 ? counted(r) / denominator : 0;
  rows.sort((a, b) => b.deltaMs - a.deltaMs || b.ms - a.ms);
  return {
    traceId: trace.traceId,
    durationMs: trace.durationMs,
    typicalMs: same.length === 0 ? trace.durationMs : typical,
    peers: same.length,
    rows,
  };
}
