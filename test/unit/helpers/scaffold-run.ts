/**
 * Shared steps of the tests that run generated instrumentation: apply a scaffolding command to
 * a document, insert a propagation snippet with the values a user would type into its
 * placeholders, run the program with a clean OTEL_* environment, and read back what arrived
 * through the receiver's read API.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import ts from 'typescript';
import {
  addTracingSetup,
  applyEdits,
  insertPropagation,
  type PropagationPattern,
  type ScaffoldDocument,
  type ScaffoldResult,
} from '../../../src/core/scaffold/index.js';
import { expandPlaceholders } from '../../../src/core/scaffold/propagation.js';
import type { KeyValueJson, SpanJson } from '../../../src/core/model.js';
import type { ExportTraceServiceRequestJson } from '../../../src/core/otlp/export.js';
import { getJson, waitFor } from './server.js';

/** A cursor at the start of `marker` (which must occur in `text`). */
export function at(text: string, marker: string): { start: number; end: number } {
  const i = text.indexOf(marker);
  assert.ok(i >= 0, marker);
  return { start: i, end: i };
}

/** From the start of `from` to the end of `to`. */
export function between(text: string, from: string, to: string): { start: number; end: number } {
  const start = text.indexOf(from);
  const end = text.indexOf(to, start);
  assert.ok(start >= 0 && end >= 0, `${from} .. ${to}`);
  return { start, end: end + to.length };
}

/** The document with a command's edits applied; the command must have edited it. */
export function apply(doc: ScaffoldDocument, r: ScaffoldResult): ScaffoldDocument {
  assert.equal(r.status, 'edited', JSON.stringify(r.messages));
  return { ...doc, text: applyEdits(doc.text, r.edits) };
}

/**
 * `Propagate Context` at the line of `marker`, as the editor inserts it: the snippet with its
 * imports, each placeholder holding what the user types into it (`fill`, by placeholder number)
 * or else its default.
 */
export async function propagate(
  doc: ScaffoldDocument,
  marker: string,
  pattern: PropagationPattern,
  fill: Readonly<Record<number, string>> = {},
): Promise<ScaffoldDocument> {
  const r = await insertPropagation(
    doc.text,
    doc.language,
    doc.fileName,
    at(doc.text, marker).start,
    pattern,
  );
  const out = apply(doc, r);
  const snippet = r.snippet!;
  const plain = expandPlaceholders(snippet.text);
  assert.equal(out.text.slice(snippet.offset, snippet.offset + plain.length), plain);
  let typed = snippet.text;
  for (const [n, value] of Object.entries(fill)) {
    // Every occurrence of a placeholder mirrors the first (VS Code's snippet semantics).
    typed = typed.replace(new RegExp(`\\$\\{${n}(?::(?:[^{}]|\\{[^{}]*\\})*)?\\}`, 'g'), value);
  }
  const text =
    out.text.slice(0, snippet.offset) +
    expandPlaceholders(typed) +
    out.text.slice(snippet.offset + plain.length);
  return { ...out, text };
}

/**
 * The environment of a generated program: this one's without the OTLP variables the generated
 * setup reads (so the test's own environment cannot redirect its spans), plus `extra`.
 */
export function programEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('OTEL_')) delete env[k];
  return { ...env, ...extra };
}

/** Attributes as a plain object; int64 values as numbers. */
export function attrs(kvs: readonly KeyValueJson[]): Record<string, unknown> {
  return Object.fromEntries(
    kvs.map((kv) => {
      const v = kv.value as Record<string, unknown>;
      const raw = v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue;
      return [kv.key, typeof raw === 'string' && 'intValue' in v ? Number(raw) : raw];
    }),
  );
}

export interface ArrivedSpan {
  span: SpanJson;
  resource: Record<string, unknown>;
}

/** All spans of a service, with their resource attributes, from the read API. */
export async function spansOf(
  api: string,
  service: string,
  minSpans: number,
): Promise<ArrivedSpan[]> {
  return waitFor(
    async () => {
      const list = await getJson(`${api}/traces?service=${encodeURIComponent(service)}`);
      const traces = (list.body as { traces: { traceId: string }[] }).traces;
      const spans: ArrivedSpan[] = [];
      for (const t of traces) {
        const got = await getJson(`${api}/traces/${t.traceId}`);
        for (const rs of (got.body as ExportTraceServiceRequestJson).resourceSpans) {
          const resource = attrs(rs.resource?.attributes ?? []);
          for (const ss of rs.scopeSpans)
            for (const span of ss.spans) spans.push({ span, resource });
        }
      }
      return spans.length >= minSpans ? spans : undefined;
    },
    10_000,
    `${minSpans} spans of ${service}`,
  );
}

/** The one span of that name (asserted to exist once). */
export function spanNamed(spans: readonly ArrivedSpan[], name: string): SpanJson {
  const found = spans.filter((x) => x.span.name === name);
  assert.equal(
    found.length,
    1,
    `one span ${name} arrived (got ${spans.map((x) => x.span.name).join(', ')})`,
  );
  return found[0]!.span;
}

/** `child` continues `parent`'s trace as its direct child. */
export function assertChild(child: SpanJson, parent: SpanJson, what: string): void {
  assert.equal(child.traceId, parent.traceId, `${what}: same trace`);
  assert.equal(child.parentSpanId, parent.spanId, `${what}: parent span`);
}

/** A root span: no parent. */
export function assertRoot(span: SpanJson, what: string): void {
  assert.equal(span.parentSpanId ?? '', '', `${what} is a root span`);
}

/** Error status with the message, and one exception event with the exception's message. */
export function assertFailed(span: SpanJson, statusMessage: RegExp, exceptionMessage: string) {
  assert.equal(span.status.code, 2, `${span.name}: error status`);
  assert.match(span.status.message ?? '', statusMessage);
  const ex = span.events.filter((e) => e.name === 'exception');
  assert.equal(ex.length, 1, `${span.name}: one exception event`);
  assert.equal(attrs(ex[0]!.attributes)['exception.message'], exceptionMessage);
}

/**
 * The type errors of a TS/JS text checked as if it were `file` (a path inside this repository,
 * so that imports resolve to the real node_modules types); a `.cjs`/`.js`/`.mjs` file is checked
 * as JavaScript, for what a JS user would hit (implicit any is theirs to have).
 */
export function tsTypeErrors(text: string, file: string): string[] {
  const js = /\.[cm]?js$/.test(file);
  const options: ts.CompilerOptions = {
    strict: !js,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    skipLibCheck: true,
    allowJs: js,
    checkJs: js,
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (f) => (path.resolve(f) === file ? text : read(f));
  const exists = host.fileExists.bind(host);
  host.fileExists = (f) => path.resolve(f) === file || exists(f);
  const getSf = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, onError, create) =>
    path.resolve(f) === file
      ? ts.createSourceFile(f, text, lang, true)
      : getSf(f, lang, onError, create);
  const program = ts.createProgram([file], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && path.resolve(d.file.fileName) === file)
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

/**
 * Add Tracing Setup written for the default port of `protocol`: the run points the program at
 * the test's receiver through OTEL_EXPORTER_OTLP_ENDPOINT, as Run with Tracing does, so the
 * source (and what is built from it) stays the same from run to run.
 */
export async function setupAtDefaultPort(
  doc: ScaffoldDocument,
  serviceName: string,
  protocol: 'grpc' | 'http',
): Promise<ScaffoldDocument> {
  const endpoint = protocol === 'grpc' ? 'http://127.0.0.1:4317' : 'http://127.0.0.1:4318';
  return apply(
    doc,
    await addTracingSetup(
      doc,
      { files: [], read: () => undefined },
      { serviceName, endpoint, protocol },
    ),
  );
}
