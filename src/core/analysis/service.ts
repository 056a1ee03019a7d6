/**
 * The analysis service: everything the receiver computes about the traces it holds, off the
 * ingest path.
 *
 * Ingest only marks traces dirty. A trace is analysed once it has settled (no span for
 * `settleMs`): its critical path feeds the per-stage statistics, and its facts (`trace-facts.ts`)
 * join the window the diagnoses look at. The insights report is recomputed from the facts at
 * most once per `reportIntervalMs`. All of it runs as cooperative work in slices of at most
 * about `sliceMs` of the event loop (generators that yield between small units), so ingest and
 * `/api/health` never wait behind an insights computation for longer than a slice.
 *
 * Memory: facts are kept for at most `maxFacts` traces of the last `windowMs`, full analyses only
 * for the few traces someone looks at (a small LRU), and the statistics keep no per-trace state
 * (each trace's contribution ticket lives on its store entry).
 */

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type { TraceEntry, TraceStore } from '../store/trace-store.js';
import { analyzeTrace, type TraceAnalysis } from './analyze-trace.js';
import {
  makeBaseline,
  MAX_BASELINE_ROWS,
  parseBaseline,
  type Baseline,
  type BaselineSource,
} from './baseline.js';
import { PULLED_LABEL, traceSource } from '../backend/origin.js';
import {
  baselineStatus,
  explainTrace,
  findingKey,
  insightsJob,
  drain,
  SEVERITY_RANK,
  type Explanation,
  type Finding,
  type InsightSignals,
  type InsightsReport,
} from './insights/index.js';
import type { AttributeGetter } from './queue-waits.js';
import { RunTracker } from './runs.js';
import type { StageStatsWindow, StatsTicket } from './stage-stats.js';
import { buildTraceFacts, factsBytes, type FactsReaders, type TraceFacts } from './trace-facts.js';
import { formatCount } from '../../shared/format.js';

export interface AnalysisServiceOptions {
  store: TraceStore;
  stats: StageStatsWindow;
  /** The statistics of pulled traces (see `isPulled`); they go to `stats` without it. */
  pulledStats?: StageStatsWindow;
  /**
   * Whether a trace was pulled from a team backend: its statistics go to `pulledStats`, and it
   * stays out of the runs and diagnoses (they are about local runs), kept for comparisons
   * against it (`pulledBaseline`).
   */
  isPulled?: (t: TraceEntry) => boolean;
  readers: FactsReaders;
  attributeValue: AttributeGetter;
  /** A trace is analysed once no span arrived for this long (default 1 s). */
  settleMs?: number;
  /** Traces whose last span is older than this leave the diagnoses (default 5 minutes). */
  windowMs?: number;
  /** Most traces the diagnoses look at (default 2,000, the latest). */
  maxFacts?: number;
  /**
   * Traces larger than this are not analysed in the background (default 20,000 spans): one such
   * trace would hold the event loop for longer than a slice. They are analysed when opened.
   */
  maxBackgroundSpans?: number;
  /** Longest slice of work before yielding to the event loop (default 4 ms). */
  sliceMs?: number;
  /** Least time between two insights reports (default 1 s). */
  reportIntervalMs?: number;
  /** A pause in traffic this long starts a new run (default 30 s). */
  runGapMs?: number;
  /**
   * The received logs and metrics, read by the diagnoses inside their slices (the stores are
   * only appended to by ingest, on the same thread, so a read never waits for it).
   */
  signals?: InsightSignals;
  /** Where the baseline is kept across restarts (JSON); none when absent. */
  baselineFile?: string;
  now?: () => number;
  log?: Logger;
}

/** What the service keeps per analysed trace. */
interface Held {
  readonly facts: TraceFacts;
  readonly runId: number;
  readonly bytes: number;
}

/** Findings of earlier runs are shown as stale for this long at most. */
const STALE_KEEP_MS = 15 * 60_000;
/** Traces an automatic baseline needs. */
const MIN_AUTO_BASELINE_TRACES = 10;
/** A baseline asked for by trace ids waits this long for them to be analysed. */
const PENDING_BASELINE_MS = 20_000;
/** Full analyses kept for the traces being looked at. */
const ANALYSIS_CACHE = 8;

export class AnalysisService {
  private readonly store: TraceStore;
  private readonly stats: StageStatsWindow;
  private readonly opts: AnalysisServiceOptions;
  private readonly settleMs: number;
  private readonly windowMs: number;
  private readonly maxFacts: number;
  private readonly maxBackgroundSpans: number;
  private readonly sliceMs: number;
  private readonly reportIntervalMs: number;
  private readonly now: () => number;

  private readonly dirty = new Set<TraceEntry>();
  /** Dirty traces known to be complete (replayed from the log): no need to wait for them. */
  private readonly settled = new Set<TraceEntry>();
  /** Insertion order is analysis order: the first entries are the oldest. */
  private readonly held = new Map<string, Held>();
  /** Facts of pulled traces, oldest first, at most MAX_BASELINE_ROWS; their bytes in heldBytes. */
  private readonly pulled = new Map<string, { facts: TraceFacts; bytes: number }>();
  private heldBytes = 0;
  private readonly runs: RunTracker;
  private readonly analyses = new Map<TraceEntry, { version: number; analysis: TraceAnalysis }>();

  private running = false;
  private forceSettle = false;
  private factsChanged = false;
  private lastReportAt = -Infinity;
  private _report: InsightsReport | undefined;
  private readonly waiters: Array<() => void> = [];
  private readonly listeners = new Set<(r: InsightsReport) => void>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  private _baseline: Baseline | undefined;
  private baselineIds = new Set<string>();
  private pending:
    { ids: Set<string>; label: string; source: BaselineSource; since: number } | undefined;
  /** The latest findings of the run the last report was about. */
  private current: { runId: number; findings: Finding[]; traces: number } | undefined;
  private stale: Array<Finding & { staleSince: number }> = [];
  /** Traces skipped for their size, and analyses that threw. */
  /**
   * Traces analysed (each settled version once), skipped as too large, failed; insights reports
   * published, and how many traces had been analysed when the last one began (a reader that
   * waits for the analysis to catch up waits for that).
   */
  readonly counters = { analysed: 0, skippedLarge: 0, failed: 0, reports: 0, analysedAtReport: 0 };

  constructor(opts: AnalysisServiceOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.stats = opts.stats;
    this.settleMs = opts.settleMs ?? 1000;
    this.windowMs = opts.windowMs ?? 300_000;
    this.maxFacts = opts.maxFacts ?? 2000;
    this.maxBackgroundSpans = opts.maxBackgroundSpans ?? 20_000;
    this.sliceMs = opts.sliceMs ?? 4;
    this.reportIntervalMs = opts.reportIntervalMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.runs = new RunTracker(opts.runGapMs ?? 30_000);
    this.loadBaseline();
    this.timer = setInterval(() => this.schedule(), Math.max(50, Math.min(250, this.settleMs / 2)));
    this.timer.unref();
  }

  // ----- input -----------------------------------------------------------------------------

  /**
   * Traces that received spans: analysed again once they settle, or as soon as possible when
   * `settled` (history replayed from the log, which will not grow).
   */
  noteChanged(traces: readonly TraceEntry[], settled = false): void {
    for (const t of traces) {
      this.dirty.add(t);
      if (settled) this.settled.add(t);
      else this.settled.delete(t);
    }
    if (settled) this.schedule();
  }

  /**
   * Logs or metrics arrived: the next report (at most one per `reportIntervalMs`) reads them,
   * with no trace analysed again.
   */
  noteSignalsChanged(): void {
    if (this.opts.signals === undefined || this.held.size === 0) return;
    this.factsChanged = true;
  }

  /** The store was cleared: everything derived goes too (the baseline stays). */
  clear(): void {
    this.dirty.clear();
    this.settled.clear();
    this.held.clear();
    this.pulled.clear();
    this.heldBytes = 0;
    this.analyses.clear();
    this.runs.clear();
    this.current = undefined;
    this.stale = [];
    this.factsChanged = true;
  }

  // ----- output ----------------------------------------------------------------------------

  /** The latest report; undefined before the first one. */
  get report(): InsightsReport | undefined {
    return this._report;
  }

  /** Subscribes to new reports; returns the unsubscribe. */
  onReport(listener: (r: InsightsReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A report that includes every span received so far (unsettled traces are analysed at once),
   * computed in slices: the event loop keeps running while it is prepared.
   */
  freshReport(): Promise<InsightsReport> {
    this.forceSettle = true;
    this.factsChanged = true;
    this.lastReportAt = -Infinity;
    return new Promise((resolve) => {
      this.waiters.push(() => resolve(this._report!));
      this.schedule();
    });
  }

  /** The same, computed at once (blocking): for tests and one-shot commands. */
  reportNow(): InsightsReport {
    this.forceSettle = true;
    this.factsChanged = true;
    this.lastReportAt = -Infinity;
    drain(this.job());
    return this._report!;
  }

  /** The full analysis of a trace (for the waterfall and the read API), cached for a few. */
  analyze(entry: TraceEntry): TraceAnalysis {
    const cached = this.analyses.get(entry);
    if (cached !== undefined && cached.version === entry.version) {
      // Most recently used last.
      this.analyses.delete(entry);
      this.analyses.set(entry, cached);
      return cached.analysis;
    }
    const analysis = analyzeTrace(entry.spans, this.opts.attributeValue);
    this.analyses.delete(entry);
    this.analyses.set(entry, { version: entry.version, analysis });
    while (this.analyses.size > ANALYSIS_CACHE) {
      const oldest = this.analyses.keys().next().value;
      if (oldest === undefined) break;
      this.analyses.delete(oldest);
    }
    return analysis;
  }

  /** The facts of a trace: those held, or built now for a trace not (yet) in the window. */
  factsOf(entry: TraceEntry): TraceFacts {
    const h = this.held.get(entry.traceId);
    if (h !== undefined && h.facts.version === entry.version) return h.facts;
    return buildTraceFacts(entry, this.analyze(entry), this.opts.readers);
  }

  /** A trace against the typical trace of its operation in the current run (or the window). */
  explain(entry: TraceEntry): Explanation {
    const facts = this.factsOf(entry);
    const scope = this.scope();
    const peers = scope.some((t) => t.operation === facts.operation && t.traceId !== facts.traceId)
      ? scope
      : this.window();
    return explainTrace(facts, peers);
  }

  /** Traces in the current run (without the baseline's own), oldest first. */
  scope(): TraceFacts[] {
    const latest = this.runs.latest();
    if (latest === undefined) return [];
    const out: TraceFacts[] = [];
    for (const h of this.held.values()) {
      if (this.runs.resolve(h.runId) !== latest.id) continue;
      if (this.baselineIds.has(h.facts.traceId)) continue;
      out.push(h.facts);
    }
    return out.sort((a, b) => a.receivedAt - b.receivedAt);
  }

  /** Every trace the diagnoses can see, oldest first. */
  window(): TraceFacts[] {
    return [...this.held.values()].map((h) => h.facts).sort((a, b) => a.receivedAt - b.receivedAt);
  }

  /** Bytes the service holds beyond the spans themselves (facts and cached analyses). */
  get bytesHeld(): number {
    let bytes = this.heldBytes;
    for (const { analysis } of this.analyses.values()) bytes += analysis.tree.spans.length * 400;
    return bytes;
  }

  /**
   * Drops the facts of the oldest analysed traces until the facts hold at most `maxBytes` (the
   * engine's memory budget gives them a share). Returns how many went.
   */
  trimFacts(maxBytes: number): number {
    let dropped = 0;
    for (const [id, h] of this.held) {
      if (this.heldBytes <= maxBytes) break;
      this.held.delete(id);
      this.heldBytes -= h.bytes;
      dropped++;
    }
    // Then the pulled traces' (they only serve comparisons against prod).
    for (const [id, p] of this.pulled) {
      if (this.heldBytes <= maxBytes) break;
      this.pulled.delete(id);
      this.heldBytes -= p.bytes;
      dropped++;
    }
    if (dropped > 0) this.factsChanged = true;
    return dropped;
  }

  get heldTraces(): number {
    return this.held.size;
  }

  // ----- baselines -------------------------------------------------------------------------

  get baseline(): Baseline | undefined {
    return this._baseline;
  }

  /** Replaces the baseline (undefined clears it); persisted when a file is configured. */
  setBaseline(b: Baseline | undefined): void {
    this._baseline = b;
    this.baselineIds = new Set(b?.traceIds ?? []);
    this.pending = undefined;
    this.saveBaseline();
    this.factsChanged = true;
    this.lastReportAt = -Infinity;
    this.schedule();
  }

  /**
   * Pins the current run's traces (all analysed first) as the baseline. Returns undefined, and
   * keeps the previous baseline, when fewer than `minTraces` are there.
   */
  pinBaseline(
    label: string,
    source: BaselineSource = 'pinned',
    minTraces = 1,
  ): Baseline | undefined {
    this.forceSettle = true;
    drain(this.analyseDirty());
    const traces = this.scope();
    if (traces.length < minTraces) return undefined;
    const b = makeBaseline(traces, label, source, this.now());
    this.setBaseline(b);
    return b;
  }

  /**
   * Pins these traces as the baseline once they are analysed (they may still be arriving): the
   * demo's warm-up requests, say. What has arrived after {@link PENDING_BASELINE_MS} is used.
   */
  pinBaselineFromTraces(traceIds: readonly string[], label: string, source: BaselineSource): void {
    this.pending = {
      ids: new Set(traceIds.map((id) => id.toLowerCase())),
      label,
      source,
      since: this.now(),
    };
    this.factsChanged = true;
    this.schedule();
  }

  // ----- the work --------------------------------------------------------------------------

  private hasWork(): boolean {
    if (this.waiters.length > 0 || this.pending !== undefined) return true;
    if (this.factsChanged && this.now() - this.lastReportAt >= this.reportIntervalMs) return true;
    if (this.forceSettle || this.settled.size > 0) return this.dirty.size > 0;
    const cutoff = this.now() - this.settleMs;
    for (const t of this.dirty) if (t.updatedAt <= cutoff) return true;
    return false;
  }

  private schedule(): void {
    if (this.running || this.closed || !this.hasWork()) return;
    this.running = true;
    const gen = this.job();
    const step = (): void => {
      if (this.closed) return;
      const t0 = performance.now();
      let r: IteratorResult<void, void>;
      do r = gen.next();
      while (r.done !== true && performance.now() - t0 < this.sliceMs);
      if (r.done !== true) {
        setImmediate(step);
        return;
      }
      this.running = false;
      // More may have arrived meanwhile.
      if (this.hasWork() && this.waiters.length > 0) this.schedule();
    };
    setImmediate(step);
  }

  private *analyseDirty(): Generator<void, void> {
    const force = this.forceSettle;
    this.forceSettle = false;
    const cutoff = force ? Infinity : this.now() - this.settleMs;
    for (const t of [...this.dirty]) {
      if (t.updatedAt > cutoff && !this.settled.has(t)) continue;
      this.dirty.delete(t);
      this.settled.delete(t);
      if (this.store.get(t.traceId) !== t) continue;
      this.analyseEntry(t);
      yield;
    }
  }

  private analyseEntry(t: TraceEntry): void {
    if (t.spans.length > this.maxBackgroundSpans) {
      this.counters.skippedLarge++;
      return;
    }
    let analysis: TraceAnalysis;
    let facts: TraceFacts;
    try {
      analysis = this.analyze(t);
      facts = buildTraceFacts(t, analysis, this.opts.readers);
    } catch (e) {
      this.counters.failed++;
      if (this.counters.failed === 1 || this.counters.failed % 1000 === 0) {
        this.opts.log?.warn(`analysis of trace ${t.traceId} failed: ${(e as Error).message}`);
      }
      return;
    }
    const pulled = this.opts.pulledStats !== undefined && this.opts.isPulled?.(t) === true;
    const stats = pulled ? this.opts.pulledStats! : this.stats;
    // The trace counts once in the statistics: its earlier contribution goes first.
    const previous = t.statsTicket as StatsTicket | undefined;
    if (previous !== undefined) stats.removeTrace(previous);
    t.statsTicket = stats.addTrace(analysis.stageContributions, analysis.stages);
    // Not every trace is looked at: the full analysis was only needed to build the facts.
    this.analyses.delete(t);
    if (pulled) {
      this.keepPulled(facts);
      return;
    }
    const old = this.held.get(t.traceId);
    if (old !== undefined) {
      this.held.delete(t.traceId);
      this.heldBytes -= old.bytes;
    }
    const runId = this.runs.assign(facts);
    const bytes = factsBytes(facts);
    this.held.set(t.traceId, { facts, runId, bytes });
    this.heldBytes += bytes;
    this.counters.analysed++;
    this.factsChanged = true;
  }

  private keepPulled(facts: TraceFacts): void {
    const old = this.pulled.get(facts.traceId);
    if (old !== undefined) {
      this.pulled.delete(facts.traceId);
      this.heldBytes -= old.bytes;
    }
    const bytes = factsBytes(facts);
    this.pulled.set(facts.traceId, { facts, bytes });
    this.heldBytes += bytes;
    for (const [id, p] of this.pulled) {
      if (this.pulled.size <= MAX_BASELINE_ROWS) break;
      this.pulled.delete(id);
      this.heldBytes -= p.bytes;
    }
    this.counters.analysed++;
  }

  /** Analysed pulled traces, oldest first. */
  pulledFacts(): TraceFacts[] {
    this.forceSettle = true;
    drain(this.analyseDirty());
    return [...this.pulled.values()].map((p) => p.facts);
  }

  /**
   * The pulled traces as a baseline to compare local runs against ("against prod"); undefined
   * when none was pulled. Built on demand, never stored or persisted.
   */
  pulledBaseline(): Baseline | undefined {
    const facts = this.pulledFacts();
    if (facts.length === 0) return undefined;
    const sources = new Set(facts.map((f) => traceSource(f.spans) ?? ''));
    return makeBaseline(
      facts,
      `${PULLED_LABEL} (${[...sources].join(', ')})`,
      'pulled',
      this.now(),
    );
  }

  /** Drops facts beyond the count, out of the window, or of traces the store no longer holds. */
  private expire(): void {
    for (const [id, p] of this.pulled) {
      if (this.store.get(id) !== undefined) continue;
      this.pulled.delete(id);
      this.heldBytes -= p.bytes;
    }
    const cutoff = this.now() - this.windowMs;
    for (const [id, h] of this.held) {
      const gone = this.store.get(id) === undefined;
      if (!gone && this.held.size <= this.maxFacts && h.facts.updatedAt >= cutoff) continue;
      this.held.delete(id);
      this.heldBytes -= h.bytes;
      this.factsChanged = true;
    }
  }

  private *job(): Generator<void, void> {
    yield* this.analyseDirty();
    this.expire();
    this.resolvePending();
    const due = this.now() - this.lastReportAt >= this.reportIntervalMs;
    if (this.factsChanged && (due || this.waiters.length > 0)) {
      this.factsChanged = false;
      this.lastReportAt = this.now();
      const analysed = this.counters.analysed;
      const report = yield* this.reportJob();
      this.counters.analysedAtReport = analysed;
      this.publish(report);
    }
    const waiters = this.waiters.splice(0);
    for (const w of waiters) w();
  }

  private *reportJob(): Generator<void, InsightsReport> {
    const latest = this.runs.latest();
    const runId = latest?.id ?? 0;
    this.onRun(runId);
    const traces = this.scope();
    const window = this.window();
    const report = yield* insightsJob({
      traces,
      window,
      baseline: this._baseline,
      signals: this.opts.signals,
      baselineStatus: baselineStatus(
        this._baseline,
        this.pending !== undefined,
        this.pending?.label,
      ),
      scope: {
        runId,
        sinceMs: latest?.startedAt ?? 0,
        traces: traces.length,
        windowTraces: window.length,
      },
      now: this.now(),
    });
    this.current = { runId, findings: report.findings, traces: traces.length };
    const keys = new Set(report.findings.map(findingKey));
    report.stale = this.stale
      .filter((f) => !keys.has(findingKey(f)))
      .map(({ staleSince: _s, ...f }) => f);
    return report;
  }

  /**
   * A new run began: the previous run's findings become stale, and a previous run without
   * findings becomes the automatic baseline when there is no other.
   */
  private onRun(runId: number): void {
    const prev = this.current;
    if (prev === undefined || prev.runId === runId || this.runs.resolve(prev.runId) === runId)
      return;
    const now = this.now();
    this.stale = [
      ...prev.findings
        .filter((f) => f.severity !== 'info')
        .map((f) => ({ ...f, stale: true, staleSince: now })),
      ...this.stale,
    ]
      .filter((f) => now - f.staleSince <= STALE_KEEP_MS)
      .slice(0, 20);
    const normal = prev.findings.every((f) => SEVERITY_RANK[f.severity] === 0);
    if (
      normal &&
      prev.traces >= MIN_AUTO_BASELINE_TRACES &&
      (this._baseline === undefined || this._baseline.source === 'last-normal-run')
    ) {
      const traces = this.window().filter(
        (t) =>
          this.runs.resolve(this.held.get(t.traceId)?.runId ?? -1) ===
          this.runs.resolve(prev.runId),
      );
      if (traces.length >= MIN_AUTO_BASELINE_TRACES) {
        const when = new Date(traces[0]!.receivedAt).toISOString().slice(11, 19);
        const b = makeBaseline(traces, `last normal run (${when} UTC)`, 'last-normal-run', now);
        this._baseline = b;
        this.baselineIds = new Set(b.traceIds);
        this.saveBaseline();
        this.opts.log?.info(
          `insights: the run of ${when} UTC (${formatCount(traces.length, 'trace')}, no findings) is the baseline now`,
        );
      }
    }
  }

  private resolvePending(): void {
    const p = this.pending;
    if (p === undefined) return;
    const found: TraceFacts[] = [];
    for (const id of p.ids) {
      const h = this.held.get(id);
      if (h !== undefined) found.push(h.facts);
    }
    const waited = this.now() - p.since;
    const dirtyLeft = [...this.dirty].some((t) => p.ids.has(t.traceId));
    if (
      found.length < p.ids.size &&
      (dirtyLeft || waited < PENDING_BASELINE_MS) &&
      waited < PENDING_BASELINE_MS
    ) {
      return;
    }
    this.pending = undefined;
    if (found.length === 0) {
      this.opts.log?.warn(
        `baseline "${p.label}": none of its ${formatCount(p.ids.size, 'trace')} arrived; keeping the previous baseline`,
      );
      return;
    }
    this.setBaseline(makeBaseline(found, p.label, p.source, this.now()));
  }

  private publish(report: InsightsReport): void {
    this._report = report;
    this.counters.reports++;
    for (const l of this.listeners) {
      try {
        l(report);
      } catch (e) {
        this.opts.log?.error(`insights listener: ${(e as Error).message}`);
      }
    }
  }

  // ----- persistence -----------------------------------------------------------------------

  private loadBaseline(): void {
    const file = this.opts.baselineFile;
    if (file === undefined) return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return; // none yet
    }
    let parsed: { baseline?: Baseline; error?: string };
    try {
      const value: unknown = JSON.parse(text);
      if (value === null) return; // cleared
      parsed = parseBaseline(value);
    } catch (e) {
      parsed = { error: (e as Error).message };
    }
    if (parsed.baseline === undefined) {
      this.opts.log?.warn(`baseline ${file}: ignored (${parsed.error ?? 'unreadable'})`);
      return;
    }
    this._baseline = parsed.baseline;
    this.baselineIds = new Set(parsed.baseline.traceIds);
  }

  private saveBaseline(): void {
    const file = this.opts.baselineFile;
    if (file === undefined) return;
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.tmp`;
      writeFileSync(tmp, JSON.stringify(this._baseline ?? null));
      renameSync(tmp, file);
    } catch (e) {
      this.opts.log?.warn(`baseline ${file}: not saved (${(e as Error).message})`);
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const w of this.waiters.splice(0)) w();
  }
}
