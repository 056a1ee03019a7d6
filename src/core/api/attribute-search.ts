/**
 * Attribute search for the waterfall: which rows of a trace have attributes matching the search
 * terms. The webview holds no attributes (they stay in each span's bytes), so it asks the host,
 * which decodes them here on demand.
 */
import type { AnyValueJson, KeyValueJson, SpanRecord } from '../model.js';
import type { TraceAnalysis } from '../analysis/analyze-trace.js';
import { spanAttributes } from '../otlp/span-details.js';
import { payloadRows } from './trace-payload.js';
import type { AttributeTerm } from '../../protocol/messages.js';
import { rowsWithLogText, type TraceLogSource } from './span-logs.js';

/** An attribute value as the search compares it: lower-case text. */
function valueText(v: AnyValueJson): string {
  if ('stringValue' in v) return v.stringValue.toLowerCase();
  if ('intValue' in v) return v.intValue;
  if ('doubleValue' in v) return String(v.doubleValue);
  if ('boolValue' in v) return String(v.boolValue);
  if ('arrayValue' in v) return v.arrayValue.values.map(valueText).join(',');
  if ('kvlistValue' in v)
    return v.kvlistValue.values.map((kv) => `${kv.key}=${valueText(kv.value)}`).join(',');
  return '';
}

function matches(attrs: readonly KeyValueJson[], term: AttributeTerm): boolean {
  const key = term.key.toLowerCase();
  for (const kv of attrs) {
    if (!kv.key.toLowerCase().includes(key)) continue;
    if (term.value === undefined || valueText(kv.value).includes(term.value.toLowerCase())) {
      return true;
    }
  }
  return false;
}

/**
 * The first attribute (span or resource) of any of `spans` that matches `term` (as
 * {@link searchAttributes} matches it), with the span that has it; spans whose bytes cannot be
 * decoded are skipped. Stops at the first match.
 */
export function findAttribute(
  spans: Iterable<SpanRecord>,
  term: AttributeTerm,
): { span: SpanRecord; attribute: KeyValueJson } | undefined {
  for (const span of spans) {
    let attrs: KeyValueJson[];
    try {
      attrs = [...spanAttributes(span), ...span.resource.attributes];
    } catch {
      continue;
    }
    const attribute = attrs.find((kv) => matches([kv], term));
    if (attribute !== undefined) return { span, attribute };
  }
  return undefined;
}

/**
 * The payload rows (see `payloadRows`), ascending, whose span or resource
 * attributes match every term: the key contains `term.key`, the value contains `term.value`
 * (case-insensitive; a term without a value only needs the key). A negated term must not match.
 * Spans whose bytes cannot be decoded match nothing. A `log` term (`in: 'log'`) matches a span
 * that wrote a log line containing its `key` (from `logs`).
 */
export function searchAttributes(
  analysis: TraceAnalysis,
  terms: readonly AttributeTerm[],
  logs?: TraceLogSource,
): number[] {
  const rows: number[] = [];
  const spans = analysis.tree.spans;
  const toPayload = payloadRows(analysis.tree).payloadRow;
  const attrTerms = terms.filter((t) => t.in !== 'log');
  // A `log:` term is decided per span from the trace's log lines; without a log store no span
  // wrote any.
  const logTerms = terms
    .filter((t) => t.in === 'log')
    .map((t) => ({
      rows:
        logs === undefined ? new Set<number>() : rowsWithLogText(analysis, toPayload, logs, t.key),
      negate: t.negate,
    }));
  for (let row = 0; row < spans.length; row++) {
    const span = spans[row] as SpanRecord;
    const p = toPayload[row] as number;
    if (!logTerms.every((t) => t.rows.has(p) !== t.negate)) continue;
    if (attrTerms.length > 0) {
      let attrs: KeyValueJson[];
      try {
        attrs = [...spanAttributes(span), ...span.resource.attributes];
      } catch {
        continue;
      }
      if (!attrTerms.every((t) => matches(attrs, t) !== t.negate)) continue;
    }
    rows.push(p);
  }
  // Placeholders move whole subtrees: the payload's order is not the tree's.
  return rows.sort((a, b) => a - b);
}
