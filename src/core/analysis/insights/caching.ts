/**
 * A caching opportunity: requests that repeat an input a stage has already computed for in the
 * scope, by an attribute that identifies the input (`input.hash`, `*.input_hash`, `cache.key`,
 * `gen_ai.prompt.hash`, `question.id`, ...), and that the stage computed again (no
 * `cache.hit=true` on its span). What a cache there would save: the stage's time on the critical
 * path of the repeats.
 *
 * Sizes and counts (`input.size`) are not identities: two questions of one length are not one
 * question, so only keys that name an identity count.
 */

import { median } from '../statistics.js';
import { attrOf } from '../trace-facts.js';
import type { StageKey } from '../../../shared/stage-key.js';
import { ms, pct, stage } from './common.js';
import type { Diagnosis, Finding } from './types.js';

/** Whether an attribute key names an input's identity. */
export function isInputIdentityKey(key: string): boolean {
  return (
    key === 'cache.key' ||
    key === 'question.id' ||
    key === 'request.input.id' ||
    /(^|\.)(input|prompt|query)[._]hash$/.test(key) ||
    key.endsWith('.input_hash')
  );
}

const MIN_REPEATS = 3;

export const caching: Diagnosis = {
  kind: 'caching',
  *run(ctx) {
    // Per stage: input identity -> the stage's path time in each trace that computed it.
    const seen = new Map<
      StageKey,
      { key: string; runs: Map<string, Array<{ traceId: string; pathMs: number }>> }
    >();
    for (const t of ctx.traces) {
      yield;
      for (let i = 0; i < t.spans.length; i++) {
        const a = t.attrs[i];
        if (a === undefined || attrOf(a, 'cache.hit') === 'true') continue;
        let idKey: string | undefined;
        for (let j = 0; j < a.length; j += 2) if (isInputIdentityKey(a[j]!)) idKey = a[j];
        if (idKey === undefined) continue;
        const id = attrOf(a, idKey)!;
        const stageKey = t.stageOf[i]!;
        let e = seen.get(stageKey);
        if (e === undefined) seen.set(stageKey, (e = { key: idKey, runs: new Map() }));
        let list = e.runs.get(id);
        if (list === undefined) e.runs.set(id, (list = []));
        // The stage's time in this trace (its outermost span with the identity carries it).
        list.push({ traceId: t.traceId, pathMs: t.pathMs[i]! });
      }
    }
    const out: Finding[] = [];
    for (const [key, e] of seen) {
      let computations = 0;
      const repeats: Array<{ traceId: string; pathMs: number }> = [];
      for (const list of e.runs.values()) {
        computations += list.length;
        repeats.push(...list.slice(1));
      }
      if (repeats.length < MIN_REPEATS || computations === 0) continue;
      const share = repeats.length / computations;
      const savedEach = median(repeats.map((r) => r.pathMs));
      if (share < 0.1 || savedEach < 10) continue;
      const st = stage(key);
      out.push({
        kind: 'caching',
        severity: 'info',
        // What a cache would save per request on average.
        score: savedEach * share,
        title:
          `${st.name} computed ${repeats.length} repeated inputs again (${pct(share)} of its ` +
          `${computations} runs, by ${e.key}): a cache there would save ${ms(savedEach)} each, ` +
          `${ms(savedEach * repeats.length)} in all`,
        stage: st,
        numbers: {
          repeats: repeats.length,
          computations,
          repeatShare: share,
          savedEachMs: savedEach,
          savedTotalMs: savedEach * repeats.length,
          attribute: e.key,
        },
        traceIds: repeats
          .sort((a, b) => b.pathMs - a.pathMs)
          .slice(0, 5)
          .map((r) => r.traceId),
      });
    }
    return out;
  },
};
