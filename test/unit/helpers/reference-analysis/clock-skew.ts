// Reference for analysis-columnar.test.ts, what the rewrite must equal:
// src/core/analysis/clock-skew.ts as of 7f90976 (before the columnar rewrite),
// unchanged but for its imports.
/**
 * Clock-skew adjustment across process boundaries.
 *
 * Spans of one trace are stamped by the clocks of different processes (often different hosts).
 * Those clocks disagree by a few milliseconds on one machine and by far more across machines, so
 * a child in another process can seem to start before the parent that called it, or to end after
 * the parent returned. Every analysis downstream (critical path, self time, waits) then reads
 * nonsense: a 2 ms overrun was enough to push a 3 s reranker call off the critical path.
 *
 * Rule (applied once, in `buildTraceTree`, so that every analysis sees the same times):
 * - A span in the same process as its parent is on the same clock: it gets its parent's shift.
 * - A span in another process, called synchronously (not a queue consumer, not under a
 *   producer, not link-adopted), must lie inside its parent: it is shifted by the smallest
 *   amount that fits it there, preferring the shift already found for its process in this
 *   trace when that one fits too (a process has one clock). A child longer than its parent
 *   cannot fit; it is only moved so that it does not start before the parent.
 * - Asynchronous children may legitimately outlive their parents; they get the shift already
 *   known for their process in this trace, or none.
 * Descendants in the child's process inherit its shift, so a subtree keeps its inner timing.
 *
 * Unlike adjusters that move children to the middle of their parent, the smallest shift keeps
 * the raw times wherever they are plausible, and the gap before a remote child (time a request
 * waited for a busy worker, say) survives. The raw times are never lost: the shift of each span
 * is reported, and `raw` in the span record is untouched.
 */

import { SpanKind, SpanRecord, type ResourceInfo } from '../../../../src/core/model.js';

/** Resource attributes that identify one process, most specific first. */
const INSTANCE_KEYS = ['service.instance.id', 'process.pid', 'host.id', 'host.name'] as const;

const processKeys = new WeakMap<ResourceInfo, string>();

/**
 * A key that is equal for spans of one process: the service and its `service.instance.id` when
 * the resource has one, else the service and the whole attribute set (two processes that send
 * identical resources cannot be told apart, and are taken as one). Cached per resource object.
 */
export function processKeyOf(resource: ResourceInfo): string {
  let key = processKeys.get(resource);
  if (key !== undefined) return key;
  const attrs = resource.attributes;
  const instance = attrs.find((a) => a.key === INSTANCE_KEYS[0]);
  if (instance !== undefined) {
    key = `${resource.serviceName}\u0000${JSON.stringify(instance.value)}`;
  } else {
    const parts = attrs.map((a) => `${a.key}=${JSON.stringify(a.value)}`).sort();
    key = `${resource.serviceName}\u0000${parts.join('\u0001')}`;
  }
  processKeys.set(resource, key);
  return key;
}

/** Whether the child's relation to its parent is asynchronous by the span kinds. */
function isAsync(child: SpanRecord, parent: SpanRecord): boolean {
  return child.kind === SpanKind.CONSUMER || parent.kind === SpanKind.PRODUCER;
}

export interface ClockSkewResult {
  /** The spans in the input order, shifted copies where a shift applies. */
  readonly spans: readonly SpanRecord[];
  /** Span id -> milliseconds added to both its start and end; only nonzero shifts are listed. */
  readonly shifts: ReadonlyMap<string, number>;
}

/**
 * Adjusts a trace's spans for clock skew. `ordered` must be in an order where every parent
 * comes before its children (the tree's pre-order); `parentOf` gives the effective parent and
 * `isAdopted` says whether that parent is a link-adoption (follows-from).
 */
export function adjustClockSkew(
  ordered: readonly SpanRecord[],
  parentOf: (span: SpanRecord) => SpanRecord | undefined,
  isAdopted: (spanId: string) => boolean,
): ClockSkewResult {
  const shift = new Map<string, number>();
  const processShift = new Map<string, number>();
  const adjusted = new Map<string, SpanRecord>();
  const out: SpanRecord[] = [];
  for (const span of ordered) {
    const parent = parentOf(span);
    const proc = processKeyOf(span.resource);
    let s = 0;
    if (parent !== undefined) {
      const parentShift = shift.get(parent.spanId) ?? 0;
      if (processKeyOf(parent.resource) === proc) {
        s = parentShift;
      } else if (isAdopted(span.spanId) || isAsync(span, parent)) {
        s = processShift.get(proc) ?? 0;
      } else {
        const p = adjusted.get(parent.spanId) ?? parent;
        s = fitShift(span, p.startMs, Math.max(p.startMs, p.endMs), processShift.get(proc));
        if (!processShift.has(proc)) processShift.set(proc, s);
      }
    }
    if (s !== 0 && Number.isFinite(s)) {
      shift.set(span.spanId, s);
      const copy = new SpanRecord(
        span.traceId,
        span.spanId,
        span.parentSpanId,
        span.name,
        span.kind,
        span.startMs + s,
        span.endMs + s,
        span.statusCode,
        span.links,
        span.resource,
        span.scope,
        span.raw,
      );
      adjusted.set(span.spanId, copy);
      out.push(copy);
    } else {
      out.push(span);
    }
  }
  return { spans: out, shifts: shift };
}

/**
 * The shift that puts [span.start, span.end] inside [ps, pe]: `preferred` when it fits, else the
 * fitting shift closest to zero. A span longer than the parent only stops starting before it.
 */
function fitShift(span: SpanRecord, ps: number, pe: number, preferred: number | undefined): number {
  const cs = span.startMs;
  const ce = Math.max(cs, span.endMs);
  const lo = ps - cs; // the least shift that starts it at or after the parent's start
  const hi = pe - ce; // the most shift that still ends it at or before the parent's end
  if (lo > hi) return Math.max(0, lo);
  if (preferred !== undefined && preferred >= lo && preferred <= hi) return preferred;
  if (lo <= 0 && hi >= 0) return 0;
  return lo > 0 ? lo : hi;
}
