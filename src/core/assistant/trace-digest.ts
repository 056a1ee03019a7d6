/**
 * A trace's digest: what an assistant needs of one trace, of bounded size whatever the trace's
 * span count. The critical path summed by stage, the spans with the most own time on it, the
 * longest queue waits, the error spans with their messages, and the `code.*` source line of each
 * stage listed. Served as `GET /api/traces/{id}/digest`; the assistant tools turn it into text.
 *
 * Invariant: every list is cut to `top` entries and what was left out is counted (`more*`), so
 * the JSON of a 100,000-span trace is a few kilobytes, as is that of a 10-span one.
 */

import type { TraceAnalysis } from '../analysis/analyze-trace.js';
import type { SpanRecord } from '../model.js';
import { stageKey, stageOf, type StageKey } from '../../shared/stage-key.js';

/** A stage on the trace's critical path. */
export interface DigestStage {
  readonly service: string;
  readonly name: string;
  /** Critical-path ms in the stage's own spans (their children not included). */
  readonly pathMs: number;
  /** Spans of the stage in the trace. */
  readonly spans: number;
  readonly errors: number;
}

export interface DigestSpan {
  readonly spanId: string;
  readonly service: string;
  readonly name: string;
  readonly durationMs: number;
  /** The span's own work on the critical path. */
  readonly onPathMs: number;
}

export interface DigestWait {
  readonly queue: string;
  readonly consumer: { readonly service: string; readonly name: string };
  readonly waitMs: number;
  readonly maxWaitMs: number;
}

export interface DigestError {
  readonly spanId: string;
  readonly service: string;
  readonly name: string;
  /** The exception or status message, as the span carries it (untrusted text). */
  readonly message: string | undefined;
}

export interface DigestSource {
  readonly service: string;
  readonly name: string;
  readonly file: string;
  readonly line: number;
}

export interface TraceDigest {
  readonly traceId: string;
  readonly root: { readonly service: string; readonly name: string } | undefined;
  readonly durationMs: number;
  readonly spanCount: number;
  readonly errorCount: number;
  /** Critical-path ms in gaps (no span working). */
  readonly gapMs: number;
  /** Stages by critical-path time, most first (at most `top`). */
  readonly stages: readonly DigestStage[];
  readonly moreStages: { readonly count: number; readonly pathMs: number };
  readonly spans: readonly DigestSpan[];
  readonly moreSpansOnPath: number;
  readonly waits: readonly DigestWait[];
  readonly moreWaits: { readonly count: number; readonly waitMs: number };
  readonly errors: readonly DigestError[];
  readonly moreErrors: number;
  /** Source lines of the listed stages, where their spans carry `code.file.path`. */
  readonly sources: readonly DigestSource[];
}

/** Reads one attribute of a span (from its raw bytes); undefined when absent or unreadable. */
export type DigestAttributeReader = (
  span: SpanRecord,
  key: string,
) => string | number | boolean | undefined;

export interface DigestReaders {
  readonly attribute: DigestAttributeReader;
  readonly errorMessage: (span: SpanRecord) => string | undefined;
}

export const DEFAULT_DIGEST_TOP = 12;
export const MAX_DIGEST_TOP = 100;

/** The `code.*` location a span reports, if any. */
export function spanSource(
  span: SpanRecord,
  attribute: DigestAttributeReader,
): { file: string; line: number } | undefined {
  const file = attribute(span, 'code.file.path') ?? attribute(span, 'code.filepath');
  if (typeof file !== 'string' || file === '') return undefined;
  const raw = attribute(span, 'code.line.number') ?? attribute(span, 'code.lineno');
  const line = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof line !== 'number' || !Number.isInteger(line) || line < 1) return undefined;
  return { file, line };
}

/** Keeps the `top` largest by `score` in one pass (a sorted insertion; `top` is small). */
function topBy<T>(top: number, score: (x: T) => number): { add(x: T): void; items: T[] } {
  const items: T[] = [];
  return {
    items,
    add(x: T) {
      const s = score(x);
      if (items.length >= top && s <= score(items[items.length - 1]!)) return;
      let at = items.length;
      while (at > 0 && s > score(items[at - 1]!)) at--;
      items.splice(at, 0, x);
      if (items.length > top) items.pop();
    },
  };
}

export function traceDigest(
  a: TraceAnalysis,
  readers: DigestReaders,
  top = DEFAULT_DIGEST_TOP,
): TraceDigest {
  const n = Math.max(1, Math.min(MAX_DIGEST_TOP, Math.floor(top)));
  const { tree, criticalPath: cp } = a;
  const spans = tree.spans;
  const own = cp.ownMs;
  const byStage = new Map<
    StageKey,
    { pathMs: number; spans: number; errors: number; first: SpanRecord }
  >();
  const onPath = topBy<DigestSpan>(n, (s) => s.onPathMs);
  const errors: DigestError[] = [];
  let errorCount = 0;
  let spansOnPath = 0;
  for (let row = 0; row < spans.length; row++) {
    const s = spans[row]!;
    const key = stageKey(s.serviceName, s.name);
    let st = byStage.get(key);
    if (st === undefined) byStage.set(key, (st = { pathMs: 0, spans: 0, errors: 0, first: s }));
    const ms = own[row] ?? 0;
    st.pathMs += ms;
    st.spans++;
    if (s.isError) {
      st.errors++;
      errorCount++;
      // Messages are decoded for the first few only: each reads the span's bytes.
      if (errors.length < n) {
        errors.push({
          spanId: s.spanId,
          service: s.serviceName,
          name: s.name,
          message: readers.errorMessage(s),
        });
      }
    }
    if (ms > 0) {
      spansOnPath++;
      onPath.add({
        spanId: s.spanId,
        service: s.serviceName,
        name: s.name,
        durationMs: s.endMs - s.startMs,
        onPathMs: ms,
      });
    }
  }
  const ranked = [...byStage.entries()]
    .filter(([, st]) => st.pathMs > 0)
    .sort((x, y) => y[1].pathMs - x[1].pathMs);
  const listed = ranked.slice(0, n);
  const rest = ranked.slice(n);
  const sources: DigestSource[] = [];
  for (const [key, st] of listed) {
    const loc = spanSource(st.first, readers.attribute);
    if (loc !== undefined) sources.push({ ...stageOf(key), ...loc });
  }
  const waits = topBy<DigestWait>(n, (w) => w.waitMs);
  let waitTotal = 0;
  for (const w of a.queueWaits) {
    waitTotal += w.waitMs;
    waits.add({
      queue: w.queue,
      consumer: { service: w.consumer.serviceName, name: w.consumer.name },
      waitMs: w.waitMs,
      maxWaitMs: w.maxWaitMs,
    });
  }
  const root = tree.roots[0];
  return {
    traceId: tree.traceId,
    root: root === undefined ? undefined : { service: root.serviceName, name: root.name },
    durationMs: cp.durationMs,
    spanCount: spans.length,
    errorCount,
    gapMs: cp.gapMs,
    stages: listed.map(([key, st]) => ({
      ...stageOf(key),
      pathMs: st.pathMs,
      spans: st.spans,
      errors: st.errors,
    })),
    moreStages: { count: rest.length, pathMs: rest.reduce((s, [, st]) => s + st.pathMs, 0) },
    spans: onPath.items,
    moreSpansOnPath: Math.max(0, spansOnPath - onPath.items.length),
    waits: waits.items,
    moreWaits: {
      count: a.queueWaits.length - waits.items.length,
      waitMs: waitTotal - waits.items.reduce((s, w) => s + w.waitMs, 0),
    },
    errors,
    moreErrors: errorCount - errors.length,
    sources,
  };
}
