/**
 * Insights: the answer to "why is this request slow?", computed from the traces held.
 *
 * Each diagnosis is a pure function over recent traces and their analyses; `computeInsights`
 * runs them all and orders the findings by score, so the top finding is the one to look at.
 * Thresholds are chosen so that a steady pipeline raises nothing above `info`: a finding needs
 * both a relative change (e.g. 1.5x the typical median) and an absolute one (tens of ms), and
 * enough traces on each side to be more than noise.
 */
import type { KeyValueJson, SpanRecord } from '../model.js';
import type { TraceAnalysis } from './analyze-trace.js';
import { stageKey, type StageKey } from './stage-stats.js';

/** A trace as the diagnoses see it. */
export interface InsightTrace {
  traceId: string;
  /** Root service and span name: traces are compared within one operation. */
  operation: string;
  startMs: number;
  durationMs: number;
  spans: readonly SpanRecord[];
  analysis: TraceAnalysis;
  /** Wall-clock time the trace last received spans (ms); baselines compare what came after. */
  receivedAt?: number;
}

export type Severity = 'critical' | 'warning' | 'info';

export type FindingKind =
  | 'stage-regression'
  | 'queueing'
  | 'bad-instance'
  | 'attribute-correlation'
  | 'errors'
  | 'untraced-time'
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
  /** The numbers behind the verdict, by name. */
  numbers: Record<string, number | string>;
  /** Traces that show it, most telling first. */
  traceIds: string[];
  /** Kind-specific evidence (distributions, a trend). */
  evidence?: Record<string, unknown>;
}

/** Stage statistics pinned as the reference for before/after comparisons. */
export interface Baseline {
  label: string;
  pinnedAt: number;
  stages: Array<{ service: string; name: string; count: number; p50Ms: number; p95Ms: number }>;
}

export interface InsightOptions {
  /** Reads a span's attributes (decoded on demand). */
  attributes: (span: SpanRecord) => readonly KeyValueJson[];
  /** What an error span says went wrong (its exception message, else its status message). */
  errorMessage?: (span: SpanRecord) => string | undefined;
  baseline?: Baseline;
}

export interface WhatIf {
  stage: { service: string; name: string };
  factor: number;
  p95BeforeMs: number;
  p95AfterMs: number;
  /** Traces the projection is based on. */
  traces: number;
}

export interface InsightsReport {
  traces: number;
  findings: Finding[];
  /** "If this stage were 2x faster": the stages that move end-to-end p95 most, first. */
  whatIf: WhatIf[];
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Quantile by linear interpolation over a sorted copy (exact; these sets are small). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

const median = (v: readonly number[]) => quantile(v, 0.5);

/**
 * The z score of a one-sided Mann-Whitney U test that `a` tends to exceed `b` (normal
 * approximation with tie and continuity corrections). Hand-written: 20 lines against a
 * statistics dependency for one test; the samples here are at most a few thousand.
 */
export function mannWhitneyZ(a: readonly number[], b: readonly number[]): number {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return 0;
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort(
    (x, y) => x.v - y.v,
  );
  // Average ranks for ties; the tie term corrects the variance.
  let rankSumA = 0;
  let tieTerm = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (all[k]!.g === 0) rankSumA += rank;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return 0;
  return (u - (n1 * n2) / 2 - 0.5) / Math.sqrt(variance);
}

function parseKey(key: StageKey): { service: string; name: string } {
  const [service, name] = JSON.parse(key) as [string, string];
  return { service, name };
}

/** Formats milliseconds the way the UI does: "850 ms", "1.21 s". */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/**
 * Per trace and stage: summed span duration, time on the critical path *including the span's
 * subtree* (a stage such as `reranking` whose work happens in a child RPC still owns that time),
 * and the shallowest depth at which the stage occurs (the root is depth 0).
 */
interface StageTimes {
  total: Map<StageKey, number>;
  onPath: Map<StageKey, number>;
  depth: Map<StageKey, number>;
}

const stageTimesCache = new WeakMap<TraceAnalysis, StageTimes>();

function stageTimes(t: InsightTrace): StageTimes {
  const cached = stageTimesCache.get(t.analysis);
  if (cached !== undefined) return cached;
  const { tree, criticalPath } = t.analysis;
  const total = new Map<StageKey, number>();
  const depth = new Map<StageKey, number>();
  // Inclusive path time: spans are in pre-order, so walking backwards adds each span's total
  // to its parent after all of its descendants were added to it.
  const inclusive = new Map<string, number>();
  for (const s of tree.spans) inclusive.set(s.spanId, criticalPath.bySpan.get(s.spanId) ?? 0);
  for (let i = tree.spans.length - 1; i >= 0; i--) {
    const s = tree.spans[i]!;
    const parent = tree.parentOf(s);
    if (parent !== undefined) {
      inclusive.set(
        parent.spanId,
        (inclusive.get(parent.spanId) ?? 0) + (inclusive.get(s.spanId) ?? 0),
      );
    }
  }
  const onPath = new Map<StageKey, number>();
  for (const s of tree.spans) {
    const k = stageKey(s.serviceName, s.name);
    total.set(k, (total.get(k) ?? 0) + s.durationMs);
    const d = tree.depthOf(s.spanId);
    if (!depth.has(k) || d < depth.get(k)!) depth.set(k, d);
    // A stage nested in itself (retries) counts its outermost spans only.
    const parent = tree.parentOf(s);
    if (parent !== undefined && stageKey(parent.serviceName, parent.name) === k) continue;
    onPath.set(k, (onPath.get(k) ?? 0) + (inclusive.get(s.spanId) ?? 0));
  }
  const st = { total, onPath, depth };
  stageTimesCache.set(t.analysis, st);
  return st;
}

/**
 * The latest traces (by arrival): a quarter of the window, at least `min`. Queueing, a bad
 * instance and errors are judged on what happens now; the window still holds the traffic from
 * before an incident began, which would dilute it.
 */
function latest(traces: readonly InsightTrace[], min: number): InsightTrace[] {
  const sorted = [...traces].sort(
    (a, b) => (a.receivedAt ?? a.startMs) - (b.receivedAt ?? b.startMs) || a.startMs - b.startMs,
  );
  return sorted.slice(-Math.max(min, Math.ceil(sorted.length / 4)));
}

function byOperation(traces: readonly InsightTrace[]): Map<string, InsightTrace[]> {
  const ops = new Map<string, InsightTrace[]>();
  for (const t of traces) {
    let list = ops.get(t.operation);
    if (list === undefined) ops.set(t.operation, (list = []));
    list.push(t);
  }
  for (const list of ops.values()) list.sort((a, b) => a.startMs - b.startMs);
  return ops;
}

// ---------------------------------------------------------------------------------------------
// Which stage regressed

const MIN_SIDE = 5;
/** Traces per operation the regression search looks at (the latest). */
const MAX_REGRESSION_TRACES = 500;
/** Candidate splits tried per stage. */
const SPLITS = 20;
/** One-sided z a split must reach (about p < 0.0015 each; ~20 splits tried). */
const CHANGE_Z = 3;

/**
 * Where a series (stage times, oldest first) stepped up: the split with the largest Mann-Whitney
 * z of the values after it over those before it, if that z reaches CHANGE_Z. Trying a few splits
 * finds the onset of an incident instead of assuming it is the last quarter of the traffic.
 */
export function changePoint(values: readonly number[]): number | undefined {
  const n = values.length;
  if (n < 2 * MIN_SIDE) return undefined;
  const lo = MIN_SIDE;
  const hi = n - MIN_SIDE;
  const step = Math.max(1, Math.floor((hi - lo) / SPLITS));
  let best: number | undefined;
  let bestZ = CHANGE_Z;
  for (let k = hi; k >= lo; k -= step) {
    const z = mannWhitneyZ(values.slice(k), values.slice(0, k));
    if (z >= bestZ) {
      bestZ = z;
      best = k;
    }
  }
  return best;
}

/**
 * Splits each operation's traces into the recent ones (the last quarter, at least MIN_SIDE) and
 * the earlier ones, and names the stages whose typical time on the critical path rose.
 */
export function findRegressions(traces: readonly InsightTrace[]): Finding[] {
  const out: Finding[] = [];
  for (const all of byOperation(traces).values()) {
    const list = all.slice(-MAX_REGRESSION_TRACES);
    if (list.length < 2 * MIN_SIDE) continue;
    const stages = new Set<StageKey>();
    for (const t of list.slice(-MIN_SIDE))
      for (const k of stageTimes(t).total.keys()) stages.add(k);
    const candidates: Array<{ key: StageKey; finding: Finding; pathDelta: number; depth: number }> =
      [];
    for (const key of stages) {
      const split = changePoint(list.map((t) => stageTimes(t).total.get(key) ?? 0));
      // Not chance: after the change point the stage's times sit above those before it as a
      // whole (one-sided Mann-Whitney, z >= 3 over the candidate splits).
      if (split === undefined) continue;
      const before = list.slice(0, split);
      const recent = list.slice(split);
      const e2eBefore = median(before.map((t) => t.durationMs));
      const e2eRecent = median(recent.map((t) => t.durationMs));
      const excess = e2eRecent - e2eBefore;
      if (excess <= 0) continue;
      const depth = median(recent.map((t) => stageTimes(t).depth.get(key) ?? 0));
      // The root is the operation itself: its excess is the question, not the answer.
      if (depth < 1) continue;
      const was = median(before.map((t) => stageTimes(t).total.get(key) ?? 0));
      const now = median(recent.map((t) => stageTimes(t).total.get(key) ?? 0));
      const delta = now - was;
      const wasOnPath = median(before.map((t) => stageTimes(t).onPath.get(key) ?? 0));
      const nowOnPath = median(recent.map((t) => stageTimes(t).onPath.get(key) ?? 0));
      const pathDelta = nowOnPath - wasOnPath;
      // Relative and absolute, and it must be time the request actually waited for.
      if (!(now >= 1.5 * was && delta >= 25 && pathDelta >= Math.max(25, 0.1 * e2eBefore))) {
        continue;
      }
      // Specific to this stage: a busy machine slows every stage alike, so the rest of the
      // request must not have slowed in proportion.
      const restWas = median(
        before.map((t) => t.durationMs - (stageTimes(t).onPath.get(key) ?? 0)),
      );
      const restNow = median(
        recent.map((t) => t.durationMs - (stageTimes(t).onPath.get(key) ?? 0)),
      );
      if (now / was < 1.5 * Math.max(1, restNow / Math.max(restWas, 1e-9))) continue;
      const share = Math.min(1, pathDelta / excess);
      const stage = parseKey(key);
      const slowest = [...recent].sort((a, b) => b.durationMs - a.durationMs);
      candidates.push({
        key,
        pathDelta,
        depth,
        finding: {
          kind: 'stage-regression',
          severity: now >= 2 * was ? 'critical' : 'warning',
          score: pathDelta,
          title:
            `${stage.name} ${formatMs(now)} vs ${formatMs(was)} typical ` +
            `(+${formatMs(delta)}, ${pct(share)} of the excess)`,
          stage,
          numbers: {
            typicalMs: was,
            recentMs: now,
            deltaMs: delta,
            shareOfExcess: share,
            e2eTypicalMs: e2eBefore,
            e2eRecentMs: e2eRecent,
            recentTraces: recent.length,
            baselineTraces: before.length,
          },
          traceIds: slowest.slice(0, 5).map((t) => t.traceId),
        },
      });
    }
    // A stage and the spans inside it (its RPC, the model's forward pass) regress together:
    // name the outermost, the stage a user knows, and let the nested ones go.
    for (const c of candidates) {
      const covered = candidates.some(
        (o) => o !== c && o.depth < c.depth && o.pathDelta >= 0.8 * c.pathDelta,
      );
      if (!covered) out.push(c.finding);
    }
  }
  return out;
}

/** Compares one trace with the typical trace of its operation, stage by stage. */
export function explainTrace(
  trace: InsightTrace,
  peers: readonly InsightTrace[],
): Array<{
  stage: { service: string; name: string };
  ms: number;
  typicalMs: number;
  share: number;
}> {
  const same = peers.filter((p) => p.operation === trace.operation && p.traceId !== trace.traceId);
  if (same.length === 0) return [];
  const typical = median(same.map((t) => t.durationMs));
  const excess = trace.durationMs - typical;
  const mine = stageTimes(trace);
  const rows = [];
  for (const [key, ms] of mine.onPath) {
    // The root is the whole request; its stages are the answer.
    if ((mine.depth.get(key) ?? 0) < 1) continue;
    const typicalMs = median(same.map((t) => stageTimes(t).onPath.get(key) ?? 0));
    rows.push({
      stage: parseKey(key),
      ms,
      typicalMs,
      share: excess > 0 ? Math.max(0, ms - typicalMs) / excess : 0,
    });
  }
  return rows.sort((a, b) => b.ms - b.typicalMs - (a.ms - a.typicalMs));
}

// ---------------------------------------------------------------------------------------------
// Queueing

/** Time spent waiting: queue waits between producers and consumers, and gaps with no span. */
export function findQueueing(all: readonly InsightTrace[]): Finding[] {
  if (all.length < 3) return [];
  const waits = (t: InsightTrace) => {
    const byQueue = new Map<string, number>();
    for (const w of t.analysis.queueWaits) {
      byQueue.set(w.queue, (byQueue.get(w.queue) ?? 0) + w.waitMs);
    }
    const queued = [...byQueue.values()].reduce((a, b) => a + b, 0);
    return { t, byQueue, queued, share: queued / t.durationMs };
  };
  // The verdict is about the latest traces; the trend is over the whole window.
  const window = [...all]
    .filter((t) => t.durationMs > 0)
    .sort((a, b) => a.startMs - b.startMs)
    .map(waits);
  const rows = latest(all, 10)
    .filter((t) => t.durationMs > 0)
    .map(waits)
    .sort((a, b) => a.t.startMs - b.t.startMs);
  const medianShare = median(rows.map((r) => r.share));
  const medianWait = median(rows.map((r) => r.queued));
  if (!(medianShare >= 0.3 && medianWait >= 50)) return [];
  const totals = new Map<string, number>();
  for (const r of rows) for (const [q, ms] of r.byQueue) totals.set(q, (totals.get(q) ?? 0) + ms);
  const queue = [...totals].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'a queue';
  const typical = rows[Math.floor(rows.length / 2)]!;
  const trend = window.map((r) => r.queued);
  const half = Math.floor(trend.length / 2);
  const first = median(trend.slice(0, half));
  const second = median(trend.slice(half));
  const direction = second > first * 1.2 ? 'rising' : second < first / 1.2 ? 'falling' : 'steady';
  const medianDuration = median(rows.map((r) => r.t.durationMs));
  return [
    {
      kind: 'queueing',
      severity: medianShare >= 0.5 ? 'critical' : 'warning',
      score: medianWait,
      title:
        `${formatMs(medianWait)} of ${formatMs(medianDuration)} spent waiting in ${queue} ` +
        `(${pct(medianShare)} of the request, ${direction})`,
      numbers: {
        queue,
        medianWaitMs: medianWait,
        medianDurationMs: medianDuration,
        medianShare,
        trend: direction,
      },
      traceIds: [...rows]
        .sort((a, b) => b.queued - a.queued)
        .slice(0, 5)
        .map((r) => r.t.traceId),
      evidence: { waitsMs: trend, exampleTraceId: typical.t.traceId },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// A bad instance

/**
 * Keys that name where a span ran (an instance): a value of one of these standing out is a bad
 * instance. Any other low-cardinality attribute (a request's size, a parameter) standing out is
 * reported as a correlation: an explanation of the latency, not a broken replica.
 */
const INSTANCE_KEYS = new Set([
  'replica',
  'service.instance.id',
  'host.name',
  'host.id',
  'model.version',
  'model.device',
  'k8s.pod.name',
  'k8s.node.name',
  'container.id',
  'process.pid',
]);

function isInstanceKey(key: string): boolean {
  return INSTANCE_KEYS.has(key) || key.endsWith('.replica') || key.endsWith('.instance.id');
}
const MAX_GROUPS = 8;
const MIN_GROUP = 5;

function scalarText(v: KeyValueJson['value']): string | undefined {
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return v.intValue;
  if ('boolValue' in v) return String(v.boolValue);
  return undefined;
}

interface Group {
  durations: number[];
  errors: number;
  traceIds: string[];
}

/** Splits each stage's spans by attribute values and names a value whose spans stand out. */
export function findBadInstances(
  all: readonly InsightTrace[],
  attributes: (span: SpanRecord) => readonly KeyValueJson[],
): Finding[] {
  const traces = latest(all, 30);
  const byStage = new Map<StageKey, Array<{ span: SpanRecord; traceId: string }>>();
  for (const t of traces) {
    for (const s of t.spans) {
      const k = stageKey(s.serviceName, s.name);
      let list = byStage.get(k);
      if (list === undefined) byStage.set(k, (list = []));
      list.push({ span: s, traceId: t.traceId });
    }
  }
  const out: Finding[] = [];
  const e2eMedian = median(traces.map((t) => t.durationMs));
  for (const [key, spans] of byStage) {
    if (spans.length < 2 * MIN_GROUP) continue;
    // key -> value -> group
    const splits = new Map<string, Map<string, Group>>();
    for (const { span, traceId } of spans.slice(-2000)) {
      const kvs = [...span.resource.attributes, ...attributes(span)];
      for (const kv of kvs) {
        const value = scalarText(kv.value);
        if (value === undefined) continue;
        let groups = splits.get(kv.key);
        if (groups === undefined) splits.set(kv.key, (groups = new Map()));
        if (groups.size > MAX_GROUPS) continue;
        let g = groups.get(value);
        if (g === undefined) groups.set(value, (g = { durations: [], errors: 0, traceIds: [] }));
        g.durations.push(span.durationMs);
        if (span.isError) g.errors++;
        if (g.traceIds.length < 5) g.traceIds.push(traceId);
      }
    }
    // The best instance finding and the best correlation of the stage, kept apart so a strong
    // correlation never hides a bad replica.
    const best: { instance?: Finding; correlation?: Finding } = {};
    for (const [attr, groups] of splits) {
      if (groups.size < 2 || groups.size > MAX_GROUPS) continue;
      const total = [...groups.values()].reduce((n, g) => n + g.durations.length, 0);
      // An attribute on only some spans, or one value per span, does not split the stage.
      if (total < spans.length * 0.9) continue;
      for (const [value, g] of groups) {
        if (g.durations.length < MIN_GROUP) continue;
        const rest: number[] = [];
        let restErrors = 0;
        for (const [v2, g2] of groups) {
          if (v2 === value) continue;
          rest.push(...g2.durations);
          restErrors += g2.errors;
        }
        if (rest.length < MIN_GROUP) continue;
        const p95 = quantile(g.durations, 0.95);
        const restP95 = quantile(rest, 0.95);
        const err = g.errors / g.durations.length;
        const restErr = restErrors / rest.length;
        // Slow: the whole distribution moved (median and tail), not a couple of outliers, and
        // by an amount that matters to the request (a tenth of a typical request).
        const slow =
          p95 >= 2 * restP95 &&
          p95 - restP95 >= Math.max(20, 0.1 * e2eMedian) &&
          median(g.durations) >= 1.5 * median(rest);
        const failing = err - restErr >= 0.15 && err >= 2 * restErr;
        if (!slow && !failing) continue;
        // Weight by the group's share of the stage: one bad replica of three matters.
        const instance = isInstanceKey(attr);
        const score =
          (Math.max(0, p95 - restP95) + (err - restErr) * 1000) *
          (g.durations.length / total) *
          (instance ? 2 : 1);
        const slot = instance ? 'instance' : 'correlation';
        const current = best[slot];
        if (current !== undefined && current.score >= score) continue;
        const stage = parseKey(key);
        best[slot] = {
          kind: instance ? 'bad-instance' : 'attribute-correlation',
          severity: !instance ? 'info' : failing || p95 >= 4 * restP95 ? 'critical' : 'warning',
          score,
          title:
            `${stage.name} on ${attr}=${value}: p95 ${formatMs(p95)}, ${pct(err)} errors ` +
            `vs ${formatMs(restP95)}, ${pct(restErr)} elsewhere`,
          stage,
          numbers: {
            attribute: attr,
            value,
            p95Ms: p95,
            errorRate: err,
            count: g.durations.length,
            restP95Ms: restP95,
            restErrorRate: restErr,
            restCount: rest.length,
          },
          traceIds: g.traceIds,
          evidence: {
            group: { p50Ms: median(g.durations), p95Ms: p95, count: g.durations.length },
            rest: { p50Ms: median(rest), p95Ms: restP95, count: rest.length },
          },
        };
      }
    }
    if (best.instance !== undefined) out.push(best.instance);
    if (best.correlation !== undefined) out.push(best.correlation);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** The stage where requests fail, with the exception seen most. */
export function findErrors(
  all: readonly InsightTrace[],
  exceptionOf: (span: SpanRecord) => string | undefined,
): Finding[] {
  if (all.length < 3) return [];
  const traces = latest(all, 30);
  const failedTraces = new Map<StageKey, Set<string>>();
  const messages = new Map<StageKey, Map<string, number>>();
  for (const t of traces) {
    const tree = t.analysis.tree;
    for (const s of tree.spans) {
      // Only where an error starts: a parent that fails because its child failed is not news.
      if (!s.isError || tree.children(s.spanId).some((c) => c.isError)) continue;
      // Reported at the stage a user knows: the ancestor just below the root.
      let stageSpan = s;
      for (let p = tree.parentOf(stageSpan); p !== undefined; p = tree.parentOf(p)) {
        if (tree.parentOf(p) === undefined) break;
        stageSpan = p;
      }
      const k = stageKey(stageSpan.serviceName, stageSpan.name);
      let set = failedTraces.get(k);
      if (set === undefined) failedTraces.set(k, (set = new Set()));
      set.add(t.traceId);
      const msg = exceptionOf(s);
      if (msg !== undefined) {
        let m = messages.get(k);
        if (m === undefined) messages.set(k, (m = new Map()));
        m.set(msg, (m.get(msg) ?? 0) + 1);
      }
    }
  }
  const out: Finding[] = [];
  for (const [key, failed] of failedTraces) {
    const rate = failed.size / traces.length;
    if (rate < 0.05 || failed.size < 2) continue;
    const stage = parseKey(key);
    const top = [...(messages.get(key) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]);
    const message = top[0]?.[0];
    out.push({
      kind: 'errors',
      severity: rate >= 0.1 ? 'critical' : 'warning',
      // An error is worth about a second of latency in the ordering.
      score: rate * traces.length * 1000,
      title:
        `${stage.name} failed in ${pct(rate)} of requests (${failed.size} of ${traces.length})` +
        (message ? `: ${message}` : ''),
      stage,
      numbers: { errorRate: rate, failed: failed.size, traces: traces.length },
      traceIds: [...failed].slice(0, 5),
      evidence: { exceptions: Object.fromEntries(top.slice(0, 5)) },
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Untraced time

/** Spans with children whose own (uncovered) time is a large part of the critical path. */
export function findUntracedTime(traces: readonly InsightTrace[]): Finding[] {
  if (traces.length < 3) return [];
  const shares = new Map<StageKey, { shares: number[]; selfMs: number[]; traceIds: string[] }>();
  for (const t of traces) {
    const { tree, criticalPath, selfTimes } = t.analysis;
    if (criticalPath.durationMs <= 0) continue;
    for (const s of tree.spans) {
      if (tree.children(s.spanId).length === 0) continue;
      const self = selfTimes.get(s.spanId) ?? 0;
      const onPath = criticalPath.bySpan.get(s.spanId) ?? 0;
      const untraced = Math.min(self, onPath);
      const k = stageKey(s.serviceName, s.name);
      let e = shares.get(k);
      if (e === undefined) shares.set(k, (e = { shares: [], selfMs: [], traceIds: [] }));
      e.shares.push(untraced / criticalPath.durationMs);
      e.selfMs.push(untraced);
      if (e.traceIds.length < 5) e.traceIds.push(t.traceId);
    }
  }
  const out: Finding[] = [];
  for (const [key, e] of shares) {
    const share = median(e.shares);
    const ms = median(e.selfMs);
    if (share < 0.3 || ms < 50) continue;
    const stage = parseKey(key);
    out.push({
      kind: 'untraced-time',
      severity: share >= 0.5 ? 'warning' : 'info',
      score: ms * 0.5,
      title:
        `${formatMs(ms)} (${pct(share)} of the critical path) is inside ${stage.name} ` +
        `but outside its child spans: add a span there`,
      stage,
      numbers: { untracedMs: ms, shareOfCriticalPath: share },
      traceIds: e.traceIds,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Baselines

/** Summarises the traces' stages (per-trace stage totals) as a baseline. */
export function makeBaseline(
  traces: readonly InsightTrace[],
  label: string,
  now = Date.now(),
): Baseline {
  const per = new Map<StageKey, number[]>();
  for (const t of traces) {
    for (const [k, ms] of stageTimes(t).total) {
      let list = per.get(k);
      if (list === undefined) per.set(k, (list = []));
      list.push(ms);
    }
  }
  return {
    label,
    pinnedAt: now,
    stages: [...per].map(([k, v]) => ({
      ...parseKey(k),
      count: v.length,
      p50Ms: median(v),
      p95Ms: quantile(v, 0.95),
    })),
  };
}

/** Stage-by-stage change of p95 against a pinned baseline. */
export function compareToBaseline(
  traces: readonly InsightTrace[],
  baseline: Baseline,
): Array<{ service: string; name: string; p95Ms: number; baselineP95Ms: number; change: number }> {
  const now = makeBaseline(traces, 'now');
  const rows = [];
  for (const s of now.stages) {
    const b = baseline.stages.find((x) => x.service === s.service && x.name === s.name);
    if (b === undefined || b.p95Ms <= 0) continue;
    rows.push({
      service: s.service,
      name: s.name,
      p95Ms: s.p95Ms,
      baselineP95Ms: b.p95Ms,
      change: (s.p95Ms - b.p95Ms) / b.p95Ms,
    });
  }
  return rows;
}

/** The traces received since the baseline was pinned: those are the "after". */
export function tracesSince(traces: readonly InsightTrace[], baseline: Baseline): InsightTrace[] {
  return traces.filter((t) => (t.receivedAt ?? t.startMs) >= baseline.pinnedAt);
}

function findBaselineChanges(all: readonly InsightTrace[], baseline: Baseline): Finding[] {
  const traces = tracesSince(all, baseline);
  if (traces.length < MIN_SIDE) return [];
  return compareToBaseline(traces, baseline)
    .filter((r) => Math.abs(r.change) >= 0.2 && Math.abs(r.p95Ms - r.baselineP95Ms) >= 20)
    .map((r) => ({
      kind: 'baseline-change' as const,
      severity: r.change > 0 ? ('warning' as const) : ('info' as const),
      score: Math.max(0, r.p95Ms - r.baselineP95Ms) * 0.8,
      title:
        `${r.name} p95 ${formatMs(r.p95Ms)}, ${r.change > 0 ? '+' : ''}${pct(r.change)} ` +
        `vs baseline ${baseline.label}`,
      stage: { service: r.service, name: r.name },
      numbers: { p95Ms: r.p95Ms, baselineP95Ms: r.baselineP95Ms, change: r.change },
      traceIds: [],
    }));
}

// ---------------------------------------------------------------------------------------------
// What a speed-up is worth

/**
 * Projects end-to-end p95 with one stage `factor` times faster: each trace's duration loses the
 * saved part of that stage's time on its critical path. A first-order estimate: it assumes the
 * path stays critical (another branch may become the limit), so it is an upper bound on the gain.
 */
export function speedupWhatIf(traces: readonly InsightTrace[], factor = 2): WhatIf[] {
  if (traces.length === 0) return [];
  const stages = new Set<StageKey>();
  for (const t of traces) {
    const st = stageTimes(t);
    for (const k of st.onPath.keys()) if ((st.depth.get(k) ?? 0) >= 1) stages.add(k);
  }
  const before = quantile(
    traces.map((t) => t.durationMs),
    0.95,
  );
  const out: WhatIf[] = [];
  for (const key of stages) {
    const after = quantile(
      traces.map((t) => t.durationMs - (stageTimes(t).onPath.get(key) ?? 0) * (1 - 1 / factor)),
      0.95,
    );
    out.push({
      stage: parseKey(key),
      factor,
      p95BeforeMs: before,
      p95AfterMs: after,
      traces: traces.length,
    });
  }
  return out.sort((a, b) => a.p95AfterMs - b.p95AfterMs);
}

// ---------------------------------------------------------------------------------------------
// Sampling what-if

export interface SamplingPolicy {
  /** Head sampling ratio, 0..1. */
  headRatio: number;
  /** Tail sampling keeps every trace with an error. */
  keepErrors: boolean;
  /** Tail sampling keeps every trace at least this long (ms); undefined: no latency rule. */
  latencyThresholdMs?: number;
}

export interface SamplingTally {
  kept: number;
  lostSlow: number;
  lostErrors: number;
  /** Ids of the slow and the failed traces this policy would have dropped (at most 100 each). */
  lostSlowTraceIds: string[];
  lostErrorTraceIds: string[];
}

export interface SamplingOutcome {
  traces: number;
  head: SamplingTally;
  tail: SamplingTally;
  /** What counted as slow: the p95 of the traces. */
  slowThresholdMs: number;
}

/**
 * Head sampling decides on the trace id alone (the W3C random bits: the low 56 bits), as
 * probability samplers do; tail sampling sees the whole trace.
 */
export function samplingWhatIf(
  traces: ReadonlyArray<Pick<InsightTrace, 'traceId' | 'durationMs' | 'spans'>>,
  policy: SamplingPolicy,
): SamplingOutcome {
  const slow = quantile(
    traces.map((t) => t.durationMs),
    0.95,
  );
  const tally = (): SamplingTally => ({
    kept: 0,
    lostSlow: 0,
    lostErrors: 0,
    lostSlowTraceIds: [],
    lostErrorTraceIds: [],
  });
  const head = tally();
  const tail = tally();
  const threshold = policy.headRatio * 2 ** 56;
  for (const t of traces) {
    const random = parseInt(t.traceId.slice(18), 16);
    const isSlow = t.durationMs >= slow && traces.length > 1;
    const hasError = t.spans.some((s) => s.isError);
    const keptHead = random < threshold;
    const keptTail =
      (policy.keepErrors && hasError) ||
      (policy.latencyThresholdMs !== undefined && t.durationMs >= policy.latencyThresholdMs) ||
      keptHead;
    for (const [kept, tally] of [
      [keptHead, head],
      [keptTail, tail],
    ] as const) {
      if (kept) tally.kept++;
      else {
        if (isSlow && tally.lostSlow++ < 100) tally.lostSlowTraceIds.push(t.traceId);
        if (hasError && tally.lostErrors++ < 100) tally.lostErrorTraceIds.push(t.traceId);
      }
    }
  }
  return { traces: traces.length, head, tail, slowThresholdMs: slow };
}

// ---------------------------------------------------------------------------------------------

const SEVERITY_RANK: Record<Severity, number> = { critical: 2, warning: 1, info: 0 };

/** Runs every diagnosis; findings ordered by severity, then score. */
export function computeInsights(
  traces: readonly InsightTrace[],
  opts: InsightOptions,
): InsightsReport {
  const findings = [
    ...findRegressions(traces),
    ...findQueueing(traces),
    ...findBadInstances(traces, opts.attributes),
    ...findErrors(traces, opts.errorMessage ?? (() => undefined)),
    ...findUntracedTime(traces),
    ...(opts.baseline ? findBaselineChanges(traces, opts.baseline) : []),
  ];
  // A bad instance is the more specific diagnosis of its stage: its slowness or errors are
  // also what the stage's regression or error finding saw, so it goes first.
  for (const bad of findings) {
    if (bad.kind !== 'bad-instance') continue;
    for (const other of findings) {
      if (other === bad || other.stage === undefined || bad.stage === undefined) continue;
      if (other.stage.service !== bad.stage.service || other.stage.name !== bad.stage.name)
        continue;
      if (SEVERITY_RANK[other.severity] > SEVERITY_RANK[bad.severity])
        bad.severity = other.severity;
      if (other.score >= bad.score) bad.score = other.score + 1;
    }
  }
  findings.sort(
    (a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.score - a.score,
  );
  return { traces: traces.length, findings, whatIf: speedupWhatIf(traces).slice(0, 8) };
}
