/**
 * Trace facts: what the diagnoses need of one settled trace, summarised once per trace version
 * and kept for the recent traces only.
 *
 * The full per-trace analysis (tree maps, critical-path segments, self times) is several times
 * the size of the spans themselves; holding it for every stored trace made analysis the largest
 * consumer of memory. Facts keep the spans (already held by the store, so only pointers), a few
 * numbers per span in typed arrays, per-stage sums, and the scalar attributes the diagnoses
 * group by (decoded once here instead of at every insights run).
 *
 * Invariant: `spans[i]` is the analysis tree's pre-order (parents before children); `parent`,
 * `depth` and the per-span arrays are indexed alike.
 */

import type { KeyValueJson, SpanRecord } from '../model.js';
import type { TraceAnalysis } from './analyze-trace.js';
import { processKeyOf } from './clock-skew.js';
import type { StatsTicket } from './stage-stats.js';
import { stageKey, type StageKey } from '../../shared/stage-key.js';

/** One stage's part of one trace. */
export interface StageFact {
  readonly key: StageKey;
  readonly service: string;
  readonly name: string;
  /** Shallowest depth of its spans (the root is 0). */
  readonly depth: number;
  readonly count: number;
  readonly errorCount: number;
  /** Summed durations of its spans. */
  readonly totalMs: number;
  /** Critical-path time of its outermost spans with their subtrees. */
  readonly pathMs: number;
  /** Critical-path time of its spans' own work (no child running). */
  readonly ownPathMs: number;
  /** Of `ownPathMs`, the part spent waiting around calls into other processes. */
  readonly waitPathMs: number;
  /**
   * Of `ownPathMs`, the part in spans that have children and not next to a remote call: work
   * inside the stage that no span covers.
   */
  readonly untracedPathMs: number;
  /** Start of its first outermost span and end of its last, relative to the trace start. */
  readonly startMs: number;
  readonly endMs: number;
  /** Stage of the parent of its first outermost span; undefined for a root stage. */
  readonly parentKey: StageKey | undefined;
}

/** One synchronous call into another process (see `remote-calls.ts`), summarised. */
export interface CallFact {
  readonly callerStage: StageKey;
  readonly calleeStage: StageKey;
  readonly calleeService: string;
  /** `processKeyOf` the callee's resource: which worker took the call. */
  readonly calleeProcess: string;
  /** The callee's `service.instance.id`, when its resource has one. */
  readonly calleeInstance: string | undefined;
  readonly beforeMs: number;
  readonly afterMs: number;
  readonly beforeOnPathMs: number;
  readonly afterOnPathMs: number;
  /** Absolute (epoch ms) interval of the wait before the callee started. */
  readonly waitStartMs: number;
  readonly waitEndMs: number;
  /** Absolute (epoch ms) end of the callee: [waitEndMs, calleeEndMs] is the worker's span. */
  readonly calleeEndMs: number;
}

/** Where an error started (an error span without failing children), and how it is reported. */
export interface ErrorFact {
  /** Index of the failing span. */
  readonly span: number;
  /** The stage a user knows: the failing span's ancestor just below the root (or itself). */
  readonly stage: StageKey;
  /** The failing span's own stage. */
  readonly originStage: StageKey;
  /** Its exception type and message, else its status message. */
  readonly message: string | undefined;
}

export interface TraceFacts {
  readonly traceId: string;
  /** The root stage (service and name of the root span, or of the earliest span). */
  readonly operation: StageKey;
  readonly rootService: string;
  readonly rootName: string;
  /** `processKeyOf` the root's resource: which process started the request. */
  readonly rootProcess: string;
  /** Start of the critical path (epoch ms, clock-adjusted) and its duration. */
  readonly startMs: number;
  readonly durationMs: number;
  /** Wall-clock arrival of the trace's first span and of its last. */
  readonly receivedAt: number;
  readonly updatedAt: number;
  /** The store entry's version the facts were built from. */
  readonly version: number;
  readonly hasError: boolean;
  readonly spans: readonly SpanRecord[];
  readonly parent: Int32Array;
  readonly depth: Uint16Array;
  /** Per span: own critical-path time, and critical-path time of its subtree. */
  readonly ownPathMs: Float64Array;
  readonly pathMs: Float64Array;
  readonly stages: ReadonlyMap<StageKey, StageFact>;
  /** Stage key of each span. */
  readonly stageOf: readonly StageKey[];
  /** Queue waits (messaging), by queue: summed ms and the part on the critical path. */
  readonly queueWaits: ReadonlyMap<string, number>;
  /** By queue, the service that consumed from it (the waiting stage's); its last if several. */
  readonly queueConsumers: ReadonlyMap<string, string>;
  readonly calls: readonly CallFact[];
  readonly errors: readonly ErrorFact[];
  /**
   * Per span, its scalar attributes as flat [key, value, key, value, ...] text, for grouping;
   * undefined for spans whose attributes could not be read.
   */
  readonly attrs: ReadonlyArray<readonly string[] | undefined>;
  /** Spans whose clocks were adjusted. */
  readonly clockShifted: number;
  /** The statistics window's ticket for this trace's contribution (set by the service). */
  statsTicket?: StatsTicket;
}

/** Reads what the facts need from a span's bytes; injected (decoding lives in `otlp/`). */
export interface FactsReaders {
  /** Calls `cb` with each string, int or bool attribute of the span, as text. */
  scalarAttributes(span: SpanRecord, cb: (key: string, value: string) => void): void;
  errorMessage(span: SpanRecord): string | undefined;
}

/** What the facts take from the store entry. */
export interface FactsSource {
  readonly traceId: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly version: number;
}

/** Longest attribute text kept for grouping: longer values are payloads, not categories. */
const MAX_VALUE_CHARS = 80;
/** Most attributes per span kept for grouping. */
const MAX_ATTRS = 32;

/**
 * Keys that never make a group: source locations, exception text, and what is unique per
 * request. (Any other key with too many distinct values is dropped by the diagnoses.)
 */
function groupable(key: string): boolean {
  if (key.startsWith('code.') || key.startsWith('exception.') || key.startsWith('thread.')) {
    return false;
  }
  if (key === 'request.index' || key.endsWith('.url') || key.startsWith('url.')) return false;
  if (key.endsWith('.statement') || key.endsWith('.query.text') || key.endsWith('.prompt')) {
    return false;
  }
  return true;
}

/**
 * Shares attribute texts across traces: the same "replica" and "generation-b" appear in every
 * trace. Cleared when it grows large; texts already handed out stay valid (they are strings).
 */
class Interner {
  private map = new Map<string, string>();
  get(s: string): string {
    const got = this.map.get(s);
    if (got !== undefined) return got;
    if (this.map.size >= 50_000) this.map.clear();
    this.map.set(s, s);
    return s;
  }
}

const texts = new Interner();

/** Whether an attribute's text starts like a number (how int attributes read). */
function isNumberText(v: string): boolean {
  const c = v.charCodeAt(0);
  return (c >= 48 && c <= 57) || (c === 45 && v.length > 1);
}

function scalarText(v: KeyValueJson['value']): string | undefined {
  if ('stringValue' in v)
    return v.stringValue.length <= MAX_VALUE_CHARS ? v.stringValue : undefined;
  if ('intValue' in v) return v.intValue;
  if ('boolValue' in v) return String(v.boolValue);
  return undefined;
}

/** The value of `key` in flat attribute text, if present. */
export function attrOf(attrs: readonly string[] | undefined, key: string): string | undefined {
  if (attrs === undefined) return undefined;
  for (let i = 0; i < attrs.length; i += 2) if (attrs[i] === key) return attrs[i + 1];
  return undefined;
}

/** The `service.instance.id` of a resource, if any. */
export function instanceOf(span: SpanRecord): string | undefined {
  const kv = span.resource.attributes.find((a) => a.key === 'service.instance.id');
  return kv === undefined ? undefined : scalarText(kv.value);
}

/** Summarises an analysed trace. O(n) plus one attribute decode per span. */
export function buildTraceFacts(
  source: FactsSource,
  analysis: TraceAnalysis,
  readers: FactsReaders,
): TraceFacts {
  const { tree, criticalPath: cp } = analysis;
  const spans = tree.spans;
  const n = spans.length;
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set((spans[i] as SpanRecord).spanId, i);
  const parent = new Int32Array(n);
  const depth = new Uint16Array(n);
  const ownPathMs = new Float64Array(n);
  const pathMs = new Float64Array(n);
  const stageOf: StageKey[] = new Array<StageKey>(n);
  const attrs: Array<readonly string[] | undefined> = new Array<readonly string[] | undefined>(n);
  const keyFor = (s: SpanRecord): StageKey => stageKey(s.serviceName, s.name);
  const waitBySpan = analysis.remoteCalls.waitOnPathBySpan;

  type MutableStage = { -readonly [K in keyof StageFact]: StageFact[K] };
  const stages = new Map<StageKey, MutableStage>();
  let hasError = false;
  for (let i = 0; i < n; i++) {
    const s = spans[i] as SpanRecord;
    const p = tree.parentOf(s);
    parent[i] = p === undefined ? -1 : (index.get(p.spanId) ?? -1);
    depth[i] = Math.min(0xffff, tree.depthOf(s.spanId));
    ownPathMs[i] = cp.bySpan.get(s.spanId) ?? 0;
    pathMs[i] = analysis.inclusivePath.get(s.spanId) ?? 0;
    const key = keyFor(s);
    stageOf[i] = key;
    if (s.isError) hasError = true;
    try {
      const list: string[] = [];
      readers.scalarAttributes(s, (k, v) => {
        if (list.length < 2 * MAX_ATTRS && v.length <= MAX_VALUE_CHARS && groupable(k)) {
          // Numbers (token counts, sizes, ids) rarely repeat: interning them only churns the
          // interner, and a lookup per value was the facts' largest cost.
          list.push(texts.get(k), isNumberText(v) ? v : texts.get(v));
        }
      });
      attrs[i] = list;
    } catch {
      attrs[i] = undefined;
    }
    const duration = Math.max(0, s.endMs - s.startMs);
    const wait = Math.min(ownPathMs[i] as number, waitBySpan.get(s.spanId) ?? 0);
    const hasKids = tree.children(s.spanId).length > 0;
    let st = stages.get(key);
    const outermost = !(p !== undefined && p.serviceName === s.serviceName && p.name === s.name);
    const relStart = s.startMs - cp.startMs;
    const relEnd = Math.max(s.startMs, s.endMs) - cp.startMs;
    if (st === undefined) {
      st = {
        key,
        service: s.serviceName,
        name: s.name,
        depth: depth[i] as number,
        count: 0,
        errorCount: 0,
        totalMs: 0,
        pathMs: 0,
        ownPathMs: 0,
        waitPathMs: 0,
        untracedPathMs: 0,
        startMs: relStart,
        endMs: relEnd,
        parentKey: p === undefined ? undefined : keyFor(p),
      };
      stages.set(key, st);
    }
    st.count++;
    if (s.isError) st.errorCount++;
    st.totalMs += duration;
    st.ownPathMs += ownPathMs[i] as number;
    st.waitPathMs += wait;
    if (hasKids) st.untracedPathMs += Math.max(0, (ownPathMs[i] as number) - wait);
    if (depth[i]! < st.depth) st.depth = depth[i] as number;
    if (outermost) {
      st.pathMs += pathMs[i] as number;
      if (relStart < st.startMs) st.startMs = relStart;
      if (relEnd > st.endMs) st.endMs = relEnd;
    }
  }

  const queueWaits = new Map<string, number>();
  const queueConsumers = new Map<string, string>();
  for (const w of analysis.queueWaits) {
    queueWaits.set(w.queue, (queueWaits.get(w.queue) ?? 0) + w.waitMs);
    queueConsumers.set(w.queue, w.consumer.serviceName);
  }

  const calls: CallFact[] = analysis.remoteCalls.calls.map((c) => ({
    callerStage: keyFor(c.caller),
    calleeStage: keyFor(c.callee),
    calleeService: c.callee.serviceName,
    calleeProcess: processKeyOf(c.callee.resource),
    calleeInstance: instanceOf(c.callee),
    beforeMs: c.beforeMs,
    afterMs: c.afterMs,
    beforeOnPathMs: c.beforeOnPathMs,
    afterOnPathMs: c.afterOnPathMs,
    waitStartMs: c.callee.startMs - c.beforeMs,
    waitEndMs: c.callee.startMs,
    calleeEndMs: Math.max(c.callee.startMs, c.callee.endMs),
  }));

  const errors: ErrorFact[] = [];
  for (let i = 0; i < n; i++) {
    const s = spans[i] as SpanRecord;
    // Only where an error starts: a parent that fails because its child failed is not news.
    if (!s.isError || tree.children(s.spanId).some((c) => c.isError)) continue;
    let top = i;
    while (parent[top]! >= 0 && parent[parent[top]!]! >= 0) top = parent[top] as number;
    let message: string | undefined;
    try {
      message = readers.errorMessage(s);
    } catch {
      message = undefined;
    }
    errors.push({
      span: i,
      stage: stageOf[top] as StageKey,
      originStage: stageOf[i] as StageKey,
      message: message === undefined ? undefined : texts.get(message.slice(0, 300)),
    });
  }

  const root = tree.roots[0] ?? spans[0];
  return {
    traceId: source.traceId,
    operation: root === undefined ? stageKey('', '') : keyFor(root),
    rootService: root?.serviceName ?? '',
    rootName: root?.name ?? '',
    rootProcess: root === undefined ? '' : processKeyOf(root.resource),
    startMs: cp.startMs,
    durationMs: cp.durationMs,
    receivedAt: source.createdAt,
    updatedAt: source.updatedAt,
    version: source.version,
    hasError,
    spans,
    parent,
    depth,
    ownPathMs,
    pathMs,
    stages,
    stageOf,
    queueWaits,
    queueConsumers,
    calls,
    errors,
    attrs,
    clockShifted: tree.clockShifts.size,
  };
}

/**
 * A rough count of the bytes the facts add to what the store holds (the spans themselves are
 * the store's): typed arrays, the stage table, attribute arrays and small objects.
 */
export function factsBytes(f: TraceFacts): number {
  let bytes = 400 + f.spans.length * (8 + 4 + 2 + 8 + 8 + 8 + 8);
  bytes += f.stages.size * 200 + f.calls.length * 120 + f.errors.length * 80;
  for (const a of f.attrs) if (a !== undefined) bytes += 32 + a.length * 8;
  return bytes;
}
