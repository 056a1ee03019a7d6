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
import { parseStageKey, stageKey, type StageKey } from '../../shared/stage-key.js';

export { parseStageKey, stageKey, type StageKey } from '../../shared/stage-key.js';

/** A stage's part in one trace's critical path. */
export interface StageContribution {
  /**
   * Milliseconds of the critical path spent in the stage: its outermost spans and everything
   * under them (a `reranking` span whose work runs in a child RPC owns that time).
   */
  readonly onPathMs: number;
  /** onPathMs / the trace's end-to-end duration, in [0, 1]. */
  readonly share: number;
  /** True when the stage is the trace's root (its share is the whole request). */
  readonly isRoot?: boolean;
}

/**
 * A stage counts as critical in a trace when at least this share of the trace's critical path
 * is spent in it: every stage of a sequential pipeline is on the path, a 51 µs one included,
 * and "critical in 100%" then says nothing.
 */
export const CRITICAL_MIN_SHARE = 0.01;

/** What one trace added to the window, handed back to take exactly that out again. */
export interface StatsTicket {
  readonly epoch: number;
  readonly stages: readonly StageKey[];
  /** Stage -> its share, for the stages counted as critical. */
  readonly shares: ReadonlyMap<StageKey, number>;
  readonly roots: readonly StageKey[];
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
  /** Traces in the window whose analysis reported this stage (see `addTrace`). */
  readonly traceCount: number;
  /**
   * Of those, traces in which at least {@link CRITICAL_MIN_SHARE} of the critical path was spent
   * in the stage.
   */
  readonly criticalTraceCount: number;
  /** 100 * criticalTraceCount / traceCount, a percentage in [0, 100]; 0 when traceCount is 0. */
  readonly criticalInPct: number;
  /**
   * "X% of the critical path": the mean, over the traces containing the stage, of the share of
   * the trace's critical path spent in the stage (its subtree included); a fraction in [0, 1].
   * The lens, its hover and the insights all show this one number under this one name.
   */
  readonly criticalPathShare: number;
  /** Traces in which the stage was the root: its share is then the request itself. */
  readonly rootTraceCount: number;
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
  rootTraces: number;
}

interface Bucket {
  /** floor(arrival time / bucketMs) of what it holds; -Infinity when empty. */
  epoch: number;
  readonly spans: Map<StageKey, SpanCell>;
  readonly traces: Map<StageKey, TraceCell>;
}

interface StageEntry {
  readonly service: string;
  readonly name: string;
  /** Number of bucket cells (span or trace) holding this stage; the entry goes at 0. */
  refs: number;
}

/**
 * Sliding-window statistics per stage. Memory is bounded by `buckets * maxStages` sketches and
 * counters, whatever the arrival rate: no state is kept per trace (a trace's contribution comes
 * back as a `StatsTicket` that its caller holds, to take it out when the trace changes). What
 * does not fit is counted in `droppedSpans` and `droppedContributions`.
 */
export class StageStatsWindow {
  private readonly bucketMs: number;
  private readonly now: () => number;
  private readonly maxStages: number;
  private readonly relativeAccuracy: number;
  private readonly ring: Bucket[];
  /** Distinct stages present in some live bucket. */
  private readonly stages = new Map<StageKey, StageEntry>();
  /** Never decreases, so a clock that steps back cannot resurrect expired buckets. */
  private epoch = -Infinity;
  private dropped = { spans: 0, contributions: 0 };

  constructor({
    windowMs = 300_000,
    buckets = 10,
    now = () => Date.now(),
    maxStages = 5_000,
    relativeAccuracy = 0.01,
  }: StageStatsOptions = {}) {
    if (!(windowMs > 0) || !Number.isInteger(buckets) || buckets < 1) {
      throw new RangeError('StageStatsWindow needs windowMs > 0 and an integer buckets >= 1');
    }
    this.bucketMs = windowMs / buckets;
    this.now = now;
    this.maxStages = maxStages;
    this.relativeAccuracy = relativeAccuracy;
    this.ring = Array.from({ length: buckets }, () => ({
      epoch: -Infinity,
      spans: new Map(),
      traces: new Map(),
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

  private addTo(bucket: Bucket, span: SpanRecord): void {
    // Cached by `stageKey` itself: two map lookups per span on the ingest path.
    const key = stageKey(span.serviceName, span.name);
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
   * Records which stages a trace contains and what share of its critical path each took. Returns
   * the ticket to pass to {@link removeTrace} when the trace changes (a late span makes the caller
   * recompute the path and add it again, and the trace must count once). Stages in
   * `contributions` are taken as contained even when missing from `traceStages`.
   */
  addTrace(
    contributions: ReadonlyMap<StageKey, StageContribution>,
    traceStages: ReadonlySet<StageKey>,
  ): StatsTicket {
    const bucket = this.current();
    const all = new Set<StageKey>(traceStages);
    for (const key of contributions.keys()) all.add(key);
    const stages: StageKey[] = [];
    const shares = new Map<StageKey, number>();
    const roots: StageKey[] = [];
    for (const key of all) {
      let cell = bucket.traces.get(key);
      if (cell === undefined) {
        const parsed = parseStageKey(key);
        if (parsed === undefined || !this.ref(key, parsed.service, parsed.name)) {
          this.dropped.contributions++;
          continue;
        }
        cell = { traces: 0, criticalTraces: 0, shareSum: 0, rootTraces: 0 };
        bucket.traces.set(key, cell);
      }
      stages.push(key);
      cell.traces++;
      const c = contributions.get(key);
      if (c !== undefined && c.share > 0) {
        cell.shareSum += c.share;
        shares.set(key, c.share);
        if (c.share >= CRITICAL_MIN_SHARE) cell.criticalTraces++;
      }
      if (c?.isRoot === true) {
        cell.rootTraces++;
        roots.push(key);
      }
    }
    return { epoch: bucket.epoch, stages, shares, roots };
  }

  /** Takes a trace's contribution back out, if its bucket is still in the window. */
  removeTrace(ticket: StatsTicket): void {
    const bucket = this.ring[this.slot(ticket.epoch)] as Bucket;
    if (bucket.epoch !== ticket.epoch) return;
    for (const key of ticket.stages) {
      const cell = bucket.traces.get(key);
      if (cell === undefined) continue;
      cell.traces--;
      const share = ticket.shares.get(key);
      if (share !== undefined) {
        cell.shareSum -= share;
        if (share >= CRITICAL_MIN_SHARE) cell.criticalTraces--;
      }
      if (ticket.roots.includes(key)) cell.rootTraces--;
      if (cell.traces <= 0) {
        bucket.traces.delete(key);
        this.unref(key);
      }
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
      let rootTraceCount = 0;
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
          rootTraceCount += t.rootTraces;
        }
      }
      // A stage known only from trace records has no durations to report.
      if (count === 0) continue;
      // The same rule as the exact quantiles of `statistics.ts` (linear interpolation between
      // the closest ranks), with each rank's value from the sketch; the sketch's own rule takes
      // the lower rank, so that at 3 spans p95 was p50. The lowest and highest ranks are the
      // exact min and max.
      const atRank = (k: number): number =>
        k <= 0
          ? minMs
          : k >= count - 1
            ? maxMs
            : Math.min(maxMs, Math.max(minMs, sketch.getValueAtQuantile((k + 0.5) / (count - 1))));
      const quantile = (q: number): number => {
        const pos = (count - 1) * q;
        const lo = Math.floor(pos);
        const a = atRank(lo);
        return pos === lo ? a : a + (atRank(lo + 1) - a) * (pos - lo);
      };
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
        criticalPathShare: traceCount > 0 ? Math.min(1, Math.max(0, shareSum / traceCount)) : 0,
        rootTraceCount,
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
    }
    this.stages.clear();
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
    bucket.spans.clear();
    bucket.traces.clear();
    bucket.epoch = -Infinity;
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
