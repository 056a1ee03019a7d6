/**
 * Insights: the answer to "why is this request slow?", computed from the traces of the latest
 * run. Each diagnosis is a file of this folder behind the `Diagnosis` interface, registered in
 * {@link DIAGNOSES}; this module runs them, relates their findings (the more specific diagnosis
 * of a stage goes first) and orders them, so that the top finding is the one to look at.
 *
 * Thresholds are chosen so that a steady pipeline raises nothing above `info`: a finding needs
 * a relative change and an absolute one, enough traces, and a significance test where chance
 * could fake it.
 */

import type { Baseline } from '../baseline.js';
import { median, quantile } from '../statistics.js';
import type { TraceFacts } from '../trace-facts.js';
import { stageKey, type StageKey } from '../../../shared/stage-key.js';
import { pathTree } from '../path-tree.js';
import { badInstance } from './bad-instance.js';
import { coldStart } from './cold-start.js';
import { isInstanceKey } from './common.js';
import { dominantStage } from './dominant-stage.js';
import { errors } from './errors.js';
import { queueing } from './queueing.js';
import { regression } from './regression.js';
import { remoteWait } from './remote-wait.js';
import type {
  BaselineStatus,
  Diagnosis,
  Finding,
  InsightContext,
  InsightScope,
  InsightSignals,
  InsightsReport,
  Severity,
  StageDelta,
} from './types.js';
import { untracedTime } from './untraced-time.js';
import { llm } from './llm.js';
import { caching } from './caching.js';
import { computeShare } from './compute-share.js';
import { parallelism, parallelWhatIfs } from './parallelism.js';
import { speedupWhatIf } from './what-if.js';

export * from './types.js';
export { changePoint, movedAttributes } from './regression.js';
export { errorCause, type ErrorCause } from './errors.js';
export { explainTrace, type Explanation, type ExplainRow } from './explain.js';
export { speedupWhatIf } from './what-if.js';
export { llmCalls, llmSummaries, type LlmCall, type LlmStageSummary } from './llm.js';
export { isInputIdentityKey } from './caching.js';
export { parallelWhatIfs, type ParallelWhatIf } from './parallelism.js';
export {
  keptByHead,
  samplingWhatIf,
  type SampledTrace,
  type SamplingOutcome,
  type SamplingPolicy,
  type SamplingTally,
} from './sampling.js';
import { formatCount } from '../../../shared/format.js';

/** Every diagnosis, in no particular order (the ranking orders their findings). */
export const DIAGNOSES: readonly Diagnosis[] = [
  regression,
  dominantStage,
  queueing,
  remoteWait,
  badInstance,
  errors,
  coldStart,
  untracedTime,
  llm,
  caching,
  computeShare,
  parallelism,
];

/** Traces the aggregate critical path is drawn over (the latest of the scope). */
const PATH_TREE_TRACES = 200;

export const SEVERITY_RANK: Record<Severity, number> = { critical: 2, warning: 1, info: 0 };

/** What the insights are computed over. */
export interface InsightsInput {
  /** The scope: the latest run's traces, without the baseline's own. */
  readonly traces: readonly TraceFacts[];
  /** Every trace in the window. */
  readonly window: readonly TraceFacts[];
  readonly baseline: Baseline | undefined;
  readonly baselineStatus: BaselineStatus;
  readonly scope: InsightScope;
  readonly now: number;
  /** Logs and metrics, for the findings they are evidence in. */
  readonly signals?: InsightSignals;
}

const sameStage = (a: Finding, b: Finding): boolean =>
  a.stage !== undefined &&
  b.stage !== undefined &&
  a.stage.service === b.stage.service &&
  a.stage.name === b.stage.name;

/** Puts `winner` at least level with `other`, just above it. */
function promote(winner: Finding, other: Finding): void {
  if (SEVERITY_RANK[other.severity] > SEVERITY_RANK[winner.severity])
    winner.severity = other.severity;
  if (other.score >= winner.score) winner.score = other.score + 1;
}

/** Whether `key` names a replica as its caller sees it (`replica`, `gen.replica`). */
function isCallerReplicaKey(key: string): boolean {
  return key === 'replica' || key.endsWith('.replica');
}

/**
 * One replica seen from both sides is one finding: the caller's `replica=generation-b` on its
 * call span and the worker's own `service.instance.id=generation-b` on its server span. The
 * caller's is kept (it names the stage the user knows), the other's stage goes into its
 * evidence. The same value of one key in two stages (a host slow for embedding and for
 * generation) stays two findings.
 */
function mergeReplicaViews(findings: Finding[]): Finding[] {
  const dropped = new Set<Finding>();
  for (const caller of findings) {
    if (caller.kind !== 'bad-instance') continue;
    if (!isCallerReplicaKey(String(caller.numbers.attribute))) continue;
    for (const worker of findings) {
      if (worker === caller || worker.kind !== 'bad-instance' || dropped.has(worker)) continue;
      if (worker.numbers.attribute !== 'service.instance.id') continue;
      if (String(worker.numbers.value) !== String(caller.numbers.value)) continue;
      dropped.add(worker);
      promote(caller, worker);
      const also = (caller.evidence?.alsoStages as string[] | undefined) ?? [];
      caller.evidence = {
        ...caller.evidence,
        alsoStages: [...also, `${worker.stage?.service ?? ''}/${worker.stage?.name ?? ''}`],
      };
    }
  }
  return dropped.size === 0 ? findings : findings.filter((f) => !dropped.has(f));
}

/**
 * The more specific diagnosis of the same thing goes first:
 * - a slow replica over its stage's regression; a failing replica over its stage's errors when
 *   the errors' cause is that replica (an attribute that explains every failure and is not the
 *   replica wins instead);
 * - a queue over a regression that the queue wait accounts for at least half of;
 * - a cold start over the replica, regression and dominant-stage findings its first requests
 *   make.
 * One replica seen from its caller and from itself is one finding (`mergeReplicaViews`).
 */
export function rank(all: Finding[]): Finding[] {
  const findings = mergeReplicaViews(all);
  // Timeouts in a stage that got slower are the slowness's consequence: the regression first.
  // Settled before the replicas below, so that a slow replica that explains the regression
  // also ends above the timeouts the regression was just put above.
  for (const r of findings) {
    if (r.kind !== 'stage-regression') continue;
    for (const e of findings) {
      if (e.kind !== 'errors' || !sameStage(r, e)) continue;
      const messages = Object.keys((e.evidence?.exceptions ?? {}) as Record<string, number>);
      const timeouts =
        messages.length > 0 && messages.every((m) => /deadline|time(d)? ?out/i.test(m));
      const byInstance =
        typeof e.numbers.cause === 'string' && isInstanceKey(e.numbers.cause.split('=')[0] ?? '');
      if (timeouts && !byInstance) promote(r, e);
    }
  }
  for (const bad of findings) {
    if (bad.kind !== 'bad-instance') continue;
    const ev = bad.evidence as { slow?: boolean; failing?: boolean } | undefined;
    const value = `${bad.numbers.attribute}=${bad.numbers.value}`;
    for (const other of findings) {
      if (other === bad || !sameStage(bad, other)) continue;
      if (other.kind === 'stage-regression' && ev?.slow === true) promote(bad, other);
      if (other.kind === 'errors') {
        const cause = other.numbers.cause;
        const eq = typeof cause === 'string' ? cause.indexOf('=') : -1;
        const causeKey = eq < 0 ? '' : (cause as string).slice(0, eq);
        const causeValue = eq < 0 ? '' : (cause as string).slice(eq + 1);
        // The same replica, whether the cause was read from the caller's `replica` attribute
        // or the worker's `service.instance.id`.
        const sameInstance =
          cause === value || (isInstanceKey(causeKey) && causeValue === String(bad.numbers.value));
        // Without a cause named for the errors: the replica explains them when it fails more
        // than the rest by the test, or when it is slow and every failure is on it (too few
        // failures for the test, as when two of a throttled replica's requests time out).
        const holdsEveryFailure =
          ev?.slow === true &&
          Number(bad.numbers.errorRate) > 0 &&
          Number(bad.numbers.restErrorRate) === 0;
        if (sameInstance || (cause === undefined && (ev?.failing === true || holdsEveryFailure)))
          promote(bad, other);
        else if (causeKey !== '' && !isInstanceKey(causeKey)) {
          // Another attribute explains the failures: this replica only happened to see them.
          if (ev?.slow !== true) bad.severity = 'info';
        }
      }
    }
  }
  for (const q of findings) {
    if (q.kind !== 'queueing') continue;
    const wait = Number(q.numbers.medianWaitMs);
    for (const other of findings) {
      if (other.kind === 'stage-regression' && wait >= 0.5 * Number(other.numbers.deltaMs)) {
        promote(q, other);
      }
    }
  }
  for (const c of findings) {
    if (c.kind !== 'cold-start' || c.severity === 'info') continue;
    for (const other of findings) {
      if (
        ['bad-instance', 'stage-regression', 'dominant-stage', 'remote-wait'].includes(other.kind)
      ) {
        promote(c, other);
      }
    }
  }
  return findings.sort(
    (a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.score - a.score,
  );
}

/** Per stage: p95 of its summed span time per trace in the scope against the baseline's. */
export function stageDeltas(
  traces: readonly TraceFacts[],
  baseline: Baseline | undefined,
): StageDelta[] {
  if (baseline === undefined) return [];
  const per = new Map<StageKey, number[]>();
  const paths = new Map<StageKey, number[]>();
  for (const t of traces) {
    for (const [k, st] of t.stages) {
      let list = per.get(k);
      if (list === undefined) per.set(k, (list = []));
      list.push(st.totalMs);
      let p = paths.get(k);
      if (p === undefined) paths.set(k, (p = []));
      p.push(st.pathMs);
    }
  }
  const out: StageDelta[] = [];
  for (const b of baseline.stages) {
    const now = per.get(b.key);
    if (now === undefined || now.length < 3 || b.p95Ms <= 0) continue;
    const p95 = quantile(now, 0.95);
    out.push({
      service: b.service,
      name: b.name,
      p95Ms: p95,
      baselineP95Ms: b.p95Ms,
      change: (p95 - b.p95Ms) / b.p95Ms,
      pathMs: median(paths.get(b.key) ?? []),
      baselinePathMs: b.pathP50Ms,
    });
  }
  return out;
}

/** Groups by operation, each list by arrival. */
export function byOperation(traces: readonly TraceFacts[]): Map<StageKey, TraceFacts[]> {
  const ops = new Map<StageKey, TraceFacts[]>();
  for (const t of traces) {
    let list = ops.get(t.operation);
    if (list === undefined) ops.set(t.operation, (list = []));
    list.push(t);
  }
  return ops;
}

/**
 * Runs every diagnosis over the input; a generator that yields between small units of work, so
 * that the caller can spread it over slices of the event loop (see the analysis service).
 */
/**
 * A trace whose root span has not arrived and that received spans in the last `ARRIVING_MS` is
 * a request still in flight: the diagnoses wait for it. Counted as it stood, it read as a trace
 * of its first stage that waited nowhere (a request in a backed-up queue has no consumer span
 * yet), which kept the queue's share below its bar until the backlog had drained. After
 * `ARRIVING_MS` without its root it counts as it is (a root that is never exported).
 */
const ARRIVING_MS = 30_000;

function stillArriving(t: TraceFacts, now: number): boolean {
  const root = t.spans[0];
  return root !== undefined && root.parentSpanId !== '' && now - t.updatedAt < ARRIVING_MS;
}

export function* insightsJob(input: InsightsInput): Generator<void, InsightsReport> {
  const traces = input.traces
    .filter((t) => !stillArriving(t, input.now))
    .sort((a, b) => a.receivedAt - b.receivedAt);
  const ctx: InsightContext = {
    now: input.now,
    traces,
    byOperation: byOperation(traces),
    window: input.window,
    baseline: input.baseline,
    signals: input.signals,
  };
  const findings: Finding[] = [];
  for (const d of DIAGNOSES) {
    yield;
    for (const f of yield* d.run(ctx)) findings.push({ ...f, runId: input.scope.runId });
  }
  yield;
  return {
    computedAt: input.now,
    traces: traces.length,
    scope: input.scope,
    baseline: input.baselineStatus,
    findings: rank(findings),
    stale: [],
    whatIf: speedupWhatIf(traces).slice(0, 8),
    stageDeltas: stageDeltas(traces, input.baseline),
    parallel: parallelWhatIfs(ctx).slice(0, 5),
    pathTree: pathTree(traces, PATH_TREE_TRACES),
  };
}

/** Runs a generator to its end at once (tests, one-shot commands). */
export function drain<T>(gen: Generator<void, T>): T {
  for (;;) {
    const r = gen.next();
    if (r.done === true) return r.value;
  }
}

/** The insights of a set of traces, computed at once (no baseline unless given). */
export function computeInsights(
  traces: readonly TraceFacts[],
  opts: { baseline?: Baseline; now?: number; signals?: InsightSignals } = {},
): InsightsReport {
  const now = opts.now ?? Date.now();
  return drain(
    insightsJob({
      traces,
      window: traces,
      baseline: opts.baseline,
      signals: opts.signals,
      baselineStatus: baselineStatus(opts.baseline, false),
      scope: {
        runId: 0,
        sinceMs: traces.reduce((m, t) => Math.min(m, t.receivedAt), Infinity),
        traces: traces.length,
        windowTraces: traces.length,
      },
      now,
    }),
  );
}

/** The report's line about the baseline. */
export function baselineStatus(
  baseline: Baseline | undefined,
  pending: boolean,
  pendingLabel?: string,
): BaselineStatus {
  if (pending) {
    return {
      state: 'pending',
      label: pendingLabel,
      message: `Taking the baseline "${pendingLabel ?? ''}" once its traces are analysed`,
    };
  }
  if (baseline === undefined) {
    return {
      state: 'none',
      message:
        'No baseline yet: nothing to compare with, so only what stands out within this run is ' +
        'reported. Pin one after a normal run; the last run without findings becomes one by itself.',
    };
  }
  const when = new Date(baseline.pinnedAt).toISOString().slice(11, 16);
  return {
    state: 'set',
    label: baseline.label,
    source: baseline.source,
    traces: baseline.rows.length,
    pinnedAt: baseline.pinnedAt,
    message: `Compared with the baseline "${baseline.label}" (${formatCount(baseline.rows.length, 'trace')}, ${when} UTC)`,
  };
}

/** The key of a finding, to tell whether a later run still shows it. */
export function findingKey(f: Finding): string {
  return `${f.kind}\n${f.stage === undefined ? '' : stageKey(f.stage.service, f.stage.name)}\n${String(f.numbers.attribute ?? '')}=${String(f.numbers.value ?? '')}\n${String(f.numbers.queue ?? '')}`;
}
