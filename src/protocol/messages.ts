/**
 * The typed protocol between the extension host and the waterfall webview. Both bundles import
 * this module (the webview with `import type` plus the guards it needs). Each message is
 * declared once, its direction in its name:
 *   - `...Command`: webview -> host, no answer
 *   - `...Request` / `...Response`: webview -> host with a typed answer (matched by `requestId`)
 *   - `...Notification`: host -> webview
 * The host posts nothing before the webview's `ready` command, and validates every message it
 * receives with `isWebviewMessage` before use.
 */

/** Bits of `TracePayload.flags`. */
export const SpanFlag = {
  ERROR: 1,
  /** The span has time on the critical path. */
  CRITICAL: 2,
  /** A source location is known (code.* attributes or a matched span-start line). */
  HAS_SOURCE: 4,
  /** Attached under a span it links to (a queue consumer following its producer). */
  ADOPTED: 8,
  /** Its parent is not in the trace (yet). */
  ORPHAN: 16,
  /** Its times were shifted by the clock-skew adjustment (details give the raw ones). */
  CLOCK_ADJUSTED: 32,
  /**
   * Not a span: the stand-in for a parent that spans of the trace name but that has not been
   * received (yet), with its orphans as children. Its name says so; it has no details.
   */
  PLACEHOLDER: 64,
  /** The span wrote log lines (log records with its trace and span id). */
  HAS_LOG: 128,
} as const;

/**
 * The typed-array fields of a {@link TracePayload} and the constructor of each: a transport
 * that serialises to JSON (tests, the harness's live stream) turns them into plain arrays, and
 * the receiving side makes them typed again with these.
 */
export const TRACE_PAYLOAD_COLUMNS = {
  parent: Int32Array,
  depth: Uint16Array,
  start: Float64Array,
  duration: Float64Array,
  criticalMs: Float64Array,
  selfMs: Float64Array,
  name: Uint32Array,
  service: Uint32Array,
  kind: Uint8Array,
  flags: Uint8Array,
  criticalPath: Float64Array,
  queueWaits: Float64Array,
} as const;

/**
 * One trace in columnar form: span data as typed arrays indexed by row, so a 1M-span trace is a
 * handful of arrays rather than a million objects (and crosses postMessage cheaply).
 *
 * Invariant: rows are in pre-order DFS order of the span tree (children by start time), so a
 * span's subtree is the contiguous run of rows after it with a greater depth.
 */
export interface TracePayload {
  traceId: string;
  /** Bumped whenever the trace changes; details requests name the version they refer to. */
  version: number;
  /** Epoch ms of the trace start; span times below are relative to it. */
  startMs: number;
  durationMs: number;
  /** Rows: the spans, plus one `PLACEHOLDER` row per parent not received yet. */
  spanCount: number;
  /**
   * Row of the parent span, -1 for a root. Orphans hang under a `PLACEHOLDER` row for their
   * missing parent; a placeholder's own parent is -1.
   */
  parent: Int32Array;
  depth: Uint16Array;
  /** Start relative to `startMs`, in ms. */
  start: Float64Array;
  duration: Float64Array;
  /** Time the span spends on the critical path, in ms. */
  criticalMs: Float64Array;
  /** Duration minus the time covered by its children, in ms. */
  selfMs: Float64Array;
  /** Index into `names`. */
  name: Uint32Array;
  names: string[];
  /** Index into `services`. */
  service: Uint32Array;
  services: string[];
  /** OTLP SpanKind numbers. */
  kind: Uint8Array;
  /** `SpanFlag` bits. */
  flags: Uint8Array;
  /** The critical path in time order: triples of (row or -1 for a gap, start, end), relative ms. */
  criticalPath: Float64Array;
  /** Queue waits: producer row, consumer row, wait start, wait end (relative ms). */
  queueWaits: Float64Array;
  /** Queue name per wait (same order as `queueWaits` quadruples). */
  queueNames: string[];
  /** Time when no span of the trace was on the critical path, in ms. */
  gapMs: number;
  /** Log lines per row, all of them (absent: no log store, as in a file opened alone). */
  logCount?: Uint32Array;
  /** Highest severity number of the row's log lines (0: none, or all unspecified). */
  logSeverity?: Uint8Array;
  /**
   * The marks drawn on the bars, in time order: triples of (row, time relative to `startMs`,
   * severity number), at most `LOG_MARK_LIMIT` of them (`logCount` stays exact beyond it).
   */
  logMarks?: Float64Array;
  /** Each mark's line as text (severity and body, shortened), for the hover. Untrusted. */
  logTexts?: string[];
}

/** Most log lines a span's details carry. */
export const SPAN_LOG_LIMIT = 1000;

/** Most log marks a payload carries; a span's details list all of its lines. */
export const LOG_MARK_LIMIT = 5000;

/** One log line of a span, as the details panel lists it. Every text is untrusted. */
export interface SpanLogLine {
  /** Relative to the trace start, in ms. */
  offsetMs: number;
  severityNumber: number;
  /** The record's severity text, else the level of its number ('' when both are unset). */
  severity: string;
  body: string;
  /** The record's event name ('' when unset). */
  eventName: string;
  attributes: KeyValueText[];
}

export interface TraceSummaryPayload {
  traceId: string;
  rootService: string;
  rootName: string;
  startMs: number;
  durationMs: number;
  spanCount: number;
  errorCount: number;
}

export interface KeyValueText {
  key: string;
  /** The value rendered as text (arrays and kvlists as JSON). Untrusted: display as text only. */
  value: string;
}

export type AttributeGroup = 'model' | 'gen_ai' | 'code' | 'other';

export interface SpanDetails {
  row: number;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  service: string;
  kind: number;
  startMs: number;
  durationMs: number;
  selfMs: number;
  criticalMs: number;
  /** criticalMs / trace duration. */
  criticalShare: number;
  status: { code: number; message: string };
  attributes: Array<KeyValueText & { group: AttributeGroup }>;
  resource: KeyValueText[];
  scope: { name: string; version: string };
  events: Array<{
    name: string;
    /** Relative to the span start, in ms. */
    offsetMs: number;
    attributes: KeyValueText[];
  }>;
  links: Array<{
    traceId: string;
    spanId: string;
    /** Row of the linked span when it is in this trace, else -1. */
    row: number;
    attributes: KeyValueText[];
  }>;
  /** Where the span starts in the source, when known. */
  source?: { file: string; line: number };
  /** The span's log lines by time (at most `SPAN_LOG_LIMIT`), and how many it has in all. */
  logs?: { lines: SpanLogLine[]; total: number };
  /**
   * Set when the clock-skew adjustment moved this span (it ran in another process than its
   * parent, whose clock disagreed): ms added to its start and end. `startMs` is adjusted; the
   * raw start is `startMs - clockShiftMs`.
   */
  clockShiftMs?: number;
  /**
   * For an LLM call (a span with `gen_ai.usage.output_tokens`): its figures, from its prefill
   * and decode spans when the model server traced them.
   */
  llm?: {
    outputTokens: number;
    inputTokens?: number;
    ttftMs?: number;
    prefillMs?: number;
    decodeMs?: number;
    tokensPerSec: number;
  };
}

// ----- webview -> host -------------------------------------------------------------------

export interface ReadyCommand {
  type: 'ready';
}

/** Open another trace (from the list, a link, or the breadcrumb). */
export interface SelectTraceCommand {
  type: 'selectTrace';
  traceId: string;
}

/** "Go to source" for a span. */
export interface OpenSourceCommand {
  type: 'openSource';
  traceId: string;
  version: number;
  row: number;
}

/** Follow new traces live, or stay on the current one. */
export interface SetFollowCommand {
  type: 'setFollow';
  follow: boolean;
}

export interface SpanDetailsRequest {
  type: 'spanDetails';
  requestId: number;
  traceId: string;
  version: number;
  row: number;
}

/** One `key=value` term of the waterfall's search (`attr:key=value`, or a bare `key=value`). */
export interface AttributeTerm {
  /** Matched against attribute keys, case-insensitive substring. */
  key: string;
  /** Matched against the value as text, case-insensitive substring; absent: the key suffices. */
  value?: string;
  negate: boolean;
  /**
   * 'log': a `log:"text"` term instead: the span wrote a log line containing `key` (body,
   * severity or attribute value, as the Logs view matches); `value` is unused.
   */
  in?: 'log';
}

/** Which rows of the shown trace have attributes matching every term. */
export interface AttributeSearchRequest {
  type: 'attributeSearch';
  requestId: number;
  traceId: string;
  version: number;
  terms: AttributeTerm[];
}

/**
 * Compare the open trace, stage by stage: against the typical trace of its operation, against
 * the baseline, against the traces pulled from the team backend (`prod`), or against another
 * trace (`otherTraceId`, the "before" side).
 */
export interface CompareRequest {
  type: 'compare';
  requestId: number;
  traceId: string;
  against: 'typical' | 'baseline' | 'prod' | 'trace';
  otherTraceId?: string;
}

/** The metrics the strip above the waterfall shows (`service/name` keys; empty: none). */
export interface ChooseMetricsCommand {
  type: 'chooseMetrics';
  keys: string[];
}

export type WebviewCommand =
  ReadyCommand | SelectTraceCommand | OpenSourceCommand | SetFollowCommand | ChooseMetricsCommand;
export type WebviewRequest = SpanDetailsRequest | AttributeSearchRequest | CompareRequest;
export type WebviewMessage = WebviewCommand | WebviewRequest;

// ----- host -> webview -------------------------------------------------------------------

export interface SpanDetailsResponse {
  type: 'spanDetailsResponse';
  requestId: number;
  /** null with `error` when the span is gone (trace evicted or changed). */
  details: SpanDetails | null;
  error?: string;
}

export interface AttributeSearchResponse {
  type: 'attributeSearchResponse';
  requestId: number;
  /** Matching rows, ascending; null with `error` when the trace is gone or changed. */
  rows: number[] | null;
  error?: string;
}

/** Show this trace (opened by the user, or the latest one while following). */
/** A stage of a comparison (`core/analysis/compare.ts`): critical-path ms before and after. */
export interface CompareRowPayload {
  service: string;
  name: string;
  depth: number;
  /** Absent on the side where the stage did not run. */
  beforeMs?: number;
  afterMs?: number;
  deltaMs: number;
  beforeSpans: number;
  afterSpans: number;
  status: 'both' | 'appeared' | 'vanished';
}

export interface ComparisonPayload {
  before: { label: string; durationMs: number; traces: number };
  after: { label: string; durationMs: number; traces: number };
  deltaMs: number;
  /** Largest change first. */
  rows: CompareRowPayload[];
}

export interface CompareResponse {
  type: 'compareResponse';
  requestId: number;
  comparison: ComparisonPayload | null;
  /** Why there is no comparison (no baseline, the other trace evicted, ...). */
  error?: string;
}

export interface TraceNotification {
  type: 'trace';
  trace: TracePayload;
  /** 'open': a different trace; 'update': the same trace grew (keep scroll and selection). */
  reason: 'open' | 'update';
  /** Row to select, e.g. from a CodeLens click. */
  selectRow?: number;
  /**
   * The user asked for this trace (a trace link, the picker, a lens): it shows at once, even
   * while a span is being inspected. Unset for the newest trace pushed while following live.
   */
  requested?: boolean;
}

export interface TraceListNotification {
  type: 'traceList';
  traces: TraceSummaryPayload[];
}

export interface FollowNotification {
  type: 'follow';
  follow: boolean;
}

/** All traces were cleared. */
export interface ClearedNotification {
  type: 'cleared';
}

/**
 * Where the receiver listens, from the ports actually bound (a taken port moves it), or null
 * while it is stopped: the empty state tells the user where to send spans. Posted after `ready`
 * and on every start and stop.
 */
export interface ReceiverNotification {
  type: 'receiver';
  endpoints: { grpc: string; http: string } | null;
}

/** One insights finding as the side panel shows it; every text is formatted by the host. */
export interface InsightFindingPayload {
  /** `FindingKind` of the core (`stage-regression`, `queueing`, `bad-instance`, ...). */
  kind: string;
  /** The kind in words ("stage regressed", "waiting for a worker"). */
  kindLabel: string;
  severity: 'critical' | 'warning' | 'info';
  /** The one-line verdict. Untrusted (span names): display as text only. */
  title: string;
  stage?: { service: string; name: string };
  /** The numbers behind the verdict, formatted ("p95", "1.40 s"). */
  numbers: Array<{ label: string; value: string }>;
  /** Traces that show it, most telling first. */
  traceIds: string[];
  /** About the open trace: the trace is among `traceIds`, or shows the finding's symptom. */
  relevant: boolean;
  /** From an earlier run: the latest run does not show it (any more). */
  stale?: boolean;
}

/** A stage of the open trace against the typical trace of its operation (`engine.explain`). */
export interface ExplainRowPayload {
  service: string;
  name: string;
  /** Time on this trace's critical path, ms. */
  ms: number;
  /** The same in the typical trace (median of recent traces of the operation), ms. */
  typicalMs: number;
  /**
   * Share of this trace's excess over the typical duration that the stage accounts for, in
   * [0, 1] (see `explainTrace`).
   */
  share: number;
}

/** One box of the aggregate critical path (`core/analysis/path-tree.ts`), pre-order. */
export interface PathTreeNodePayload {
  service: string;
  name: string;
  /** Index of the parent box, -1 for an operation. */
  parent: number;
  depth: number;
  /** Mean critical-path ms per trace, the subtree's included; and the stage's own part. */
  ms: number;
  selfMs: number;
  /** Traces with time here, and the one with the most. */
  traces: number;
  slowestTraceId: string;
  slowestMs: number;
}

/** Where the critical path goes across the latest traces, drawn as an icicle. */
export interface PathTreePayload {
  traces: number;
  meanMs: number;
  nodes: PathTreeNodePayload[];
}

/** The insights that concern the open trace, and the recent traces' other findings. */
export interface InsightsNotification {
  type: 'insights';
  /** The trace the `relevant` flags and `explain` rows are about. */
  traceId: string | null;
  /** Recent traces the findings are computed from. */
  traces: number;
  /** Relevant findings first, then the others, each group most important first. */
  findings: InsightFindingPayload[];
  /** Stages of the open trace, the ones furthest above typical first. */
  explain: ExplainRowPayload[];
  /** The typical trace the explain rows compare with: its duration and how many it is of. */
  typical?: { durationMs: number; peers: number };
  /** What changes are measured against, or that there is nothing to measure against. */
  baseline: { state: 'none' | 'pending' | 'set'; message: string; label?: string };
  /** The aggregate critical path of the latest run. */
  criticalPath?: PathTreePayload;
}

/** Host messages that answer a request, matched to it by `requestId`. */
export type HostResponse = SpanDetailsResponse | AttributeSearchResponse | CompareResponse;

/** Host messages nobody asked for. */
/** A metric the strip can show: `service/name`. */
export interface StripMetric {
  readonly key: string;
  readonly service: string;
  readonly name: string;
  readonly unit: string;
  readonly kind: string;
}

/** One series of the strip (`core/api/metrics-strip.ts`). Names and attributes are untrusted. */
export interface StripSeries extends StripMetric {
  /** The series' attributes as `key=value` (one metric may have several series). */
  readonly attributes: string[];
  /** [time ms, value], by time. */
  readonly points: Array<[number, number]>;
  readonly min: number;
  readonly max: number;
  /** Exemplars with a trace: a click opens it. */
  readonly exemplars: Array<{ timeMs: number; value: number; traceId: string }>;
}

export interface MetricsStripPayload {
  readonly fromMs: number;
  readonly toMs: number;
  /** Every metric held, for the picker. */
  readonly available: StripMetric[];
  /** The keys shown (chosen, else the default). */
  readonly chosen: string[];
  readonly series: StripSeries[];
}

/** The metrics over the shown trace's time range; posted after each `trace` notification. */
export interface MetricsStripNotification {
  type: 'metricsStrip';
  traceId: string;
  strip: MetricsStripPayload;
}

export type HostNotification =
  | TraceNotification
  | TraceListNotification
  | FollowNotification
  | ClearedNotification
  | ReceiverNotification
  | InsightsNotification
  | MetricsStripNotification;

export type HostMessage = HostResponse | HostNotification;

/**
 * Each request's response, keyed by the request's `type`: the pairing a client's promise is
 * typed by (GitLens's `IpcRequest<Params, Response>` carries the same). Types only: nothing on
 * the wire depends on it.
 */
export interface WebviewRequestResponses {
  spanDetails: SpanDetailsResponse;
  attributeSearch: AttributeSearchResponse;
  compare: CompareResponse;
}

// ----- what the webview remembers ---------------------------------------------------------

/**
 * What the webview keeps with `setState` (VS Code holds it while the panel lives, and across a
 * window reload): its layout and which trace it showed, never trace data. The host reads it back
 * when VS Code restores the panel after a reload (`WebviewPanelSerializer`), to show the same
 * trace again; the webview reads it when its page reloads.
 */
export interface WaterfallMemory {
  /** Width of the side panel, CSS px (clamped to the window when applied). */
  readonly detailsWidth?: number;
  /** The trace shown. */
  readonly traceId?: string;
  /** Whether it followed new traces live (then the latest trace is shown, not `traceId`). */
  readonly follow?: boolean;
}

/** Reads a `WaterfallMemory` defensively: it may come from an older version of the webview. */
export function readWaterfallMemory(raw: unknown): WaterfallMemory {
  if (!isRecord(raw)) return {};
  const w = raw.detailsWidth;
  return {
    ...(typeof w === 'number' && Number.isFinite(w) && w > 0 ? { detailsWidth: w } : {}),
    ...(typeof raw.traceId === 'string' && TRACE_ID.test(raw.traceId)
      ? { traceId: raw.traceId }
      : {}),
    ...(typeof raw.follow === 'boolean' ? { follow: raw.follow } : {}),
  };
}

// ----- guards ----------------------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const TRACE_ID = /^[0-9a-f]{32}$/;

function isRow(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 31;
}

function isVersion(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function isAttributeTerm(t: unknown): t is AttributeTerm {
  return (
    isRecord(t) &&
    typeof t.key === 'string' &&
    t.key.length > 0 &&
    t.key.length <= 256 &&
    (t.value === undefined || (typeof t.value === 'string' && t.value.length <= 1024)) &&
    typeof t.negate === 'boolean' &&
    (t.in === undefined || t.in === 'log')
  );
}

/** Validates a message from the webview; anything else is dropped by the host. */
export function isWebviewMessage(m: unknown): m is WebviewMessage {
  if (!isRecord(m)) return false;
  switch (m.type) {
    case 'ready':
      return true;
    case 'selectTrace':
      return typeof m.traceId === 'string' && TRACE_ID.test(m.traceId);
    case 'openSource':
      return (
        typeof m.traceId === 'string' &&
        TRACE_ID.test(m.traceId) &&
        isVersion(m.version) &&
        isRow(m.row)
      );
    case 'setFollow':
      return typeof m.follow === 'boolean';
    case 'chooseMetrics':
      return (
        Array.isArray(m.keys) &&
        m.keys.length <= 64 &&
        m.keys.every((k) => typeof k === 'string' && k.length <= 512)
      );
    case 'spanDetails':
      return (
        isRow(m.requestId) &&
        typeof m.traceId === 'string' &&
        TRACE_ID.test(m.traceId) &&
        isVersion(m.version) &&
        isRow(m.row)
      );
    case 'attributeSearch':
      return (
        isRow(m.requestId) &&
        typeof m.traceId === 'string' &&
        TRACE_ID.test(m.traceId) &&
        isVersion(m.version) &&
        Array.isArray(m.terms) &&
        m.terms.length > 0 &&
        m.terms.length <= 16 &&
        m.terms.every(isAttributeTerm)
      );
    case 'compare':
      return (
        isRow(m.requestId) &&
        typeof m.traceId === 'string' &&
        TRACE_ID.test(m.traceId) &&
        (m.against === 'typical' ||
          m.against === 'baseline' ||
          m.against === 'prod' ||
          (m.against === 'trace' &&
            typeof m.otherTraceId === 'string' &&
            TRACE_ID.test(m.otherTraceId)))
      );
    default:
      return false;
  }
}

/** Validates a message from the host (the webview trusts the host, but not blindly). */
export function isHostMessage(m: unknown): m is HostMessage {
  if (!isRecord(m)) return false;
  switch (m.type) {
    case 'spanDetailsResponse':
      return isRow(m.requestId) && (m.details === null || isRecord(m.details));
    case 'attributeSearchResponse':
      return isRow(m.requestId) && (m.rows === null || Array.isArray(m.rows));
    case 'compareResponse':
      return (
        isRow(m.requestId) &&
        (m.comparison === null || (isRecord(m.comparison) && Array.isArray(m.comparison.rows)))
      );
    case 'trace':
      return isRecord(m.trace) && (m.reason === 'open' || m.reason === 'update');
    case 'traceList':
      return Array.isArray(m.traces);
    case 'follow':
      return typeof m.follow === 'boolean';
    case 'cleared':
      return true;
    case 'receiver':
      return (
        m.endpoints === null ||
        (isRecord(m.endpoints) &&
          typeof m.endpoints.grpc === 'string' &&
          typeof m.endpoints.http === 'string')
      );
    case 'metricsStrip':
      return (
        typeof m.traceId === 'string' &&
        isRecord(m.strip) &&
        Array.isArray(m.strip.available) &&
        Array.isArray(m.strip.chosen) &&
        Array.isArray(m.strip.series)
      );
    case 'insights':
      return (
        (m.traceId === null || typeof m.traceId === 'string') &&
        typeof m.traces === 'number' &&
        Array.isArray(m.findings) &&
        m.findings.every(isRecord) &&
        Array.isArray(m.explain) &&
        m.explain.every(isRecord) &&
        isRecord(m.baseline) &&
        typeof m.baseline.message === 'string'
      );
    default:
      return false;
  }
}
