/**
 * The waterfall's details panel for one span (`SpanDetails` of the webview protocol), built on
 * demand from the span's stored bytes and the trace's analysis. Pure and plain Node.
 *
 * Every value is rendered as text here, once, so the webview only ever assigns strings to
 * `textContent`: attribute values are untrusted input.
 */

import type { TraceAnalysis } from '../analysis/analyze-trace.js';
import type { AnyValueJson, KeyValueJson, SpanJson, SpanRecord } from '../model.js';
import { decodeSpanJson } from '../otlp/span-details.js';
import type { AttributeGroup, KeyValueText, SpanDetails } from '../../protocol/messages.js';
import { rowOfSpan, SOURCE_FILE_KEYS, SOURCE_LINE_KEYS } from './trace-payload.js';
import { isDecodeName, isPrefillName, llmFigures } from '../analysis/insights/llm.js';

/** Longest rendered value; longer ones are cut with an ellipsis (a stack trace fits). */
export const MAX_VALUE_CHARS = 16_384;

/**
 * Details of `span`, shown at `row` of its trace's payload. `traceDurationMs` is the trace's
 * end-to-end duration (the denominator of the critical share).
 *
 * `startMs` is the span's start in epoch ms; the webview subtracts the payload's `startMs` for
 * an offset. Spans whose bytes cannot be decoded (malformed) still get details from their
 * record, with no attributes, events or links.
 */
export function buildSpanDetails(
  span: SpanRecord,
  row: number,
  analysis: TraceAnalysis,
  traceDurationMs: number,
): SpanDetails {
  let json: SpanJson | undefined;
  try {
    json = span.raw.length > 0 ? decodeSpanJson(span.raw) : undefined;
  } catch {
    json = undefined;
  }
  const criticalMs = analysis.criticalPath.bySpan.get(span.spanId) ?? 0;
  const startNs = json === undefined ? undefined : parseNs(json.startTimeUnixNano);

  const attributes = (json?.attributes ?? []).map((kv) => ({
    ...keyValueText(kv),
    group: attributeGroup(kv.key),
  }));
  // Grouped in the order the panel shows them; keys sorted within a group for scanning.
  const order: Record<AttributeGroup, number> = { model: 0, gen_ai: 1, code: 2, other: 3 };
  attributes.sort((a, b) => order[a.group] - order[b.group] || compare(a.key, b.key));

  const details: SpanDetails = {
    row,
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    service: span.serviceName,
    kind: span.kind,
    startMs: span.startMs,
    durationMs: Math.max(0, span.endMs - span.startMs),
    selfMs: analysis.selfTimes.get(span.spanId) ?? 0,
    criticalMs,
    criticalShare: traceDurationMs > 0 ? criticalMs / traceDurationMs : 0,
    status: { code: span.statusCode, message: json?.status.message ?? '' },
    attributes,
    resource: span.resource.attributes.map(keyValueText),
    scope: { name: span.scope.name, version: span.scope.version },
    events: (json?.events ?? []).map((e) => {
      const ns = parseNs(e.timeUnixNano);
      return {
        name: e.name,
        offsetMs: ns !== undefined && startNs !== undefined ? Number(ns - startNs) / 1e6 : 0,
        attributes: e.attributes.map(keyValueText),
      };
    }),
    links: (json?.links ?? span.links.map((l) => ({ ...l, attributes: [] }))).map((l) => ({
      traceId: l.traceId,
      spanId: l.spanId,
      row: l.traceId === span.traceId ? rowOfSpan(analysis, l.spanId) : -1,
      attributes: l.attributes.map(keyValueText),
    })),
  };
  const source = sourceOf(json?.attributes ?? []);
  if (source !== undefined) details.source = source;
  const shift = analysis.tree.clockShiftOf(span.spanId);
  if (shift !== 0) details.clockShiftMs = shift;
  const llm = llmOf(span, json?.attributes ?? [], analysis);
  if (llm !== undefined) details.llm = llm;
  return details;
}

/** An LLM call's figures (see `llmFigures`), when the span carries output token counts. */
function llmOf(
  span: SpanRecord,
  attributes: readonly KeyValueJson[],
  analysis: TraceAnalysis,
): SpanDetails['llm'] {
  const int = (key: string): number | undefined => {
    const v = attributes.find((kv) => kv.key === key)?.value;
    const n =
      v === undefined
        ? NaN
        : Number('intValue' in v ? v.intValue : 'doubleValue' in v ? v.doubleValue : NaN);
    return Number.isFinite(n) ? n : undefined;
  };
  const out = int('gen_ai.usage.output_tokens');
  if (out === undefined || out <= 0) return undefined;
  // The model server's passes somewhere under the call (its SERVER span, then the passes).
  let prefill: SpanRecord | undefined;
  let decode: SpanRecord | undefined;
  const queue = [...analysis.tree.children(span.spanId)];
  for (let n = 0; queue.length > 0 && n < 10_000; n++) {
    const s = queue.shift()!;
    if (prefill === undefined && isPrefillName(s.name)) prefill = s;
    if (decode === undefined && isDecodeName(s.name)) decode = s;
    queue.push(...analysis.tree.children(s.spanId));
  }
  const f = llmFigures(span, out, int('gen_ai.usage.input_tokens'), prefill, decode);
  return {
    outputTokens: f.outputTokens,
    tokensPerSec: f.tokensPerSec,
    ...(f.inputTokens !== undefined ? { inputTokens: f.inputTokens } : {}),
    ...(f.ttftMs !== undefined ? { ttftMs: f.ttftMs } : {}),
    ...(f.prefillMs !== undefined ? { prefillMs: f.prefillMs } : {}),
    ...(f.decodeMs !== undefined ? { decodeMs: f.decodeMs } : {}),
  };
}

/** `model.*`, `gen_ai.*`, `code.*` or anything else. */
export function attributeGroup(key: string): AttributeGroup {
  if (key.startsWith('model.')) return 'model';
  if (key.startsWith('gen_ai.')) return 'gen_ai';
  if (key.startsWith('code.')) return 'code';
  return 'other';
}

/**
 * Where a span's `code.*` attributes say it starts: `code.file.path` + `code.line.number`, or
 * the older `code.filepath` + `code.lineno`. A file without a line gives line 1 (the file is
 * still worth opening); a line without a file gives nothing.
 */
export function sourceOf(
  attributes: readonly KeyValueJson[],
): { file: string; line: number } | undefined {
  const get = (key: string): AnyValueJson | undefined =>
    attributes.find((kv) => kv.key === key)?.value;
  for (let k = 0; k < SOURCE_FILE_KEYS.length; k++) {
    const file = get(SOURCE_FILE_KEYS[k]!);
    if (file === undefined || !('stringValue' in file) || file.stringValue === '') continue;
    // Prefer the line key of the same convention, then the other one.
    const lineValue = get(SOURCE_LINE_KEYS[k]!) ?? get(SOURCE_LINE_KEYS[1 - k]!);
    let line = 1;
    if (lineValue !== undefined) {
      const n = Number(
        'intValue' in lineValue
          ? lineValue.intValue
          : 'stringValue' in lineValue
            ? lineValue.stringValue
            : 'doubleValue' in lineValue
              ? lineValue.doubleValue
              : NaN,
      );
      if (Number.isInteger(n) && n >= 1) line = n;
    }
    return { file: file.stringValue, line };
  }
  return undefined;
}

/** A key/value pair with its value as display text. */
export function keyValueText(kv: KeyValueJson): KeyValueText {
  return { key: kv.key, value: truncate(anyValueText(kv.value)) };
}

/**
 * An AnyValue as text: scalars as themselves (strings unquoted), arrays and kvlists as JSON of
 * their plain values, bytes as base64, an empty value as ''.
 */
export function anyValueText(v: AnyValueJson): string {
  if ('stringValue' in v) return v.stringValue;
  if ('arrayValue' in v || 'kvlistValue' in v) return JSON.stringify(plain(v));
  const p = plain(v);
  return p === null ? '' : String(p);
}

type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };

function plain(v: AnyValueJson): Plain {
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) {
    // Exact beyond 2^53: keep the decimal string's digits rather than a rounded double.
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : v.intValue;
  }
  if ('doubleValue' in v) return v.doubleValue;
  if ('bytesValue' in v) return v.bytesValue;
  if ('arrayValue' in v) return v.arrayValue.values.map(plain);
  if ('kvlistValue' in v) {
    const o: { [key: string]: Plain } = {};
    for (const kv of v.kvlistValue.values) o[kv.key] = plain(kv.value);
    return o;
  }
  return null;
}

function truncate(s: string): string {
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS)}…` : s;
}

function parseNs(s: string): bigint | undefined {
  try {
    return BigInt(s);
  } catch {
    return undefined;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
