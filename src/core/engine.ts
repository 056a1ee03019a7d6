/**
 * The core's composition root: decoder -> store (+ persistence log, + upstream forwarding) ->
 * analysis. Receivers hand it bytes (it is their `IngestSink`); the read API, the CLI and the
 * VS Code layer read from it.
 */
import path from 'node:path';
import {
  DEFAULT_DECODE_LIMITS,
  DecodeCache,
  decodeTraceRequest,
  type DecodeLimits,
} from './otlp/trace-request-decoder.js';
import { otlpJsonToProtobuf } from './otlp/otlp-json-request.js';
import { spansToProtobuf } from './otlp/export.js';
import { attributeValue, decodeSpanJson, forEachScalarAttribute } from './otlp/span-details.js';
import type { IngestOutcome, IngestSink, SignalSink, Transport } from './receiver/ingest.js';
import type { Logger } from './logger.js';
import { Forwarder, forwardUrl, type ForwardOptions } from './receiver/forwarder.js';
import {
  ForwardCursorWriter,
  FORWARD_CURSOR_FILE,
  ResumePoint,
} from './receiver/forward-cursor.js';
import { SpanLogForwardSource } from './receiver/forward-log-source.js';
import { MemoryForwardQueue } from './receiver/forward-memory-queue.js';
import { Signals, SIGNALS_SHARE } from './signals.js';
import { TraceStore, type StoreChange } from './store/trace-store.js';
import { SpanLog, type ReplayReport } from './store/span-log.js';
import type { TraceAnalysis } from './analysis/analyze-trace.js';
import { StageStatsWindow } from './analysis/stage-stats.js';
import { anyPulled, spanSource, traceSource } from './backend/origin.js';
import type { SpanRecord } from './model.js';
import { AnalysisService } from './analysis/service.js';
import type { Baseline, BaselineSource } from './analysis/baseline.js';
import {
  compareToBaseline,
  compareToTypical,
  compareTraces,
  type Comparison,
} from './analysis/compare.js';
import {
  ANALYSIS_SHARE,
  DEFAULT_MAX_MEMORY_BYTES,
  FORWARD_MEMORY_SHARE,
  MIB,
  STATS_BYTES_PER_STAGE_BUCKET,
  STATS_TICKET_BYTES_PER_STAGE,
  type MemoryUsage,
} from './memory-budget.js';
import {
  samplingWhatIf,
  type Explanation,
  type InsightsReport,
  type SamplingOutcome,
  type SamplingPolicy,
} from './analysis/insights/index.js';

export interface EngineOptions {
  /** Span budget of the store (default 200,000): a second limit besides the memory budget. */
  maxSpans?: number;
  /**
   * Memory budget in bytes (default 512 MiB): spans, indexes, analysis, statistics and the
   * forwarder's memory queue together, as counted (see `memory-budget.ts`).
   */
  maxMemoryBytes?: number;
  /** Folder for the persistence log; no persistence when absent. */
  dataDir?: string;
  /** Sliding window of the per-stage statistics (default 5 minutes). */
  statsWindowMs?: number;
  /** A trace is analysed for the statistics once no span arrived for this long (default 1 s). */
  settleMs?: number;
  /** Least time between two insights reports (default 1 s). */
  reportIntervalMs?: number;
  /** A pause in traffic this long starts a new run for the insights (default 30 s). */
  runGapMs?: number;
  limits?: Partial<DecodeLimits>;
  /**
   * Forward every accepted batch upstream: read from the persistence log with `dataDir` (durable,
   * resumes after a restart), from a bounded memory queue without. See `receiver/forwarder.ts`.
   */
  forward?: ForwardOptions;
  /** Change events within this many ms are merged (default 25). */
  coalesceMs?: number;
  /**
   * The log is compacted once larger than this and than twice the bytes held (default 64 MiB).
   */
  compactMinBytes?: number;
  log?: Logger;
}

export interface EngineCounters {
  receivedSpans: number;
  acceptedSpans: number;
  rejectedSpans: number;
  duplicateSpans: number;
  failedRequests: number;
  persistErrors: number;
}

/** A coalesced change: traces added, updated or evicted, and whether the statistics moved. */
export interface EngineChange extends StoreChange {
  statsUpdated: boolean;
}

export const LOG_FILE_NAME = 'spans.log';
export const BASELINE_FILE_NAME = 'baseline.json';
/** The log is compacted when larger than this and than twice what the store holds. */
const COMPACT_MIN_BYTES = 64 * 1024 * 1024;
/** Spans per record when the log is rewritten. */
const COMPACT_CHUNK_SPANS = 2048;
/** Buckets of the statistics window (passed explicitly: the memory estimate depends on it). */
const STATS_BUCKETS = 10;
/**
 * Window of the statistics of pulled traces: what was pulled in the last day. A pull is a
 * snapshot, not a stream, so the local window (minutes) would forget it at once.
 */
export const PULLED_STATS_WINDOW_MS = 24 * 3_600_000;

export class TraceEngine implements IngestSink {
  readonly store: TraceStore;
  readonly stats: StageStatsWindow;
  /**
   * The same statistics over the traces pulled from a team backend (`backend/origin.ts`): kept
   * apart, so production figures never blend into local runs, and shown beside them ("prod p95").
   */
  readonly pulledStats: StageStatsWindow;
  readonly counters: EngineCounters = {
    receivedSpans: 0,
    acceptedSpans: 0,
    rejectedSpans: 0,
    duplicateSpans: 0,
    failedRequests: 0,
    persistErrors: 0,
  };
  /** What the persistence log held at start; undefined without `dataDir`. */
  replayReport: ReplayReport | undefined;
  /** Upstream forwarding, when `forward` was given. */
  forwarder: Forwarder | undefined;

  /** Per-trace analysis, statistics feeding and insights, off the ingest path. */
  readonly analysis: AnalysisService;

  /** The received logs and metrics, their sinks and persistence logs. */
  readonly signals: Signals;

  private readonly cache = new DecodeCache();
  private readonly limits: DecodeLimits;
  private log: SpanLog | undefined;
  /** The forwarder's reader of `log`: compaction keeps what it has not forwarded. */
  private forwardTail: SpanLogForwardSource | undefined;
  private rate = { windowStart: Date.now(), count: 0, perSecond: 0 };
  private readonly listeners = new Set<(c: EngineChange) => void>();

  /** The memory budget in bytes. */
  readonly maxMemoryBytes: number;

  private constructor(private readonly opts: EngineOptions) {
    this.maxMemoryBytes = opts.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
    if (!(this.maxMemoryBytes > 0)) throw new RangeError('maxMemoryBytes must be positive');
    this.store = new TraceStore({
      maxSpans: opts.maxSpans,
      maxBytes: this.maxMemoryBytes,
      coalesceMs: opts.coalesceMs,
    });
    this.stats = new StageStatsWindow({ windowMs: opts.statsWindowMs, buckets: STATS_BUCKETS });
    this.pulledStats = new StageStatsWindow({
      windowMs: PULLED_STATS_WINDOW_MS,
      buckets: STATS_BUCKETS,
    });
    this.limits = { ...DEFAULT_DECODE_LIMITS, ...opts.limits };
    this.signals = new Signals({
      maxBytes: this.maxMemoryBytes * SIGNALS_SHARE,
      dataDir: opts.dataDir,
      cache: this.cache,
      log: opts.log,
      // The findings quote logs and metrics: new ones are a reason for a new report.
      onAccepted: () => this.analysis.noteSignalsChanged(),
    });
    this.analysis = new AnalysisService({
      store: this.store,
      stats: this.stats,
      pulledStats: this.pulledStats,
      isPulled: (t) => traceSource(t.spans) !== undefined,
      readers: { scalarAttributes: forEachScalarAttribute, errorMessage },
      attributeValue,
      signals: this.signals,
      settleMs: opts.settleMs,
      windowMs: opts.statsWindowMs,
      reportIntervalMs: opts.reportIntervalMs,
      runGapMs: opts.runGapMs,
      baselineFile:
        opts.dataDir === undefined ? undefined : path.join(opts.dataDir, BASELINE_FILE_NAME),
      log: opts.log,
    });
    // Span arrivals move the statistics too; the store's own coalescing paces these events.
    this.store.onChange((c) => this.emit({ ...c, statsUpdated: true }));
    // Settled traces' critical paths move them again; a report follows every batch of those.
    this.analysis.onReport(() =>
      this.emit({ added: [], updated: [], evicted: [], cleared: false, statsUpdated: true }),
    );
  }

  /**
   * Subscribes to coalesced changes (at most one event per `coalesceMs` from the store, plus
   * one when settled traces' critical paths update the statistics). Returns the unsubscribe.
   */
  onChange(listener: (c: EngineChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(c: EngineChange): void {
    for (const l of this.listeners) l(c);
  }

  /** Creates an engine, replaying the persistence log when `dataDir` is given. */
  static async open(opts: EngineOptions = {}): Promise<TraceEngine> {
    const engine = new TraceEngine(opts);
    const forward = opts.forward && { log: opts.log, ...opts.forward };
    if (opts.dataDir !== undefined) {
      const file = path.join(opts.dataDir, LOG_FILE_NAME);
      // Where forwarding resumes is counted during replay, so the log is read once.
      const url = forward && forwardUrl(forward.url);
      const resume = url === undefined ? undefined : ResumePoint.load(opts.dataDir, url);
      const { log, report } = await SpanLog.open(file, {
        onRecord: (payload, offset) => {
          resume?.observe(offset);
          engine.apply(decodeTraceRequest(payload, engine.cache, engine.limits).spans);
        },
      });
      engine.log = log;
      engine.replayReport = report;
      // Everything replayed is settled history: analyse it (in the background).
      engine.analysis.noteChanged([...engine.store.all()], true);
      for (const c of report.corrupt) {
        opts.log?.warn(
          `persistence log ${file}: skipped ${c.length} corrupt bytes at offset ${c.offset} (${c.reason})`,
        );
      }
      if (resume !== undefined && url !== undefined) {
        const start = resume.resolve(log, file);
        if (start.note !== undefined) opts.log?.[start.note.level](start.note.message);
        const cursor = new ForwardCursorWriter(path.join(opts.dataDir, FORWARD_CURSOR_FILE), url);
        engine.forwardTail = new SpanLogForwardSource(log, cursor, start, opts.log);
      }
    }
    if (forward) {
      const source = engine.forwardTail ?? new MemoryForwardQueue();
      // In memory, pending batches count against the budget: by default they get a share of it.
      const maxPendingBytes =
        forward.maxPendingBytes ??
        (source.mode === 'memory'
          ? Math.min(64 * MIB, Math.floor(engine.maxMemoryBytes * FORWARD_MEMORY_SHARE))
          : undefined);
      engine.forwarder = new Forwarder(source, { ...forward, maxPendingBytes });
    }
    return engine;
  }

  /** OTLP logs, into `signals`. */
  get logs(): SignalSink {
    return this.signals.logs;
  }

  /** OTLP metrics, into `signals`. */
  get metrics(): SignalSink {
    return this.signals.metrics;
  }

  ingestProtobuf(bytes: Uint8Array, _transport: Transport): IngestOutcome {
    let batch;
    try {
      batch = decodeTraceRequest(bytes, this.cache, this.limits);
    } catch (e) {
      this.counters.failedRequests++;
      throw e;
    }
    this.counters.receivedSpans += batch.spans.length + batch.rejected;
    this.counters.rejectedSpans += batch.rejected;
    if (batch.spans.length > 0) {
      const accepted = this.apply(batch.spans);
      // What is forwarded is what is logged: batches with new spans. One whose spans were all
      // duplicates (an exporter's retry) went upstream with its first copy.
      if (accepted > 0) {
        // A request with spans refused goes on as its accepted spans only: an upstream may
        // refuse a whole request for one bad span (Jaeger does, for an id of the wrong length),
        // which would lose the rest upstream. The log replays the same either way.
        const kept = batch.rejected > 0 ? spansToProtobuf(batch.spans) : bytes;
        const logged = this.persist(kept);
        this.forwarder?.offer(kept, logged);
      }
    }
    return {
      accepted: batch.spans.length,
      rejected: batch.rejected,
      errorMessage:
        batch.rejected > 0
          ? `${batch.rejected} span(s) rejected: ${batch.rejectReasons.join('; ')}`
          : '',
    };
  }

  ingestJson(body: Uint8Array, transport: Transport): IngestOutcome {
    let bytes: Uint8Array;
    try {
      bytes = otlpJsonToProtobuf(body);
    } catch (e) {
      this.counters.failedRequests++;
      throw e;
    }
    return this.ingestProtobuf(bytes, transport);
  }

  /** Adds spans to the store and the statistics; returns how many were new. */
  private apply(spans: readonly SpanRecord[]): number {
    this.fitBudget();
    const result = this.store.add(spans, Date.now());
    const accepted = result.acceptedSpans;
    // A batch comes from one request, so its spans are all local or all pulled, but the rule is
    // per span (its resource): a hand-made request may mix them.
    if (!anyPulled(accepted)) {
      this.stats.addSpans(accepted);
    } else {
      this.stats.addSpans(accepted.filter((s) => spanSource(s) === undefined));
      this.pulledStats.addSpans(accepted.filter((s) => spanSource(s) !== undefined));
    }
    this.counters.acceptedSpans += result.accepted;
    this.counters.duplicateSpans += result.duplicates;
    // A pulled trace is complete when it arrives: no need to wait for it to settle.
    const pulled = result.traces.filter((t) => traceSource(t.spans) !== undefined);
    if (pulled.length === 0) this.analysis.noteChanged(result.traces);
    else {
      this.analysis.noteChanged(result.traces.filter((t) => traceSource(t.spans) === undefined));
      this.analysis.noteChanged(pulled, true);
    }
    this.countRate(result.accepted);
    return result.accepted;
  }

  /** Appends to the log, compacting it when due; whether the batch is now in the log. */
  private persist(bytes: Uint8Array): boolean {
    if (this.log === undefined) return false;
    try {
      this.log.append(bytes);
    } catch (e) {
      this.persistFailed(e);
      return false;
    }
    try {
      const min = this.opts.compactMinBytes ?? COMPACT_MIN_BYTES;
      if (this.compactionDue(Math.max(min, 2 * this.store.rawBytes))) this.compact();
    } catch (e) {
      this.persistFailed(e);
    }
    return true;
  }

  /**
   * Whether a rewrite is worth it: the log's forwarded part (all of it without forwarding) is
   * over `threshold`, and what a rewrite reclaims is at least the unforwarded tail it has to
   * copy. The last rule defers compaction while the forwarder lags (an outage, or catching up
   * after one), so a long tail is copied a bounded number of times rather than at every
   * threshold crossing; the log then stays under about the threshold plus twice the tail, which
   * the forwarder bounds by its `maxPendingBytes`.
   */
  private compactionDue(threshold: number): boolean {
    const log = this.log!;
    const forwarded = this.forwardTail?.forwardedBytes ?? log.sizeBytes;
    const tail = this.forwardTail?.tailBytes ?? 0;
    return forwarded > threshold && forwarded - this.store.rawBytes >= tail;
  }

  private persistFailed(e: unknown): void {
    this.counters.persistErrors++;
    if (this.counters.persistErrors === 1 || this.counters.persistErrors % 1000 === 0) {
      this.opts.log?.error(
        `persistence log: ${(e as Error).message} (traces are still received and held in memory)`,
      );
    }
  }

  /**
   * Rewrites the persistence log with exactly what the store holds now, followed (when
   * forwarding from the log) by every record the upstream does not have yet: evicted spans leave
   * the log only once forwarded. Replay deduplicates the spans that are in both parts.
   */
  compact(): void {
    this.rewriteLog(this.chunks());
  }

  private rewriteLog(payloads: Iterable<Uint8Array>): void {
    const log = this.log;
    if (log === undefined) return;
    if (this.forwardTail === undefined) log.rewrite(payloads);
    else this.forwardTail.rewriteKeepingTail((keep) => log.rewrite(payloads, keep));
  }

  private *chunks(): Iterable<Uint8Array> {
    let chunk: SpanRecord[] = [];
    for (const t of this.store.all()) {
      for (const s of t.spans) {
        chunk.push(s);
        if (chunk.length >= COMPACT_CHUNK_SPANS) {
          yield spansToProtobuf(chunk);
          chunk = [];
        }
      }
    }
    if (chunk.length > 0) yield spansToProtobuf(chunk);
  }

  /**
   * Caps the analysis' facts at their share of the budget, then gives the store what the other
   * parts leave: the store evicts to fit at its next add. O(1) (the analysis' count walks its
   * few cached analyses).
   */
  private fitBudget(): void {
    const factsShare = this.maxMemoryBytes * ANALYSIS_SHARE;
    if (this.analysis.bytesHeld > factsShare) this.analysis.trimFacts(factsShare);
    const others =
      this.analysisBytes() + this.statsBytes() + this.forwardBytes() + this.signals.bytes;
    this.store.maxBytes = Math.max(0, this.maxMemoryBytes - others);
  }

  private analysisBytes(): number {
    return this.analysis.bytesHeld + this.store.nameEntries * STATS_TICKET_BYTES_PER_STAGE;
  }

  private statsBytes(): number {
    const stages = this.stats.stageCount + this.pulledStats.stageCount;
    return stages * STATS_BUCKETS * STATS_BYTES_PER_STAGE_BUCKET;
  }

  private forwardBytes(): number {
    return this.forwarder?.memoryBytes ?? 0;
  }

  /** What the engine holds, part by part, against its memory budget (`memory-budget.ts`). */
  memory(): MemoryUsage {
    const spans = this.store.spanBytes;
    const indexes = this.store.indexBytes;
    const analysis = this.analysisBytes();
    const stats = this.statsBytes();
    const forward = this.forwardBytes();
    const logs = this.signals.logStore.bytes;
    const metrics = this.signals.metricStore.bytes;
    return {
      spans,
      indexes,
      analysis,
      stats,
      forward,
      logs,
      metrics,
      total: spans + indexes + analysis + stats + forward + logs + metrics,
      budget: this.maxMemoryBytes,
    };
  }

  private countRate(n: number): void {
    const now = Date.now();
    const elapsed = now - this.rate.windowStart;
    if (elapsed >= 1000) {
      this.rate.perSecond = (this.rate.count * 1000) / elapsed;
      this.rate.windowStart = now;
      this.rate.count = 0;
    }
    this.rate.count += n;
  }

  /** Spans accepted per second over the last full second. */
  get spansPerSecond(): number {
    return Date.now() - this.rate.windowStart > 2000 ? 0 : this.rate.perSecond;
  }

  /** The full analysis of a trace (tree, critical path, waits), cached for a few traces. */
  analyze(traceId: string): TraceAnalysis | undefined {
    const t = this.store.get(traceId);
    return t === undefined ? undefined : this.analysis.analyze(t);
  }

  /**
   * The latest insights report (computed in the background, at most a second old while traces
   * arrive). The first call, before any report exists, computes one at once.
   */
  insights(): InsightsReport {
    return this.analysis.report ?? this.analysis.reportNow();
  }

  /** A report that includes every span received so far, computed without blocking ingest. */
  insightsFresh(): Promise<InsightsReport> {
    return this.analysis.freshReport();
  }

  /** A trace's stages against the typical trace of its operation. */
  explain(traceId: string): Explanation | undefined {
    const t = this.store.get(traceId);
    return t === undefined ? undefined : this.analysis.explain(t);
  }

  /**
   * Stage by stage: trace `b` against trace `a`; a trace against the typical trace of its
   * operation (`against: 'typical'`), against the baseline, or against the traces pulled from the
   * team backend (`against: 'prod'`); or, without a trace, the latest run against either. Throws
   * `RangeError` naming what is missing.
   */
  compare(q: {
    a?: string;
    b?: string;
    trace?: string;
    against?: 'typical' | 'baseline' | 'prod';
  }): Comparison {
    const entry = (id: string) => {
      const t = this.store.get(id);
      if (t === undefined)
        throw new RangeError(`trace ${id.toLowerCase()} not found (never received, or evicted)`);
      return this.analysis.factsOf(t);
    };
    if (q.a !== undefined && q.b !== undefined) return compareTraces(entry(q.a), entry(q.b));
    if (q.against === 'typical') {
      if (q.trace === undefined) throw new RangeError('against=typical needs a trace');
      const t = entry(q.trace);
      const scope = this.analysis.scope();
      const peers = scope.some((p) => p.operation === t.operation && p.traceId !== t.traceId)
        ? scope
        : this.analysis.window();
      return compareToTypical(t, peers);
    }
    const baseline = q.against === 'prod' ? this.analysis.pulledBaseline() : this.baseline;
    if (baseline === undefined) {
      throw new RangeError(
        q.against === 'prod'
          ? 'no pulled traces to compare with: pull some from the team backend first'
          : 'no baseline to compare with: pin one first',
      );
    }
    if (q.trace !== undefined) {
      const t = entry(q.trace);
      return compareToBaseline([t], baseline, t.traceId);
    }
    return compareToBaseline(this.analysis.scope(), baseline);
  }

  /** Pins the current run's traces as the baseline for later comparisons. */
  pinBaseline(
    label: string,
    source: BaselineSource = 'pinned',
    minTraces = 1,
  ): Baseline | undefined {
    return this.analysis.pinBaseline(label, source, minTraces);
  }

  /** Pins these traces as the baseline once they are analysed (the demo's warm-up). */
  pinBaselineFromTraces(traceIds: readonly string[], label: string, source: BaselineSource): void {
    this.analysis.pinBaselineFromTraces(traceIds, label, source);
  }

  /** The baseline, if any (pinned, or the last normal run); persisted with `dataDir`. */
  get baseline(): Baseline | undefined {
    return this.analysis.baseline;
  }

  set baseline(b: Baseline | undefined) {
    this.analysis.setBaseline(b);
  }

  /** What head and tail sampling would have kept of the traces updated within the window. */
  samplingWhatIf(policy: SamplingPolicy): SamplingOutcome {
    const cutoff = Date.now() - (this.opts.statsWindowMs ?? 300_000);
    const traces = [];
    for (const t of this.store.all()) {
      if (t.updatedAt < cutoff || t.spans.length === 0) continue;
      traces.push({
        traceId: t.traceId,
        durationMs: t.durationMs,
        hasError: t.errorCount > 0,
        rootName: (t.root ?? t.spans[0])?.name ?? '',
      });
    }
    return samplingWhatIf(traces.slice(-2000), policy);
  }

  clear(): void {
    this.store.clear();
    this.stats.clear();
    this.pulledStats.clear();
    this.analysis.clear();
    this.signals.clear();
    // Clearing the local view does not take back what was accepted: the tail is still forwarded.
    this.rewriteLog([]);
  }

  async close(): Promise<void> {
    this.analysis.close();
    this.store.flush();
    // First, so that the cursor it saves is the one compaction keeps the tail from.
    await this.forwarder?.close();
    // A log much larger than what is held would replay traces that were evicted, and the
    // replay could then keep a different set: rewrite it to exactly what is held.
    if (this.log !== undefined && this.compactionDue(1.5 * this.store.rawBytes + 1024 * 1024)) {
      try {
        this.compact();
      } catch (e) {
        this.opts.log?.warn(`persistence log: compaction at close failed: ${(e as Error).message}`);
      }
    }
    this.log?.close();
    this.log = undefined;
    this.signals.close();
  }
}

/** An error span's exception message (from its `exception` event), else its status message. */
export function errorMessage(span: SpanRecord): string | undefined {
  try {
    const json = decodeSpanJson(span.raw);
    for (const e of json.events) {
      if (e.name !== 'exception') continue;
      const get = (k: string) => e.attributes.find((kv) => kv.key === k)?.value;
      const type = get('exception.type');
      const message = get('exception.message');
      const text = (v: typeof type) => (v !== undefined && 'stringValue' in v ? v.stringValue : '');
      const line = [text(type), text(message)].filter((x) => x !== '').join(': ');
      if (line !== '') return line;
    }
    return json.status.message || undefined;
  } catch {
    return undefined;
  }
}
