/**
 * Compare: two traces, a trace against the typical trace of its operation, or the latest run
 * against the baseline, stage by stage: each stage's time on the critical path (its subtree
 * included) before and after, its spans, and which stages appeared or vanished.
 *
 * One shape for the three, so that the read API, the editor and the webview show one table.
 * "Typical" is the median over the peers of each stage's time (a stage missing in a peer counts
 * as 0 there), as in `explain.ts`.
 */

import { baselineRows, baselineStage, type Baseline } from './baseline.js';
import { median } from './statistics.js';
import type { TraceFacts } from './trace-facts.js';
import { stageOf, type StageKey } from '../../shared/stage-key.js';

export interface CompareRow {
  readonly service: string;
  readonly name: string;
  /** Shallowest depth of the stage on either side (the root is 0). */
  readonly depth: number;
  /** Critical-path ms in the stage before and after (undefined where it is absent). */
  readonly beforeMs: number | undefined;
  readonly afterMs: number | undefined;
  /** after - before, absent sides counting as 0. */
  readonly deltaMs: number;
  /** Spans of the stage before and after (medians for a set of traces). */
  readonly beforeSpans: number;
  readonly afterSpans: number;
  readonly status: 'both' | 'appeared' | 'vanished';
}

export interface Comparison {
  readonly before: { readonly label: string; readonly durationMs: number; readonly traces: number };
  readonly after: { readonly label: string; readonly durationMs: number; readonly traces: number };
  /** after.durationMs - before.durationMs. */
  readonly deltaMs: number;
  /** Largest change first (by magnitude); the root stage is not listed. */
  readonly rows: readonly CompareRow[];
}

interface Side {
  label: string;
  durationMs: number;
  traces: number;
  /** Stage -> critical-path ms, spans, depth. */
  stages: Map<StageKey, { ms: number; spans: number; depth: number }>;
}

function sideOfTrace(t: TraceFacts, label: string): Side {
  const stages = new Map<StageKey, { ms: number; spans: number; depth: number }>();
  for (const [k, st] of t.stages)
    stages.set(k, { ms: st.pathMs, spans: st.count, depth: st.depth });
  return { label, durationMs: t.durationMs, traces: 1, stages };
}

/** The typical trace of a set: per stage, medians over all of them (absent counts as 0). */
function sideOfSet(traces: readonly TraceFacts[], label: string): Side {
  const keys = new Map<StageKey, number>();
  for (const t of traces) {
    for (const [k, st] of t.stages) keys.set(k, Math.min(keys.get(k) ?? Infinity, st.depth));
  }
  const stages = new Map<StageKey, { ms: number; spans: number; depth: number }>();
  for (const [k, depth] of keys) {
    const present = traces.filter((t) => t.stages.has(k));
    // A stage in fewer than half the traces is not part of the typical trace.
    if (present.length * 2 < traces.length) continue;
    stages.set(k, {
      ms: median(traces.map((t) => t.stages.get(k)?.pathMs ?? 0)),
      spans: median(present.map((t) => t.stages.get(k)!.count)),
      depth,
    });
  }
  return {
    label,
    durationMs: median(traces.map((t) => t.durationMs)),
    traces: traces.length,
    stages,
  };
}

function compareSides(before: Side, after: Side): Comparison {
  const keys = new Set([...before.stages.keys(), ...after.stages.keys()]);
  const rows: CompareRow[] = [];
  for (const k of keys) {
    const b = before.stages.get(k);
    const a = after.stages.get(k);
    const depth = Math.min(b?.depth ?? Infinity, a?.depth ?? Infinity);
    if (depth === 0) continue;
    const { service, name } = stageOf(k);
    rows.push({
      service,
      name,
      depth,
      beforeMs: b?.ms,
      afterMs: a?.ms,
      deltaMs: (a?.ms ?? 0) - (b?.ms ?? 0),
      beforeSpans: b?.spans ?? 0,
      afterSpans: a?.spans ?? 0,
      status: b === undefined ? 'appeared' : a === undefined ? 'vanished' : 'both',
    });
  }
  rows.sort((x, y) => Math.abs(y.deltaMs) - Math.abs(x.deltaMs) || x.depth - y.depth);
  return {
    before: { label: before.label, durationMs: before.durationMs, traces: before.traces },
    after: { label: after.label, durationMs: after.durationMs, traces: after.traces },
    deltaMs: after.durationMs - before.durationMs,
    rows,
  };
}

/** Trace `b` against trace `a`. */
export function compareTraces(a: TraceFacts, b: TraceFacts): Comparison {
  return compareSides(sideOfTrace(a, a.traceId), sideOfTrace(b, b.traceId));
}

/** A trace against the typical trace of its operation among `peers`. */
export function compareToTypical(t: TraceFacts, peers: readonly TraceFacts[]): Comparison {
  const same = peers.filter((p) => p.operation === t.operation && p.traceId !== t.traceId);
  return compareSides(sideOfSet(same, `typical of ${same.length}`), sideOfTrace(t, t.traceId));
}

/**
 * A set of traces (the latest run, or one trace: then `label` is its id) against the baseline,
 * for the operation most of them run.
 */
export function compareToBaseline(
  traces: readonly TraceFacts[],
  baseline: Baseline,
  label = 'latest run',
): Comparison {
  const ops = new Map<StageKey, number>();
  for (const t of traces) ops.set(t.operation, (ops.get(t.operation) ?? 0) + 1);
  const op = [...ops].sort((x, y) => y[1] - x[1])[0]?.[0] ?? baseline.operations[0] ?? '';
  const rows = baselineRows(baseline, op);
  const stages = new Map<StageKey, { ms: number; spans: number; depth: number }>();
  for (const key of baseline.stageKeys) {
    const path = rows.pathOf(key);
    const present = path.filter((x) => x > 0).length;
    const summary = baselineStage(baseline, key);
    if (
      summary === undefined ||
      (present * 2 < path.length && summary.count * 2 < rows.durations.length)
    ) {
      continue;
    }
    // The depth is not kept in a baseline: take it from the traces now, else below the root.
    let depth = 1;
    for (const t of traces) {
      const d = t.stages.get(key)?.depth;
      if (d !== undefined) {
        depth = d;
        break;
      }
    }
    if (key === op) depth = 0;
    stages.set(key, { ms: median(path), spans: 1, depth });
  }
  const before: Side = {
    // Pulled traces name themselves ("prod (http://jaeger:16686)"): they are not a pinned baseline.
    label: baseline.source === 'pulled' ? baseline.label : `baseline ${baseline.label}`,
    durationMs: median(rows.durations),
    traces: rows.durations.length,
    stages,
  };
  const now = sideOfSet(
    traces.filter((t) => t.operation === op),
    label,
  );
  // The baseline keeps no span counts: report the same counts on both sides.
  for (const [k, s] of before.stages) s.spans = now.stages.get(k)?.spans ?? s.spans;
  return compareSides(before, now);
}
