/**
 * LLM stages: time to first token, decode speed, prefill against decode, tokens in and out, from
 * the OpenTelemetry GenAI conventions (`gen_ai.operation.name`, `gen_ai.usage.input_tokens`,
 * `gen_ai.usage.output_tokens`) and, where the model server traces them, its `prefill` and
 * `decode` spans.
 *
 * Per request of an LLM stage (the outermost span that carries `gen_ai.*` attributes and has
 * token counts): time to first token is from the stage's start to the end of its prefill (the
 * first token is produced by the prefill pass), decode speed is the output tokens after the
 * first over the decode span's duration. Without such spans, the output tokens over the whole
 * call give a lower bound on the speed, and no time to first token.
 *
 * The figures are `info` ("decode 40% of the critical path at 23 tokens/s"): context for the
 * other findings. A slower LLM stage is the regression diagnosis's to prove.
 */

import { median } from '../statistics.js';
import { attrOf, type TraceFacts } from '../trace-facts.js';
import type { StageKey } from '../../../shared/stage-key.js';
import { ms, pct, stage } from './common.js';
import { formatRate } from '../../../shared/format.js';
import type { Diagnosis, Finding } from './types.js';

/** One LLM call of one trace. */
export interface LlmCall {
  readonly traceId: string;
  readonly inputTokens: number | undefined;
  readonly outputTokens: number;
  /** From the call's start to the end of its prefill; undefined without a prefill span. */
  readonly ttftMs: number | undefined;
  readonly prefillMs: number | undefined;
  readonly decodeMs: number | undefined;
  /** Output tokens per second of decoding (after the first token), or of the whole call. */
  readonly tokensPerSec: number;
  /** Decode's time on the critical path, as a share of the request. */
  readonly decodeShare: number | undefined;
}

/**
 * The figures of one LLM call from its span's times, its token counts and its prefill and
 * decode spans (when traced): the one place these are computed, for the findings, the lenses
 * and the span details.
 */
export function llmFigures(
  call: { startMs: number; endMs: number },
  outputTokens: number,
  inputTokens: number | undefined,
  prefill: { startMs: number; endMs: number } | undefined,
  decode: { startMs: number; endMs: number } | undefined,
): Pick<
  LlmCall,
  'inputTokens' | 'outputTokens' | 'ttftMs' | 'prefillMs' | 'decodeMs' | 'tokensPerSec'
> {
  const dur = (x: { startMs: number; endMs: number }) => Math.max(0, x.endMs - x.startMs);
  const decodeMs = decode === undefined ? undefined : dur(decode);
  // The prefill pass makes the first token; decoding makes each one after it.
  const tokensPerSec =
    decodeMs !== undefined && decodeMs > 0 && outputTokens > 1
      ? ((outputTokens - 1) * 1000) / decodeMs
      : (outputTokens * 1000) / Math.max(1e-3, dur(call));
  return {
    inputTokens,
    outputTokens,
    ttftMs: prefill === undefined ? undefined : prefill.endMs - call.startMs,
    prefillMs: prefill === undefined ? undefined : dur(prefill),
    decodeMs,
    tokensPerSec,
  };
}

/** Whether a span name is a model server's prefill or decode pass. */
export const isPrefillName = (name: string): boolean => /(^|\W)prefill$/i.test(name);
export const isDecodeName = (name: string): boolean => /(^|\W)decode$/i.test(name);

const num = (v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
};

/** The LLM calls of a trace, by stage. */
export function llmCalls(t: TraceFacts): Map<StageKey, LlmCall[]> {
  const out = new Map<StageKey, LlmCall[]>();
  for (let i = 0; i < t.spans.length; i++) {
    const a = t.attrs[i];
    const outputTokens = num(attrOf(a, 'gen_ai.usage.output_tokens'));
    if (outputTokens === undefined || outputTokens <= 0) continue;
    // The outermost span of the call: its parent does not carry the counts too.
    const p = t.parent[i]!;
    if (p >= 0 && num(attrOf(t.attrs[p], 'gen_ai.usage.output_tokens')) !== undefined) continue;
    const s = t.spans[i]!;
    let prefill: number | undefined;
    let decode: number | undefined;
    const d = t.depth[i]!;
    for (let j = i + 1; j < t.spans.length && t.depth[j]! > d; j++) {
      const name = t.spans[j]!.name;
      if (prefill === undefined && isPrefillName(name)) prefill = j;
      if (decode === undefined && isDecodeName(name)) decode = j;
    }
    const call: LlmCall = {
      traceId: t.traceId,
      ...llmFigures(
        s,
        outputTokens,
        num(attrOf(a, 'gen_ai.usage.input_tokens')),
        prefill === undefined ? undefined : t.spans[prefill],
        decode === undefined ? undefined : t.spans[decode],
      ),
      decodeShare:
        decode === undefined || t.durationMs <= 0 ? undefined : t.pathMs[decode]! / t.durationMs,
    };
    const key = t.stageOf[i]!;
    const list = out.get(key);
    if (list === undefined) out.set(key, [call]);
    else list.push(call);
  }
  return out;
}

/** A stage's LLM figures over a set of traces (medians). */
export interface LlmStageSummary {
  readonly calls: number;
  readonly ttftMs: number | undefined;
  readonly tokensPerSec: number;
  readonly inputTokens: number | undefined;
  readonly outputTokens: number;
  readonly prefillMs: number | undefined;
  readonly decodeMs: number | undefined;
  readonly decodeShare: number | undefined;
}

function summarize(calls: readonly LlmCall[]): LlmStageSummary {
  const defined = (xs: Array<number | undefined>) => xs.filter((x): x is number => x !== undefined);
  const med = (xs: Array<number | undefined>) => {
    const d = defined(xs);
    return d.length === 0 ? undefined : median(d);
  };
  return {
    calls: calls.length,
    ttftMs: med(calls.map((c) => c.ttftMs)),
    tokensPerSec: median(calls.map((c) => c.tokensPerSec)),
    inputTokens: med(calls.map((c) => c.inputTokens)),
    outputTokens: median(calls.map((c) => c.outputTokens)),
    prefillMs: med(calls.map((c) => c.prefillMs)),
    decodeMs: med(calls.map((c) => c.decodeMs)),
    decodeShare: med(calls.map((c) => c.decodeShare)),
  };
}

/** Per LLM stage, its figures over these traces. */
export function llmSummaries(traces: readonly TraceFacts[]): Map<StageKey, LlmStageSummary> {
  const all = new Map<StageKey, LlmCall[]>();
  for (const t of traces) {
    for (const [k, calls] of llmCalls(t)) {
      const list = all.get(k);
      if (list === undefined) all.set(k, [...calls]);
      else list.push(...calls);
    }
  }
  return new Map([...all].map(([k, calls]) => [k, summarize(calls)] as const));
}

const MIN_CALLS = 3;

export const llm: Diagnosis = {
  kind: 'llm',
  *run(ctx) {
    const out: Finding[] = [];
    const now = llmSummaries(ctx.traces);
    yield;
    for (const [key, s] of now) {
      if (s.calls < MIN_CALLS) continue;
      const st = stage(key);
      // Context for the other findings: a slower LLM stage is the regression diagnosis's to
      // prove (with its significance test), not this one's.
      const severity: Finding['severity'] = 'info';
      const baselineNote = '';
      const parts = [
        s.ttftMs !== undefined ? `time to first token ${ms(s.ttftMs)}` : undefined,
        `decode ${formatRate(s.tokensPerSec)} tokens/s`,
        `${Math.round(s.outputTokens)} tokens out` +
          (s.inputTokens !== undefined ? `, ${Math.round(s.inputTokens)} in` : ''),
        s.decodeShare !== undefined
          ? `decode ${pct(s.decodeShare)} of the critical path`
          : undefined,
      ].filter((x) => x !== undefined);
      out.push({
        kind: 'llm',
        severity,
        score: 0.5,
        title: `${st.name}: ${parts.join(', ')}${baselineNote}`,
        stage: st,
        numbers: {
          calls: s.calls,
          ...(s.ttftMs !== undefined ? { ttftMs: s.ttftMs } : {}),
          tokensPerSec: s.tokensPerSec,
          outputTokens: s.outputTokens,
          ...(s.inputTokens !== undefined ? { inputTokens: s.inputTokens } : {}),
          ...(s.prefillMs !== undefined ? { prefillMs: s.prefillMs } : {}),
          ...(s.decodeMs !== undefined ? { decodeMs: s.decodeMs } : {}),
          ...(s.decodeShare !== undefined ? { decodeShare: s.decodeShare } : {}),
        },
        traceIds: [...ctx.traces]
          .filter((t) => t.stages.has(key))
          .sort((a, b2) => b2.durationMs - a.durationMs)
          .slice(0, 5)
          .map((t) => t.traceId),
      });
    }
    return out;
  },
};
