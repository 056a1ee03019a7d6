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

import { SpanKind, type ResourceInfo } from '../model.js';

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

/**
 * Dense process numbers for a trace's spans: equal numbers for equal {@link processKeyOf} keys.
 * Spans of a batch share one `ResourceInfo`, so the lookup is by object first, and the key is
 * computed (or read from its cache) once per distinct resource.
 */
export class ProcessNumbers {
  private readonly byResource = new Map<ResourceInfo, number>();
  private readonly byKey = new Map<string, number>();
  private lastResource: ResourceInfo | undefined;
  private lastNumber = -1;

  /** How many distinct processes were numbered (numbers are 0 .. count - 1). */
  get count(): number {
    return this.byKey.size;
  }

  of(resource: ResourceInfo): number {
    if (resource === this.lastResource) return this.lastNumber;
    let n = this.byResource.get(resource);
    if (n === undefined) {
      const key = processKeyOf(resource);
      n = this.byKey.get(key);
      if (n === undefined) this.byKey.set(key, (n = this.byKey.size));
      this.byResource.set(resource, n);
    }
    this.lastResource = resource;
    this.lastNumber = n;
    return n;
  }
}

/** The columns of a trace that the adjustment reads; indices are the caller's span numbers. */
export interface ClockSkewInput {
  /** Every span once, each parent before its children (the tree's pre-order). */
  readonly order: Int32Array;
  /** Effective parent of each span, -1 for a root. */
  readonly parent: Int32Array;
  /** 1 where the effective parent is a link-adoption (follows-from). */
  readonly adopted: Uint8Array;
  /** `SpanKind` of each span (`kind | 0`: distinct for every uint32 the wire can carry). */
  readonly kind: Int32Array;
  /** Process number of each span (see {@link ProcessNumbers}). */
  readonly process: Int32Array;
  /** Raw (unadjusted) start and end of each span, in ms. */
  readonly startMs: Float64Array;
  readonly endMs: Float64Array;
  /** Number of distinct process numbers. */
  readonly processCount: number;
}

export interface ClockSkewResult {
  /** Milliseconds added to each span's start and end; 0 where none applies. Always finite. */
  readonly shift: Float64Array;
  /** The spans with a nonzero shift, in the order of `order`. */
  readonly shifted: Int32Array;
}

/**
 * Computes the clock-skew shift of every span (the rule is in the module comment). Over index
 * columns, with no per-span allocation: it runs on every trace the tree is built for.
 */
export function computeClockShifts(input: ClockSkewInput): ClockSkewResult {
  const { order, parent, adopted, kind, process, startMs, endMs } = input;
  const n = order.length;
  const shift = new Float64Array(n);
  const shifted: number[] = [];
  // The shift chosen for each process by its first synchronous call; `hasProcessShift` says
  // whether one was chosen (it may be any number, even a non-finite one from broken times).
  const processShift = new Float64Array(input.processCount);
  const hasProcessShift = new Uint8Array(input.processCount);
  for (let k = 0; k < n; k++) {
    const u = order[k] as number;
    const p = parent[u] as number;
    if (p < 0) continue;
    const proc = process[u] as number;
    let s: number;
    if (process[p] === proc) {
      s = shift[p] as number;
    } else if (adopted[u] === 1 || kind[u] === SpanKind.CONSUMER || kind[p] === SpanKind.PRODUCER) {
      s = hasProcessShift[proc] === 1 ? (processShift[proc] as number) : 0;
    } else {
      // The parent's adjusted times (its shift was decided first: parents precede children).
      const ps =
        shift[p] === 0 ? (startMs[p] as number) : (startMs[p] as number) + (shift[p] as number);
      const rawPe =
        shift[p] === 0 ? (endMs[p] as number) : (endMs[p] as number) + (shift[p] as number);
      const preferred = hasProcessShift[proc] === 1 ? (processShift[proc] as number) : undefined;
      s = fitShift(startMs[u] as number, endMs[u] as number, ps, Math.max(ps, rawPe), preferred);
      if (hasProcessShift[proc] === 0) {
        hasProcessShift[proc] = 1;
        processShift[proc] = s;
      }
    }
    if (s !== 0 && Number.isFinite(s)) {
      shift[u] = s;
      shifted.push(u);
    }
  }
  return { shift, shifted: Int32Array.from(shifted) };
}

/**
 * The shift that puts [cs, ce] inside [ps, pe]: `preferred` when it fits, else the fitting shift
 * closest to zero. A span longer than the parent only stops starting before it.
 */
function fitShift(
  cs: number,
  rawCe: number,
  ps: number,
  pe: number,
  preferred: number | undefined,
): number {
  const ce = Math.max(cs, rawCe);
  const lo = ps - cs; // the least shift that starts it at or after the parent's start
  const hi = pe - ce; // the most shift that still ends it at or before the parent's end
  if (lo > hi) return Math.max(0, lo);
  if (preferred !== undefined && preferred >= lo && preferred <= hi) return preferred;
  if (lo <= 0 && hi >= 0) return 0;
  return lo > 0 ? lo : hi;
}
