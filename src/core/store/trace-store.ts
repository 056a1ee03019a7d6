/**
 * The in-memory trace store: spans grouped by trace, indexed by trace id, service, span name,
 * errors and duration, bounded by a byte budget and a span budget with tail-sampling-like
 * retention.
 *
 * Invariants:
 * - `traces` iterates from the least recently updated trace to the most recent (an update
 *   re-inserts the entry); `seq` numbers the same order, and the eviction heaps pop by it.
 * - A span re-sent in a later batch (an exporter retry) is a duplicate and is dropped, so retries
 *   never inflate counts or statistics. (Within a trace's first batch ids are not compared.)
 * - `spanCount` is the sum of `entry.spans.length` over all traces, `bytes` the sum of
 *   `entry.bytes`, and the protected counters the same sums over the protected traces.
 * - Every operation is O(log n) or O(1) per span or trace touched: no step walks every trace
 *   (an eviction pops heaps; a query walks an index from its newest end).
 *
 * Memory accounting. What a trace costs is counted as it grows, from sizes measured on V8
 * (Node 20, x64, no pointer compression; `test/unit/memory-accounting.test.ts` checks the total
 * against the heap): per span its `raw` bytes plus {@link SPAN_RECORD_BYTES}; per trace
 * {@link TRACE_ENTRY_BYTES}; per service and span name it joins {@link INDEX_ENTRY_BYTES}; per
 * span id in a dedup set {@link SPAN_ID_SET_BYTES}.
 */
import { StatusCode, type SpanRecord } from '../model.js';
import { ArrivalList } from './arrival-list.js';
import { SeqHeap } from './seq-heap.js';
import { traceSource } from '../backend/origin.js';

/**
 * Bytes a span costs beyond its `raw` bytes: the `SpanRecord` (12 fields, 120), its two times
 * (heap numbers, 32), its span and parent id strings (64), the `Buffer` view of `raw` (about
 * 100: a typed array object), the slot in its trace's span list (8), and the pool-slab rounding
 * of `raw` (about 30 on average), measured at about 370 and rounded up.
 */
export const SPAN_RECORD_BYTES = 384;
/**
 * Bytes a trace costs whatever its spans: the `TraceEntry` (about 30 fields), its span, service
 * and name arrays, its trace id string, its entries in the arrival, duration, operation and
 * eviction indexes and heaps (one or two each), measured at about 600 for traces of 8 spans.
 */
export const TRACE_ENTRY_BYTES = 640;
/** Bytes per (trace, service) and (trace, span name) pair: the slot in the trace's array and its entry in the index (an item and a sequence number), with the arrays' growth room. */
export const INDEX_ENTRY_BYTES = 40;
/** Bytes per span id in a trace's dedup set (built when a trace receives a second batch). */
export const SPAN_ID_SET_BYTES = 64;

export interface TraceStoreOptions {
  /** Most spans held at once (default 200,000). */
  maxSpans?: number;
  /**
   * Most bytes held at once, as counted (spans and indexes; see the module comment). Default
   * unbounded; the engine sets it from its memory budget, less what the rest of it holds.
   */
  maxBytes?: number;
  /** How many of the slowest traces per root operation are kept longer (default 5). */
  slowestPerOperation?: number;
  /**
   * Share of the budget that protected traces (errors, slowest) may hold before they too are
   * evicted oldest first (default 0.5).
   */
  protectedShare?: number;
  /** Change events within this many ms are merged into one (default 25). */
  coalesceMs?: number;
}

/** One trace as held by the store. Mutated only by the store. */
export class TraceEntry {
  readonly spans: SpanRecord[] = [];
  /**
   * Span ids, built on the first batch after the one that created the trace: an exporter
   * retry resends a whole batch, so duplicates can only arrive in a later batch.
   */
  spanIds: Set<string> | undefined;
  startMs = Infinity;
  endMs = -Infinity;
  errorCount = 0;
  /** The earliest-starting span without a parent; undefined while the root has not arrived. */
  root: SpanRecord | undefined;
  readonly services: string[] = [];
  readonly names: string[] = [];
  /** Bumped on every change; analysis caches key on it. */
  version = 0;
  /** Wall-clock time (ms) of the last span received. */
  updatedAt = 0;
  /** Wall-clock time (ms) of the first span received: the trace's place in arrival order. */
  createdAt = 0;
  /** Sum of the spans' raw byte lengths, for compaction decisions. */
  rawBytes = 0;
  /** Bytes counted for this trace: its spans, itself, its index entries (module comment). */
  bytes = TRACE_ENTRY_BYTES;
  /** The store's sequence number when the trace was created: its place in arrival order. */
  arrival = 0;
  /** The store's sequence number at the last update: its place in the eviction order. */
  seq = 0;
  /** False once evicted or cleared: index entries of a trace that is gone are skipped. */
  live = true;
  /** Protected from eviction (errors, or among the slowest of its operation). */
  kept = false;
  /** Among the slowest traces of its operation. */
  slow = false;
  /** The operation it is ranked under, and the duration and `seq` it is ranked at. */
  rankOp: string | undefined = undefined;
  rankMs = -1;
  rankSeq = 0;
  /** Spans whose raw bytes were moved into the trace's own buffer (see `ownRawBytes`). */
  rawOwnedSpans = 0;
  /** Its duration bucket in the duration index (-1: none yet). */
  durationBucket = -1;
  /**
   * The analysis's handle on this trace's contribution to the statistics (see
   * `AnalysisService`), kept here so that the statistics need no per-trace state of their own;
   * opaque to the store.
   */
  statsTicket: unknown = undefined;

  constructor(readonly traceId: string) {}

  get durationMs(): number {
    return this.spans.length === 0 ? 0 : this.endMs - this.startMs;
  }

  /** Root operation key: the root span's service and name, or the earliest span's. */
  get operation(): string {
    const s = this.root ?? this.spans[0];
    return s === undefined ? '' : `${s.serviceName}\u0000${s.name}`;
  }
}

/** What the read API and the trace list show for a trace. */
export interface TraceSummary {
  traceId: string;
  rootService: string;
  rootName: string;
  /** False while the root span has not arrived (name/service are then the earliest span's). */
  hasRoot: boolean;
  startMs: number;
  durationMs: number;
  spanCount: number;
  errorCount: number;
  hasError: boolean;
  services: string[];
  /** The team backend the trace was pulled from (`backend/origin.ts`); absent when local. */
  source?: string;
}

/**
 * `arrival`: the traces that arrived last first (when their first span was received), the
 * default, so that a span dated in the future cannot pin "the latest trace". `start`: the
 * latest start time first.
 */
export type TraceOrder = 'arrival' | 'start';

export interface TraceFilter {
  service?: string;
  /** A span name any span of the trace has. */
  name?: string;
  minDurationMs?: number;
  error?: boolean;
  limit?: number;
  sort?: TraceOrder;
  /**
   * A further condition, tested after the indexed ones (it may read span bytes, so it is asked
   * only of traces that pass the rest).
   */
  where?: (t: TraceEntry) => boolean;
}

/** A coalesced change notification. */
export interface StoreChange {
  added: string[];
  updated: string[];
  evicted: string[];
  cleared: boolean;
}

export interface AddResult {
  accepted: number;
  duplicates: number;
  /** Traces that received spans (and were not evicted right away). */
  traces: TraceEntry[];
  /** The spans that were new, in order (the input itself when there was no duplicate). */
  acceptedSpans: readonly SpanRecord[];
}

export interface EvictionStats {
  traces: number;
  spans: number;
}

export function summarize(t: TraceEntry): TraceSummary {
  const s = t.root ?? earliest(t.spans);
  return {
    traceId: t.traceId,
    rootService: s?.serviceName ?? '',
    rootName: s?.name ?? '',
    hasRoot: t.root !== undefined,
    startMs: t.startMs,
    durationMs: t.durationMs,
    spanCount: t.spans.length,
    errorCount: t.errorCount,
    hasError: t.errorCount > 0,
    services: [...t.services],
    ...sourceOf(t.spans),
  };
}

function sourceOf(spans: readonly SpanRecord[]): { source?: string } {
  const source = traceSource(spans);
  return source === undefined ? {} : { source };
}

function earliest(spans: readonly SpanRecord[]): SpanRecord | undefined {
  let best: SpanRecord | undefined;
  for (const s of spans) if (best === undefined || s.startMs < best.startMs) best = s;
  return best;
}

/** Per root operation: its slowest traces (protected) and a heap of the others by duration. */
interface OperationRank {
  /** The slowest traces of the operation, slowest first, at most `slowestPerOperation`. */
  readonly top: TraceEntry[];
  /**
   * The operation's other traces by duration, slowest on top (keyed by minus the duration), so
   * that when a member of `top` goes the next slowest is found without a scan.
   */
  readonly rest: SeqHeap<TraceEntry>;
  /** Live traces ranked under the operation. */
  count: number;
}

/** Whether `a` ranks before `b` among an operation's slowest: longer, or as long and older. */
function ranksBefore(a: TraceEntry, b: TraceEntry): boolean {
  return a.rankMs > b.rankMs || (a.rankMs === b.rankMs && a.rankSeq < b.rankSeq);
}

/**
 * Eighth-of-an-octave duration buckets (9% wide): bucket(d) is non-decreasing in d, so every
 * trace at least `minDurationMs` long is in a bucket at or above bucket(minDurationMs), and only
 * that first bucket holds traces that do not match.
 */
function durationBucket(ms: number): number {
  return ms > 0 ? 1 + Math.floor(Math.log2(1 + ms) * 8) : 0;
}

export class TraceStore {
  readonly maxSpans: number;
  private _maxBytes: number;
  private readonly slowestPerOperation: number;
  private readonly protectedShare: number;
  private readonly coalesceMs: number;

  private traces = new Map<string, TraceEntry>();
  /** Sequence numbers: creation and every update take the next one. */
  private seq = 0;
  private readonly isLive = (t: TraceEntry): boolean => t.live;
  /** Every held trace, in arrival order. */
  private arrivals = new ArrivalList<TraceEntry>(this.isLive);
  private byService = new Map<string, ArrivalList<TraceEntry>>();
  private byName = new Map<string, ArrivalList<TraceEntry>>();
  private withErrors = new ArrivalList<TraceEntry>(this.isLive);
  /** Duration index: bucket -> the traces whose duration is in it, in the order they moved in. */
  private byDuration: (ArrivalList<TraceEntry> | undefined)[] = [];
  private operations = new Map<string, OperationRank>();
  /** Eviction candidates, oldest update first: unprotected and protected traces. */
  private plain = new SeqHeap<TraceEntry>((t, seq) => t.live && !t.kept && t.seq === seq);
  private keptHeap = new SeqHeap<TraceEntry>((t, seq) => t.live && t.kept && t.seq === seq);
  private keptTraces = 0;
  private _spanCount = 0;
  private _rawBytes = 0;
  private _spanBytes = 0;
  private _bytes = 0;
  private protectedSpans = 0;
  private protectedBytes = 0;
  private _lastListVisited = 0;
  private _nameEntries = 0;
  /** Set at the first eviction: protected traces then get buffers of their own (ownRawBytes). */
  private evicting = false;
  readonly evicted: EvictionStats = { traces: 0, spans: 0 };
  private listeners = new Set<(c: StoreChange) => void>();
  private pending: StoreChange | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: TraceStoreOptions = {}) {
    this.maxSpans = opts.maxSpans ?? 200_000;
    this._maxBytes = opts.maxBytes ?? Infinity;
    this.slowestPerOperation = opts.slowestPerOperation ?? 5;
    this.protectedShare = opts.protectedShare ?? 0.5;
    this.coalesceMs = opts.coalesceMs ?? 25;
    if (!(this.maxSpans >= 1)) throw new RangeError('maxSpans must be at least 1');
    if (!(this._maxBytes >= 0)) throw new RangeError('maxBytes must be at least 0');
  }

  get spanCount(): number {
    return this._spanCount;
  }

  get traceCount(): number {
    return this.traces.size;
  }

  /** Sum of the raw bytes of the spans held. */
  get rawBytes(): number {
    return this._rawBytes;
  }

  /** Bytes counted for the spans held: their raw bytes and records. */
  get spanBytes(): number {
    return this._spanBytes;
  }

  /** Bytes counted for the traces and the indexes, beyond the spans themselves. */
  get indexBytes(): number {
    return this._bytes - this._spanBytes;
  }

  /** Everything the store counts as held (`spanBytes + indexBytes`). */
  get bytes(): number {
    return this._bytes;
  }

  /** The byte budget (as counted); applied at the next `add` or `enforceBudget`. */
  get maxBytes(): number {
    return this._maxBytes;
  }

  set maxBytes(n: number) {
    if (!(n >= 0)) throw new RangeError('maxBytes must be at least 0');
    this._maxBytes = n;
  }

  /** (trace, span name) pairs held: what per-trace state elsewhere (statistics tickets) scales with. */
  get nameEntries(): number {
    return this._nameEntries;
  }

  /** Index entries the last `list` call looked at: for tests and diagnostics. */
  get lastListVisited(): number {
    return this._lastListVisited;
  }

  get(traceId: string): TraceEntry | undefined {
    return this.traces.get(traceId.toLowerCase());
  }

  /** All traces, least recently updated first. */
  all(): IterableIterator<TraceEntry> {
    return this.traces.values();
  }

  services(): string[] {
    return [...this.byService.keys()].sort();
  }

  /**
   * Adds decoded spans, deduplicating by span id, then evicts down to the budgets.
   */
  add(spans: readonly SpanRecord[], now = Date.now()): AddResult {
    const touched = new Set<TraceEntry>();
    let accepted = 0;
    let duplicates = 0;
    let acceptedSpans: SpanRecord[] | undefined;
    for (const span of spans) {
      let t = this.traces.get(span.traceId);
      if (t === undefined) {
        t = new TraceEntry(span.traceId);
        t.createdAt = now;
        t.arrival = ++this.seq;
        this.traces.set(span.traceId, t);
        this.arrivals.push(t, t.arrival);
        this._bytes += t.bytes;
        this.note('added', span.traceId);
      }
      // A trace that already holds spans from an earlier batch checks ids: a retry resends
      // whole batches, so that is where duplicates come from.
      if (t.version > 0 && !touched.has(t) && t.spanIds === undefined) {
        t.spanIds = new Set(t.spans.map((s) => s.spanId));
        this.grow(t, SPAN_ID_SET_BYTES * t.spans.length);
      }
      if (t.spanIds !== undefined) {
        if (t.spanIds.has(span.spanId)) {
          // From the first duplicate on, list the accepted spans (rare: exporter retries).
          acceptedSpans ??= spans.slice(0, accepted);
          duplicates++;
          continue;
        }
        t.spanIds.add(span.spanId);
        this.grow(t, SPAN_ID_SET_BYTES);
      }
      if (!touched.has(t)) {
        if (t.version > 0) {
          // Move to the most-recent end of the eviction order, once per batch, and only for a
          // trace that really received something new.
          this.traces.delete(t.traceId);
          this.traces.set(t.traceId, t);
          this.note('updated', t.traceId);
        }
        touched.add(t);
      }
      t.updatedAt = now;
      this.addSpan(t, span);
      if (acceptedSpans !== undefined) acceptedSpans.push(span);
      accepted++;
    }
    for (const t of touched) {
      t.seq = ++this.seq;
      this.indexDuration(t);
      if (this.slowestPerOperation > 0) this.rank(t);
      const wasKept = t.kept;
      this.classify(t);
      // classify() pushed it when its class changed; otherwise its new seq goes in here.
      if (t.kept === wasKept) (t.kept ? this.keptHeap : this.plain).push(t.seq, t);
    }
    this.enforceBudget();
    const traces = [...touched].filter((t) => t.live);
    return { accepted, duplicates, traces, acceptedSpans: acceptedSpans ?? spans };
  }

  /** Counts `n` more bytes for a trace (and for the protected share when it is protected). */
  private grow(t: TraceEntry, n: number): void {
    t.bytes += n;
    this._bytes += n;
    if (t.kept) this.protectedBytes += n;
  }

  private addSpan(t: TraceEntry, span: SpanRecord): void {
    t.spans.push(span);
    if (span.startMs < t.startMs) t.startMs = span.startMs;
    if (span.endMs > t.endMs) t.endMs = span.endMs;
    if (span.statusCode === StatusCode.ERROR && t.errorCount++ === 0) {
      this.withErrors.push(t, this.seq);
    }
    if (span.parentSpanId === '' && (t.root === undefined || span.startMs < t.root.startMs)) {
      t.root = span;
    }
    let indexBytes = 0;
    const service = span.serviceName;
    if (!t.services.includes(service)) {
      t.services.push(service);
      listFor(this.byService, service, this.isLive).push(t, this.seq);
      indexBytes += INDEX_ENTRY_BYTES;
    }
    if (!t.names.includes(span.name)) {
      t.names.push(span.name);
      listFor(this.byName, span.name, this.isLive).push(t, this.seq);
      indexBytes += INDEX_ENTRY_BYTES;
      this._nameEntries++;
    }
    const raw = span.raw.length;
    t.rawBytes += raw;
    t.version++;
    this._spanCount++;
    this._rawBytes += raw;
    this._spanBytes += raw + SPAN_RECORD_BYTES;
    if (t.kept) this.protectedSpans++;
    this.grow(t, raw + SPAN_RECORD_BYTES + indexBytes);
  }

  /** Moves a trace into the duration bucket of its current duration. */
  private indexDuration(t: TraceEntry): void {
    const b = durationBucket(t.durationMs);
    if (b === t.durationBucket) return;
    const old = t.durationBucket >= 0 ? this.byDuration[t.durationBucket] : undefined;
    t.durationBucket = b;
    old?.drop();
    let list = this.byDuration[b];
    if (list === undefined) {
      list = new ArrivalList<TraceEntry>((x) => x.live && x.durationBucket === b);
      this.byDuration[b] = list;
    }
    list.push(t, t.seq);
  }

  private operationOf(op: string): OperationRank {
    let r = this.operations.get(op);
    if (r === undefined) {
      r = {
        top: [],
        rest: new SeqHeap<TraceEntry>(
          (t, key, tie) =>
            t.live && !t.slow && t.rankOp === op && t.rankMs === -key && t.rankSeq === tie,
        ),
        count: 0,
      };
      this.operations.set(op, r);
    }
    return r;
  }

  /**
   * Ranks a trace under its root operation (which changes when its root arrives late). The
   * `slowestPerOperation` slowest held traces of each operation are protected; among equally
   * slow ones, the least recently updated. That depends only on what is held and in which
   * order, which a replay of the compacted log reproduces, so a restart keeps the same traces.
   */
  private rank(t: TraceEntry): void {
    const op = t.operation;
    if (t.rankOp !== op) {
      if (t.rankOp !== undefined) this.unrank(t);
      t.rankOp = op;
      this.operationOf(op).count++;
    }
    const r = this.operationOf(op);
    t.rankMs = t.durationMs;
    t.rankSeq = t.seq;
    if (t.slow) {
      r.top.splice(r.top.indexOf(t), 1);
      t.slow = false;
    }
    if (!this.enterTop(r, t)) r.rest.push(-t.rankMs, t, t.rankSeq);
    this.refill(r);
  }

  /** Puts `t` in the operation's top if it ranks there (demoting the one it displaces). */
  private enterTop(r: OperationRank, t: TraceEntry): boolean {
    const top = r.top;
    let at = 0;
    while (at < top.length && ranksBefore(top[at]!, t)) at++;
    if (at >= this.slowestPerOperation) return false;
    top.splice(at, 0, t);
    t.slow = true;
    if (top.length > this.slowestPerOperation) {
      const out = top.pop()!;
      out.slow = false;
      r.rest.push(-out.rankMs, out, out.rankSeq);
      this.classify(out);
    }
    return true;
  }

  /** Fills free places in the top from the rest, and swaps in a rest trace that now ranks higher. */
  private refill(r: OperationRank): void {
    for (;;) {
      const best = r.rest.peek();
      if (best === undefined) return;
      const last = r.top[r.top.length - 1];
      if (r.top.length >= this.slowestPerOperation && !ranksBefore(best, last!)) return;
      this.enterTop(r, best);
      this.classify(best);
    }
  }

  /** Takes a trace out of its operation's ranking (evicted, or moved to another operation). */
  private unrank(t: TraceEntry): void {
    const op = t.rankOp!;
    const r = this.operations.get(op);
    t.rankOp = undefined;
    if (r === undefined) return;
    r.count--;
    if (t.slow) {
      t.slow = false;
      r.top.splice(r.top.indexOf(t), 1);
      // The next slowest held trace of the operation takes the free place.
      this.refill(r);
    }
    if (r.count === 0) this.operations.delete(op);
    else r.rest.compactIfMostlyOutdated(r.count);
  }

  /** Updates whether a trace is protected, and the protected counters and heaps with it. */
  private classify(t: TraceEntry): void {
    const kept = t.errorCount > 0 || t.slow;
    if (kept === t.kept || !t.live) return;
    t.kept = kept;
    if (kept && this.evicting) ownRawBytes(t);
    const sign = kept ? 1 : -1;
    this.keptTraces += sign;
    this.protectedSpans += sign * t.spans.length;
    this.protectedBytes += sign * t.bytes;
    // A trace touched in this batch is pushed by `add` with its new seq.
    if (t.seq > 0) (kept ? this.keptHeap : this.plain).push(t.seq, t);
  }

  private overBudget(): boolean {
    return this._spanCount > this.maxSpans || this._bytes > this._maxBytes;
  }

  /**
   * Evicts whole traces, oldest updated first, until the store is within both budgets. Error
   * traces and the slowest traces per operation are skipped while they hold at most
   * `protectedShare` of each budget; past that the oldest trace goes whether protected or not,
   * and when only protected traces are left they go oldest first too. Each eviction pops a heap:
   * O(log n), whatever the store holds.
   */
  enforceBudget(): void {
    if (!this.evicting && this.overBudget()) {
      // From the first eviction on, protected traces outlive their neighbours: see ownRawBytes.
      // Once over those held now, then as traces become protected.
      this.evicting = true;
      for (const t of this.traces.values()) if (t.kept) ownRawBytes(t);
    }
    while (this.overBudget()) {
      const plain = this.plain.peek();
      const kept = this.keptHeap.peek();
      let victim: TraceEntry | undefined;
      if (kept === undefined) victim = plain;
      else if (plain === undefined) victim = kept;
      else {
        const overShare =
          this.protectedSpans > this.maxSpans * this.protectedShare ||
          this.protectedBytes > this._maxBytes * this.protectedShare;
        victim = overShare && kept.seq < plain.seq ? kept : plain;
      }
      if (victim === undefined) break;
      this.remove(victim);
    }
    this.plain.compactIfMostlyOutdated(this.traces.size - this.keptTraces);
    this.keptHeap.compactIfMostlyOutdated(this.keptTraces);
  }

  private remove(t: TraceEntry): void {
    this.traces.delete(t.traceId);
    if (t.kept) {
      this.keptTraces--;
      this.protectedSpans -= t.spans.length;
      this.protectedBytes -= t.bytes;
    }
    t.live = false;
    this.arrivals.drop();
    for (const service of t.services) dropFrom(this.byService, service);
    for (const name of t.names) dropFrom(this.byName, name);
    this._nameEntries -= t.names.length;
    if (t.errorCount > 0) this.withErrors.drop();
    if (t.durationBucket >= 0) this.byDuration[t.durationBucket]?.drop();
    if (t.rankOp !== undefined) this.unrank(t);
    this._spanCount -= t.spans.length;
    this._rawBytes -= t.rawBytes;
    this._spanBytes -= t.rawBytes + SPAN_RECORD_BYTES * t.spans.length;
    this._bytes -= t.bytes;
    this.evicted.traces++;
    this.evicted.spans += t.spans.length;
    this.note('evicted', t.traceId);
    release(t);
  }

  /** Removes everything (not counted as eviction). */
  clear(): void {
    for (const t of this.traces.values()) {
      t.live = false;
      release(t);
    }
    this.traces.clear();
    this.arrivals = new ArrivalList<TraceEntry>(this.isLive);
    this.byService.clear();
    this.byName.clear();
    this.withErrors = new ArrivalList<TraceEntry>(this.isLive);
    this.byDuration = [];
    this.operations.clear();
    this.plain.clear();
    this.keptHeap.clear();
    this.keptTraces = 0;
    this._spanCount = 0;
    this._rawBytes = 0;
    this._spanBytes = 0;
    this._bytes = 0;
    this.protectedSpans = 0;
    this.protectedBytes = 0;
    this._nameEntries = 0;
    this.pending = { added: [], updated: [], evicted: [], cleared: true };
    this.schedule();
  }

  /**
   * Summaries matching the filter: the latest arrivals first (or the latest starts, with
   * `sort: 'start'`), at most `limit` (default 100).
   *
   * In arrival order the query walks the narrowest index the filter names (a service, a span
   * name, errors, the duration buckets at or above `minDurationMs`, or all traces) from its
   * newest end and stops as soon as no older entry can make the result: about `limit` steps
   * when the filter's other conditions match often. By start time it walks that index whole
   * (start times move as spans arrive, and a span dated in the future keeps its place there).
   */
  list(filter: TraceFilter = {}): TraceSummary[] {
    this._lastListVisited = 0;
    const limit = filter.limit ?? 100;
    if (!(limit > 0)) return [];
    const { service, name, minDurationMs, error, where } = filter;
    const match = (t: TraceEntry): boolean =>
      (name === undefined || t.names.includes(name)) &&
      (service === undefined || t.services.includes(service)) &&
      (minDurationMs === undefined || t.durationMs >= minDurationMs) &&
      (error === undefined || t.errorCount > 0 === error) &&
      (where === undefined || where(t));
    // The narrowest index the filter names.
    let sources: ArrivalList<TraceEntry>[] = [this.arrivals];
    let size = this.arrivals.live;
    const consider = (lists: ArrivalList<TraceEntry>[]) => {
      let n = 0;
      for (const l of lists) n += l.live;
      if (n < size) {
        sources = lists;
        size = n;
      }
    };
    if (name !== undefined) consider(listOrNone(this.byName.get(name)));
    if (service !== undefined) consider(listOrNone(this.byService.get(service)));
    if (error === true) consider([this.withErrors]);
    if (minDurationMs !== undefined) {
      const lists: ArrivalList<TraceEntry>[] = [];
      for (let b = durationBucket(minDurationMs); b < this.byDuration.length; b++) {
        const l = this.byDuration[b];
        if (l !== undefined && l.live > 0) lists.push(l);
      }
      consider(lists);
    }
    const found =
      filter.sort === 'start'
        ? this.latestStarts(sources, limit, match)
        : this.latestArrivals(sources, limit, match);
    return found.map(summarize);
  }

  /**
   * The latest arrivals among the lists' entries that match, newest first. The lists are merged
   * from their newest ends by join sequence; since an entry's trace arrived no later than it
   * joined, once `limit` matches are found, an entry that joined before the oldest of them
   * cannot be among the latest, and the walk stops.
   */
  private latestArrivals(
    lists: readonly ArrivalList<TraceEntry>[],
    limit: number,
    match: (t: TraceEntry) => boolean,
  ): TraceEntry[] {
    const pos = lists.map((l) => l.length - 1);
    const found: TraceEntry[] = [];
    let bound = -Infinity;
    let visited = 0;
    for (;;) {
      let k = -1;
      let seq = -Infinity;
      for (let i = 0; i < lists.length; i++) {
        const p = pos[i]!;
        if (p >= 0 && lists[i]!.seqs[p]! > seq) {
          seq = lists[i]!.seqs[p]!;
          k = i;
        }
      }
      if (k < 0 || seq < bound) break;
      const list = lists[k]!;
      const t = list.traces[pos[k]!--]!;
      visited++;
      if (!list.isValid(t) || !match(t)) continue;
      found.push(t);
      if (found.length >= limit) {
        if (found.length > limit || bound === -Infinity) {
          found.sort((a, b) => b.arrival - a.arrival);
          found.length = limit;
        }
        bound = found[limit - 1]!.arrival;
      }
    }
    this._lastListVisited = visited;
    return found.sort((a, b) => b.arrival - a.arrival);
  }

  /** The latest starts among the lists' entries that match (ties: latest arrival first). */
  private latestStarts(
    lists: readonly ArrivalList<TraceEntry>[],
    limit: number,
    match: (t: TraceEntry) => boolean,
  ): TraceEntry[] {
    const later = (a: TraceEntry, b: TraceEntry) =>
      a.startMs > b.startMs || (a.startMs === b.startMs && a.arrival > b.arrival);
    // Kept sorted, latest first; a bounded insertion instead of sorting every match.
    const top: TraceEntry[] = [];
    let visited = 0;
    for (const list of lists) {
      for (let i = list.length - 1; i >= 0; i--) {
        const t = list.traces[i]!;
        visited++;
        if (!list.isValid(t) || !match(t)) continue;
        if (top.length >= limit && !later(t, top[top.length - 1]!)) continue;
        let at = top.length;
        while (at > 0 && later(t, top[at - 1]!)) at--;
        top.splice(at, 0, t);
        if (top.length > limit) top.pop();
      }
    }
    this._lastListVisited = visited;
    return top;
  }

  /** Subscribes to coalesced change events; returns the unsubscribe function. */
  onChange(listener: (c: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private note(kind: 'added' | 'updated' | 'evicted', traceId: string): void {
    if (this.listeners.size === 0) return;
    this.pending ??= { added: [], updated: [], evicted: [], cleared: false };
    this.pending[kind].push(traceId);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.listeners.size === 0) return;
    this.timer = setTimeout(() => this.flush(), this.coalesceMs);
    this.timer.unref?.();
  }

  /** Delivers pending changes now (also called by the timer). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const c = this.pending;
    this.pending = undefined;
    if (c === undefined) return;
    const added = new Set(c.added);
    const evicted = new Set(c.evicted);
    // A trace evicted and created again within the window is in both lists; listeners apply
    // `evicted` before `added`.
    const change: StoreChange = {
      cleared: c.cleared,
      added: [...added].filter((id) => !evicted.has(id) || this.traces.has(id)),
      updated: [...new Set(c.updated)].filter((id) => !added.has(id) && !evicted.has(id)),
      evicted: [...evicted],
    };
    for (const l of this.listeners) l(change);
  }
}

/**
 * Moves a protected trace's raw bytes into one buffer of its own. The decoder copies small
 * spans into Node's shared 8 KiB pool slabs, each shared by the spans of several traces of a
 * batch; a slab is freed only when all of them are. A trace kept long after its neighbours were
 * evicted would pin slabs of mostly dead bytes: measured at about twice the raw bytes held in a
 * soak where the protected share was full. Copying once, when the trace becomes protected (from
 * the first eviction on: before, its neighbours are all held and the copy would only add),
 * costs a memcpy of its bytes and one ArrayBuffer per trace (within SPAN_RECORD_BYTES' rounding).
 */
function ownRawBytes(t: TraceEntry): void {
  // Already done (a trace can leave and re-enter the slowest): unless spans arrived since.
  if (t.rawOwnedSpans === t.spans.length) return;
  t.rawOwnedSpans = t.spans.length;
  let total = 0;
  for (const s of t.spans) total += s.raw.length;
  if (total === 0) return;
  const own = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const s of t.spans) {
    own.set(s.raw, at);
    s.raw = own.subarray(at, at + s.raw.length);
    at += s.raw.length;
  }
}

/**
 * Lets go of what a trace that is gone holds: the indexes drop their entries of it lazily, and
 * an entry must not keep its spans (their raw bytes) alive meanwhile. Nothing reads a trace that
 * is not live.
 */
function release(t: TraceEntry): void {
  t.spans.length = 0;
  t.services.length = 0;
  t.names.length = 0;
  t.spanIds = undefined;
  t.root = undefined;
  t.statsTicket = undefined;
}

function listFor<T>(
  lists: Map<string, ArrivalList<T>>,
  key: string,
  valid: (t: T) => boolean,
): ArrivalList<T> {
  let list = lists.get(key);
  if (list === undefined) lists.set(key, (list = new ArrivalList<T>(valid)));
  return list;
}

/** Counts an evicted trace's entry in a keyed list; a list with no live entry goes. */
function dropFrom<T>(lists: Map<string, ArrivalList<T>>, key: string): void {
  const list = lists.get(key);
  if (list === undefined) return;
  list.drop();
  if (list.live === 0) lists.delete(key);
}

function listOrNone<T>(list: ArrivalList<T> | undefined): ArrivalList<T>[] {
  return list === undefined ? [] : [list];
}
