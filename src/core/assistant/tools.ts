/**
 * The assistant tools: what an AI assistant may ask Stagelight, each with its input schema and
 * a bounded text answer with file:line references. One definition serves both adapters: the
 * MCP server (`src/cli/mcp.ts`) and the editor's language-model tools
 * (`src/extension/assistant/`); package.json's `languageModelTools` schemas are generated from
 * the same zod shapes (checked by test/unit/assistant-tools.test.ts).
 *
 * The tools only read. Every number comes from the read API (see `read-api-client.ts`); this
 * module only chooses, orders and words them, through `bounded-text.ts`.
 */

import { z } from 'zod';
import type { Finding, InsightsReport } from '../analysis/insights/types.js';
import type { CompareRow } from '../analysis/compare.js';
import type { StageStats } from '../analysis/stage-stats.js';
import type { TraceSummary } from '../store/trace-store.js';
import type { DigestSource, TraceDigest } from './trace-digest.js';
import type { AssistantSource, TraceQuery } from './read-api-client.js';
import { BoundedText, DATA_NOTICE, byteLimit, pathText, quoted } from './bounded-text.js';
import { findingNumbers, kindLabel } from '../api/insights-payload.js';
import {
  formatChange,
  formatCount,
  formatDelta,
  formatDuration,
  formatShare,
} from '../../shared/format.js';
import { stageKey } from '../../shared/stage-key.js';
import type { ToolName } from './tool-info.js';

export { TOOLS, TOOL_NAMES, isToolName, type ToolInfo, type ToolName } from './tool-info.js';

/** A tool's answer: the text for the assistant and the source lines it names. */
export interface ToolResult {
  readonly text: string;
  readonly references: readonly DigestSource[];
}

const TRACE_ID = /^[0-9a-fA-F]{32}$/;
const traceId = () => z.string().regex(TRACE_ID, 'a trace id is 32 hexadecimal characters');
const maxBytes = z
  .number()
  .int()
  .min(1024)
  .max(32 * 1024)
  .optional()
  .describe('Largest answer in bytes (default 4096, at most 32768); longer answers are summarised');
const name = (what: string) => z.string().min(1).max(256).describe(what);

export const TOOL_SHAPES = {
  stagelight_insights: {
    maxFindings: z
      .number()
      .int()
      .min(1)
      .max(50)
      .optional()
      .describe('Findings to list (default 8)'),
    includeStale: z
      .boolean()
      .optional()
      .describe('Also list findings of earlier runs that the latest run no longer shows'),
    maxBytes,
  },
  stagelight_explain_trace: {
    traceId: traceId().optional().describe('The trace to explain'),
    stage: name(
      'Without traceId: explain the slowest recent trace that has a span of this name (a stage)',
    ).optional(),
    service: name('With stage: the service of the stage').optional(),
    maxBytes,
  },
  stagelight_stage_stats: {
    service: name('Only stages of this service').optional(),
    name: name('Only stages whose span name contains this (case-insensitive)').optional(),
    sortBy: z
      .enum(['p95', 'p50', 'p99', 'count', 'errors', 'critical'])
      .optional()
      .describe('Order of the table (default p95, slowest first)'),
    limit: z.number().int().min(1).max(200).optional().describe('Stages to list (default 20)'),
    maxBytes,
  },
  stagelight_compare: {
    a: traceId().optional().describe('The "before" trace (with b)'),
    b: traceId().optional().describe('The "after" trace (with a)'),
    trace: traceId().optional().describe('A trace to compare against typical or the baseline'),
    against: z
      .enum(['typical', 'baseline'])
      .optional()
      .describe(
        'Without a and b: compare `trace` against the typical trace of its operation, or the ' +
          'latest run (or `trace`) against the pinned baseline (default baseline)',
      ),
    maxBytes,
  },
  stagelight_find_traces: {
    service: name('Traces with a span of this service').optional(),
    operation: name('Traces with a span of this name').optional(),
    minDurationMs: z.number().min(0).optional().describe('Traces at least this long'),
    error: z.boolean().optional().describe('true: only failed traces; false: only successful'),
    attributeKey: name(
      'Traces with a span or resource attribute whose key contains this (case-insensitive)',
    ).optional(),
    attributeValue: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe('With attributeKey: and whose value contains this (case-insensitive)'),
    limit: z.number().int().min(1).max(50).optional().describe('Traces to list (default 10)'),
    sort: z
      .enum(['arrival', 'start', 'duration'])
      .optional()
      .describe('latest arrivals first (default), latest starts first, or longest first'),
    maxBytes,
  },
} as const satisfies Record<ToolName, z.ZodRawShape>;

export type ToolInput<N extends ToolName> = z.infer<z.ZodObject<(typeof TOOL_SHAPES)[N]>>;

/** The JSON schema of a tool's input (what package.json and MCP clients are given). */
export function toolJsonSchema(tool: ToolName): Record<string, unknown> {
  const schema = z.toJSONSchema(z.object(TOOL_SHAPES[tool]).strict(), { io: 'input' });
  delete schema.$schema;
  return schema;
}

/** A tool input that does not pass its schema. */
export class ToolInputError extends Error {}

/** Validates `input` against the tool's schema; throws `ToolInputError` saying what is wrong. */
export function parseToolInput<N extends ToolName>(tool: N, input: unknown): ToolInput<N> {
  const r = z
    .object(TOOL_SHAPES[tool])
    .strict()
    .safeParse(input ?? {});
  if (!r.success) {
    const problems = r.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
    throw new ToolInputError(`invalid input for ${tool}: ${problems.join('; ')}`);
  }
  return r.data as unknown as ToolInput<N>;
}

// ----- wording --------------------------------------------------------------------------------

function stageText(s: { service: string; name: string }): string {
  return `${quoted(s.service)}/${quoted(s.name)}`;
}

function shortId(id: string): string {
  return TRACE_ID.test(id) ? id.toLowerCase() : quoted(id, 40);
}

/** Source lines by stage: a trace's own first, then what the receiver knows of each stage. */
class Sources {
  private readonly byStage = new Map<string, DigestSource>();
  readonly used: DigestSource[] = [];

  constructor(...lists: ReadonlyArray<readonly DigestSource[]>) {
    for (const list of lists) {
      for (const s of list) {
        const k = stageKey(s.service, s.name);
        if (!this.byStage.has(k)) this.byStage.set(k, s);
      }
    }
  }

  /** ` at file:line` for the stage, or ''. Notes the reference. */
  at(s: { service: string; name: string }): string {
    const loc = this.byStage.get(stageKey(s.service, s.name));
    if (loc === undefined) return '';
    if (!this.used.includes(loc)) this.used.push(loc);
    return ` at ${pathText(loc.file, loc.line)}`;
  }
}

function numbersText(f: Finding, max = 6): string {
  // String-valued numbers (an attribute, its value, a queue, a device) come from span data.
  const rows = findingNumbers(f).slice(0, max);
  return rows
    .map((r) => {
      const raw = Object.entries(f.numbers).find(([, v]) => typeof v === 'string' && v === r.value);
      return `${r.label} ${raw === undefined ? r.value : quoted(r.value)}`;
    })
    .join(', ');
}

function findingLine(f: Finding, i: number, sources: Sources): string {
  const stage = f.stage === undefined ? '' : ` ${stageText(f.stage)}${sources.at(f.stage)}`;
  const traces =
    f.traceIds.length === 0 ? '' : `; e.g. trace ${f.traceIds.slice(0, 2).map(shortId).join(', ')}`;
  return (
    `${i + 1}. [${f.severity}] ${kindLabel(f.kind)}${stage}: ${numbersText(f)}` +
    `; verdict ${quoted(f.title, 200)}${traces}`
  );
}

function severityCounts(fs: readonly Finding[]): string {
  const by = new Map<string, number>();
  for (const f of fs) by.set(f.severity, (by.get(f.severity) ?? 0) + 1);
  return [...by.entries()].map(([s, n]) => `${n} ${s}`).join(', ');
}

// ----- the tools ------------------------------------------------------------------------------

async function insightsTool(
  src: AssistantSource,
  input: ToolInput<'stagelight_insights'>,
): Promise<ToolResult> {
  const [report, locations] = await Promise.all([src.insights(), src.sources()]);
  const sources = new Sources(locations);
  const doc = new BoundedText(byteLimit(input.maxBytes)).line(DATA_NOTICE);
  doc.line(scopeLine(report));
  const listed = report.findings.slice(0, input.maxFindings ?? 8);
  const findings = report.findings;
  if (findings.length === 0) doc.line('No findings: nothing in the latest run stands out.');
  doc.section(
    `${formatCount(findings.length, 'finding')}, most important first:`,
    listed.map((f, i) => findingLine(f, i, sources)),
    (from) =>
      `… and ${formatCount(findings.length - from, 'more finding')} (${severityCounts(findings.slice(from))})`,
    findings.length > listed.length,
  );
  doc.section(
    'If a stage were 2x faster (upper bound on end-to-end p95):',
    report.whatIf.slice(0, 5).map((w) => {
      const change = w.p95BeforeMs > 0 ? (w.p95AfterMs - w.p95BeforeMs) / w.p95BeforeMs : 0;
      return `${stageText(w.stage)}: p95 ${formatDuration(w.p95BeforeMs)} → ${formatDuration(w.p95AfterMs)} (${formatChange(change)})`;
    }),
    (from) => `… and ${formatCount(report.whatIf.length - from, 'more stage')}`,
    report.whatIf.length > 5,
  );
  if (input.includeStale === true) {
    doc.section(
      'Earlier runs (no longer shown by the latest):',
      report.stale.map((f, i) => findingLine(f, i, sources)),
      (from) => `… and ${formatCount(report.stale.length - from, 'more finding')}`,
    );
  }
  return { text: doc.render(), references: sources.used };
}

function scopeLine(report: InsightsReport): string {
  return (
    `Latest run: ${formatCount(report.scope.traces, 'trace')} ` +
    `(${formatCount(report.scope.windowTraces, 'trace')} in the window). ` +
    `Baseline: ${quoted(report.baseline.message, 200)}.`
  );
}

/** The trace the explanation is about, and why it was picked. */
async function pickTrace(
  src: AssistantSource,
  input: ToolInput<'stagelight_explain_trace'>,
): Promise<{ id: string; why: string } | { none: string }> {
  if (input.traceId !== undefined) return { id: input.traceId.toLowerCase(), why: '' };
  const list = await src.traces({ name: input.stage, service: input.service, limit: 200 });
  const slowest = list.reduce<TraceSummary | undefined>(
    (m, t) => (m === undefined || t.durationMs > m.durationMs ? t : m),
    undefined,
  );
  const of =
    input.stage === undefined
      ? ''
      : ` with stage ${input.service === undefined ? '' : `${quoted(input.service)}/`}${quoted(input.stage)}`;
  if (slowest === undefined) return { none: `No recent trace${of} is held.` };
  return {
    id: slowest.traceId,
    why: `Picked: the slowest of the ${formatCount(list.length, 'latest trace')}${of}.`,
  };
}

async function explainTool(
  src: AssistantSource,
  input: ToolInput<'stagelight_explain_trace'>,
): Promise<ToolResult> {
  const doc = new BoundedText(byteLimit(input.maxBytes)).line(DATA_NOTICE);
  const picked = await pickTrace(src, input);
  if ('none' in picked) return { text: doc.line(picked.none).render(), references: [] };
  const [digest, explanation, locations] = await Promise.all([
    src.digest(picked.id),
    src.explain(picked.id),
    src.sources(),
  ]);
  const sources = new Sources(digest.sources, locations);
  const root = digest.root === undefined ? 'partial trace' : stageText(digest.root);
  let versus = '';
  if (explanation !== undefined && explanation.peers > 0) {
    const ratio = explanation.typicalMs > 0 ? explanation.durationMs / explanation.typicalMs : 0;
    versus =
      `; typical ${formatDuration(explanation.typicalMs)} over ${formatCount(explanation.peers, 'peer')}` +
      ` (${formatDelta(explanation.durationMs - explanation.typicalMs)}` +
      (ratio > 0 ? `, ${ratio.toFixed(1)}x)` : ')');
  }
  const gaps =
    digest.gapMs > 0 ? ` ${formatDuration(digest.gapMs)} of the critical path is untraced.` : '';
  doc.line(
    `Trace ${digest.traceId}: ${root} took ${formatDuration(digest.durationMs)}${versus}. ` +
      `${formatCount(digest.spanCount, 'span')}, ${formatCount(digest.errorCount, 'error')}.${gaps}` +
      (picked.why === '' ? '' : ` ${picked.why}`),
  );
  if (explanation === undefined || explanation.peers === 0) {
    doc.line(
      explanation === undefined
        ? 'Not compared with typical yet: the trace is analysed about a second after its last span.'
        : 'No typical trace to compare with: no other analysed trace of its operation is held.',
    );
  }
  const rows = explanation?.rows ?? [];
  if (explanation !== undefined && explanation.peers > 0) {
    doc.section(
      'Against typical, by request stage (critical path here vs typical, share of the excess):',
      rows.map(
        (r) =>
          `${stageText(r.stage)} ${formatDuration(r.ms)} vs ${formatDuration(r.typicalMs)} ` +
          `(${formatDelta(r.deltaMs)}, ${formatShare(r.share)} of the excess)${sources.at(r.stage)}`,
      ),
      (from) => {
        const rest = rows.slice(from);
        const ms = rest.reduce((s, r) => s + r.deltaMs, 0);
        return `… and ${formatCount(rest.length, 'more stage')} (${formatDelta(ms)} together)`;
      },
    );
  }
  doc.section(
    'Critical path by stage (own time on the path):',
    digest.stages.map(
      (s) =>
        `${stageText(s)} ${formatDuration(s.pathMs)}, ${formatCount(s.spans, 'span')}` +
        (s.errors > 0 ? `, ${formatCount(s.errors, 'error')}` : '') +
        sources.at(s),
    ),
    (from) => {
      const rest = digest.stages.slice(from);
      const n = rest.length + digest.moreStages.count;
      const ms = rest.reduce((s, r) => s + r.pathMs, 0) + digest.moreStages.pathMs;
      return `… and ${formatCount(n, 'more stage')} (${formatDuration(ms)} on the path together)`;
    },
    digest.moreStages.count > 0,
  );
  moreLine(doc, digest);
  return { text: doc.render(), references: sources.used };
}

/** The longest spans, waits and errors of a digest. */
function moreLine(doc: BoundedText, d: TraceDigest): void {
  doc.section(
    'Longest spans on the critical path:',
    d.spans.map(
      (s) =>
        `span ${s.spanId} ${stageText(s)}: ${formatDuration(s.onPathMs)} on the path (span ${formatDuration(s.durationMs)})`,
    ),
    (from) =>
      `… and ${formatCount(d.spans.length - from + d.moreSpansOnPath, 'more span')} on the path`,
    d.moreSpansOnPath > 0,
  );
  doc.section(
    'Queue waits (lower bound, upper bound):',
    d.waits.map(
      (w) =>
        `queue ${quoted(w.queue)} before ${stageText(w.consumer)}: ${formatDuration(w.waitMs)} (at most ${formatDuration(w.maxWaitMs)})`,
    ),
    (from) => {
      const rest = d.waits.slice(from);
      const ms = rest.reduce((s, w) => s + w.waitMs, 0) + d.moreWaits.waitMs;
      return `… and ${formatCount(rest.length + d.moreWaits.count, 'more wait')} (${formatDuration(ms)} together)`;
    },
    d.moreWaits.count > 0,
  );
  doc.section(
    `Errors (${formatCount(d.errorCount, 'failed span')}):`,
    d.errors.map(
      (e) =>
        `span ${e.spanId} ${stageText(e)}` +
        (e.message === undefined ? '' : `: message ${quoted(e.message, 200)}`),
    ),
    (from) => `… and ${formatCount(d.errors.length - from + d.moreErrors, 'more failed span')}`,
    d.moreErrors > 0,
  );
}

const SORTS: Record<string, (s: StageStats) => number> = {
  p95: (s) => s.p95Ms,
  p50: (s) => s.p50Ms,
  p99: (s) => s.p99Ms,
  count: (s) => s.count,
  errors: (s) => s.errorCount,
  critical: (s) => s.criticalPathShare,
};

async function statsTool(
  src: AssistantSource,
  input: ToolInput<'stagelight_stage_stats'>,
): Promise<ToolResult> {
  const [stats, locations] = await Promise.all([src.stats(), src.sources()]);
  const sources = new Sources(locations);
  const needle = input.name?.toLowerCase();
  const rows = stats
    .filter(
      (s) =>
        (input.service === undefined || s.service === input.service) &&
        (needle === undefined || s.name.toLowerCase().includes(needle)),
    )
    .sort((a, b) => SORTS[input.sortBy ?? 'p95']!(b) - SORTS[input.sortBy ?? 'p95']!(a));
  const listed = rows.slice(0, input.limit ?? 20);
  const doc = new BoundedText(byteLimit(input.maxBytes)).line(DATA_NOTICE);
  doc.line(
    `${formatCount(rows.length, 'stage')} in the statistics window` +
      (rows.length === stats.length ? '' : ` match (of ${stats.length})`) +
      `, by ${input.sortBy ?? 'p95'}:`,
  );
  doc.section(
    'Stage: spans, p50, p95, p99, errors, critical in (share of traces), share of the critical path',
    listed.map(
      (s) =>
        `${stageText(s)}: n=${s.count}, p50 ${formatDuration(s.p50Ms)}, p95 ${formatDuration(s.p95Ms)}, ` +
        `p99 ${formatDuration(s.p99Ms)}, ${formatCount(s.errorCount, 'error')}` +
        (s.errorCount > 0 ? ` (${formatShare(s.errorRate)})` : '') +
        `, critical in ${Math.round(s.criticalInPct)}%, ${formatShare(s.criticalPathShare)} of the path` +
        sources.at(s),
    ),
    (from) => `… and ${formatCount(rows.length - from, 'more stage')}`,
    rows.length > listed.length,
  );
  return { text: doc.render(), references: sources.used };
}

async function compareTool(
  src: AssistantSource,
  input: ToolInput<'stagelight_compare'>,
): Promise<ToolResult> {
  if ((input.a === undefined) !== (input.b === undefined)) {
    throw new ToolInputError('give both a and b, or trace and against');
  }
  if (input.a !== undefined && (input.trace !== undefined || input.against !== undefined)) {
    throw new ToolInputError('give a and b, or trace and against, not both');
  }
  const q =
    input.a !== undefined && input.b !== undefined
      ? { a: input.a, b: input.b }
      : { trace: input.trace, against: input.against ?? ('baseline' as const) };
  if ('against' in q && q.against === 'typical' && q.trace === undefined) {
    throw new ToolInputError('against=typical needs a trace');
  }
  const [c, locations] = await Promise.all([src.compare(q), src.sources()]);
  const sources = new Sources(locations);
  const doc = new BoundedText(byteLimit(input.maxBytes)).line(DATA_NOTICE);
  const side = (s: (typeof c)['before']) =>
    `${quoted(s.label)} ${formatDuration(s.durationMs)} (${formatCount(s.traces, 'trace')})`;
  doc.line(`Before ${side(c.before)} → after ${side(c.after)}: ${formatDelta(c.deltaMs)}.`);
  const rowText = (r: CompareRow) => {
    const status = r.status === 'both' ? '' : `, ${r.status}`;
    const before = r.beforeMs === undefined ? 'absent' : formatDuration(r.beforeMs);
    const after = r.afterMs === undefined ? 'absent' : formatDuration(r.afterMs);
    return `${stageText(r)} ${before} → ${after} (${formatDelta(r.deltaMs)}${status})${sources.at(r)}`;
  };
  doc.section('Stages by size of the change (critical-path time):', c.rows.map(rowText), (from) => {
    const rest = c.rows.slice(from);
    const ms = rest.reduce((s, r) => s + r.deltaMs, 0);
    return `… and ${formatCount(rest.length, 'more stage')} (${formatDelta(ms)} together)`;
  });
  return { text: doc.render(), references: sources.used };
}

async function findTool(
  src: AssistantSource,
  input: ToolInput<'stagelight_find_traces'>,
): Promise<ToolResult> {
  if (input.attributeValue !== undefined && input.attributeKey === undefined) {
    throw new ToolInputError('attributeValue needs attributeKey');
  }
  const limit = input.limit ?? 10;
  const q: TraceQuery = {
    service: input.service,
    name: input.operation,
    minDurationMs: input.minDurationMs,
    error: input.error,
    attribute:
      input.attributeKey === undefined
        ? undefined
        : input.attributeKey +
          (input.attributeValue === undefined ? '' : `=${input.attributeValue}`),
    // Longest first is taken among the latest 500 that match; otherwise one more than listed
    // says whether there are more.
    limit: input.sort === 'duration' ? 500 : limit + 1,
    sort: input.sort === 'start' ? 'start' : 'arrival',
  };
  const found = await src.traces(q);
  const traces =
    input.sort === 'duration' ? [...found].sort((a, b) => b.durationMs - a.durationMs) : found;
  const doc = new BoundedText(byteLimit(input.maxBytes)).line(DATA_NOTICE);
  doc.line(
    traces.length === 0
      ? 'No held trace matches.'
      : input.sort === 'duration'
        ? `${formatCount(traces.length, 'trace')} found among the latest 500 (longest first):`
        : `${formatCount(Math.min(limit, traces.length), 'trace')} found` +
          (traces.length > limit ? ', the latest; more match' : ' (latest first)') +
          ':',
  );
  const listed = traces.slice(0, limit);
  doc.section(
    'Trace id: root, duration, spans, errors, start (UTC)',
    listed.map((t) => {
      const m = (t as TraceSummary & { match?: AttributeMatch }).match;
      return (
        `${t.traceId} ${stageText({ service: t.rootService, name: t.rootName })}` +
        `${t.hasRoot ? '' : ' (partial)'}: ${formatDuration(t.durationMs)}, ${formatCount(t.spanCount, 'span')}, ` +
        `${formatCount(t.errorCount, 'error')}, ${new Date(t.startMs).toISOString()}` +
        (m === undefined
          ? ''
          : `; attribute ${quoted(m.key)} = ${quoted(m.value, 200)} on ${stageText(m)}`)
      );
    }),
    (from) => `… and ${formatCount(traces.length - from, 'more trace')}`,
    input.sort === 'duration' && traces.length > listed.length,
  );
  return { text: doc.render(), references: [] };
}

/** The attribute a trace matched `attribute=` with (read API, `GET /api/traces`). */
export interface AttributeMatch {
  readonly spanId: string;
  readonly service: string;
  readonly name: string;
  readonly key: string;
  readonly value: string;
}

const RUNNERS: { [N in ToolName]: (s: AssistantSource, i: ToolInput<N>) => Promise<ToolResult> } = {
  stagelight_insights: insightsTool,
  stagelight_explain_trace: explainTool,
  stagelight_stage_stats: statsTool,
  stagelight_compare: compareTool,
  stagelight_find_traces: findTool,
};

/** Validates the input and runs the tool. Throws `ToolInputError` or `ReadApiError`. */
export async function runTool(
  source: AssistantSource,
  tool: ToolName,
  input: unknown,
): Promise<ToolResult> {
  const parsed = parseToolInput(tool, input);
  return (RUNNERS[tool] as (s: AssistantSource, i: unknown) => Promise<ToolResult>)(source, parsed);
}
