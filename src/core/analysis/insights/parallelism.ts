/**
 * A parallelization opportunity: two stages under the same parent that never overlap, both a
 * fair part of the request, so that running them at once would save the shorter one's time on
 * the critical path.
 *
 * Whether they can run at once is the code's business: the data flow is not in the trace. One
 * sign is: the two run in either order (sometimes A first, sometimes B first), which a stage
 * that needs the other's output cannot do. Such a pair is a finding; a pair always in one order
 * is only a what-if ("if they are independent"), listed with the other what-ifs.
 */

import { median } from '../statistics.js';
import type { StageKey } from '../../../shared/stage-key.js';
import { ms, pct, stage } from './common.js';
import type { Diagnosis, Finding, InsightContext } from './types.js';

/** What running two sequential sibling stages at once would save, as a what-if. */
export interface ParallelWhatIf {
  readonly parent: { service: string; name: string };
  readonly first: { service: string; name: string };
  readonly second: { service: string; name: string };
  /** Median over the traces of the shorter stage's time on the critical path. */
  readonly savedMs: number;
  /** Of the traces with both, those in which the two ran in the other order too. */
  readonly orderVaries: boolean;
  readonly traces: number;
}

const MIN_TRACES = 5;
/** Each stage's share of the request for the pair to matter. */
const MIN_SHARE = 0.05;

/** Every pair of sequential sibling stages that would save something if run at once. */
export function parallelWhatIfs(ctx: Pick<InsightContext, 'traces'>): ParallelWhatIf[] {
  interface Acc {
    parent: StageKey;
    a: StageKey;
    b: StageKey;
    saved: number[];
    overlapped: number;
    aFirst: number;
    bFirst: number;
    traceIds: string[];
  }
  const pairs = new Map<string, Acc>();
  for (const t of ctx.traces) {
    if (t.durationMs <= 0) continue;
    // The stages by parent stage, with their intervals (relative to the trace start).
    const byParent = new Map<StageKey, StageKey[]>();
    for (const [k, st] of t.stages) {
      if (st.parentKey === undefined || st.depth < 1) continue;
      if (st.pathMs < MIN_SHARE * t.durationMs) continue;
      const list = byParent.get(st.parentKey);
      if (list === undefined) byParent.set(st.parentKey, [k]);
      else list.push(k);
    }
    for (const [parent, kids] of byParent) {
      kids.sort();
      for (let i = 0; i < kids.length; i++) {
        for (let j = i + 1; j < kids.length; j++) {
          const a = t.stages.get(kids[i]!)!;
          const b = t.stages.get(kids[j]!)!;
          const id = `${parent}\n${kids[i]}\n${kids[j]}`;
          let acc = pairs.get(id);
          if (acc === undefined) {
            acc = {
              parent,
              a: kids[i]!,
              b: kids[j]!,
              saved: [],
              overlapped: 0,
              aFirst: 0,
              bFirst: 0,
              traceIds: [],
            };
            pairs.set(id, acc);
          }
          const overlap = Math.min(a.endMs, b.endMs) - Math.max(a.startMs, b.startMs);
          if (overlap > 0.01 * Math.min(a.endMs - a.startMs, b.endMs - b.startMs)) {
            acc.overlapped++;
            continue;
          }
          if (a.startMs <= b.startMs) acc.aFirst++;
          else acc.bFirst++;
          acc.saved.push(Math.min(a.pathMs, b.pathMs));
          if (acc.traceIds.length < 5) acc.traceIds.push(t.traceId);
        }
      }
    }
  }
  const out: ParallelWhatIf[] = [];
  for (const acc of pairs.values()) {
    const sequential = acc.aFirst + acc.bFirst;
    if (sequential < MIN_TRACES || acc.overlapped > 0.1 * (sequential + acc.overlapped)) continue;
    const aFirstMostly = acc.aFirst >= acc.bFirst;
    const [first, second] = aFirstMostly ? [acc.a, acc.b] : [acc.b, acc.a];
    const minority = Math.min(acc.aFirst, acc.bFirst);
    out.push({
      parent: stage(acc.parent),
      first: stage(first),
      second: stage(second),
      savedMs: median(acc.saved),
      orderVaries: minority >= Math.max(2, 0.1 * sequential),
      traces: sequential,
    });
  }
  return out.sort((x, y) => y.savedMs - x.savedMs);
}

export const parallelism: Diagnosis = {
  kind: 'parallelism',
  *run(ctx) {
    yield;
    const out: Finding[] = [];
    for (const p of parallelWhatIfs(ctx)) {
      if (!p.orderVaries) continue;
      const e2e = median(ctx.traces.map((t) => t.durationMs));
      out.push({
        kind: 'parallelism',
        severity: 'info',
        score: p.savedMs,
        title:
          `${p.first.name} and ${p.second.name} never overlap, and run in either order: they ` +
          `look independent; running them at once would save about ${ms(p.savedMs)} ` +
          `(${pct(e2e > 0 ? p.savedMs / e2e : 0)} of a request)`,
        stage: p.parent,
        numbers: {
          savedMs: p.savedMs,
          first: p.first.name,
          second: p.second.name,
          traces: p.traces,
        },
        traceIds: [],
      });
    }
    return out;
  },
};
