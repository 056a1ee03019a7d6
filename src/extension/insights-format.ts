/**
 * The pure half of the editor's insights: turns the core's `InsightsReport` into what the
 * Insights view, the lenses, the notifications and the waterfall's side panel show. No `vscode`
 * import, so all of it is unit-tested in plain Node (test/unit/insights-editor-format.test.ts).
 *
 * Everything here takes only types from the core: a value import of `core/analysis/insights`
 * would pull the statistics (and their sketch library) into the activation bundle, which the
 * receiver bundle split (`load-core.ts`) keeps out.
 */
import type {
  Baseline,
  Finding,
  InsightsReport,
  SamplingOutcome,
  SamplingPolicy,
  Severity,
  WhatIf,
} from '../core/analysis/insights.js';
import { formatDuration, formatPercent } from '../core/source/lens-text.js';
import type {
  ExplainRowPayload,
  InsightFindingPayload,
  InsightsNotification,
} from '../protocol/messages.js';

/** `service\u0000name`: the key of a stage in the maps below. */
export function stageId(service: string, name: string): string {
  return `${service}\u0000${name}`;
}

// ----- numbers ---------------------------------------------------------------------------

/** Labels of the core's `Finding.numbers` keys; unknown keys get a label from their name. */
const NUMBER_LABELS: Record<string, string> = {
  typicalMs: 'typical',
  recentMs: 'recent',
  deltaMs: 'change',
  shareOfExcess: 'share of the excess',
  e2eTypicalMs: 'end-to-end typical',
  e2eRecentMs: 'end-to-end recent',
  recentTraces: 'recent traces',
  baselineTraces: 'earlier traces',
  queue: 'queue',
  medianWaitMs: 'median wait',
  medianDurationMs: 'median request',
  medianShare: 'share of the request',
  trend: 'trend',
  attribute: 'attribute',
  value: 'value',
  p95Ms: 'p95',
  errorRate: 'error rate',
  count: 'spans',
  restP95Ms: 'p95 elsewhere',
  restErrorRate: 'error rate elsewhere',
  restCount: 'spans elsewhere',
  failed: 'failed traces',
  traces: 'traces',
  untracedMs: 'untraced time',
  shareOfCriticalPath: 'share of the critical path',
  baselineP95Ms: 'baseline p95',
  change: 'change vs baseline',
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

/** A signed change as a percentage: `+12%`, `-4%`, `±0%` (under half a percent). */
export function formatChange(change: number): string {
  if (!Number.isFinite(change)) return '–';
  const pct = change * 100;
  if (Math.abs(pct) < 0.5) return '±0%';
  return `${pct > 0 ? '+' : '-'}${formatPercent(Math.abs(pct))}`;
}

/** One number for people: durations for `...Ms`, percentages for shares and rates. */
export function formatNumber(key: string, v: number | string): string {
  if (typeof v === 'string') return v;
  if (/Ms$/.test(key)) return key === 'deltaMs' ? `+${formatDuration(v)}` : formatDuration(v);
  if (key === 'change') return formatChange(v);
  if (/(Share|Rate|share|Excess|Path)$/.test(key) || key === 'errorRate')
    return formatPercent(100 * v);
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
  const exceptions = ev.exceptions;
  if (typeof exceptions === 'object' && exceptions !== null) {
    for (const [message, count] of Object.entries(exceptions as Record<string, unknown>)) {
      if (typeof count === 'number') rows.push({ label: `${count}×`, value: message });
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

/** Words for a finding kind, as the view's descriptions use them. */
export function kindLabel(kind: string): string {
  switch (kind) {
    case 'stage-regression':
      return 'stage regressed';
    case 'queueing':
      return 'queueing';
    case 'bad-instance':
      return 'bad instance';
    case 'errors':
      return 'errors';
    case 'untraced-time':
      return 'untraced time';
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
 * A stable id for a finding, so that a tree view keeps a finding's expansion across refreshes:
 * the kind, the stage and, for a bad instance, the attribute value.
 */
export function findingId(f: Finding): string {
  const parts: string[] = [f.kind];
  if (f.stage !== undefined) parts.push(f.stage.service, f.stage.name);
  if (f.kind === 'bad-instance') parts.push(String(f.numbers.attribute), String(f.numbers.value));
  if (f.kind === 'queueing') parts.push(String(f.numbers.queue));
  return parts.join('\u0000');
}

/** "reranking 2x faster: end-to-end p95 2.30 s → 1.70 s (-26%)". */
export function whatIfText(w: WhatIf): string {
  const change = w.p95BeforeMs > 0 ? (w.p95AfterMs - w.p95BeforeMs) / w.p95BeforeMs : 0;
  return (
    `${w.stage.name} ${w.factor}x faster: end-to-end p95 ${formatDuration(w.p95BeforeMs)} → ` +
    `${formatDuration(w.p95AfterMs)} (${formatChange(change)})`
  );
}

// ----- the open trace ------------------------------------------------------------------------

/** Most findings sent to the webview. */
const PANEL_FINDINGS = 20;
/** Most explain rows sent: the stages furthest above typical. */
const PANEL_EXPLAIN = 8;

/**
 * The insights notification for the trace open in the waterfall: findings about that trace (it
 * is among their traces, or their stage runs in it) first, then the rest; the trace's stages
 * against typical. `stagesInTrace` holds `stageId`s.
 */
export function insightsForTrace(
  report: InsightsReport,
  traceId: string | null,
  stagesInTrace: ReadonlySet<string>,
  explain: ReadonlyArray<{
    stage: { service: string; name: string };
    ms: number;
    typicalMs: number;
    share: number;
  }>,
  baseline?: Pick<Baseline, 'label' | 'pinnedAt'>,
): InsightsNotification {
  const payload = (f: Finding): InsightFindingPayload => ({
    kind: f.kind,
    severity: f.severity,
    title: f.title,
    ...(f.stage !== undefined ? { stage: { ...f.stage } } : {}),
    numbers: findingNumbers(f),
    traceIds: [...f.traceIds],
    relevant:
      traceId !== null &&
      (f.traceIds.includes(traceId) ||
        (f.stage !== undefined && stagesInTrace.has(stageId(f.stage.service, f.stage.name)))),
  });
  const all = report.findings.map(payload);
  const findings = [...all.filter((f) => f.relevant), ...all.filter((f) => !f.relevant)].slice(
    0,
    PANEL_FINDINGS,
  );
  const rows: ExplainRowPayload[] = [...explain]
    .sort((a, b) => b.ms - b.typicalMs - (a.ms - a.typicalMs))
    .slice(0, PANEL_EXPLAIN)
    .map((r) => ({
      service: r.stage.service,
      name: r.stage.name,
      ms: r.ms,
      typicalMs: r.typicalMs,
      share: r.share,
    }));
  return {
    type: 'insights',
    traceId,
    traces: report.traces,
    findings,
    explain: rows,
    ...(baseline !== undefined
      ? { baseline: { label: baseline.label, pinnedAt: baseline.pinnedAt } }
      : {}),
  };
}

// ----- baselines -----------------------------------------------------------------------------

/** A stage's p95 now against the pinned baseline. */
export interface StageBaselineChange {
  p95Ms: number;
  baselineP95Ms: number;
  /** (now - baseline) / baseline. */
  change: number;
}

/**
 * Stage-by-stage change of p95 between two summaries made the same way (`makeBaseline`: per
 * trace, the stage's summed span time), keyed by `stageId`. Both sides must be built alike: a
 * per-span p95 against a per-trace one would show a loop's stage as a huge drop.
 */
export function baselineChanges(now: Baseline, base: Baseline): Map<string, StageBaselineChange> {
  const before = new Map(base.stages.map((s) => [stageId(s.service, s.name), s]));
  const out = new Map<string, StageBaselineChange>();
  for (const s of now.stages) {
    const b = before.get(stageId(s.service, s.name));
    if (b === undefined || b.p95Ms <= 0) continue;
    out.set(stageId(s.service, s.name), {
      p95Ms: s.p95Ms,
      baselineP95Ms: b.p95Ms,
      change: (s.p95Ms - b.p95Ms) / b.p95Ms,
    });
  }
  return out;
}

/** Labels longer than this are cut in a lens. */
const LENS_LABEL_MAX = 16;

/**
 * A stage's change against the baseline. Short (the lens's suffix, after its own p95):
 * "-12% vs baseline a1b2c3d"; long (the hover): "p95 1.40 s, -12% vs baseline a1b2c3d (1.59 s)".
 */
export function baselineLensText(
  c: StageBaselineChange,
  label: string,
  form: 'short' | 'long' = 'short',
): string {
  const short = label.length > LENS_LABEL_MAX ? `${label.slice(0, LENS_LABEL_MAX - 1)}…` : label;
  const change = `${formatChange(c.change)} vs baseline ${short}`;
  return form === 'short'
    ? change
    : `p95 ${formatDuration(c.p95Ms)}, ${change} (${formatDuration(c.baselineP95Ms)})`;
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
      gate.allow(stageId(f.stage.service, f.stage.name), now),
  );
}

// ----- sampling what-if ----------------------------------------------------------------------

/** What the what-if needs of a trace. */
export interface SamplingTrace {
  traceId: string;
  durationMs: number;
  hasError: boolean;
  rootName?: string;
}

/**
 * The head sampling decision the core's `samplingWhatIf` makes: the trace id's low 56 bits
 * (the W3C random part) against `ratio` of their range, as probability samplers decide.
 */
export function keptByHead(traceId: string, ratio: number): boolean {
  return parseInt(traceId.slice(18), 16) < ratio * 2 ** 56;
}

export interface SamplingLosses {
  head: { slow: SamplingTrace[]; failed: SamplingTrace[] };
  tail: { slow: SamplingTrace[]; failed: SamplingTrace[] };
}

/**
 * Which slow (at least `slowThresholdMs`, the outcome's p95) and failed traces each policy would
 * have dropped: the same rule as the core's counts, listed, slowest first.
 */
export function samplingLosses(
  traces: readonly SamplingTrace[],
  policy: SamplingPolicy,
  slowThresholdMs: number,
): SamplingLosses {
  const out: SamplingLosses = { head: { slow: [], failed: [] }, tail: { slow: [], failed: [] } };
  for (const t of traces) {
    const isSlow = t.durationMs >= slowThresholdMs && traces.length > 1;
    const head = keptByHead(t.traceId, policy.headRatio);
    const tail =
      head ||
      (policy.keepErrors && t.hasError) ||
      (policy.latencyThresholdMs !== undefined && t.durationMs >= policy.latencyThresholdMs);
    for (const [kept, lost] of [
      [head, out.head],
      [tail, out.tail],
    ] as const) {
      if (kept) continue;
      if (isSlow) lost.slow.push(t);
      if (t.hasError) lost.failed.push(t);
    }
  }
  const slowest = (a: SamplingTrace, b: SamplingTrace): number => b.durationMs - a.durationMs;
  for (const l of [out.head, out.tail]) {
    l.slow.sort(slowest);
    l.failed.sort(slowest);
  }
  return out;
}

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

/** The sampling what-if as a Markdown report. */
export function samplingMarkdown(
  outcome: SamplingOutcome,
  policy: SamplingPolicy,
  losses: SamplingLosses,
): string {
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
  const list = (title: string, traces: readonly SamplingTrace[]): void => {
    if (traces.length === 0) return;
    lines.push(`## ${title} (${traces.length})`, '');
    for (const t of traces.slice(0, REPORT_LIST)) {
      lines.push(
        `- \`${t.traceId}\` ${escapeMd(t.rootName ?? '')} · ${formatDuration(t.durationMs)}` +
          (t.hasError ? ' · error' : ''),
      );
    }
    if (traces.length > REPORT_LIST) lines.push(`- … and ${traces.length - REPORT_LIST} more`);
    lines.push('');
  };
  list('Slow traces head + tail sampling would lose', losses.tail.slow);
  list('Failed traces head + tail sampling would lose', losses.tail.failed);
  list('Slow traces head sampling alone would lose', losses.head.slow);
  list('Failed traces head sampling alone would lose', losses.head.failed);
  if (losses.tail.slow.length === 0 && losses.tail.failed.length === 0) {
    lines.push('With the tail rules, no slow or failed trace would have been lost.', '');
  }
  return lines.join('\n');
}
