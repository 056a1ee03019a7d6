/**
 * The insights as people read them: a finding's numbers labelled and formatted, whether a
 * finding concerns a given trace, the waterfall side panel's payload, lens and hover texts
 * against the baseline, notifications, and the sampling what-if report. The Insights view, the
 * lenses, the hovers and the webview all take their text from here, so a number reads the same
 * wherever it shows.
 *
 * Pure and plain Node, and only type imports from `analysis/`: the editor's activation bundle
 * imports this module, and a value import of the diagnoses would pull them (and the statistics'
 * sketch library) into it.
 */

import type { Explanation } from '../analysis/insights/explain.js';
import type {
  BaselineStatus,
  Finding,
  InsightsReport,
  Severity,
  StageDelta,
  WhatIf,
} from '../analysis/insights/types.js';
import type {
  SamplingOutcome,
  SamplingPolicy,
  SampledTrace,
} from '../analysis/insights/sampling.js';
import type { TraceFacts } from '../analysis/trace-facts.js';
import {
  formatChange,
  nounFor,
  formatDelta,
  formatDuration,
  formatPercent,
  formatRate,
  formatShare,
} from '../../shared/format.js';
import { stageKey } from '../../shared/stage-key.js';
import type {
  ExplainRowPayload,
  InsightFindingPayload,
  InsightsNotification,
} from '../../protocol/messages.js';

// ----- numbers ---------------------------------------------------------------------------

/** Labels of the findings' `numbers` keys; unknown keys get a label from their name. */
const NUMBER_LABELS: Record<string, string> = {
  typicalMs: 'typical',
  recentMs: 'now',
  deltaMs: 'change',
  shareOfExcess: "share of the request's increase",
  e2eTypicalMs: 'request, typical',
  e2eRecentMs: 'request, now',
  recentTraces: 'traces now',
  baselineTraces: 'traces compared with',
  z: 'significance (z)',
  queue: 'queue',
  medianWaitMs: 'median wait',
  medianDurationMs: 'median request',
  medianShare: 'share of the request',
  trend: 'trend',
  attribute: 'attribute',
  value: 'value',
  p95Ms: 'p95',
  errorRate: 'error rate',
  errorP: 'chance (p)',
  count: 'spans',
  restP95Ms: 'p95 elsewhere',
  restErrorRate: 'error rate elsewhere',
  restCount: 'spans elsewhere',
  failed: 'failed traces',
  traces: 'traces',
  cause: 'cause',
  causeFailures: 'failures with it',
  causeSuccesses: 'successes with it',
  causeP: 'chance (p)',
  untracedMs: 'untraced time',
  shareOfCriticalPath: 'share of the critical path',
  baselineShare: 'share in the baseline',
  baselineP95Ms: 'baseline p95',
  baselineWaitMs: 'wait in the baseline',
  change: 'change vs baseline',
  waitMs: 'wait',
  waitBeforeMs: 'before the worker started',
  waitAfterMs: 'after the worker ended',
  shareOfRequest: 'share of the request',
  callee: 'waiting for',
  workers: 'workers',
  busyTraces: 'traces with the worker busy',
  processes: 'processes',
  loadMs: 'load on the critical path',
  firstRequestMs: 'first requests',
  laterRequestMs: 'later requests',
  firstRequests: 'first requests',
  laterRequests: 'later requests',
  slowFirsts: 'processes with a slow first request',
  extraMs: 'extra on the first request',
  ratio: 'first / later',
  calls: 'calls',
  ttftMs: 'time to first token',
  tokensPerSec: 'decode tokens/s',
  outputTokens: 'tokens out',
  inputTokens: 'tokens in',
  prefillMs: 'prefill',
  decodeMs: 'decode',
  decodeShare: 'decode share of the critical path',
  repeats: 'repeated inputs computed again',
  computations: 'runs of the stage',
  repeatShare: 'share repeated',
  savedEachMs: 'saved per repeat',
  savedTotalMs: 'saved in all',
  device: 'device',
  computeShare: 'share of device time',
  latencyShare: 'share of the latency',
  savedMs: 'would save',
  first: 'first',
  second: 'then',
};

function labelOf(key: string): string {
  return (
    NUMBER_LABELS[key] ??
    key
      .replace(/Ms$/, '')
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .toLowerCase()
  );
}

/** One number for people: durations for `...Ms`, percentages for shares and rates. */
export function formatNumber(key: string, v: number | string): string {
  if (typeof v === 'string') return v;
  if (key === 'deltaMs' || key === 'extraMs') return formatDelta(v);
  if (/Ms$/.test(key)) return formatDuration(v);
  if (key === 'change') return formatChange(v);
  if (key === 'errorP' || key === 'causeP') return v < 0.0001 ? '< 0.0001' : v.toPrecision(2);
  if (key === 'ratio') return `${v.toFixed(1)}x`;
  if (key === 'tokensPerSec') return `${formatRate(v)}/s`;
  if (/(Share|Rate|share|Excess|Path|Request)$/.test(key) || key === 'errorRate') {
    return formatShare(v);
  }
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2);
}

const SPARK = '▁▂▃▄▅▆▇█';

/** A one-line chart of a series (oldest first), at most `width` characters. */
export function sparkline(values: readonly number[], width = 24): string {
  if (values.length === 0) return '';
  // Buckets of consecutive values, averaged, so a long series fits the width.
  const n = Math.min(width, values.length);
  const buckets: number[] = [];
  for (let i = 0; i < n; i++) {
    const from = Math.floor((i * values.length) / n);
    const to = Math.max(from + 1, Math.floor(((i + 1) * values.length) / n));
    let sum = 0;
    for (let j = from; j < to; j++) sum += values[j] ?? 0;
    buckets.push(sum / (to - from));
  }
  const max = Math.max(...buckets);
  if (max <= 0) return SPARK[0]!.repeat(n);
  return buckets
    .map((b) => SPARK[Math.min(SPARK.length - 1, Math.round((b / max) * (SPARK.length - 1)))]!)
    .join('');
}

function evidenceRows(f: Finding): Array<{ label: string; value: string }> {
  const ev = f.evidence;
  if (ev === undefined) return [];
  const rows: Array<{ label: string; value: string }> = [];
  const waits = ev.waitsMs;
  if (Array.isArray(waits) && waits.every((w) => typeof w === 'number') && waits.length > 1) {
    rows.push({ label: 'wait per trace (oldest first)', value: sparkline(waits) });
  }
  const dist = (v: unknown): string | undefined => {
    if (typeof v !== 'object' || v === null) return undefined;
    const d = v as Record<string, unknown>;
    if (typeof d.p50Ms !== 'number' || typeof d.p95Ms !== 'number') return undefined;
    const n = typeof d.count === 'number' ? ` · n=${d.count}` : '';
    return `p50 ${formatDuration(d.p50Ms)} · p95 ${formatDuration(d.p95Ms)}${n}`;
  };
  const group = dist(ev.group);
  const rest = dist(ev.rest);
  if (group !== undefined && rest !== undefined) {
    const name =
      typeof f.numbers.attribute === 'string' && typeof f.numbers.value === 'string'
        ? `${f.numbers.attribute}=${f.numbers.value}`
        : 'this group';
    rows.push({ label: name, value: group }, { label: 'elsewhere', value: rest });
  }
  const moved = ev.movedAttributes;
  if (Array.isArray(moved)) {
    for (const m of moved as Array<{ key?: unknown; was?: unknown; now?: unknown }>) {
      if (typeof m.key === 'string') {
        rows.push({ label: `${m.key} moved`, value: `${String(m.was)} → ${String(m.now)}` });
      }
    }
  }
  const inside = ev.inside;
  if (Array.isArray(inside)) {
    for (const x of inside as Array<{ name?: unknown; service?: unknown; pathMs?: unknown }>) {
      if (typeof x.name === 'string' && typeof x.pathMs === 'number') {
        rows.push({
          label: `inside: ${x.name}`,
          value: `${formatDuration(x.pathMs)} · ${String(x.service)}`,
        });
      }
    }
  }
  const exceptions = ev.exceptions;
  if (typeof exceptions === 'object' && exceptions !== null) {
    let i = 0;
    for (const [message, count] of Object.entries(exceptions as Record<string, unknown>)) {
      if (typeof count === 'number')
        rows.push({ label: `exception ${++i} (${count}×)`, value: message });
    }
  }
  return rows;
}

/** The numbers behind a finding, labelled and formatted, then its evidence. */
export function findingNumbers(f: Finding): Array<{ label: string; value: string }> {
  const rows = Object.entries(f.numbers).map(([k, v]) => ({
    label: labelOf(k),
    value: formatNumber(k, v),
  }));
  return [...rows, ...evidenceRows(f)];
}

/** Words for a finding kind, as the views' descriptions use them. */
export function kindLabel(kind: string): string {
  switch (kind) {
    case 'stage-regression':
      return 'stage regressed';
    case 'dominant-stage':
      return 'where the time goes';
    case 'queueing':
      return 'queueing';
    case 'remote-wait':
      return 'waiting for a worker';
    case 'bad-instance':
      return 'bad instance';
    case 'attribute-correlation':
      return 'correlation';
    case 'errors':
      return 'errors';
    case 'cold-start':
      return 'cold start';
    case 'untraced-time':
      return 'untraced time';
    case 'llm':
      return 'LLM';
    case 'caching':
      return 'caching opportunity';
    case 'compute-share':
      return 'compute vs latency';
    case 'parallelism':
      return 'parallelization opportunity';
    case 'baseline-change':
      return 'vs baseline';
    default:
      return kind;
  }
}

/** Codicon and theme colour of a severity. */
export function severityIcon(s: Severity): { icon: string; color: string } {
  if (s === 'critical') return { icon: 'error', color: 'errorForeground' };
  if (s === 'warning') return { icon: 'warning', color: 'editorWarning.foreground' };
  return { icon: 'info', color: 'editorInfo.foreground' };
}

/**
 * A stable id for a finding, so that a tree view keeps its expansion across refreshes: the kind,
 * the stage, and what tells two findings of one stage apart (an attribute value, a queue, a
 * callee), and whether it is stale.
 */
export function findingId(f: Finding): string {
  return [
    f.stale === true ? 'stale' : 'now',
    f.kind,
    f.stage?.service ?? '',
    f.stage?.name ?? '',
    String(f.numbers.attribute ?? ''),
    String(f.numbers.value ?? ''),
    String(f.numbers.queue ?? ''),
    String(f.numbers.callee ?? ''),
  ].join('\u0000');
}

/** "reranking 2x faster: end-to-end p95 2.30 s → 1.70 s (-26%)". */
export function whatIfText(w: WhatIf): string {
  const change = w.p95BeforeMs > 0 ? (w.p95AfterMs - w.p95BeforeMs) / w.p95BeforeMs : 0;
  return (
    `${w.stage.name} ${w.factor}x faster: end-to-end p95 ${formatDuration(w.p95BeforeMs)} → ` +
    `${formatDuration(w.p95AfterMs)} (${formatChange(change)})`
  );
}

/** "embedding and retrieve at once: up to 40 ms less (if independent)". */
export function parallelText(p: InsightsReport['parallel'][number]): string {
  return (
    `${p.first.name} and ${p.second.name} at once: about ${formatDuration(p.savedMs)} less` +
    (p.orderVaries ? ' (they run in either order)' : ' (if they are independent)')
  );
}

// ----- the open trace ------------------------------------------------------------------------

/**
 * Whether a finding is about this trace: the trace is among its traces, or shows its symptom
 * (the stage takes at least half the finding's "now" figure in it, it failed in that stage, its
 * span of the stage carries the bad value, it waited in that queue). A finding whose stage
 * merely runs in the trace is not about it.
 */
export function concernsTrace(f: Finding, t: TraceFacts): boolean {
  if (f.traceIds.includes(t.traceId)) return true;
  const key = f.stage === undefined ? undefined : stageKey(f.stage.service, f.stage.name);
  const st = key === undefined ? undefined : t.stages.get(key);
  const num = (k: string): number => {
    const v = f.numbers[k];
    return typeof v === 'number' ? v : NaN;
  };
  switch (f.kind) {
    case 'stage-regression':
      return st !== undefined && st.pathMs >= (num('typicalMs') + num('recentMs')) / 2;
    case 'dominant-stage':
      return st !== undefined && st.pathMs >= 0.5 * num('typicalMs');
    case 'untraced-time':
      return st !== undefined && st.untracedPathMs >= 0.5 * num('untracedMs');
    case 'remote-wait': {
      if (key === undefined) return false;
      let wait = 0;
      for (const c of t.calls) {
        if (c.callerStage === key && c.calleeService === f.numbers.callee) {
          wait += c.beforeOnPathMs + c.afterOnPathMs;
        }
      }
      return wait >= 0.5 * num('waitMs');
    }
    case 'errors':
      return t.errors.some((e) => e.stage === key);
    case 'bad-instance':
    case 'attribute-correlation': {
      const attr = String(f.numbers.attribute);
      const value = String(f.numbers.value);
      for (let i = 0; i < t.spans.length; i++) {
        if (t.stageOf[i] !== key) continue;
        const a = t.attrs[i] ?? [];
        for (let j = 0; j < a.length; j += 2) if (a[j] === attr && a[j + 1] === value) return true;
        if (
          t.spans[i]!.resource.attributes.some(
            (r) => r.key === attr && 'stringValue' in r.value && r.value.stringValue === value,
          )
        ) {
          return true;
        }
      }
      return false;
    }
    case 'queueing': {
      const q = t.queueWaits.get(String(f.numbers.queue)) ?? 0;
      return q >= 0.5 * num('medianWaitMs');
    }
    case 'cold-start':
    case 'llm':
    case 'caching':
    case 'compute-share':
    case 'parallelism':
    case 'baseline-change':
      return st !== undefined;
  }
}

/** Most findings sent to the webview. */
const PANEL_FINDINGS = 20;
/** Most explain rows sent: the stages furthest above typical. */
const PANEL_EXPLAIN = 8;

function findingPayload(f: Finding, relevant: boolean): InsightFindingPayload {
  return {
    kind: f.kind,
    kindLabel: kindLabel(f.kind),
    severity: f.severity,
    title: f.title,
    ...(f.stage !== undefined ? { stage: { ...f.stage } } : {}),
    numbers: findingNumbers(f),
    traceIds: [...f.traceIds],
    relevant,
    ...(f.stale === true ? { stale: true } : {}),
  };
}

/**
 * The insights notification for the trace open in the waterfall: the findings that concern it
 * first (see {@link concernsTrace}), then the others; stale ones last; the trace's stages
 * against typical.
 */
export function insightsForTrace(
  report: InsightsReport,
  facts: TraceFacts | undefined,
  explanation: Explanation | undefined,
): InsightsNotification {
  const current = report.findings.map((f) =>
    findingPayload(f, facts !== undefined && concernsTrace(f, facts)),
  );
  const stale = report.stale.map((f) =>
    findingPayload(f, facts !== undefined && concernsTrace(f, facts)),
  );
  const findings = [
    ...current.filter((f) => f.relevant),
    ...current.filter((f) => !f.relevant),
    ...stale,
  ].slice(0, PANEL_FINDINGS);
  const rows: ExplainRowPayload[] = (explanation?.rows ?? []).slice(0, PANEL_EXPLAIN).map((r) => ({
    service: r.stage.service,
    name: r.stage.name,
    ms: r.ms,
    typicalMs: r.typicalMs,
    share: r.share,
  }));
  return {
    type: 'insights',
    traceId: facts?.traceId ?? null,
    traces: report.traces,
    findings,
    explain: rows,
    ...(explanation !== undefined && explanation.peers > 0
      ? { typical: { durationMs: explanation.typicalMs, peers: explanation.peers } }
      : {}),
    baseline: {
      state: report.baseline.state,
      message: report.baseline.message,
      ...(report.baseline.label !== undefined ? { label: report.baseline.label } : {}),
    },
    ...(report.pathTree.nodes.length > 0
      ? {
          criticalPath: {
            traces: report.pathTree.traces,
            meanMs: report.pathTree.meanMs,
            nodes: report.pathTree.nodes.map((n) => ({ ...n })),
          },
        }
      : {}),
  };
}

/** The one line the views show about the baseline (and its absence). */
export function baselineLine(b: BaselineStatus): string {
  return b.message;
}

// ----- baselines -----------------------------------------------------------------------------

/** Labels longer than this are cut in a lens. */
const LENS_LABEL_MAX = 16;

/**
 * A stage's change against the baseline. Short (the lens's suffix): its time on the critical
 * path against the baseline's, "+1.20 s vs baseline a1b2c3d"; long (the hover): "critical path
 * 1.40 s, +1.20 s vs baseline a1b2c3d (200 ms); p95 2.10 s, +12% (1.88 s)".
 */
export function baselineLensText(
  c: Pick<StageDelta, 'p95Ms' | 'baselineP95Ms' | 'change' | 'pathMs' | 'baselinePathMs'>,
  label: string,
  form: 'short' | 'long' = 'short',
): string {
  const short = label.length > LENS_LABEL_MAX ? `${label.slice(0, LENS_LABEL_MAX - 1)}…` : label;
  const delta = c.pathMs - c.baselinePathMs;
  const path = `${Math.abs(delta) < 0.05 ? '±0 ms' : formatDelta(delta)} vs baseline ${short}`;
  return form === 'short'
    ? path
    : `critical path ${formatDuration(c.pathMs)}, ${path} (${formatDuration(c.baselinePathMs)}); ` +
        `p95 ${formatDuration(c.p95Ms)}, ${formatChange(c.change)} (${formatDuration(c.baselineP95Ms)})`;
}

/** An LLM stage's lens suffix from its `llm` finding: "TTFT 101 ms · 53 tokens/s". */
export function llmLensText(f: Finding): string | undefined {
  if (f.kind !== 'llm') return undefined;
  const parts: string[] = [];
  if (typeof f.numbers.ttftMs === 'number') parts.push(`TTFT ${formatDuration(f.numbers.ttftMs)}`);
  if (typeof f.numbers.tokensPerSec === 'number') {
    parts.push(`${formatRate(f.numbers.tokensPerSec)} tokens/s`);
  }
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

// ----- notifications -------------------------------------------------------------------------

/** At most one notification per key per `intervalMs`. */
export class NotifyGate {
  private readonly last = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  /** True (and remembered) when `key` was not let through within the interval before `now`. */
  allow(key: string, now: number): boolean {
    const t = this.last.get(key);
    if (t !== undefined && now - t < this.intervalMs) return false;
    this.last.set(key, now);
    return true;
  }
}

/** The stage regressions worth a notification now, in report order. */
export function regressionsToNotify(
  report: InsightsReport,
  gate: NotifyGate,
  now: number,
): Finding[] {
  return report.findings.filter(
    (f) =>
      f.kind === 'stage-regression' &&
      f.stage !== undefined &&
      f.severity !== 'info' &&
      gate.allow(stageKey(f.stage.service, f.stage.name), now),
  );
}

// ----- sampling what-if ----------------------------------------------------------------------

/** Parses "0.1", "10%", ".25": a ratio in 0..1, or undefined. */
export function parseRatio(text: string): number | undefined {
  const m = /^\s*(\d*\.?\d+)\s*(%?)\s*$/.exec(text);
  if (m === null) return undefined;
  const v = Number(m[1]) / (m[2] === '%' ? 100 : 1);
  return v >= 0 && v <= 1 ? v : undefined;
}

/** Parses "", "none" (no latency rule), "500ms", "1.5s", "800": ms, null for none, else undefined. */
export function parseThreshold(text: string): number | null | undefined {
  const t = text.trim().toLowerCase();
  if (t === '' || t === 'none' || t === 'off') return null;
  const m = /^(\d*\.?\d+)\s*(ms|s)?$/.exec(t);
  if (m === null) return undefined;
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

/** Most traces listed per loss in the report. */
const REPORT_LIST = 15;

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!<>|$]/g, '\\$&');
}

/** "N slow and M failed traces lost", or that none were. */
export function samplingLostText(outcome: SamplingOutcome): string {
  const slow = outcome.tail.lostSlow;
  const failed = outcome.tail.lostErrors;
  if (slow === 0 && failed === 0) return 'no slow or failed trace lost';
  return `${slow} slow and ${failed} failed ${nounFor(slow + failed, 'trace')} lost`;
}

/** The sampling what-if as a Markdown report. */
export function samplingMarkdown(outcome: SamplingOutcome, policy: SamplingPolicy): string {
  const pct = (n: number): string =>
    outcome.traces === 0 ? '0%' : formatPercent((100 * n) / outcome.traces);
  const rule = [
    `head ${formatPercent(100 * policy.headRatio)}`,
    policy.keepErrors ? 'keep every trace with an error' : undefined,
    policy.latencyThresholdMs !== undefined
      ? `keep every trace of at least ${formatDuration(policy.latencyThresholdMs)}`
      : undefined,
  ]
    .filter((x) => x !== undefined)
    .join(', ');
  const lines = [
    '# Stagelight: sampling what-if',
    '',
    `Of the **${outcome.traces}** recent traces received, with ${rule}. ` +
      `"Slow" means at least ${formatDuration(outcome.slowThresholdMs)} (their p95).`,
    '',
    '| policy | kept | slow traces lost | failed traces lost |',
    '| --- | ---: | ---: | ---: |',
    `| head sampling alone | ${outcome.head.kept} (${pct(outcome.head.kept)}) | ${outcome.head.lostSlow} | ${outcome.head.lostErrors} |`,
    `| head + tail rules | ${outcome.tail.kept} (${pct(outcome.tail.kept)}) | ${outcome.tail.lostSlow} | ${outcome.tail.lostErrors} |`,
    '',
  ];
  const list = (title: string, traces: readonly SampledTrace[], total: number): void => {
    if (total === 0) return;
    lines.push(`## ${title} (${total})`, '');
    for (const t of traces.slice(0, REPORT_LIST)) {
      lines.push(
        `- \`${t.traceId}\` ${escapeMd(t.rootName ?? '')} · ${formatDuration(t.durationMs)}` +
          (t.hasError ? ' · error' : ''),
      );
    }
    if (total > REPORT_LIST) lines.push(`- … and ${total - REPORT_LIST} more`);
    lines.push('');
  };
  list(
    'Slow traces head + tail sampling would lose',
    outcome.tail.lostSlowTraces,
    outcome.tail.lostSlow,
  );
  list(
    'Failed traces head + tail sampling would lose',
    outcome.tail.lostErrorTraces,
    outcome.tail.lostErrors,
  );
  list(
    'Slow traces head sampling alone would lose',
    outcome.head.lostSlowTraces,
    outcome.head.lostSlow,
  );
  list(
    'Failed traces head sampling alone would lose',
    outcome.head.lostErrorTraces,
    outcome.head.lostErrors,
  );
  if (outcome.tail.lostSlow === 0 && outcome.tail.lostErrors === 0) {
    lines.push('With the tail rules, no slow or failed trace would have been lost.', '');
  }
  return lines.join('\n');
}
