/**
 * The one rule for "a log line contains this text", shared by the core (the Logs view, the
 * read API, the waterfall's `log:"text"` search) and the webview (the details panel's filter):
 * a case-insensitive substring of any of the line's texts (body, severity, event name,
 * attribute values); and the severity levels' names and numbers. Plain TypeScript, no `vscode`, no Node: both bundles import it.
 */
import type { SpanLogLine } from '../protocol/messages.js';

/** Whether `needle` ('' matches everything) is in any of `texts`, ignoring case. */
export function logTextMatches(texts: Iterable<string>, needle: string): boolean {
  if (needle === '') return true;
  const n = needle.toLowerCase();
  for (const t of texts) if (t.toLowerCase().includes(n)) return true;
  return false;
}

/** The texts of a span's listed line that its filter looks in (a record's, as listed). */
export function spanLogLineTexts(line: SpanLogLine): string[] {
  return [line.body, line.severity, line.eventName, ...line.attributes.map((a) => a.value)];
}

/** The severity levels, each four numbers wide (TRACE 1-4 ... FATAL 21-24). */
export const SEVERITY_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;

/** A severity number's level ("WARN" for 13-16); '' for 0 (unspecified). */
export function severityLevel(n: number): string {
  if (n < 1 || n > 24) return '';
  return SEVERITY_LEVELS[Math.floor((n - 1) / 4)] as string;
}

/**
 * The lowest severity number of a level name ("warn" -> 13) or a number ("13"); undefined when
 * `text` is neither.
 */
export function parseSeverity(text: string): number | undefined {
  const t = text.trim();
  if (/^\d{1,2}$/.test(t)) {
    const n = Number(t);
    return n <= 24 ? n : undefined;
  }
  const i = SEVERITY_LEVELS.indexOf(t.toUpperCase() as (typeof SEVERITY_LEVELS)[number]);
  return i < 0 ? undefined : i * 4 + 1;
}
