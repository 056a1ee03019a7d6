/**
 * A bad instance: a replica, host or model version whose spans of a stage are slower or fail
 * more than the rest of the stage's spans. Other low-cardinality attributes standing out the
 * same way are reported apart, as correlations (`input.size=40` explains latency; it is not a
 * broken replica).
 *
 * Before any verdict: at least {@link MIN_GROUP} spans in the group and in the rest, and a
 * significance test on top of the effect size: one-sided Mann-Whitney (z >= 3) for latency,
 * one-sided Fisher exact (p <= 0.001) for errors. Six spans with three errors prove nothing.
 */

import type { KeyValueJson } from '../../model.js';
import { fisherGreaterP, mannWhitneyZSorted, median, quantileSorted } from '../statistics.js';
import { isInstanceKey, isOutcomeKey, ms, pct, stage } from './common.js';
import type { Diagnosis, Finding } from './types.js';
import type { StageKey } from '../../../shared/stage-key.js';
import { formatCount } from '../../../shared/format.js';

const MAX_GROUPS = 8;
export const MIN_GROUP = 5;
const LATENCY_Z = 3;
const ERROR_P = 0.001;
const MAX_SPANS_PER_STAGE = 2000;

interface Group {
  durations: number[];
  errors: number;
  /** Indices of the group's spans in the stage's columns. */
  spans: number[];
  /** `durations` ascending, once grouping is done. */
  sorted?: Float64Array;
}

/** The five slowest traces among a group's spans, slowest first. */
function slowestTraces(col: StageSpans, spans: readonly number[]): string[] {
  const byTrace = new Map<string, number>();
  for (const i of spans) byTrace.set(col.traceId[i]!, col.traceMs[i]!);
  return [...byTrace]
    .sort((x, y) => y[1] - x[1])
    .slice(0, 5)
    .map(([id]) => id);
}

/** A stage's spans, column-wise (one report looks at tens of thousands). */
interface StageSpans {
  duration: number[];
  error: boolean[];
  /** Instance attributes of the span's process, flat [key, value, ...] (shared per process). */
  resourceKv: (readonly string[])[];
  /** The span's own grouping attributes, flat [key, value, ...]. */
  kv: (readonly string[] | undefined)[];
  traceId: string[];
  traceMs: number[];
}

const NO_KV: readonly string[] = [];

/** The instance attributes of a process's resource, flat, computed once per resource. */
const resourceKvCache = new WeakMap<object, readonly string[]>();
function instanceKv(resource: { attributes: readonly KeyValueJson[] }): readonly string[] {
  const got = resourceKvCache.get(resource);
  if (got !== undefined) return got;
  const kv: string[] = [];
  for (const a of resource.attributes) {
    if (!isInstanceKey(a.key)) continue;
    const v = a.value;
    const text = 'stringValue' in v ? v.stringValue : 'intValue' in v ? v.intValue : undefined;
    if (text !== undefined) kv.push(a.key, text);
  }
  const out = kv.length === 0 ? NO_KV : kv;
  resourceKvCache.set(resource, out);
  return out;
}

/** The q-quantile of ascending values. */
function q(sorted: Float64Array, at: number): number {
  return quantileSorted(sorted as unknown as readonly number[], at);
}

/** The ascending merge of the groups other than `skip`. */
function mergedRest(groups: Map<string, Group>, skip: string, length: number): Float64Array {
  const out = new Float64Array(length);
  let n = 0;
  for (const [v, g] of groups) {
    if (v === skip) continue;
    out.set(g.sorted!, n);
    n += g.sorted!.length;
  }
  return out.sort();
}

export const badInstance: Diagnosis = {
  kind: 'bad-instance',
  *run(ctx) {
    const byStage = new Map<StageKey, StageSpans>();
    for (const t of ctx.traces) {
      yield;
      for (let i = 0; i < t.spans.length; i++) {
        const s = t.spans[i]!;
        const key = t.stageOf[i]!;
        let col = byStage.get(key);
        if (col === undefined) {
          col = { duration: [], error: [], resourceKv: [], kv: [], traceId: [], traceMs: [] };
          byStage.set(key, col);
        }
        col.duration.push(Math.max(0, s.endMs - s.startMs));
        col.error.push(s.isError);
        col.resourceKv.push(instanceKv(s.resource));
        col.kv.push(t.attrs[i]);
        col.traceId.push(t.traceId);
        col.traceMs.push(t.durationMs);
      }
    }
    const e2eMedian = median(ctx.traces.map((t) => t.durationMs));
    const out: Finding[] = [];
    for (const [key, col] of byStage) {
      yield;
      const n = col.duration.length;
      const from = Math.max(0, n - MAX_SPANS_PER_STAGE);
      const count = n - from;
      if (count < 2 * MIN_GROUP) continue;
      const splits = new Map<string, Map<string, Group>>();
      // Keys not to split by: outcomes (an error is not a place) and keys with too many values.
      const skip = new Map<string, boolean>();
      const add = (kv: readonly string[], i: number): void => {
        for (let j = 0; j < kv.length; j += 2) {
          const k = kv[j]!;
          let skipped = skip.get(k);
          if (skipped === undefined) skip.set(k, (skipped = isOutcomeKey(k)));
          if (skipped) continue;
          const v = kv[j + 1]!;
          let groups = splits.get(k);
          if (groups === undefined) splits.set(k, (groups = new Map()));
          let g = groups.get(v);
          if (g === undefined) {
            if (groups.size >= MAX_GROUPS) {
              // Too many values: an id or a measurement, not a place or a setting.
              skip.set(k, true);
              splits.delete(k);
              continue;
            }
            groups.set(v, (g = { durations: [], errors: 0, spans: [] }));
          }
          g.durations.push(col.duration[i]!);
          if (col.error[i]!) g.errors++;
          g.spans.push(i);
        }
      };
      for (let i = from; i < n; i++) {
        add(col.resourceKv[i]!, i);
        const kv = col.kv[i];
        if (kv !== undefined) add(kv, i);
      }
      const best: { instance?: Finding; correlation?: Finding } = {};
      for (const [attr, groups] of splits) {
        if (groups.size < 2) continue;
        let total = 0;
        let totalErrors = 0;
        for (const g of groups.values()) {
          total += g.durations.length;
          totalErrors += g.errors;
        }
        // An attribute on only some spans does not split the stage.
        if (total < count * 0.9) continue;
        for (const g of groups.values()) g.sorted = Float64Array.from(g.durations).sort();
        for (const [value, g] of groups) {
          const size = g.durations.length;
          const restCount = total - size;
          if (size < MIN_GROUP || restCount < MIN_GROUP) continue;
          const sorted = g.sorted!;
          const p95 = q(sorted, 0.95);
          const p50 = q(sorted, 0.5);
          const err = g.errors / size;
          const restErrors = totalErrors - g.errors;
          const restErr = restErrors / restCount;
          // A quantile of a union lies between the smallest and the largest of its parts' own:
          // a group not twice as slow as the fastest other group cannot be twice the rest, so
          // most groups are ruled out before the rest is merged.
          let minP95 = Infinity;
          let minP50 = Infinity;
          for (const [v2, g2] of groups) {
            if (v2 === value) continue;
            minP95 = Math.min(minP95, q(g2.sorted!, 0.95));
            minP50 = Math.min(minP50, q(g2.sorted!, 0.5));
          }
          const maybeSlow =
            p95 >= 2 * minP95 &&
            p95 - minP95 >= Math.max(20, 0.1 * e2eMedian) &&
            p50 >= 1.5 * minP50;
          const failing =
            err - restErr >= 0.15 &&
            err >= 2 * restErr &&
            fisherGreaterP(g.errors, size, restErrors, restCount) <= ERROR_P;
          if (!maybeSlow && !failing) continue;
          const rest = mergedRest(groups, value, restCount);
          const restP95 = q(rest, 0.95);
          const restP50 = q(rest, 0.5);
          // Slow: the whole distribution moved (median and tail), by an amount that matters to
          // the request, and not by chance.
          const slow =
            maybeSlow &&
            p95 >= 2 * restP95 &&
            p95 - restP95 >= Math.max(20, 0.1 * e2eMedian) &&
            p50 >= 1.5 * restP50 &&
            mannWhitneyZSorted(sorted, rest) >= LATENCY_Z;
          if (!slow && !failing) continue;
          const errorP = fisherGreaterP(g.errors, size, restErrors, restCount);
          const instance = isInstanceKey(attr);
          // Weight by the group's share of the stage: one bad replica of three matters.
          const score =
            (Math.max(0, p95 - restP95) + (err - restErr) * 1000) *
            (size / total) *
            (instance ? 2 : 1);
          const slot = instance ? 'instance' : 'correlation';
          const current = best[slot];
          if (current !== undefined && current.score >= score) continue;
          const st = stage(key);
          best[slot] = {
            kind: instance ? 'bad-instance' : 'attribute-correlation',
            severity: !instance ? 'info' : failing || p95 >= 4 * restP95 ? 'critical' : 'warning',
            score,
            title:
              `${st.name} on ${attr}=${value}: p95 ${ms(p95)}, ${pct(err)} errors ` +
              `vs ${ms(restP95)}, ${pct(restErr)} elsewhere (${size} vs ${formatCount(restCount, 'span')})`,
            stage: st,
            numbers: {
              attribute: attr,
              value,
              p95Ms: p95,
              errorRate: err,
              count: size,
              restP95Ms: restP95,
              restErrorRate: restErr,
              restCount,
              ...(failing ? { errorP } : {}),
            },
            traceIds: slowestTraces(col, g.spans),
            evidence: {
              group: { p50Ms: p50, p95Ms: p95, count: size },
              rest: { p50Ms: restP50, p95Ms: restP95, count: restCount },
              slow,
              failing,
            },
          };
        }
      }
      if (best.instance !== undefined) out.push(best.instance);
      if (best.correlation !== undefined) out.push(best.correlation);
    }
    return out;
  },
};
