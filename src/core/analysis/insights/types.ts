/**
 * The shapes of the insights: a finding with its evidence, the report, and the interface every
 * diagnosis implements. A diagnosis is one file in this folder, registered in `index.ts`.
 */

import type { PathTree } from '../path-tree.js';
import type { Baseline } from '../baseline.js';
import type { TraceFacts } from '../trace-facts.js';
import type { StageKey } from '../../../shared/stage-key.js';
import type { LogStore } from '../../store/log-store.js';
import type { MetricStore } from '../../store/metric-store.js';

export type Severity = 'critical' | 'warning' | 'info';

export type FindingKind =
  | 'stage-regression'
  | 'dominant-stage'
  | 'queueing'
  | 'remote-wait'
  | 'bad-instance'
  | 'attribute-correlation'
  | 'errors'
  | 'cold-start'
  | 'untraced-time'
  | 'llm'
  | 'caching'
  | 'compute-share'
  | 'parallelism'
  | 'baseline-change';

/** One diagnosis with its evidence. */
export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** Orders findings; comparable across kinds (roughly: ms of end-to-end time at stake). */
  score: number;
  /** The one-line verdict. */
  title: string;
  /** The stage the finding is about, when there is one. */
  stage?: { service: string; name: string };
  /** The numbers behind the verdict, by name (durations end in `Ms`, fractions in 0..1). */
  numbers: Record<string, number | string>;
  /** Traces that show it, most telling first (the first is the one to open). */
  traceIds: string[];
  /** Kind-specific evidence (distributions, a trend, the attribute values that moved). */
  evidence?: Record<string, unknown>;
  /** Set on findings of an earlier run that the latest run does not show (any more). */
  stale?: boolean;
  /** The run the finding was computed over (see `runs.ts`). */
  runId?: number;
}

/** Where the report's findings come from. */
export interface InsightScope {
  /** The latest run's id (see `runs.ts`); 0 when nothing is held. */
  readonly runId: number;
  /** Arrival of the run's first trace (wall clock, ms). */
  readonly sinceMs: number;
  /** Traces the findings were computed over (the run, without the baseline's own traces). */
  readonly traces: number;
  /** Traces in the whole window (all runs). */
  readonly windowTraces: number;
}

/** What the report compares against. */
export interface BaselineStatus {
  readonly state: 'none' | 'pending' | 'set';
  readonly label?: string;
  readonly source?: Baseline['source'];
  readonly traces?: number;
  readonly pinnedAt?: number;
  /** One line for people: what the comparison is against, or why there is none. */
  readonly message: string;
}

/** "If this stage were `factor`x faster": an upper bound on what end-to-end p95 would become. */
export interface WhatIf {
  stage: { service: string; name: string };
  factor: number;
  p95BeforeMs: number;
  p95AfterMs: number;
  /** Traces the projection is based on. */
  traces: number;
}

/** A stage's typical latency now against the baseline (what lenses show as "+12% vs ..."). */
export interface StageDelta {
  readonly service: string;
  readonly name: string;
  readonly p95Ms: number;
  readonly baselineP95Ms: number;
  /** (p95 - baseline) / baseline. */
  readonly change: number;
  /** Median critical-path ms in the stage now, and in the baseline (see `compare.ts`). */
  readonly pathMs: number;
  readonly baselinePathMs: number;
}

export interface InsightsReport {
  /** Wall clock (ms) when the report was computed. */
  computedAt: number;
  /** Traces the findings were computed over (the scope). */
  traces: number;
  scope: InsightScope;
  baseline: BaselineStatus;
  /** The latest run's findings, most important first. */
  findings: Finding[];
  /** Findings of earlier runs that the latest run does not show, newest run first. */
  stale: Finding[];
  /** The stages that would move end-to-end p95 most if they were 2x faster, first. */
  whatIf: WhatIf[];
  /** Per stage: p95 in the scope against the baseline's (empty without a baseline). */
  stageDeltas: StageDelta[];
  /**
   * Sibling stages that never overlap: what running them at once would save, if they are
   * independent (the trace cannot tell; see `parallelism.ts`), largest first.
   */
  /** Where the critical path goes across the scope's latest traces (`path-tree.ts`). */
  pathTree: PathTree;
  parallel: Array<{
    parent: { service: string; name: string };
    first: { service: string; name: string };
    second: { service: string; name: string };
    savedMs: number;
    orderVaries: boolean;
    traces: number;
  }>;
}

/**
 * What the diagnoses read of the other signals (the engine's `Signals` is one): a span's log
 * lines and a metric's points over a time range. Both reads are indexed or bounded by the
 * number of series, so a diagnosis calls them inside its slices like any other step.
 */
export interface InsightSignals {
  readonly logStore: Pick<LogStore, 'forTrace'>;
  readonly metricStore: Pick<MetricStore, 'list' | 'query'>;
}

/** What every diagnosis sees. */
export interface InsightContext {
  readonly now: number;
  /** The traces in scope, by arrival (oldest first). */
  readonly traces: readonly TraceFacts[];
  /** The scope's traces by operation, each list by arrival. */
  readonly byOperation: ReadonlyMap<StageKey, readonly TraceFacts[]>;
  /** Every trace in the window, all runs (evidence such as what else a worker was doing). */
  readonly window: readonly TraceFacts[];
  readonly baseline: Baseline | undefined;
  /** Logs and metrics received beside the traces; undefined when there are none to read. */
  readonly signals?: InsightSignals;
}

/**
 * One diagnosis. `run` is a generator so that the analysis service can spread the work over
 * short slices of the event loop: it yields now and then (every trace or so) and returns its
 * findings. It must not keep state between runs.
 */
export interface Diagnosis {
  readonly kind: FindingKind;
  run(ctx: InsightContext): Generator<void, Finding[]>;
}
