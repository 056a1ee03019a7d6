/**
 * The one rule for "a log line contains this text", shared by the core (the Logs view, the
 * read API, the waterfall's `log:"text"` search) and the webview (the details panel's filter):
 * a case-insensitive substring of any of the line's texts (body, severity, event name,
 * attribute values). Plain TypeScript, no `vscode`, no Node: both bundles import it.
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
