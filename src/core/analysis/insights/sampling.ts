/**
 * Sampling what-if: what head sampling (on the trace id's random bits) and tail sampling
 * (errors, latency) would have kept of the traces, and the slow and failed traces each loses.
 * The one place this rule lives: the read API and the editor both call it.
 */

import { quantile } from '../statistics.js';

export interface SamplingPolicy {
  /** Head sampling ratio, 0..1. */
  headRatio: number;
  /** Tail sampling keeps every trace with an error. */
  keepErrors: boolean;
  /** Tail sampling keeps every trace at least this long (ms); undefined: no latency rule. */
  latencyThresholdMs?: number;
}

export interface SamplingTally {
  kept: number;
  lostSlow: number;
  lostErrors: number;
  /** Ids of the slow and the failed traces this policy would have dropped (at most 100 each). */
  lostSlowTraceIds: string[];
  lostErrorTraceIds: string[];
  /** The same traces, slowest first (at most 100 each), for reports that list them. */
  lostSlowTraces: SampledTrace[];
  lostErrorTraces: SampledTrace[];
}

export interface SamplingOutcome {
  traces: number;
  head: SamplingTally;
  tail: SamplingTally;
  /** What counted as slow: the p95 of the traces. */
  slowThresholdMs: number;
}

/** A trace as the sampling rule sees it. */
export interface SampledTrace {
  readonly traceId: string;
  readonly durationMs: number;
  readonly hasError: boolean;
  /** The root span's name, for reports. */
  readonly rootName?: string;
}

/** Most lost traces listed per tally. */
const LISTED = 100;

/** Head sampling's decision: the W3C random bits (the low 56 bits of the id) below the ratio. */
export function keptByHead(traceId: string, headRatio: number): boolean {
  return parseInt(traceId.slice(18), 16) < headRatio * 2 ** 56;
}

export function samplingWhatIf(
  traces: readonly SampledTrace[],
  policy: SamplingPolicy,
): SamplingOutcome {
  const slow = quantile(
    traces.map((t) => t.durationMs),
    0.95,
  );
  const tally = (): SamplingTally => ({
    kept: 0,
    lostSlow: 0,
    lostErrors: 0,
    lostSlowTraceIds: [],
    lostErrorTraceIds: [],
    lostSlowTraces: [],
    lostErrorTraces: [],
  });
  const head = tally();
  const tail = tally();
  // Slowest first, so that the lists keep the slowest when they are cut.
  const ordered = [...traces].sort((a, b) => b.durationMs - a.durationMs);
  for (const t of ordered) {
    const isSlow = t.durationMs >= slow && traces.length > 1;
    const keptHead = keptByHead(t.traceId, policy.headRatio);
    const keptTail =
      (policy.keepErrors && t.hasError) ||
      (policy.latencyThresholdMs !== undefined && t.durationMs >= policy.latencyThresholdMs) ||
      keptHead;
    for (const [kept, tl] of [
      [keptHead, head],
      [keptTail, tail],
    ] as const) {
      if (kept) tl.kept++;
      else {
        if (isSlow && tl.lostSlow++ < LISTED) {
          tl.lostSlowTraceIds.push(t.traceId);
          tl.lostSlowTraces.push(t);
        }
        if (t.hasError && tl.lostErrors++ < LISTED) {
          tl.lostErrorTraceIds.push(t.traceId);
          tl.lostErrorTraces.push(t);
        }
      }
    }
  }
  return { traces: traces.length, head, tail, slowThresholdMs: slow };
}
