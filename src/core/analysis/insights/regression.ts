/**
 * Stage regression: a stage whose time on the critical path rose, named at the outermost stage
 * a user knows, with the attribute values that moved with it.
 *
 * Against a baseline (pinned, the demo's warm-up, or the last normal run): the scope's traces
 * of an operation against the baseline's rows of it, one-sided Mann-Whitney (z >= 2.5: one test
 * per stage), plus a relative and an absolute change, plus "specific to the stage": the rest of
 * the request must not have slowed in proportion, so a busy machine does not blame one stage.
 *
 * Without a baseline: the onset inside the scope, found by a change-point search (the split
 * with the largest z over the traces before it, z >= 3 over about twenty candidate splits).
 */

import { baselineRows, baselineStage, type Baseline } from '../baseline.js';
import { mannWhitneyZ, median } from '../statistics.js';
import type { TraceFacts } from '../trace-facts.js';
import type { StageKey } from '../../../shared/stage-key.js';
import { isOutcomeKey, ms, pct, stage } from './common.js';
import type { Diagnosis, Finding, InsightContext } from './types.js';

const MIN_RECENT = 4;
const MIN_SIDE = 5;
const MAX_TRACES = 500;
const SPLITS = 20;
/** One-sided z against a baseline (one test per stage: p < 0.006). */
const BASELINE_Z = 2.5;
/** One-sided z of the best of ~20 candidate splits (each p < 0.0015). */
const CHANGE_Z = 3;

/**
 * Where a series (oldest first) stepped up: the split with the largest Mann-Whitney z of the
 * values after it over those before it, if that z reaches CHANGE_Z.
 */
export function changePoint(values: readonly number[]): number | undefined {
  const n = values.length;
  if (n < 2 * MIN_SIDE) return undefined;
  const lo = MIN_SIDE;
  const hi = n - MIN_SIDE;
  const step = Math.max(1, Math.floor((hi - lo) / SPLITS));
  let best: number | undefined;
  let bestZ = CHANGE_Z;
  for (let k = hi; k >= lo; k -= step) {
    const z = mannWhitneyZ(values.slice(k), values.slice(0, k));
    if (z >= bestZ) {
      bestZ = z;
      best = k;
    }
  }
  return best;
}

interface Sides {
  /** Per trace of each side: end-to-end time and the stage's path time. */
  readonly beforeE2e: readonly number[];
  readonly beforePath: readonly number[];
  readonly recentE2e: readonly number[];
  readonly recentPath: readonly number[];
  readonly recent: readonly TraceFacts[];
  readonly against: string;
  readonly z: number;
}

/** The regression verdict for one stage, or undefined when it did not regress. */
function judge(key: StageKey, s: Sides, depth: number): (Finding & { depth: number }) | undefined {
  const was = median(s.beforePath);
  const now = median(s.recentPath);
  const delta = now - was;
  const e2eWas = median(s.beforeE2e);
  const e2eNow = median(s.recentE2e);
  // Relative and absolute, and time the request actually waited for.
  if (!(now >= 1.5 * was && delta >= Math.max(25, 0.1 * e2eWas))) return undefined;
  // Specific to this stage: the rest of the request must not have slowed in proportion.
  const restWas = median(s.beforeE2e.map((d, i) => d - (s.beforePath[i] ?? 0)));
  const restNow = median(s.recentE2e.map((d, i) => d - (s.recentPath[i] ?? 0)));
  if (now / Math.max(was, 1e-9) < 1.5 * Math.max(1, restNow / Math.max(restWas, 1e-9))) {
    return undefined;
  }
  const excess = e2eNow - e2eWas;
  const share = excess > 0 ? Math.min(1, delta / excess) : 0;
  const st = stage(key);
  return {
    kind: 'stage-regression',
    severity: now >= 2 * was ? 'critical' : 'warning',
    score: delta,
    depth,
    title:
      `${st.name} ${ms(now)} vs ${ms(was)} ${s.against} (+${ms(delta)}` +
      (excess > 0 ? `, ${pct(share)} of the request's increase)` : ')'),
    stage: st,
    numbers: {
      typicalMs: was,
      recentMs: now,
      deltaMs: delta,
      shareOfExcess: share,
      e2eTypicalMs: e2eWas,
      e2eRecentMs: e2eNow,
      recentTraces: s.recentPath.length,
      baselineTraces: s.beforePath.length,
      z: Math.round(s.z * 10) / 10,
    },
    traceIds: [...s.recent]
      .sort((a, b) => (b.stages.get(key)?.pathMs ?? 0) - (a.stages.get(key)?.pathMs ?? 0))
      .slice(0, 5)
      .map((t) => t.traceId),
  };
}

/**
 * Attribute values of the stage's spans that changed between the baseline and now: the
 * commonest value of a key is another one, or a number's median moved by half or more.
 */
export function movedAttributes(
  key: StageKey,
  recent: readonly TraceFacts[],
  baseline: Baseline,
): Array<{ key: string; was: string; now: string }> {
  const b = baselineStage(baseline, key);
  if (b === undefined) return [];
  const nowCounts = new Map<string, Map<string, number>>();
  for (const t of recent) {
    for (let i = 0; i < t.spans.length; i++) {
      if (t.stageOf[i] !== key) continue;
      const a = t.attrs[i];
      if (a === undefined) continue;
      for (let j = 0; j < a.length; j += 2) {
        let m = nowCounts.get(a[j]!);
        if (m === undefined) nowCounts.set(a[j]!, (m = new Map()));
        m.set(a[j + 1]!, (m.get(a[j + 1]!) ?? 0) + 1);
      }
    }
  }
  /** The commonest value, when it is the value of most spans (a setting, not an id). */
  const top = (m: Iterable<[string, number]>): string | undefined => {
    const entries = [...m].sort((x, y) => y[1] - x[1]);
    const total = entries.reduce((s, e) => s + e[1], 0);
    const first = entries[0];
    return first !== undefined && first[1] >= 0.5 * total ? first[0] : undefined;
  };
  const out: Array<{ key: string; was: string; now: string; strength: number }> = [];
  for (const [k, values] of Object.entries(b.attributes)) {
    const now = nowCounts.get(k);
    if (now === undefined || isOutcomeKey(k)) continue;
    const wasTop = top(Object.entries(values));
    const nowTop = top(now);
    if (wasTop === undefined || nowTop === undefined || wasTop === nowTop) continue;
    // A number that varies from request to request (a size, a count) moved only when its
    // median moved by half or more; a setting (one value before, another now: a version, a
    // flag) moved when its value changed, however close the numbers look ("1.0" -> "1.1").
    const distinct = new Set([...Object.keys(values), ...now.keys()]);
    const nums = (entries: Iterable<[string, number]>) => {
      const list: number[] = [];
      for (const [v, c] of entries) {
        const x = Number(v);
        if (!Number.isFinite(x) || v.trim() === '') return undefined;
        for (let i = 0; i < Math.min(c, 1000); i++) list.push(x);
      }
      return list;
    };
    const wasNums = distinct.size >= 3 ? nums(Object.entries(values)) : undefined;
    const nowNums = distinct.size >= 3 ? nums(now) : undefined;
    if (wasNums !== undefined && nowNums !== undefined) {
      const w = median(wasNums);
      const n = median(nowNums);
      if (Math.abs(n - w) < 0.5 * Math.max(Math.abs(w), 1e-9)) continue;
    }
    // How complete the shift is: the new value's share now, less its share before.
    const share = (m: Iterable<[string, number]>, v: string) => {
      let total = 0;
      let hit = 0;
      for (const [x, c] of m) {
        total += c;
        if (x === v) hit += c;
      }
      return total > 0 ? hit / total : 0;
    };
    out.push({
      key: k,
      was: wasTop,
      now: nowTop,
      strength: share(now, nowTop) - share(Object.entries(values), nowTop),
    });
  }
  return out
    .sort((a, b) => b.strength - a.strength)
    .slice(0, 3)
    .map(({ strength: _s, ...m }) => m);
}

function* againstBaseline(ctx: InsightContext, baseline: Baseline): Generator<void, Finding[]> {
  const out: Finding[] = [];
  for (const [op, list] of ctx.byOperation) {
    const recent = list.slice(-MAX_TRACES);
    const rows = baselineRows(baseline, op);
    if (recent.length < MIN_RECENT || rows.durations.length < MIN_SIDE) continue;
    const keys = new Set<StageKey>();
    for (const t of recent.slice(-MIN_SIDE)) for (const k of t.stages.keys()) keys.add(k);
    const candidates: Array<Finding & { depth: number }> = [];
    for (const key of keys) {
      yield;
      const depth = median(recent.map((t) => t.stages.get(key)?.depth ?? 1));
      if (depth < 1) continue;
      const recentPath = recent.map((t) => t.stages.get(key)?.pathMs ?? 0);
      const beforePath = rows.pathOf(key);
      const z = mannWhitneyZ(recentPath, beforePath);
      if (z < BASELINE_Z) continue;
      const f = judge(
        key,
        {
          beforeE2e: rows.durations,
          beforePath,
          recentE2e: recent.map((t) => t.durationMs),
          recentPath,
          recent,
          against: `in baseline ${baseline.label}`,
          z,
        },
        depth,
      );
      if (f === undefined) continue;
      // The stage's own attributes first, then the request's (a root attribute such as
      // cache.hit explains a stage that now runs on every request).
      const own = movedAttributes(key, recent, baseline);
      const moved = [
        ...own,
        ...movedAttributes(op, recent, baseline).filter((m) => !own.some((o) => o.key === m.key)),
      ].slice(0, 3);
      if (moved.length > 0) {
        f.evidence = { ...f.evidence, movedAttributes: moved };
        f.title += `; ${moved.map((m) => `${m.key} ${m.was} → ${m.now}`).join(', ')}`;
      }
      candidates.push(f);
    }
    out.push(...outermost(candidates));
  }
  return out;
}

function* changePointInScope(ctx: InsightContext): Generator<void, Finding[]> {
  const out: Finding[] = [];
  for (const list of ctx.byOperation.values()) {
    const all = [...list].sort((a, b) => a.startMs - b.startMs).slice(-MAX_TRACES);
    if (all.length < 2 * MIN_SIDE) continue;
    const keys = new Set<StageKey>();
    for (const t of all.slice(-MIN_SIDE)) for (const k of t.stages.keys()) keys.add(k);
    const candidates: Array<Finding & { depth: number }> = [];
    for (const key of keys) {
      yield;
      const path = all.map((t) => t.stages.get(key)?.pathMs ?? 0);
      const split = changePoint(path);
      if (split === undefined) continue;
      const before = all.slice(0, split);
      const recent = all.slice(split);
      const depth = median(recent.map((t) => t.stages.get(key)?.depth ?? 1));
      if (depth < 1) continue;
      const f = judge(
        key,
        {
          beforeE2e: before.map((t) => t.durationMs),
          beforePath: path.slice(0, split),
          recentE2e: recent.map((t) => t.durationMs),
          recentPath: path.slice(split),
          recent,
          against: 'earlier in this run',
          z: mannWhitneyZ(path.slice(split), path.slice(0, split)),
        },
        depth,
      );
      if (f !== undefined) candidates.push(f);
    }
    out.push(...outermost(candidates));
  }
  return out;
}

/**
 * A stage and the spans inside it (its RPC, the model's forward pass) regress together: name the
 * outermost, the stage a user knows, and let the nested ones go.
 */
function outermost(candidates: ReadonlyArray<Finding & { depth: number }>): Finding[] {
  const out: Finding[] = [];
  for (const c of candidates) {
    const covered = candidates.some(
      (o) => o !== c && o.depth < c.depth && o.score >= 0.8 * c.score,
    );
    if (covered) continue;
    const { depth: _depth, ...finding } = c;
    out.push(finding);
  }
  return out;
}

export const regression: Diagnosis = {
  kind: 'stage-regression',
  *run(ctx) {
    if (ctx.baseline !== undefined) {
      const found = yield* againstBaseline(ctx, ctx.baseline);
      if (found.length > 0) return found;
    }
    return yield* changePointInScope(ctx);
  },
};
