/**
 * Cold start: the first request a process serves pays for loading its model (or warming a
 * cache, compiling a graph), and later ones do not.
 *
 * Two readings of the same fact:
 * - A stage (`model_load`) that occurs at most once per process, always in the first trace that
 *   process took part in, on the critical path: "the first request to each of 5 processes waited
 *   for model_load".
 * - Without such a span: a stage whose first span in each process takes several times its later
 *   spans there, in at least two processes (the load is there, but no span names it).
 * Findings about those first requests (a replica looks slow, a stage regressed) are really this
 * one; the ranking puts it first.
 */

import { processKeyOf } from '../clock-skew.js';
import { median } from '../statistics.js';
import type { StageKey } from '../../../shared/stage-key.js';
import { formatCount } from '../../../shared/format.js';
import { ms, stage } from './common.js';
import type { Diagnosis, Finding } from './types.js';

interface Occ {
  traceId: string;
  startMs: number;
  durationMs: number;
  pathMs: number;
}

/** A stage's spans in one process. */
interface Spans {
  /** The earliest span. */
  first: Occ;
  /** Its index in `durations`. */
  firstAt: number;
  durations: number[];
}

export const coldStart: Diagnosis = {
  kind: 'cold-start',
  *run(ctx) {
    const traces = [...ctx.traces].sort((a, b) => a.startMs - b.startMs);
    if (traces.length < 3) return [];
    // Per process: the first trace it took part in; per (stage, process): its spans, kept as
    // durations plus the first one in full (one report looks at tens of thousands of spans).
    const firstTrace = new Map<string, string>();
    const byStageProcess = new Map<StageKey, Map<string, Spans>>();
    for (const t of traces) {
      yield;
      for (let i = 0; i < t.spans.length; i++) {
        const s = t.spans[i]!;
        const proc = processKeyOf(s.resource);
        if (!firstTrace.has(proc)) firstTrace.set(proc, t.traceId);
        const key = t.stageOf[i]!;
        let m = byStageProcess.get(key);
        if (m === undefined) byStageProcess.set(key, (m = new Map()));
        const durationMs = Math.max(0, s.endMs - s.startMs);
        const list = m.get(proc);
        if (list === undefined) {
          m.set(proc, {
            first: { traceId: t.traceId, startMs: s.startMs, durationMs, pathMs: t.pathMs[i]! },
            firstAt: 0,
            durations: [durationMs],
          });
          continue;
        }
        if (s.startMs < list.first.startMs) {
          list.first = { traceId: t.traceId, startMs: s.startMs, durationMs, pathMs: t.pathMs[i]! };
          list.firstAt = list.durations.length;
        }
        list.durations.push(durationMs);
      }
    }
    const byId = new Map(traces.map((t) => [t.traceId, t] as const));
    const out: Finding[] = [];

    // 1. Spans of one name (model_load, in every runner service) seen only in each process's
    // first trace: the load is one cause, however many services pay it.
    const byName = new Map<string, Array<[StageKey, Map<string, Spans>]>>();
    for (const entry of byStageProcess) {
      const name = stage(entry[0]).name;
      let list = byName.get(name);
      if (list === undefined) byName.set(name, (list = []));
      list.push(entry);
    }
    for (const [name, stages] of byName) {
      const occ: Occ[] = [];
      let onlyFirst = true;
      for (const [, procs] of stages) {
        for (const [proc, list] of procs) {
          if (list.durations.length > 1 || list.first.traceId !== firstTrace.get(proc)) {
            onlyFirst = false;
            break;
          }
          occ.push(list.first);
        }
        if (!onlyFirst) break;
      }
      if (!onlyFirst || occ.length === 0) continue;
      // Per first request: the load time on its critical path, summed over its loads.
      const perTrace = new Map<string, number>();
      for (const o of occ) perTrace.set(o.traceId, (perTrace.get(o.traceId) ?? 0) + o.pathMs);
      const loadMs = median([...perTrace.values()]);
      const firstDur = median([...perTrace.keys()].map((id) => byId.get(id)?.durationMs ?? 0));
      const rest = traces.filter((t) => !perTrace.has(t.traceId));
      if (rest.length < 2) continue;
      const restDur = median(rest.map((t) => t.durationMs));
      // The floor is low on purpose: a small model loads in tens of milliseconds, and the
      // relative tests below carry the significance.
      if (!(loadMs >= 20 && loadMs >= 0.2 * firstDur && firstDur >= 1.2 * restDur)) continue;
      const services = new Set(stages.filter(([, p]) => p.size > 0).map(([k]) => stage(k).service));
      const key = stages[0]![0];
      const firsts = perTrace.size;
      out.push({
        kind: 'cold-start',
        // A first request a third slower, or a load a quarter of a request, is worth a look:
        // every new replica (an autoscaler's, a deploy's) pays it again.
        severity: firstDur >= 1.3 * restDur || loadMs >= 0.25 * restDur ? 'warning' : 'info',
        score: (firstDur - restDur) * 1.2,
        title:
          `Cold start: the first request to each of ${formatCount(occ.length, 'process', 'processes')} waits for ${name} ` +
          `(${ms(loadMs)} on the critical path); those ${formatCount(firsts, 'request takes', 'requests take')} ` +
          `${ms(firstDur)} against ${ms(restDur)} for the other ${rest.length}`,
        stage: stage(key),
        numbers: {
          processes: occ.length,
          services: services.size,
          loadMs,
          firstRequestMs: firstDur,
          laterRequestMs: restDur,
          firstRequests: firsts,
          laterRequests: rest.length,
        },
        traceIds: [...perTrace.keys()]
          .sort((a, b) => (byId.get(b)?.durationMs ?? 0) - (byId.get(a)?.durationMs ?? 0))
          .slice(0, 5),
        evidence: { services: [...services] },
      });
    }
    if (out.length > 0) return out;

    // 2. No load span: a stage whose first span per process is several times its later ones.
    for (const [key, procs] of byStageProcess) {
      yield;
      const ratios: number[] = [];
      const extra: number[] = [];
      const firsts: string[] = [];
      for (const list of procs.values()) {
        if (list.durations.length < 3) continue;
        const later = median(list.durations.filter((_, i) => i !== list.firstAt));
        const first = list.first.durationMs;
        ratios.push(first / Math.max(later, 1e-3));
        extra.push(first - later);
        firsts.push(list.first.traceId);
      }
      if (ratios.length < 2) continue;
      const slowFirsts = ratios.filter((r) => r >= 3).length;
      const extraMs = median(extra);
      if (slowFirsts < Math.max(2, 0.75 * ratios.length) || extraMs < 100) continue;
      const st = stage(key);
      out.push({
        kind: 'cold-start',
        severity: 'warning',
        score: extraMs,
        title:
          `Cold start: in ${slowFirsts} of ${formatCount(ratios.length, 'process', 'processes')} the first ${st.name} takes ` +
          `${median(ratios).toFixed(1)}x the later ones (+${ms(extraMs)}); no span names the ` +
          `work: add one around the loading`,
        stage: st,
        numbers: { processes: ratios.length, slowFirsts, extraMs, ratio: median(ratios) },
        traceIds: firsts.slice(0, 5),
      });
    }
    return out;
  },
};
