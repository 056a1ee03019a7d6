/**
 * What the waterfall says of a row's log lines, from the payload's log columns (counted once in
 * the core): the hover text over a row and the count; and the details panel's filter over a
 * span's listed lines. Pure, tested without rendering.
 */
import type { SpanLogLine } from '../../../src/protocol/messages.js';
import { formatCount } from '../../../src/shared/format.js';
import { logTextMatches, spanLogLineTexts } from '../../../src/shared/log-match.js';
import { formatDuration } from './layout.js';
import type { TraceModel } from './trace-model.js';

/** Lines a hover lists before it says how many more there are. */
export const HOVER_LINES = 8;

/** How many log lines a row's span wrote ('' for none): "3 log lines". */
export function logCountText(model: TraceModel, row: number): string {
  const n = model.payload.logCount?.[row] ?? 0;
  return n === 0 ? '' : formatCount(n, 'log line');
}

/**
 * The hover over a row with log lines: the count, then each line as "+12.5 ms WARN body" (time
 * from the trace start), at most `HOVER_LINES`; '' for a row without lines.
 */
export function logHoverText(model: TraceModel, row: number): string {
  const count = logCountText(model, row);
  if (count === '') return '';
  const p = model.payload;
  const marks = model.logMarksByRow.get(row) ?? [];
  const lines = [count];
  for (const k of marks.slice(0, HOVER_LINES)) {
    lines.push(`+${formatDuration(p.logMarks?.[k * 3 + 1] ?? 0)} ${p.logTexts?.[k] ?? ''}`);
  }
  const total = p.logCount?.[row] ?? 0;
  const listed = Math.min(marks.length, HOVER_LINES);
  if (total > listed) {
    lines.push(`… ${formatCount(total - listed, 'more line')}: select the span to read them all`);
  }
  return lines.join('\n');
}

/** The severity floors the details panel offers (OTLP severity numbers: level * 4 + 1). */
export const SEVERITY_FLOORS: readonly { value: string; label: string; min: number }[] = [
  { value: 'all', label: 'All levels', min: 0 },
  { value: 'debug', label: 'DEBUG and above', min: 5 },
  { value: 'info', label: 'INFO and above', min: 9 },
  { value: 'warn', label: 'WARN and above', min: 13 },
  { value: 'error', label: 'ERROR and above', min: 17 },
];

/**
 * A span's listed lines at or above `minSeverity` that contain `text` (the rule the Logs view
 * and the `log:` search use: `logTextMatches`).
 */
export function filterSpanLogLines(
  lines: readonly SpanLogLine[],
  minSeverity: number,
  text: string,
): SpanLogLine[] {
  const needle = text.trim();
  return lines.filter(
    (l) => l.severityNumber >= minSeverity && logTextMatches(spanLogLineTexts(l), needle),
  );
}

/** The level class of a severity number, for its colour: 'error', 'warn', 'info' or 'debug'. */
export function severityClass(n: number): 'error' | 'warn' | 'info' | 'debug' {
  return n >= 17 ? 'error' : n >= 13 ? 'warn' : n >= 9 ? 'info' : 'debug';
}
