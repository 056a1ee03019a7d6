/**
 * Java scaffolding on tree-sitter-java. A traced method starts a span with
 * `tracer().spanBuilder(name).startSpan()`, makes it current in a try-with-resources scope,
 * records any Throwable, sets the error status, rethrows it (precise rethrow, so no `throws`
 * clause changes) and ends the span in `finally`.
 *
 * The tracer comes from a `tracer()` method, not a static field: a field initialised when the
 * class loads would call `GlobalOpenTelemetry.get()` before `main` registers the SDK, and the
 * registration would then fail.
 */
import {
  TODO_MARK,
  attributeValue,
  stageAttribute,
  todoValue,
  type ScopeName,
} from './attributes.js';
import type {
  SetupOptions,
  StageAttributeOptions,
  TraceFunctionOptions,
  WrapSelectionOptions,
} from './options.js';
import { OTLP_ENDPOINT_ENV, grpcUrl, httpTracesUrl } from './options.js';
import { descendants, enclosing, selectedStatements, withTree, type Node } from './parsers.js';
import {
  detectIndentUnit,
  edited,
  freshName,
  indentAt,
  indentLines,
  lineEnd,
  lineStart,
  quoted,
  refuse,
  spanShift,
} from './text.js';
import type { OffsetRange, ScaffoldResult, TextEdit } from './types.js';

const CLASS_TYPES = [
  'class_declaration',
  'enum_declaration',
  'record_declaration',
  'interface_declaration',
];
const SPAN_START = /\.spanBuilder\(/;

function named(n: Node): Node[] {
  return n.namedChildren.filter((c): c is Node => c !== null);
}

/** Edits adding the imports the file lacks (exact or wildcard), after the last import. */
function importEdits(root: Node, text: string, wanted: readonly string[]): TextEdit[] {
  const imports = named(root).filter((n) => n.type === 'import_declaration');
  const have = imports.map((n) =>
    n.text
      .replace(/^import\s+/, '')
      .replace(/;\s*$/, '')
      .trim(),
  );
  const missing = wanted.filter((w) => {
    const pkg = w.slice(0, w.lastIndexOf('.'));
    return !have.includes(w) && !have.includes(`${pkg}.*`);
  });
  if (missing.length === 0) return [];
  const lines = missing.map((m) => `import ${m};`).join('\n');
  const last = imports[imports.length - 1];
  if (last) {
    const at = lineEnd(text, last.endIndex);
    return [{ start: at, end: at, newText: `\n${lines}` }];
  }
  const pkg = named(root).find((n) => n.type === 'package_declaration');
  if (pkg) {
    const at = lineEnd(text, pkg.endIndex);
    return [{ start: at, end: at, newText: `\n\n${lines}` }];
  }
  return [{ start: 0, end: 0, newText: `${lines}\n\n` }];
}

function ownerClass(n: Node): Node | undefined {
  for (let p = n.parent; p; p = p.parent) if (CLASS_TYPES.includes(p.type)) return p;
  return undefined;
}

/** The class's Tracer: a `Tracer` field or a `tracer()` method, or one to add. */
function ensureTracer(
  root: Node,
  text: string,
  cls: Node,
  scopeName: string,
  unit: string,
): { call: string; edits: TextEdit[] } {
  const body = cls.childForFieldName('body');
  const members = body ? named(body) : [];
  for (const m of members) {
    if (m.type === 'field_declaration' && m.childForFieldName('type')?.text === 'Tracer') {
      const name = [...descendants(m)]
        .find((d) => d.type === 'variable_declarator')
        ?.childForFieldName('name')?.text;
      if (name) return { call: name, edits: importEdits(root, text, SPAN_IMPORTS) };
    }
    if (m.type === 'method_declaration' && m.childForFieldName('type')?.text === 'Tracer') {
      const name = m.childForFieldName('name')?.text;
      if (name) return { call: `${name}()`, edits: importEdits(root, text, SPAN_IMPORTS) };
    }
  }
  if (!body) return { call: 'tracer()', edits: [] };
  const i = indentAt(text, cls.startIndex) + unit;
  const method = [
    '',
    `${i}private static Tracer tracer() {`,
    `${i}${unit}return GlobalOpenTelemetry.getTracer(${quoted(scopeName)});`,
    `${i}}`,
    '',
  ].join('\n');
  const at = body.startIndex + 1;
  return {
    call: 'tracer()',
    edits: [
      ...importEdits(root, text, [
        'io.opentelemetry.api.GlobalOpenTelemetry',
        'io.opentelemetry.api.trace.Tracer',
        ...SPAN_IMPORTS,
      ]),
      { start: at, end: at, newText: method },
    ],
  };
}

const SPAN_IMPORTS = [
  'io.opentelemetry.api.trace.Span',
  'io.opentelemetry.api.trace.StatusCode',
  'io.opentelemetry.context.Scope',
];

function qualifiedClassName(root: Node, cls: Node): string {
  const pkg = named(root).find((n) => n.type === 'package_declaration')?.namedChildren[0]?.text;
  const names: string[] = [];
  for (let p: Node | null = cls; p; p = p.parent) {
    if (CLASS_TYPES.includes(p.type)) names.unshift(p.childForFieldName('name')?.text ?? '');
  }
  return [pkg, names.join('.')].filter(Boolean).join('.');
}

interface Names {
  span: string;
  scope: string;
  error: string;
}

function wrapLines(
  i: string,
  unit: string,
  tracerCall: string,
  spanName: string,
  n: Names,
): { head: string; tail: string } {
  const head = [
    `${i}Span ${n.span} = ${tracerCall}.spanBuilder(${quoted(spanName)}).startSpan();`,
    `${i}try (Scope ${n.scope} = ${n.span}.makeCurrent()) {`,
  ].join('\n');
  const tail = [
    `${i}} catch (Throwable ${n.error}) {`,
    `${i}${unit}${n.span}.recordException(${n.error});`,
    `${i}${unit}${n.span}.setStatus(StatusCode.ERROR, String.valueOf(${n.error}.getMessage()));`,
    `${i}${unit}throw ${n.error};`,
    `${i}} finally {`,
    `${i}${unit}${n.span}.end();`,
    `${i}}`,
  ].join('\n');
  return { head, tail };
}

function textBlocks(root: Node): { start: number; end: number }[] {
  return [...descendants(root)]
    .filter((n) => n.type === 'string_literal' && n.startPosition.row !== n.endPosition.row)
    .map((n) => ({ start: n.startIndex, end: n.endIndex }));
}

function names(scope: string): Names {
  return {
    span: freshName('span', scope),
    scope: freshName('scope', scope),
    error: freshName('error', scope),
  };
}

/** Wraps the statements from `first` to `last` (whole lines) in the span's try block. */
function wrapStatements(
  root: Node,
  text: string,
  first: Node,
  last: Node,
  unit: string,
  tracerCall: string,
  spanName: string,
  scopeText: string,
): TextEdit[] {
  const indent = indentAt(text, first.startIndex);
  const { head, tail } = wrapLines(indent, unit, tracerCall, spanName, names(scopeText));
  const from = lineStart(text, first.startIndex);
  const to = lineEnd(text, last.endIndex);
  return [
    { start: from, end: from, newText: `${head}\n` },
    ...indentLines(text, from, to, unit, textBlocks(root)),
    { start: to, end: to, newText: `\n${tail}` },
  ];
}

export async function javaTraceFunction(
  text: string,
  sel: OffsetRange,
  opts: TraceFunctionOptions = {},
): Promise<ScaffoldResult> {
  return withTree('java', text, (root) => {
    const fn = enclosing(root, sel.start, sel.end, [
      'method_declaration',
      'constructor_declaration',
      'lambda_expression',
    ]);
    if (!fn) return refuse('not-found', 'Put the cursor inside a method to trace it.');
    if (fn.type === 'lambda_expression') {
      return refuse(
        'unsupported',
        'A lambda cannot be traced on its own: move its body into a method, or use Wrap Selection in Span inside a block lambda.',
      );
    }
    if (fn.type === 'constructor_declaration') {
      return refuse(
        'unsupported',
        'A constructor cannot be wrapped (final fields must be assigned outside a try); trace the methods it calls, or wrap a selection.',
      );
    }
    if (fn.hasError) return refuse('unsupported', 'This method has syntax errors; fix them first.');
    const cls = ownerClass(fn);
    const method = fn.childForFieldName('name')?.text ?? 'method';
    const name = cls ? `${cls.childForFieldName('name')?.text}.${method}` : method;
    const body = fn.childForFieldName('body');
    if (!body || !cls)
      return refuse('not-found', `${name} has no body (abstract or interface method).`);
    const stmts = named(body).filter(
      (n) => n.type !== 'line_comment' && n.type !== 'block_comment',
    );
    const first = stmts[0];
    const last = stmts[stmts.length - 1];
    if (first && first.type === 'local_variable_declaration' && SPAN_START.test(first.text)) {
      return refuse('already-instrumented', `${name} is already traced.`);
    }
    if (!first || !last)
      return refuse('unsupported', `${name} has an empty body; there is nothing to trace.`);
    if (
      first.startPosition.row === body.startPosition.row ||
      last.endPosition.row === body.endPosition.row
    ) {
      return refuse('unsupported', `Put the body of ${name} on its own lines first.`);
    }
    const unit = detectIndentUnit(text, '    ');
    const t = ensureTracer(root, text, cls, opts.tracerName ?? qualifiedClassName(root, cls), unit);
    const wrap = wrapStatements(
      root,
      text,
      first,
      last,
      unit,
      t.call,
      opts.spanName ?? name,
      // The parameters too: a local may not shadow one.
      fn.text,
    );
    const spanEdit = wrap[0]!;
    const all = [...t.edits, ...wrap];
    return { ...edited(all), spanLineOffset: spanEdit.start + spanShift(all, spanEdit) };
  });
}

function declaredNames(stmts: readonly Node[]): string[] {
  const out: string[] = [];
  for (const s of stmts) {
    if (s.type !== 'local_variable_declaration') continue;
    for (const d of named(s))
      if (d.type === 'variable_declarator') out.push(d.childForFieldName('name')?.text ?? '');
  }
  return out.filter(Boolean);
}

export async function javaWrapSelection(
  text: string,
  sel: OffsetRange,
  opts: WrapSelectionOptions,
): Promise<ScaffoldResult> {
  return withTree('java', text, (root) => {
    const found = selectedStatements(root, text, sel.start, sel.end, ['block', 'constructor_body']);
    if (!found) return refuse('not-found', 'Select whole statements inside a method body.');
    const cls = ownerClass(found.block);
    if (!cls) return refuse('not-found', 'Select statements inside a class.');
    const kids = named(found.block).filter(
      (n) => n.type !== 'line_comment' && n.type !== 'block_comment',
    );
    const stmts = kids.slice(kids.indexOf(found.first), kids.indexOf(found.last) + 1);
    if (stmts.some((s) => s.type === 'explicit_constructor_invocation')) {
      return refuse(
        'unsupported',
        'this(...) or super(...) must stay the first statement of the constructor; select the statements after it.',
      );
    }
    const tryStmt = found.block.parent;
    const decl =
      tryStmt?.type === 'try_with_resources_statement' ? tryStmt.previousNamedSibling : null;
    if (
      decl?.type === 'local_variable_declaration' &&
      SPAN_START.test(decl.text) &&
      decl.text.includes(quoted(opts.spanName))
    ) {
      return refuse('already-instrumented', `The selection is already in span ${opts.spanName}.`);
    }
    const rest = kids
      .slice(kids.indexOf(found.last) + 1)
      .map((k) => k.text)
      .join('\n');
    const leaked = declaredNames(stmts).filter((n) => new RegExp(`\\b${n}\\b`).test(rest));
    if (leaked.length) {
      return refuse(
        'unsupported',
        `The selection declares ${leaked.join(', ')}, used after it; inside the span's try block it would go out of scope. Declare it before the selection.`,
      );
    }
    if (text.slice(lineStart(text, found.first.startIndex), found.first.startIndex).trim() !== '') {
      return refuse(
        'unsupported',
        'The selection starts in the middle of a line; select whole lines.',
      );
    }
    const unit = detectIndentUnit(text, '    ');
    const t = ensureTracer(root, text, cls, opts.tracerName ?? qualifiedClassName(root, cls), unit);
    // Java lets no local shadow another of the same method (a traced method's span and scope
    // are outside the selected block), so the new names must be fresh in the whole method.
    const method = enclosing(root, found.block.startIndex, found.block.endIndex, [
      'method_declaration',
      'constructor_declaration',
    ]);
    const wrap = wrapStatements(
      root,
      text,
      found.first,
      found.last,
      unit,
      t.call,
      opts.spanName,
      (method ?? found.block).text,
    );
    const all = [...t.edits, ...wrap];
    return { ...edited(all), spanLineOffset: wrap[0]!.start + spanShift(all, wrap[0]!) };
  });
}

/**
 * The names the code at `at` can read, innermost first: locals declared before `before` in
 * each enclosing method or lambda, then its parameters, then the enclosing classes' fields.
 */
function javaScopeNames(at: Node, before: number, spanVar: string): ScopeName[] {
  const out: ScopeName[] = [];
  const push = (id: Node | null | undefined, type: string | undefined, expr?: string) => {
    if (id?.type === 'identifier' && id.text !== spanVar)
      out.push({ expr: expr ?? id.text, name: id.text, type });
  };
  for (let n: Node | null = at; n; n = n.parent) {
    if (n.type === 'method_declaration' || n.type === 'lambda_expression') {
      const body = n.childForFieldName('body');
      const locals: [Node | null, string | undefined][] = [];
      if (body) {
        for (const d of descendants(
          body,
          (c) => c.type === 'lambda_expression' || c.type === 'class_body',
        )) {
          if (d.type !== 'local_variable_declaration' || d.endIndex > before) continue;
          const type = d.childForFieldName('type')?.text;
          for (const v of d.childrenForFieldName('declarator'))
            locals.push([v?.childForFieldName('name') ?? null, type]);
        }
      }
      for (const [id, type] of locals.reverse()) push(id, type);
      const params = n.childForFieldName('parameters');
      if (params?.type === 'identifier') push(params, undefined);
      for (const p of params ? named(params) : [])
        if (p.type === 'formal_parameter' || p.type === 'spread_parameter')
          push(p.childForFieldName('name'), p.childForFieldName('type')?.text);
    }
    if (n.type === 'class_body') {
      for (const f of named(n)) {
        if (f.type !== 'field_declaration') continue;
        const type = f.childForFieldName('type')?.text;
        for (const v of f.childrenForFieldName('declarator'))
          push(v?.childForFieldName('name'), type);
      }
    }
  }
  return out;
}

export async function javaAddAttributes(
  text: string,
  sel: OffsetRange,
  opts: StageAttributeOptions,
): Promise<ScaffoldResult> {
  return withTree('java', text, (root) => {
    let tryStmt: Node | undefined;
    let spanVar: string | undefined;
    for (let n = root.descendantForIndex(sel.start, sel.start); n; n = n.parent) {
      if (n.type === 'try_with_resources_statement') {
        const m = /(\w+)\.makeCurrent\(\)/.exec(n.childForFieldName('resources')?.text ?? '');
        if (m?.[1]) {
          tryStmt = n;
          spanVar = m[1];
          break;
        }
      }
      if (n.type === 'method_declaration' || n.type === 'lambda_expression') {
        // The cursor may sit on the span's own declaration line, just before the try.
        const body = n.childForFieldName('body');
        const t = body
          ? named(body).find((s) => s.type === 'try_with_resources_statement')
          : undefined;
        const m = /(\w+)\.makeCurrent\(\)/.exec(t?.childForFieldName('resources')?.text ?? '');
        if (t && m?.[1]) {
          tryStmt = t;
          spanVar = m[1];
        }
        break;
      }
    }
    const block = tryStmt?.childForFieldName('body');
    if (!tryStmt || !spanVar || !block) {
      return refuse(
        'not-found',
        'No span encloses the cursor: run Trace This Function or Wrap Selection in Span first.',
      );
    }
    const keys = opts.keys.filter((k) => !block.text.includes(quoted(k)));
    if (keys.length === 0)
      return refuse('already-instrumented', 'These attributes are already set on this span.');
    const stmts = named(block).filter(
      (n) => n.type !== 'line_comment' && n.type !== 'block_comment',
    );
    const anchor =
      stmts.find((s) => s.startIndex <= sel.start && sel.start <= s.endIndex) ?? stmts[0];
    const unit = detectIndentUnit(text, '    ');
    const indent = anchor
      ? indentAt(text, anchor.startIndex)
      : indentAt(text, tryStmt.startIndex) + unit;
    const before = anchor ? anchor.startIndex : sel.start;
    const names = javaScopeNames(root.descendantForIndex(before, before) ?? block, before, spanVar);
    const lines = keys.map((k) => {
      const value = opts.values?.[k] ?? attributeValue(k, names);
      const call = `${spanVar}.setAttribute(${quoted(k)}, ${value ?? todoValue(stageAttribute(k).type, 'java')});`;
      return `${indent}${value === undefined ? `// ${TODO_MARK} ` : ''}${call}\n`;
    });
    const at = anchor ? lineStart(text, anchor.startIndex) : lineEnd(text, block.startIndex) + 1;
    return edited([{ start: at, end: at, newText: lines.join('') }]);
  });
}

export async function javaSetup(text: string, opts: SetupOptions): Promise<ScaffoldResult> {
  return withTree('java', text, (root) => {
    if (/\bSdkTracerProvider\.builder\(|\bsetupTracing\(\)\s*\{/.test(text)) {
      return refuse('already-instrumented', 'This file already sets up a tracer provider.');
    }
    const classes = [...descendants(root)].filter((n) => n.type === 'class_declaration');
    const mainOf = (c: Node) =>
      named(c.childForFieldName('body') ?? c).find(
        (m) =>
          m.type === 'method_declaration' &&
          m.childForFieldName('name')?.text === 'main' &&
          /\bstatic\b/.test(m.text.split('(')[0] ?? ''),
      );
    const cls = classes.find((c) => mainOf(c)) ?? classes[0];
    const body = cls?.childForFieldName('body');
    if (!cls || !body)
      return refuse('not-found', 'This file has no class to hold the tracing setup.');
    const unit = detectIndentUnit(text, '    ');
    const i = indentAt(text, cls.startIndex) + unit;
    const j = i + unit;
    const grpc = opts.protocol === 'grpc';
    const exporter = grpc ? 'OtlpGrpcSpanExporter' : 'OtlpHttpSpanExporter';
    const url = grpc ? grpcUrl(opts.endpoint) : httpTracesUrl(opts.endpoint);
    const method = [
      '',
      `${i}/**`,
      `${i} * Sends spans in batches to ${OTLP_ENDPOINT_ENV} when it is set (Stagelight: Run with`,
      `${i} * Tracing sets it), else to ${opts.endpoint} (OTLP/${grpc ? 'gRPC' : 'HTTP'}), the receiver when this was`,
      `${i} * written, and registers the SDK as the global OpenTelemetry; a shutdown hook flushes the`,
      `${i} * last batch. Call it first in main.`,
      `${i} */`,
      `${i}static OpenTelemetrySdk setupTracing() {`,
      // The SDK's builders read no environment (only the autoconfigure module does): read it here.
      `${j}String endpoint = System.getenv(${quoted(OTLP_ENDPOINT_ENV)});`,
      `${j}endpoint = endpoint == null || endpoint.isBlank()`,
      `${j}${unit}${unit}? ${quoted(url)}`,
      grpc
        ? `${j}${unit}${unit}: endpoint;`
        : `${j}${unit}${unit}: endpoint.replaceAll("/+$", "") + "/v1/traces";`,
      `${j}${exporter} exporter = ${exporter}.builder().setEndpoint(endpoint).build();`,
      `${j}Resource resource = Resource.getDefault()`,
      `${j}${unit}${unit}.merge(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), ${quoted(opts.serviceName)})));`,
      `${j}SdkTracerProvider tracerProvider = SdkTracerProvider.builder()`,
      `${j}${unit}${unit}.setResource(resource)`,
      `${j}${unit}${unit}.addSpanProcessor(BatchSpanProcessor.builder(exporter).build())`,
      `${j}${unit}${unit}.build();`,
      `${j}OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()`,
      `${j}${unit}${unit}.setTracerProvider(tracerProvider)`,
      `${j}${unit}${unit}.setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))`,
      `${j}${unit}${unit}.buildAndRegisterGlobal();`,
      `${j}Runtime.getRuntime().addShutdownHook(new Thread(tracerProvider::close));`,
      `${j}return sdk;`,
      `${i}}`,
    ].join('\n');
    const edits = importEdits(root, text, [
      'io.opentelemetry.api.common.AttributeKey',
      'io.opentelemetry.api.common.Attributes',
      'io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator',
      'io.opentelemetry.context.propagation.ContextPropagators',
      grpc
        ? 'io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter'
        : 'io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter',
      'io.opentelemetry.sdk.OpenTelemetrySdk',
      'io.opentelemetry.sdk.resources.Resource',
      'io.opentelemetry.sdk.trace.SdkTracerProvider',
      'io.opentelemetry.sdk.trace.export.BatchSpanProcessor',
    ]);
    const close = body.endIndex - 1;
    const closeLine = lineStart(text, close);
    if (text.slice(closeLine, close).trim() === '')
      edits.push({ start: closeLine, end: closeLine, newText: `${method}\n` });
    else
      edits.push({
        start: close,
        end: close,
        newText: `${method}\n${indentAt(text, cls.startIndex)}`,
      });
    const main = mainOf(cls);
    const mainBody = main?.childForFieldName('body');
    if (mainBody) {
      const at = mainBody.startIndex + 1;
      edits.push({ start: at, end: at, newText: `\n${j}setupTracing();` });
    }
    return edited(edits);
  });
}

/** Edits adding the imports (fully qualified names) the file lacks. */
export async function javaImportEdits(text: string, fqns: readonly string[]): Promise<TextEdit[]> {
  return withTree('java', text, (root) => importEdits(root, text, fqns));
}
