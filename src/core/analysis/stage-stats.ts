/**
 * Per-stage latency statistics over a sliding window. A stage is (service name, span name): the
 * unit a pipeline author thinks in ("embedding", "rerank"), across all traces.
 *
 * The window is by arrival time (the injected wall clock), not span time, so that a replayed or
 * clock-skewed batch still shows up, and is a ring of buckets: each holds its own quantile
 * sketches and counters, and a whole bucket expires at once. Quantiles come from DDSketch
 * (relative-error guarantee, mergeable), so a snapshot merges at most `buckets` sketches per
 * stage and never keeps individual durations.
 */

import { DDSketch } from '@datadog/sketches-js';
import type { SpanRecord } from '../model.js';

/** Opaque, unambiguous key of a stage; build it with {@link stageKey}. */
export type StageKey = string;

/** Builds the key of (service, name). Unambiguous for any strings (it is a JSON array). */
export function stageKey(service: string, name: string): StageKey {
  return JSON.stringify([service, name]);
}

/** Inverse of {@link stageKey}; undefined for a string it did not make. */
export function parseStageKey(key: StageKey): { service: string; name: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(key);
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string'
    ) {
      return { service: parsed[0], name: parsed[1] };
    }
  } catch {
    // Not one of ours.
  }
  return undefined;
}

/** A stage's part in one trace's critical path. */
export interface StageContribution {
  /** Milliseconds of the stage's spans' own work on the critical path (summed over its spans). */
  readonly onPathMs: number;
  /** onPathMs / the trace's end-to-end duration, in [0, 1]. */
  readonly share: number;
}

/** One stage's statistics over the current window. */
export interface StageStats {
  readonly key: StageKey;
  readonly service: string;
  readonly name: string;
  /** Spans of the stage that arrived in the window. */
  readonly count: number;
  readonly errorCount: number;
  /** errorCount / count. */
  readonly errorRate: number;
  /** Duration quantiles, within the sketch's relative accuracy (1%) and clamped to [min, max]. */
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** Exact. */
  readonly meanMs: number;
  /** Exact. */
  readonly maxMs: number;
  /** Traces in the window whose analysis reported this stage (see `setTraceCriticalPath`). */
  readonly traceCount: number;
  /** Of those, traces in which the stage had time on the critical path. */
  readonly criticalTraceCount: number;
  /** 100 * criticalTraceCount / traceCount, a percentage in [0, 100]; 0 when traceCount is 0. */
  readonly criticalInPct: number;
  /**
   * Mean of the stage's critical-path share over the traces containing it, traces where it was
   * off the path counting as 0; a fraction in [0, 1]. It reads as "the part of end-to-end
   * latency this stage accounts for in a typical trace that runs it".
   */
  readonly meanCriticalShare: number;
}

export interface StageStatsOptions {
  /** Length of the window in ms (default 300,000: five minutes). */
  windowMs?: number;
  /** Number of ring buckets the window is split into (default 10). */
  buckets?: number;
  /** Wall clock in ms (default `Date.now`); injectable for tests. */
  now?: () => number;
  /** Most distinct stages held at once (default 5,000); spans of further stages are dropped. */
  maxStages?: number;
  /**
   * Most traces whose contribution can still be replaced (default 100,000). Beyond it the
   * oldest trace is forgotten: its contribution stays counted until its bucket expires, but a
   * later recomputation of it would be counted again.
   */
  maxTrackedTraces?: number;
  /** DDSketch relative accuracy (default 0.01). */
  relativeAccuracy?: number;
}

interface SpanCell {
  count: number;
  errorCount: number;
  sumMs: number;
  minMs: number;
  maxMs: number;
  readonly sketch: DDSketch;
}

interface TraceCell {
  traces: number;
  criticalTraces: number;
  shareSum: number;
}

interface Bucket {
  /** floor(arrival time / bucketMs) of what it holds; -Infinity when empty. */
  epoch: number;
  readonly spans: Map<StageKey, SpanCell>;
  readonly traces: Map<StageKey, TraceCell>;
  /** Traces whose current contribution lives in this bucket. */
  readonly traceIds: Set<string>;
}

/** What one trace added, kept so that a recomputation can take exactly that back out. */
interface TraceRecord {
  readonly epoch: number;
  readonly stages: readonly StageKey[];
  readonly critical: ReadonlyMap<StageKey, number>;
}

interface StageEntry {
  readonly service: string;
  readonly name: string;
  /** Number of bucket cells (span or trace) holding this stage; the entry goes at 0. */
  refs: number;
}

/**
 * Sliding-window statistics per stage. Memory is bounded by `buckets * maxStages` sketches plus
 * `maxTrackedTraces` trace records; what does not fit is counted in `droppedSpans` and
 * `droppedContributions`.
 */
export class StageStatsWindow {
  private readonly bucketMs: number;
  private readonly now: () => number;
  private readonly maxStages: number;
  private readonly maxTrackedTraces: number;
  private readonly relativeAccuracy: number;
  private readonly ring: Bucket[];
  /** Distinct stages present in some live bucket. */
  private readonly stages = new Map<StageKey, StageEntry>();
  private readonly keyCache = new Map<string, Map<string, StageKey>>();
  /** Insertion order is recency order, for evicting the oldest beyond `maxTrackedTraces`. */
  private readonly traceIndex = new Map<string, TraceRecord>();
  /** Never decreases, so a clock that steps back cannot resurrect expired buckets. */
  private epoch = -Infinity;
  private dropped = { spans: 0, contributions: 0 };

  constructor({
    windowMs = 300_000,
    buckets = 10,
    now = () => Date.now(),
    maxStages = 5_000,
    maxTrackedTraces = 100_000,
    relativeAccuracy = 0.01,
  }: StageStatsOptions = {}) {
    if (!(windowMs > 0) || !Number.isInteger(buckets) || buckets < 1) {
      throw new RangeError('StageStatsWindow needs windowMs > 0 and an integer buckets >= 1');
    }
    this.bucketMs = windowMs / buckets;
    this.now = now;
    this.maxStages = maxStages;
    this.maxTrackedTraces = maxTrackedTraces;
    this.relativeAccuracy = relativeAccuracy;
    this.ring = Array.from({ length: buckets }, () => ({
      epoch: -Infinity,
      spans: new Map(),
      traces: new Map(),
      traceIds: new Set(),
    }));
  }

  /** Spans dropped because `maxStages` distinct stages were already held. */
  get droppedSpans(): number {
    return this.dropped.spans;
  }

  /** Stage contributions dropped for the same reason. */
  get droppedContributions(): number {
    return this.dropped.contributions;
  }

  /** Distinct stages currently held. */
  get stageCount(): number {
    return this.stages.size;
  }

  /** Counts the span, its error status and its duration (negative durations count as 0). */
  addSpan(span: SpanRecord): void {
    this.addSpans([span]);
  }

  /** Adds a batch of spans: the clock is read and the bucket found once per batch. */
  addSpans(spans: readonly SpanRecord[]): void {
    if (spans.length === 0) return;
    const bucket = this.current();
    for (const span of spans) this.addTo(bucket, span);
  }

  /**
   * The stage key of (service, name), cached: both strings are interned by the decoder, so two
   * map lookups replace building a JSON key per span on the ingest path.
   */
  private keyOf(service: string, name: string): StageKey {
    let byName = this.keyCache.get(service);
    if (byName === undefined) {
      if (this.keyCache.size >= this.maxStages) this.keyCache.clear();
      this.keyCache.set(service, (byName = new Map()));
    }
    let key = byName.get(name);
    if (key === undefined) {
      if (byName.size >= this.maxStages) byName.clear();
      byName.set(name, (key = stageKey(service, name)));
    }
    return key;
  }

  private addTo(bucket: Bucket, span: SpanRecord): void {
    const key = this.keyOf(span.serviceName, span.name);
    let cell = bucket.spans.get(key);
    if (cell === undefined) {
      if (!this.ref(key, span.serviceName, span.name)) {
        this.dropped.spans++;
        return;
      }
      cell = {
        count: 0,
        errorCount: 0,
        sumMs: 0,
        minMs: Infinity,
        maxMs: -Infinity,
        sketch: new DDSketch({ relativeAccuracy: this.relativeAccuracy }),
      };
      bucket.spans.set(key, cell);
    }
    const d = span.endMs - span.startMs;
    const ms = Number.isFinite(d) && d > 0 ? d : 0;
    cell.count++;
    if (span.isError) cell.errorCount++;
    cell.sumMs += ms;
    if (ms < cell.minMs) cell.minMs = ms;
    if (ms > cell.maxMs) cell.maxMs = ms;
    cell.sketch.accept(ms);
  }

  /**
   * Records which stages a trace contains and which of them were on its critical path, with
   * their shares. Replaces the trace's previous record, wherever in the window it is: a late
   * span makes the caller recompute the path and call this again, and the trace must count once.
   * Stages in `contributions` are taken as contained even when missing from `traceStages`; a
   * stage counts as critical when its `onPathMs` is positive.
   */
  setTraceCriticalPath(
    traceId: string,
    contributions: ReadonlyMap<StageKey, StageContribution>,
    traceStages: ReadonlySet<StageKey>,
  ): void {
    const bucket = this.current();
    this.forgetTrace(traceId);

    const all = new Set<StageKey>(traceStages);
    for (const key of contributions.keys()) all.add(key);
    const stages: StageKey[] = [];
    const critical = new Map<StageKey, number>();
    for (const key of all) {
      let cell = bucket.traces.get(key);
      if (cell === undefined) {
        const parsed = parseStageKey(key);
        if (parsed === undefined || !this.ref(key, parsed.service, parsed.name)) {
          this.dropped.contributions++;
          continue;
        }
        cell = { traces: 0, criticalTraces: 0, shareSum: 0 };
        bucket.traces.set(key, cell);
      }
      stages.push(key);
      cell.traces++;
      const c = contributions.get(key);
      if (c !== undefined && c.onPathMs > 0) {
        cell.criticalTraces++;
        cell.shareSum += c.share;
        critical.set(key, c.share);
      }
    }
    this.traceIndex.set(traceId, { epoch: bucket.epoch, stages, critical });
    bucket.traceIds.add(traceId);
    if (this.traceIndex.size > this.maxTrackedTraces) {
      const oldest = this.traceIndex.keys().next().value;
      if (oldest !== undefined) this.untrack(oldest);
    }
  }

  /** The statistics of every stage with at least one span in the window, by service then name. */
  snapshot(): StageStats[] {
    this.rotate();
    const out: StageStats[] = [];
    for (const [key, entry] of this.stages) {
      const sketch = new DDSketch({ relativeAccuracy: this.relativeAccuracy });
      let count = 0;
      let errorCount = 0;
      let sumMs = 0;
      let minMs = Infinity;
      let maxMs = -Infinity;
      let traceCount = 0;
      let criticalTraceCount = 0;
      let shareSum = 0;
      for (const bucket of this.ring) {
        const s = bucket.spans.get(key);
        if (s !== undefined) {
          count += s.count;
          errorCount += s.errorCount;
          sumMs += s.sumMs;
          minMs = Math.min(minMs, s.minMs);
          maxMs = Math.max(maxMs, s.maxMs);
          sketch.merge(s.sketch);
        }
        const t = bucket.traces.get(key);
        if (t !== undefined) {
          traceCount += t.traces;
          criticalTraceCount += t.criticalTraces;
          shareSum += t.shareSum;
        }
      }
      // A stage known only from trace records has no durations to report.
      if (count === 0) continue;
      const quantile = (q: number): number =>
        Math.min(maxMs, Math.max(minMs, sketch.getValueAtQuantile(q)));
      out.push({
        key,
        service: entry.service,
        name: entry.name,
        count,
        errorCount,
        errorRate: errorCount / count,
        p50Ms: quantile(0.5),
        p95Ms: quantile(0.95),
        p99Ms: quantile(0.99),
        meanMs: sumMs / count,
        maxMs,
        traceCount,
        criticalTraceCount,
        criticalInPct: traceCount > 0 ? (100 * criticalTraceCount) / traceCount : 0,
        meanCriticalShare: traceCount > 0 ? shareSum / traceCount : 0,
      });
    }
    out.sort((a, b) => compare(a.service, b.service) || compare(a.name, b.name));
    return out;
  }

  /** Empties the window and resets the drop counters. */
  clear(): void {
    for (const bucket of this.ring) {
      bucket.epoch = -Infinity;
      bucket.spans.clear();
      bucket.traces.clear();
      bucket.traceIds.clear();
    }
    this.stages.clear();
    this.traceIndex.clear();
    this.dropped = { spans: 0, contributions: 0 };
  }

  /** The bucket for now, after expiring what fell out of the window. */
  private current(): Bucket {
    this.rotate();
    const bucket = this.ring[this.slot(this.epoch)] as Bucket;
    if (bucket.epoch !== this.epoch) {
      // rotate() emptied any older occupant of this slot.
      bucket.epoch = this.epoch;
    }
    return bucket;
  }

  private rotate(): void {
    const epoch = Math.max(this.epoch, Math.floor(this.now() / this.bucketMs));
    if (epoch === this.epoch) return;
    this.epoch = epoch;
    const oldest = epoch - this.ring.length + 1;
    for (const bucket of this.ring) {
      if (bucket.epoch !== -Infinity && bucket.epoch < oldest) this.expire(bucket);
    }
  }

  private expire(bucket: Bucket): void {
    for (const key of bucket.spans.keys()) this.unref(key);
    for (const key of bucket.traces.keys()) this.unref(key);
    for (const traceId of bucket.traceIds) {
      if (this.traceIndex.get(traceId)?.epoch === bucket.epoch) this.traceIndex.delete(traceId);
    }
    bucket.spans.clear();
    bucket.traces.clear();
    bucket.traceIds.clear();
    bucket.epoch = -Infinity;
  }

  /** Takes a trace's previous record out of its bucket, if that bucket is still live. */
  private forgetTrace(traceId: string): void {
    const record = this.traceIndex.get(traceId);
    if (record === undefined) return;
    this.untrack(traceId);
    const bucket = this.ring[this.slot(record.epoch)] as Bucket;
    if (bucket.epoch !== record.epoch) return;
    for (const key of record.stages) {
      const cell = bucket.traces.get(key);
      if (cell === undefined) continue;
      cell.traces--;
      const share = record.critical.get(key);
      if (share !== undefined) {
        cell.criticalTraces--;
        cell.shareSum -= share;
      }
      if (cell.traces <= 0) {
        bucket.traces.delete(key);
        this.unref(key);
      }
    }
  }

  private untrack(traceId: string): void {
    const record = this.traceIndex.get(traceId);
    if (record === undefined) return;
    this.traceIndex.delete(traceId);
    const bucket = this.ring[this.slot(record.epoch)] as Bucket;
    if (bucket.epoch === record.epoch) bucket.traceIds.delete(traceId);
  }

  /** Registers one more cell of a stage; false when the stage is new and the cap is reached. */
  private ref(key: StageKey, service: string, name: string): boolean {
    const entry = this.stages.get(key);
    if (entry !== undefined) {
      entry.refs++;
      return true;
    }
    if (this.stages.size >= this.maxStages) return false;
    this.stages.set(key, { service, name, refs: 1 });
    return true;
  }

  private unref(key: StageKey): void {
    const entry = this.stages.get(key);
    if (entry === undefined) return;
    if (--entry.refs <= 0) this.stages.delete(key);
  }

  private slot(epoch: number): number {
    const n = this.ring.length;
    return ((epoch % n) + n) % n;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
