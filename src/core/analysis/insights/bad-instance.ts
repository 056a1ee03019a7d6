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

import { fisherGreaterP, mannWhitneyZ, median, quantile } from '../statistics.js';
import { isInstanceKey, isOutcomeKey, ms, pct, stage } from './common.js';
import type { Diagnosis, Finding } from './types.js';
import type { StageKey } from '../../../shared/stage-key.js';

const MAX_GROUPS = 8;
export const MIN_GROUP = 5;
const LATENCY_Z = 3;
const ERROR_P = 0.001;
const MAX_SPANS_PER_STAGE = 2000;

interface Group {
  durations: number[];
  errors: number;
  /** The group's slowest traces: trace id -> its duration, at most five. */
  traces: Map<string, number>;
}

/** Keeps the five slowest traces of a group. */
function keepSlowest(traces: Map<string, number>, id: string, ms: number): void {
  if (traces.has(id)) return;
  if (traces.size < 5) {
    traces.set(id, ms);
    return;
  }
  let fastest: string | undefined;
  let fastestMs = Infinity;
  for (const [k, v] of traces) {
    if (v < fastestMs) {
      fastestMs = v;
      fastest = k;
    }
  }
  if (fastest !== undefined && ms > fastestMs) {
    traces.delete(fastest);
    traces.set(id, ms);
  }
}

export const badInstance: Diagnosis = {
  kind: 'bad-instance',
  *run(ctx) {
    const byStage = new Map<
      StageKey,
      Array<{ duration: number; error: boolean; kv: string[]; traceId: string; traceMs: number }>
    >();
    for (const t of ctx.traces) {
      yield;
      for (let i = 0; i < t.spans.length; i++) {
        const s = t.spans[i]!;
        const key = t.stageOf[i]!;
        let list = byStage.get(key);
        if (list === undefined) byStage.set(key, (list = []));
        const kv: string[] = [];
        for (const a of s.resource.attributes) {
          if (!isInstanceKey(a.key)) continue;
          const v = a.value;
          const text =
            'stringValue' in v ? v.stringValue : 'intValue' in v ? v.intValue : undefined;
          if (text !== undefined) kv.push(a.key, text);
        }
        const attrs = t.attrs[i];
        if (attrs !== undefined) kv.push(...attrs);
        list.push({
          duration: Math.max(0, s.endMs - s.startMs),
          error: s.isError,
          kv,
          traceId: t.traceId,
          traceMs: t.durationMs,
        });
      }
    }
    const e2eMedian = median(ctx.traces.map((t) => t.durationMs));
    const out: Finding[] = [];
    for (const [key, all] of byStage) {
      yield;
      const spans = all.slice(-MAX_SPANS_PER_STAGE);
      if (spans.length < 2 * MIN_GROUP) continue;
      const splits = new Map<string, Map<string, Group>>();
      const overflow = new Set<string>();
      for (const sp of spans) {
        for (let j = 0; j < sp.kv.length; j += 2) {
          const k = sp.kv[j]!;
          if (overflow.has(k) || isOutcomeKey(k)) continue;
          const v = sp.kv[j + 1]!;
          let groups = splits.get(k);
          if (groups === undefined) splits.set(k, (groups = new Map()));
          let g = groups.get(v);
          if (g === undefined) {
            if (groups.size >= MAX_GROUPS) {
              // Too many values: an id or a measurement, not a place or a setting.
              overflow.add(k);
              splits.delete(k);
              continue;
            }
            groups.set(v, (g = { durations: [], errors: 0, traces: new Map() }));
          }
          g.durations.push(sp.duration);
          if (sp.error) g.errors++;
          keepSlowest(g.traces, sp.traceId, sp.traceMs);
        }
      }
      const best: { instance?: Finding; correlation?: Finding } = {};
      for (const [attr, groups] of splits) {
        if (groups.size < 2) continue;
        let total = 0;
        for (const g of groups.values()) total += g.durations.length;
        // An attribute on only some spans does not split the stage.
        if (total < spans.length * 0.9) continue;
        for (const [value, g] of groups) {
          if (g.durations.length < MIN_GROUP) continue;
          const rest: number[] = [];
          let restErrors = 0;
          for (const [v2, g2] of groups) {
            if (v2 === value) continue;
            for (const d of g2.durations) rest.push(d);
            restErrors += g2.errors;
          }
          if (rest.length < MIN_GROUP) continue;
          const p95 = quantile(g.durations, 0.95);
          const restP95 = quantile(rest, 0.95);
          const err = g.errors / g.durations.length;
          const restErr = restErrors / rest.length;
          // Slow: the whole distribution moved (median and tail), by an amount that matters to
          // the request, and not by chance.
          const slow =
            p95 >= 2 * restP95 &&
            p95 - restP95 >= Math.max(20, 0.1 * e2eMedian) &&
            median(g.durations) >= 1.5 * median(rest) &&
            mannWhitneyZ(g.durations, rest) >= LATENCY_Z;
          const errorP = fisherGreaterP(g.errors, g.durations.length, restErrors, rest.length);
          const failing = err - restErr >= 0.15 && err >= 2 * restErr && errorP <= ERROR_P;
          if (!slow && !failing) continue;
          const instance = isInstanceKey(attr);
          // Weight by the group's share of the stage: one bad replica of three matters.
          const score =
            (Math.max(0, p95 - restP95) + (err - restErr) * 1000) *
            (g.durations.length / total) *
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
              `vs ${ms(restP95)}, ${pct(restErr)} elsewhere (${g.durations.length} vs ${rest.length} spans)`,
            stage: st,
            numbers: {
              attribute: attr,
              value,
              p95Ms: p95,
              errorRate: err,
              count: g.durations.length,
              restP95Ms: restP95,
              restErrorRate: restErr,
              restCount: rest.length,
              ...(failing ? { errorP } : {}),
            },
            traceIds: [...g.traces].sort((a, b) => b[1] - a[1]).map(([id]) => id),
            evidence: {
              group: { p50Ms: median(g.durations), p95Ms: p95, count: g.durations.length },
              rest: { p50Ms: median(rest), p95Ms: restP95, count: rest.length },
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
