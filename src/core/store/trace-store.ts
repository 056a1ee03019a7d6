/**
 * The in-memory trace store: spans grouped by trace, indexed by trace id, service and span
 * name, bounded by a span budget with tail-sampling-like retention.
 *
 * Invariants:
 * - `traces` iterates from the least recently updated trace to the most recent (an update
 *   re-inserts the entry), so the eviction scan starts at the oldest.
 * - A span re-sent in a later batch (an exporter retry) is a duplicate and is dropped, so retries
 *   never inflate counts or statistics. (Within a trace's first batch ids are not compared.)
 * - `spanCount` is the sum of `entry.spans.length` over all traces.
 */
import { StatusCode, type SpanRecord } from '../model.js';

export interface TraceStoreOptions {
  /** Most spans held at once (default 200,000). */
  maxSpans?: number;
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
}

export interface TraceFilter {
  service?: string;
  name?: string;
  minDurationMs?: number;
  error?: boolean;
  limit?: number;
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
  };
}

function earliest(spans: readonly SpanRecord[]): SpanRecord | undefined {
  let best: SpanRecord | undefined;
  for (const s of spans) if (best === undefined || s.startMs < best.startMs) best = s;
  return best;
}

export class TraceStore {
  readonly maxSpans: number;
  private readonly slowestPerOperation: number;
  private readonly protectedShare: number;
  private readonly coalesceMs: number;

  private traces = new Map<string, TraceEntry>();
  private byService = new TraceIndex();
  private byName = new TraceIndex();
  /** The slowest traces per root operation, slowest first, at most `slowestPerOperation`. */
  private slowest = new Map<string, TraceEntry[]>();
  private _spanCount = 0;
  private _rawBytes = 0;
  readonly evicted: EvictionStats = { traces: 0, spans: 0 };
  private listeners = new Set<(c: StoreChange) => void>();
  private pending: StoreChange | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: TraceStoreOptions = {}) {
    this.maxSpans = opts.maxSpans ?? 200_000;
    this.slowestPerOperation = opts.slowestPerOperation ?? 5;
    this.protectedShare = opts.protectedShare ?? 0.5;
    this.coalesceMs = opts.coalesceMs ?? 25;
    if (!(this.maxSpans >= 1)) throw new RangeError('maxSpans must be at least 1');
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

  private readonly isLive = (t: TraceEntry): boolean => this.traces.get(t.traceId) === t;

  get(traceId: string): TraceEntry | undefined {
    return this.traces.get(traceId.toLowerCase());
  }

  /** All traces, least recently updated first. */
  all(): IterableIterator<TraceEntry> {
    return this.traces.values();
  }

  services(): string[] {
    return this.byService.keys(this.isLive).sort();
  }

  /**
   * Adds decoded spans, deduplicating by span id, then evicts down to the budget.
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
        this.traces.set(span.traceId, t);
        this.note('added', span.traceId);
      }
      // A trace that already holds spans from an earlier batch checks ids: a retry resends
      // whole batches, so that is where duplicates come from.
      if (t.version > 0 && !touched.has(t)) t.spanIds ??= new Set(t.spans.map((s) => s.spanId));
      if (t.spanIds !== undefined) {
        if (t.spanIds.has(span.spanId)) {
          // From the first duplicate on, list the accepted spans (rare: exporter retries).
          acceptedSpans ??= spans.slice(0, accepted);
          duplicates++;
          continue;
        }
        t.spanIds.add(span.spanId);
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
    for (const t of touched) this.rankSlowest(t);
    if (this._spanCount > this.maxSpans) this.evict();
    const traces = [...touched].filter((t) => this.traces.get(t.traceId) === t);
    return { accepted, duplicates, traces, acceptedSpans: acceptedSpans ?? spans };
  }

  private addSpan(t: TraceEntry, span: SpanRecord): void {
    t.spans.push(span);
    if (span.startMs < t.startMs) t.startMs = span.startMs;
    if (span.endMs > t.endMs) t.endMs = span.endMs;
    if (span.statusCode === StatusCode.ERROR) t.errorCount++;
    if (span.parentSpanId === '' && (t.root === undefined || span.startMs < t.root.startMs)) {
      t.root = span;
    }
    const service = span.serviceName;
    if (!t.services.includes(service)) {
      t.services.push(service);
      this.byService.add(service, t);
    }
    if (!t.names.includes(span.name)) {
      t.names.push(span.name);
      this.byName.add(span.name, t);
    }
    t.rawBytes += span.raw.length;
    t.version++;
    this._spanCount++;
    this._rawBytes += span.raw.length;
  }

  private rankSlowest(t: TraceEntry): void {
    const op = t.operation;
    let list = this.slowest.get(op);
    if (list === undefined) {
      list = [];
      this.slowest.set(op, list);
    }
    const i = list.indexOf(t);
    if (i >= 0) list.splice(i, 1);
    // Insert keeping slowest first; the list is tiny (slowestPerOperation).
    let at = 0;
    while (at < list.length && list[at]!.durationMs >= t.durationMs) at++;
    if (at < this.slowestPerOperation) {
      list.splice(at, 0, t);
      if (list.length > this.slowestPerOperation) list.length = this.slowestPerOperation;
    }
    // A trace whose root arrived late may have been ranked under another operation before.
    if (i < 0) {
      for (const [key, other] of this.slowest) {
        if (key === op) continue;
        const j = other.indexOf(t);
        if (j >= 0) other.splice(j, 1);
      }
    }
  }

  private isProtected(t: TraceEntry): boolean {
    if (t.errorCount > 0) return true;
    const list = this.slowest.get(t.operation);
    return list !== undefined && list.includes(t);
  }

  /**
   * Evicts whole traces, oldest first, until the store is within budget. Error traces and the
   * slowest traces per operation are skipped while they hold less than `protectedShare` of the
   * budget; past that, or when only they are left, they go oldest first too.
   */
  private evict(): void {
    const protectedBudget = this.maxSpans * this.protectedShare;
    // Protected traces (errors, slowest per operation) are kept newest first: while they hold
    // more than their share, the oldest of them go like any other trace.
    let protectedSpans = 0;
    for (const t of this.traces.values()) if (this.isProtected(t)) protectedSpans += t.spans.length;
    const skipped: TraceEntry[] = [];
    this.reranking = new Set();
    for (const t of this.traces.values()) {
      if (this._spanCount <= this.maxSpans) break;
      if (this.isProtected(t)) {
        if (protectedSpans <= protectedBudget) {
          skipped.push(t);
          continue;
        }
        protectedSpans -= t.spans.length;
      }
      this.remove(t);
    }
    for (const t of skipped) {
      if (this._spanCount <= this.maxSpans) break;
      this.remove(t);
    }
    // An evicted member of a slowest list leaves room: rank that operation's held traces again,
    // so protection depends only on what is held (and a replay keeps the same traces).
    const ops = this.reranking;
    this.reranking = undefined;
    if (ops.size > 0) {
      for (const op of ops) this.slowest.delete(op);
      for (const t of this.traces.values()) if (ops.has(t.operation)) this.rankSlowest(t);
    }
  }

  /** Operations whose slowest list lost a member during the current eviction. */
  private reranking: Set<string> | undefined;

  private remove(t: TraceEntry): void {
    this.traces.delete(t.traceId);
    this.byService.removed(t.services.length, this.isLive);
    this.byName.removed(t.names.length, this.isLive);
    const list = this.slowest.get(t.operation);
    if (list !== undefined) {
      const i = list.indexOf(t);
      if (i >= 0) {
        list.splice(i, 1);
        this.reranking?.add(t.operation);
      }
      if (list.length === 0) this.slowest.delete(t.operation);
    }
    this._spanCount -= t.spans.length;
    this._rawBytes -= t.rawBytes;
    this.evicted.traces++;
    this.evicted.spans += t.spans.length;
    this.note('evicted', t.traceId);
  }

  /** Removes everything (not counted as eviction). */
  clear(): void {
    this.traces.clear();
    this.byService.clear();
    this.byName.clear();
    this.slowest.clear();
    this._spanCount = 0;
    this._rawBytes = 0;
    this.pending = { added: [], updated: [], evicted: [], cleared: true };
    this.schedule();
  }

  /** Summaries matching the filter, most recently started first. */
  list(filter: TraceFilter = {}): TraceSummary[] {
    // Start from the narrowest index the filter names.
    let candidates: Iterable<TraceEntry> = this.traces.values();
    if (filter.name !== undefined) candidates = this.byName.get(filter.name, this.isLive);
    else if (filter.service !== undefined) {
      candidates = this.byService.get(filter.service, this.isLive);
    }
    const out: TraceEntry[] = [];
    for (const t of candidates) {
      if (filter.name !== undefined && !t.names.includes(filter.name)) continue;
      if (filter.service !== undefined && !t.services.includes(filter.service)) continue;
      if (filter.minDurationMs !== undefined && t.durationMs < filter.minDurationMs) continue;
      if (filter.error !== undefined && t.errorCount > 0 !== filter.error) continue;
      out.push(t);
    }
    out.sort((a, b) => b.startMs - a.startMs);
    const limit = filter.limit ?? 100;
    return out.slice(0, limit).map(summarize);
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
 * Traces by key (service, span name), append-only with lazy removal: ingest pays one array push
 * per new (trace, key) pair; evicted traces are skipped by queries and swept out once they are
 * half of the entries. (A Set per key cost a hash insertion per stage per trace on the hot path.)
 */
class TraceIndex {
  private lists = new Map<string, TraceEntry[]>();
  private entries = 0;
  private dead = 0;

  add(key: string, t: TraceEntry): void {
    let list = this.lists.get(key);
    if (list === undefined) this.lists.set(key, (list = []));
    list.push(t);
    this.entries++;
  }

  get(key: string, isLive: (t: TraceEntry) => boolean): TraceEntry[] {
    return (this.lists.get(key) ?? []).filter(isLive);
  }

  keys(isLive: (t: TraceEntry) => boolean): string[] {
    const out: string[] = [];
    for (const [key, list] of this.lists) if (list.some(isLive)) out.push(key);
    return out;
  }

  /** Notes `n` entries of an evicted trace; sweeps when the dead are half of all entries. */
  removed(n: number, isLive: (t: TraceEntry) => boolean): void {
    this.dead += n;
    if (this.dead * 2 < this.entries) return;
    this.entries = 0;
    for (const [key, list] of this.lists) {
      const live = list.filter(isLive);
      if (live.length === 0) this.lists.delete(key);
      else this.lists.set(key, live);
      this.entries += live.length;
    }
    this.dead = 0;
  }

  clear(): void {
    this.lists.clear();
    this.entries = 0;
    this.dead = 0;
  }
}
