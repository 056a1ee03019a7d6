/**
 * A trace's log lines as the waterfall shows them: per-row counts, highest severities and the
 * marks on the bars (for the payload), a span's lines (for its details), and the rows whose
 * spans wrote a line containing a text (the `log:"text"` search term). Every figure here is
 * computed once, from the log store's trace index, and shown by the webview as it is.
 *
 * Pure and plain Node: no `vscode`, no I/O.
 */
import type { TraceAnalysis } from '../analysis/analyze-trace.js';
import type { LogRecordEntry } from '../otlp/logs-request-decoder.js';
import { logRecordTexts, logValueText, severityLevel } from '../store/log-store.js';
import { logTextMatches } from '../../shared/log-match.js';
import {
  LOG_MARK_LIMIT,
  SPAN_LOG_LIMIT,
  SpanFlag,
  type SpanLogLine,
} from '../../protocol/messages.js';

/** What the waterfall needs of the log store: a trace's records (of one span when given). */
export interface TraceLogSource {
  forTrace(traceId: string, spanId?: string): LogRecordEntry[];
}

/** Characters of a line a mark's hover shows. */
const MARK_TEXT_CHARS = 200;

export interface TraceLogColumns {
  logCount: Uint32Array;
  logSeverity: Uint8Array;
  logMarks: Float64Array;
  logTexts: string[];
}

/**
 * The payload's log columns for a trace whose rows are `analysis`'s payload rows, and sets
 * `SpanFlag.HAS_LOG` in `flags` for each row with a line. A record whose span is not in the
 * trace (not received yet, or of another trace's id reused) is not marked. O(records).
 * `toPayload`: tree row -> payload row (`payloadRows(tree).payloadRow`), passed in so that this
 * module needs nothing of the payload's.
 */
export function traceLogColumns(
  analysis: TraceAnalysis,
  toPayload: Int32Array,
  logs: TraceLogSource,
  traceStartMs: number,
  flags: Uint8Array,
): TraceLogColumns {
  const n = flags.length;
  const logCount = new Uint32Array(n);
  const logSeverity = new Uint8Array(n);
  const records = logs.forTrace(analysis.tree.traceId);
  const marks: number[] = [];
  const logTexts: string[] = [];
  for (const r of records) {
    if (r.spanId === '') continue;
    const t = analysis.tree.rowOf(r.spanId);
    if (t < 0) continue;
    const row = toPayload[t] as number;
    logCount[row] = (logCount[row] as number) + 1;
    if (r.severityNumber > (logSeverity[row] as number)) logSeverity[row] = r.severityNumber;
    flags[row] = (flags[row] as number) | SpanFlag.HAS_LOG;
    if (logTexts.length < LOG_MARK_LIMIT) {
      marks.push(row, r.timeMs - traceStartMs, r.severityNumber);
      logTexts.push(markText(r));
    }
  }
  return { logCount, logSeverity, logMarks: Float64Array.from(marks), logTexts };
}

/** A record's severity as a user reads it: its text, else its number's level. */
export function severityName(r: Pick<LogRecordEntry, 'severityText' | 'severityNumber'>): string {
  return r.severityText !== '' ? r.severityText : severityLevel(r.severityNumber);
}

function markText(r: LogRecordEntry): string {
  const sev = severityName(r);
  const body = logValueText(r.body);
  const text = sev === '' ? body : `${sev} ${body}`;
  return text.length > MARK_TEXT_CHARS ? `${text.slice(0, MARK_TEXT_CHARS - 1)}…` : text;
}

/** A span's log lines by time, at most `SPAN_LOG_LIMIT` (the earliest), and their total. */
export function spanLogLines(
  logs: TraceLogSource,
  traceId: string,
  spanId: string,
  traceStartMs: number,
): { lines: SpanLogLine[]; total: number } {
  const records = logs.forTrace(traceId, spanId);
  const lines = records.slice(0, SPAN_LOG_LIMIT).map((r): SpanLogLine => ({
    offsetMs: r.timeMs - traceStartMs,
    severityNumber: r.severityNumber,
    severity: severityName(r),
    body: logValueText(r.body),
    eventName: r.eventName,
    attributes: r.attributes.map((kv) => ({ key: kv.key, value: logValueText(kv.value) })),
  }));
  return { lines, total: records.length };
}

/**
 * Payload rows whose spans wrote a line containing `text` (`logTextMatches`); `toPayload` as
 * for {@link traceLogColumns}.
 */
export function rowsWithLogText(
  analysis: TraceAnalysis,
  toPayload: Int32Array,
  logs: TraceLogSource,
  text: string,
): Set<number> {
  const rows = new Set<number>();
  for (const r of logs.forTrace(analysis.tree.traceId)) {
    if (r.spanId === '') continue;
    const t = analysis.tree.rowOf(r.spanId);
    if (t < 0) continue;
    const row = toPayload[t] as number;
    if (!rows.has(row) && logTextMatches(logRecordTexts(r), text)) rows.add(row);
  }
  return rows;
}
