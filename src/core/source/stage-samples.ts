/**
 * Recent spans of a stage, read from the store's traces: what a lens click opens (the slowest
 * recent trace with that span) and what its hover shows (the latency distribution, the last few
 * traces). The statistics window keeps sketches, not durations, so these come from the traces
 * the store still holds.
 */

import type { TraceEntry } from '../store/trace-store.js';

/** One span of a stage, with its trace. */
export interface StageSample {
  readonly traceId: string;
  readonly spanId: string;
  /** Epoch ms. */
  readonly startMs: number;
  readonly durationMs: number;
  readonly traceDurationMs: number;
  readonly error: boolean;
}

export interface StageSamples {
  /** Most recent first (by span start), at most `limit`. */
  readonly samples: readonly StageSample[];
  /** The sample of the slowest trace (end to end) among them. */
  readonly slowest: StageSample | undefined;
}

/**
 * Spans of (service, name) in traces updated since `sinceMs`. Traces are filtered by their name
 * and service lists before their spans are read.
 */
export function collectStageSamples(
  traces: Iterable<TraceEntry>,
  service: string,
  name: string,
  sinceMs: number,
  limit = 2000,
): StageSamples {
  const samples: StageSample[] = [];
  for (const t of traces) {
    if (t.updatedAt < sinceMs || !t.names.includes(name) || !t.services.includes(service)) {
      continue;
    }
    for (const s of t.spans) {
      if (s.name !== name || s.serviceName !== service) continue;
      samples.push({
        traceId: t.traceId,
        spanId: s.spanId,
        startMs: s.startMs,
        durationMs: s.endMs - s.startMs,
        traceDurationMs: t.durationMs,
        error: s.isError,
      });
    }
  }
  samples.sort((a, b) => b.startMs - a.startMs);
  if (samples.length > limit) samples.length = limit;
  let slowest: StageSample | undefined;
  for (const s of samples) {
    if (
      slowest === undefined ||
      s.traceDurationMs > slowest.traceDurationMs ||
      // Within the slowest trace, the slowest span of the stage.
      (s.traceId === slowest.traceId && s.durationMs > slowest.durationMs)
    ) {
      slowest = s;
    }
  }
  return { samples, slowest };
}

/**
 * Where a lens click goes: the stage's span in the slowest trace (end to end) updated since
 * `sinceMs`; when the window holds none (an idle pipeline), in the slowest trace still held.
 */
export function slowestStageSpan(
  traces: () => Iterable<TraceEntry>,
  service: string,
  name: string,
  sinceMs: number,
): { traceId: string; spanId: string } | undefined {
  const slowest =
    collectStageSamples(traces(), service, name, sinceMs).slowest ??
    collectStageSamples(traces(), service, name, -Infinity).slowest;
  return slowest === undefined ? undefined : { traceId: slowest.traceId, spanId: slowest.spanId };
}

/**
 * p95 of the end-to-end duration of the traces updated since `sinceMs` that run each span name
 * in `names`, keyed by service and then name. Exact (the durations are sorted), linear in the
 * spans of the traces that contain one of the names.
 */
export function endToEndP95(
  traces: Iterable<TraceEntry>,
  names: ReadonlySet<string>,
  sinceMs: number,
): Map<string, Map<string, number>> {
  const durations = new Map<string, Map<string, number[]>>();
  for (const t of traces) {
    if (t.updatedAt < sinceMs || !t.names.some((n) => names.has(n))) continue;
    const seen = new Set<string>();
    for (const s of t.spans) {
      if (!names.has(s.name)) continue;
      const key = `${s.serviceName}\u0000${s.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      let byName = durations.get(s.serviceName);
      if (byName === undefined) durations.set(s.serviceName, (byName = new Map()));
      let list = byName.get(s.name);
      if (list === undefined) byName.set(s.name, (list = []));
      list.push(t.durationMs);
    }
  }
  const out = new Map<string, Map<string, number>>();
  for (const [service, byName] of durations) {
    const m = new Map<string, number>();
    for (const [name, list] of byName) {
      list.sort((a, b) => a - b);
      m.set(name, list[Math.min(list.length - 1, Math.ceil(0.95 * list.length) - 1)]!);
    }
    out.set(service, m);
  }
  return out;
}
