/**
 * Python scaffolding on tree-sitter-python. Spans come from
 * `tracer.start_as_current_span(...)`, as a decorator or a `with` block: both record the
 * exception, set the error status and re-raise (the SDK's `record_exception` and
 * `set_status_on_exception` default to true), and the decorator works on `async def` too.
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
import { OTLP_ENDPOINT_ENV, grpcUrl, httpLogsUrl, httpTracesUrl } from './options.js';
import {
  descendants,
  enclosing,
  multilineStrings,
  selectedStatements,
  withTree,
  type Node,
} from './parsers.js';
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
} from './text.js';
import type { OffsetRange, ScaffoldResult, TextEdit } from './types.js';

const SPAN_CALL = /\.(start_as_current_span|start_span)\s*\(/;
const STRING_TYPES = ['string', 'concatenated_string'];

function named(n: Node): Node[] {
  return n.namedChildren.filter((c): c is Node => c !== null);
}

function isImport(n: Node): boolean {
  return (
    n.type === 'import_statement' ||
    n.type === 'import_from_statement' ||
    n.type === 'future_import_statement'
  );
}

function isDocstring(n: Node | undefined): boolean {
  return n?.type === 'expression_statement' && n.namedChildren[0]?.type === 'string';
}

/** True when the module already has `from <module> import <name>` at top level. */
function hasFromImport(root: Node, module: string, name: string): boolean {
  return named(root).some(
    (n) =>
      n.type === 'import_from_statement' &&
      n.childForFieldName('module_name')?.text === module &&
      n.childrenForFieldName('name').some((c) => {
        const base = c?.type === 'aliased_import' ? c.childForFieldName('name') : c;
        const alias = c?.type === 'aliased_import' ? c.childForFieldName('alias')?.text : undefined;
        return base?.text === name && (alias === undefined || alias === name);
      }),
  );
}

/** True when the module already has a top-level `import <module>` (unaliased). */
function hasImport(root: Node, module: string): boolean {
  return named(root).some(
    (n) =>
      n.type === 'import_statement' &&
      n.childrenForFieldName('name').some((c) => c?.type === 'dotted_name' && c.text === module),
  );
}

/**
 * One edit that adds import lines after the module's imports (or after its docstring, or before
 * its first statement) and, after a blank line, a block of module-level code.
 */
function headerEdit(
  root: Node,
  text: string,
  imports: string[],
  block: string | undefined,
): TextEdit | undefined {
  if (imports.length === 0 && !block) return undefined;
  const top = named(root).filter((n) => n.type !== 'comment');
  const lastImport = [...top].reverse().find(isImport);
  const parts = [...imports];
  const body = block
    ? parts.length
      ? `${parts.join('\n')}\n\n${block}`
      : block
    : parts.join('\n');
  if (lastImport) {
    const at = lineEnd(text, lastImport.endIndex);
    const sep = block && imports.length === 0 ? '\n\n' : '\n';
    return { start: at, end: at, newText: sep + body };
  }
  const first = top[0];
  if (first && isDocstring(first)) {
    const at = lineEnd(text, first.endIndex);
    return { start: at, end: at, newText: `\n\n${body}` };
  }
  if (first) {
    const at = lineStart(text, first.startIndex);
    return { start: at, end: at, newText: `${body}\n\n\n` };
  }
  const at = text.length;
  const lead = text === '' || text.endsWith('\n') ? '' : '\n';
  return { start: at, end: at, newText: `${lead}${body}\n` };
}

/** The name of a module-level `x = trace.get_tracer(...)`, if any. */
function existingTracer(root: Node): string | undefined {
  for (const n of named(root)) {
    const a = n.type === 'expression_statement' ? n.namedChildren[0] : null;
    if (a?.type !== 'assignment') continue;
    const right = a.childForFieldName('right');
    const fn = right?.type === 'call' ? right.childForFieldName('function')?.text : undefined;
    if (fn && /(^|\.)get_tracer$/.test(fn)) return a.childForFieldName('left')?.text;
  }
  return undefined;
}

/** Tracer variable to use, and the header edit that declares it when there is none yet. */
function ensureTracer(root: Node, text: string): { tracer: string; edits: TextEdit[] } {
  const found = existingTracer(root);
  if (found) return { tracer: found, edits: [] };
  const imports = hasFromImport(root, 'opentelemetry', 'trace')
    ? []
    : ['from opentelemetry import trace'];
  const e = headerEdit(root, text, imports, 'tracer = trace.get_tracer(__name__)');
  return { tracer: 'tracer', edits: e ? [e] : [] };
}

/** `Class.method` / `outer.inner` / `name`: the span name of a function. */
function qualifiedName(fn: Node): string {
  const parts: string[] = [];
  for (let n: Node | null = fn; n; n = n.parent) {
    if (n.type === 'function_definition' || n.type === 'class_definition') {
      const name = n.childForFieldName('name')?.text;
      if (name) parts.unshift(name);
    }
  }
  return parts.join('.');
}

/** `yield` inside `node` that belongs to it, not to a nested function or lambda. */
function ownYield(node: Node): Node | undefined {
  for (const n of descendants(
    node,
    (c) => c.type === 'function_definition' || c.type === 'lambda' || c.type === 'class_definition',
  )) {
    if (n.type === 'yield') return n;
  }
  return undefined;
}

/** The `with` clause of a with statement (its items, not its body). */
function withClause(n: Node): string {
  return named(n).find((c) => c.type === 'with_clause')?.text ?? '';
}

function spanLine(edits: readonly TextEdit[], spanEdit: TextEdit): number {
  let shift = 0;
  for (const e of edits) {
    if (e !== spanEdit && e.start <= spanEdit.start) shift += e.newText.length - (e.end - e.start);
  }
  return spanEdit.start + shift;
}

/**
 * The logs pipeline of the setup: the SDK's `LoggingHandler` on the root logger, so every
 * `logging` call at INFO and above becomes a log record with the ids of the active span.
 */
function pythonLogsBlock(opts: SetupOptions): string[] {
  const fallback =
    opts.protocol === 'grpc'
      ? `OTLPLogExporter(endpoint=${quoted(grpcUrl(opts.endpoint))}, insecure=True)`
      : `OTLPLogExporter(endpoint=${quoted(httpLogsUrl(opts.endpoint))})`;
  return [
    '',
    "# Logs setup: Python's logging records (INFO and above) go the same way, each with the ids",
    '# of the span active when it was written. With this handler on the root logger Python no',
    '# longer prints warnings itself: call logging.basicConfig() to see them in the console too.',
    '_logger_provider = LoggerProvider(resource=_tracer_provider.resource)',
    '_logger_provider.add_log_record_processor(',
    '    BatchLogRecordProcessor(',
    '        OTLPLogExporter()',
    `        if os.environ.get(${quoted(OTLP_ENDPOINT_ENV)})`,
    `        else ${fallback}`,
    '    )',
    ')',
    'set_logger_provider(_logger_provider)',
    'logging.getLogger().addHandler(LoggingHandler(level=logging.INFO, logger_provider=_logger_provider))',
    '# The root logger passes only WARNING and above unless told otherwise.',
    'if logging.getLogger().level > logging.INFO:',
    '    logging.getLogger().setLevel(logging.INFO)',
  ];
}

export async function pythonSetup(text: string, opts: SetupOptions): Promise<ScaffoldResult> {
  return withTree('python', text, (root) => {
    for (const n of descendants(root)) {
      const fn = n.type === 'call' ? n.childForFieldName('function')?.text : undefined;
      if (fn && /(^|\.)(set_tracer_provider|TracerProvider)$/.test(fn)) {
        return refuse('already-instrumented', 'This file already sets up a tracer provider.');
      }
    }
    const exporterModule =
      opts.protocol === 'grpc'
        ? 'opentelemetry.exporter.otlp.proto.grpc.trace_exporter'
        : 'opentelemetry.exporter.otlp.proto.http.trace_exporter';
    const wanted: [string, string][] = [
      ['opentelemetry', 'trace'],
      [exporterModule, 'OTLPSpanExporter'],
      ['opentelemetry.sdk.resources', 'Resource'],
      ['opentelemetry.sdk.trace', 'TracerProvider'],
      ['opentelemetry.sdk.trace.export', 'BatchSpanProcessor'],
    ];
    const logs = opts.logs === true;
    if (logs) {
      const logExporterModule =
        opts.protocol === 'grpc'
          ? 'opentelemetry.exporter.otlp.proto.grpc._log_exporter'
          : 'opentelemetry.exporter.otlp.proto.http._log_exporter';
      wanted.push(
        ['opentelemetry._logs', 'set_logger_provider'],
        [logExporterModule, 'OTLPLogExporter'],
        ['opentelemetry.sdk._logs', 'LoggerProvider'],
        ['opentelemetry.sdk._logs', 'LoggingHandler'],
        ['opentelemetry.sdk._logs.export', 'BatchLogRecordProcessor'],
      );
    }
    const imports = [
      ...(logs && !hasImport(root, 'logging') ? ['import logging'] : []),
      ...(hasImport(root, 'os') ? [] : ['import os']),
      ...wanted
        .filter(([m, n]) => !hasFromImport(root, m, n))
        .map(([m, n]) => `from ${m} import ${n}`),
    ];
    // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself when it gets no endpoint (and
    // appends /v1/traces for HTTP); the receiver's current port is only the fallback.
    const fallback =
      opts.protocol === 'grpc'
        ? `OTLPSpanExporter(endpoint=${quoted(grpcUrl(opts.endpoint))}, insecure=True)`
        : `OTLPSpanExporter(endpoint=${quoted(httpTracesUrl(opts.endpoint))})`;
    const block = [
      `# Tracing setup: spans go in batches to ${OTLP_ENDPOINT_ENV} when it is set (Stagelight:`,
      `# Run with Tracing sets it), else to ${opts.endpoint} (OTLP/${opts.protocol === 'grpc' ? 'gRPC' : 'HTTP'}), the receiver`,
      '# when this was written. The provider flushes them when the process exits.',
      `_tracer_provider = TracerProvider(resource=Resource.create({"service.name": ${quoted(opts.serviceName)}}))`,
      `_tracer_provider.add_span_processor(`,
      `    BatchSpanProcessor(`,
      `        OTLPSpanExporter()`,
      `        if os.environ.get(${quoted(OTLP_ENDPOINT_ENV)})`,
      `        else ${fallback}`,
      `    )`,
      `)`,
      'trace.set_tracer_provider(_tracer_provider)',
      ...(logs ? pythonLogsBlock(opts) : []),
    ].join('\n');
    const e = headerEdit(root, text, imports, block);
    return edited(e ? [e] : []);
  });
}

export async function pythonTraceFunction(
  text: string,
  sel: OffsetRange,
  opts: TraceFunctionOptions = {},
): Promise<ScaffoldResult> {
  return withTree('python', text, (root) => {
    const target = enclosing(root, sel.start, sel.end, ['function_definition', 'lambda']);
    if (!target) return refuse('not-found', 'Put the cursor inside a function to trace it.');
    if (target.type === 'lambda') {
      return refuse(
        'unsupported',
        'A lambda cannot hold a span: turn it into a def first, then trace that.',
      );
    }
    if (target.hasError)
      return refuse('unsupported', 'This function has syntax errors; fix them first.');
    const decorated = target.parent?.type === 'decorated_definition' ? target.parent : undefined;
    const decorators = decorated ? named(decorated).filter((n) => n.type === 'decorator') : [];
    const body = target.childForFieldName('body');
    if (!body) return refuse('not-found', 'This function has no body.');
    const stmts = named(body).filter((n) => n.type !== 'comment');
    const firstCode = isDocstring(stmts[0]) ? stmts[1] : stmts[0];
    const name = qualifiedName(target);
    if (
      decorators.some((d) => SPAN_CALL.test(d.text)) ||
      (firstCode?.type === 'with_statement' && SPAN_CALL.test(withClause(firstCode)))
    ) {
      return refuse('already-instrumented', `${name} is already traced.`);
    }
    const y = ownYield(body);
    if (y) {
      return refuse(
        'unsupported',
        `${name} is a generator: a span around it would end before the caller consumes it (or stay open across yields). Trace the code that consumes it, or the work inside one iteration, instead.`,
      );
    }
    const spanName = opts.spanName ?? name;
    const { tracer, edits } = ensureTracer(root, text);
    const call = `${tracer}.start_as_current_span(${quoted(spanName)})`;
    if ((opts.pythonStyle ?? 'decorator') === 'decorator') {
      const at = lineStart(text, target.startIndex);
      const e: TextEdit = {
        start: at,
        end: at,
        newText: `${indentAt(text, target.startIndex)}@${call}\n`,
      };
      const all = [...edits, e];
      return { ...edited(all), spanLineOffset: spanLine(all, e) };
    }
    if (!firstCode)
      return refuse('unsupported', `${name} has only a docstring; there is nothing to trace.`);
    if (
      firstCode.startPosition.row === target.startPosition.row ||
      text.slice(lineStart(text, firstCode.startIndex), firstCode.startIndex).trim() !== ''
    ) {
      return refuse(
        'unsupported',
        `Put the body of ${name} on its own lines first, or use the decorator style.`,
      );
    }
    const unit = detectIndentUnit(text, '    ');
    const at = lineStart(text, firstCode.startIndex);
    const e: TextEdit = {
      start: at,
      end: at,
      newText: `${indentAt(text, firstCode.startIndex)}with ${call}:\n`,
    };
    const strings = multilineStrings(root, STRING_TYPES);
    const all = [
      ...edits,
      e,
      ...indentLines(text, firstCode.startIndex, body.endIndex, unit, strings),
    ];
    return { ...edited(all), spanLineOffset: spanLine(all, e) };
  });
}

export async function pythonWrapSelection(
  text: string,
  sel: OffsetRange,
  opts: WrapSelectionOptions,
): Promise<ScaffoldResult> {
  return withTree('python', text, (root) => {
    const found = selectedStatements(root, text, sel.start, sel.end, ['block', 'module']);
    if (!found) return refuse('not-found', 'Select whole statements inside one block.');
    const { first, last } = found;
    if (text.slice(lineStart(text, first.startIndex), first.startIndex).trim() !== '') {
      return refuse(
        'unsupported',
        'The selection starts in the middle of a line; select whole lines.',
      );
    }
    const range = { start: first.startIndex, end: last.endIndex };
    if (
      first === last &&
      first.type === 'with_statement' &&
      SPAN_CALL.test(withClause(first)) &&
      first.text.includes(quoted(opts.spanName))
    ) {
      return refuse('already-instrumented', `The selection is already in span ${opts.spanName}.`);
    }
    const around = found.block.parent;
    if (
      around?.type === 'with_statement' &&
      SPAN_CALL.test(withClause(around)) &&
      withClause(around).includes(quoted(opts.spanName))
    ) {
      return refuse('already-instrumented', `The selection is already in span ${opts.spanName}.`);
    }
    for (const n of found.block.namedChildren) {
      if (!n || n.startIndex < range.start || n.endIndex > range.end) continue;
      if (
        ownYield(n) ||
        (n.type === 'expression_statement' && n.namedChildren[0]?.type === 'yield')
      ) {
        return refuse(
          'unsupported',
          'The selection yields: a span would stay open while the generator is suspended.',
        );
      }
    }
    const { tracer, edits } = ensureTracer(root, text);
    const unit = detectIndentUnit(text, '    ');
    const at = lineStart(text, first.startIndex);
    const e: TextEdit = {
      start: at,
      end: at,
      newText: `${indentAt(text, first.startIndex)}with ${tracer}.start_as_current_span(${quoted(opts.spanName)}):\n`,
    };
    const strings = multilineStrings(root, STRING_TYPES);
    const all = [...edits, e, ...indentLines(text, first.startIndex, last.endIndex, unit, strings)];
    return { ...edited(all), spanLineOffset: spanLine(all, e) };
  });
}

/** The span in scope at a node: a `with ... as name` target, the current span, or none. */
function spanInScope(node: Node): { variable?: string; scope: Node } | undefined {
  for (let n: Node | null = node; n; n = n.parent) {
    if (n.type === 'with_statement') {
      for (const item of descendants(n, (c) => c.type === 'block')) {
        if (item.type !== 'with_item' || !SPAN_CALL.test(item.text)) continue;
        const target = [...descendants(item)].find((c) => c.type === 'as_pattern_target');
        return { variable: target?.text, scope: n };
      }
    }
    if (n.type === 'function_definition') {
      const dec = n.parent?.type === 'decorated_definition' ? n.parent : undefined;
      if (dec && named(dec).some((d) => d.type === 'decorator' && SPAN_CALL.test(d.text)))
        return { scope: n };
      return undefined;
    }
  }
  return undefined;
}

/**
 * The names the code at `at` can read, innermost first: locals assigned before `before`, then
 * the parameters of each enclosing function, then in a method the `self.` fields its class
 * assigns anywhere.
 */
function pythonScopeNames(at: Node, before: number): ScopeName[] {
  const out: ScopeName[] = [];
  for (let fn: Node | null = at; fn; fn = fn.parent) {
    if (fn.type !== 'function_definition') continue;
    const body = fn.childForFieldName('body');
    const locals: ScopeName[] = [];
    if (body) {
      for (const n of descendants(body, (c) =>
        ['function_definition', 'class_definition', 'lambda'].includes(c.type),
      )) {
        if (n.type !== 'assignment' || n.endIndex > before) continue;
        const left = n.childForFieldName('left');
        if (left?.type !== 'identifier') continue;
        locals.push({ expr: left.text, name: left.text, type: n.childForFieldName('type')?.text });
      }
    }
    out.push(...locals.reverse());
    const params = named(fn.childForFieldName('parameters') ?? fn).filter(
      (p) => p.type !== 'comment',
    );
    for (const p of params) {
      const id =
        p.type === 'identifier'
          ? p
          : p.type === 'typed_parameter'
            ? named(p).find((c) => c.type === 'identifier')
            : p.childForFieldName('name');
      if (id?.type !== 'identifier') continue;
      out.push({ expr: id.text, name: id.text, type: p.childForFieldName('type')?.text });
    }
    const first = params[0];
    const cls = fn.parent?.parent?.type === 'class_definition' ? fn.parent.parent : undefined;
    const clsOf =
      cls ?? (fn.parent?.type === 'decorated_definition' ? fn.parent.parent?.parent : undefined);
    if (first?.text === 'self' && clsOf?.type === 'class_definition') {
      for (const m of clsOf.text.matchAll(/\bself\.(\w+)\s*(?::\s*([^=\n]+?))?\s*=[^=]/g)) {
        if (!out.some((o) => o.expr === `self.${m[1]}`))
          out.push({ expr: `self.${m[1]}`, name: m[1]!, type: m[2]?.trim() });
      }
    }
  }
  return out;
}

export async function pythonAddAttributes(
  text: string,
  sel: OffsetRange,
  opts: StageAttributeOptions,
): Promise<ScaffoldResult> {
  return withTree('python', text, (root) => {
    const at = root.descendantForIndex(sel.start, sel.start);
    const span = at ? spanInScope(at) : undefined;
    if (!span) {
      return refuse(
        'not-found',
        'No span encloses the cursor: run Trace This Function or Wrap Selection in Span first.',
      );
    }
    const body = span.scope.childForFieldName('body');
    if (!body) return refuse('not-found', 'The span has no body.');
    const keys = opts.keys.filter((k) => !body.text.includes(quoted(k)));
    if (keys.length === 0)
      return refuse('already-instrumented', 'These attributes are already set on this span.');
    // Insert before the statement of the span's body that holds the cursor; on the `def`/`with`
    // line itself, at the top of the body (after a docstring).
    const stmts = named(body).filter((n) => n.type !== 'comment');
    let anchor = stmts.find((n) => n.startIndex <= sel.start && sel.start <= n.endIndex);
    if (!anchor) anchor = isDocstring(stmts[0]) ? (stmts[1] ?? stmts[0]) : stmts[0];
    if (!anchor) return refuse('not-found', 'The span has an empty body.');
    if (anchor === stmts[0] && isDocstring(anchor) && stmts[1]) anchor = stmts[1];
    const indent = indentAt(text, anchor.startIndex);
    const lines: string[] = [];
    const edits: TextEdit[] = [];
    const names = pythonScopeNames(anchor, lineStart(text, anchor.startIndex));
    const values = keys.map((k) => opts.values?.[k] ?? attributeValue(k, names));
    let variable = span.variable;
    // Without a value to send, no `current_span` line either: the commented-out lines name the
    // current span themselves.
    if (!variable && values.some((v) => v !== undefined)) {
      variable = freshName('current_span', span.scope.text);
      lines.push(`${variable} = trace.get_current_span()`);
      if (!hasFromImport(root, 'opentelemetry', 'trace')) {
        const h = headerEdit(root, text, ['from opentelemetry import trace'], undefined);
        if (h) edits.push(h);
      }
    }
    keys.forEach((k, i) => {
      const value = values[i];
      if (value !== undefined) lines.push(`${variable}.set_attribute(${quoted(k)}, ${value})`);
      else
        lines.push(
          `# ${TODO_MARK} ${variable ?? 'trace.get_current_span()'}.set_attribute(${quoted(k)}, ${todoValue(stageAttribute(k).type, 'python')})`,
        );
    });
    const insertAt = lineStart(text, anchor.startIndex);
    edits.push({
      start: insertAt,
      end: insertAt,
      newText: lines.map((l) => `${indent}${l}\n`).join(''),
    });
    return edited(edits);
  });
}

/** Edits adding `from module import name` for each pair the module lacks. */
export async function pythonImportEdits(
  text: string,
  pairs: readonly (readonly [string, string])[],
): Promise<TextEdit[]> {
  return withTree('python', text, (root) => {
    const lines = pairs
      .filter(([m, n]) => !hasFromImport(root, m, n))
      .map(([m, n]) => `from ${m} import ${n}`);
    const e = headerEdit(root, text, [...new Set(lines)], undefined);
    return e ? [e] : [];
  });
}

/** The module-level tracer variable, if the file declares one. */
export async function pythonTracerName(text: string): Promise<string | undefined> {
  return withTree('python', text, existingTracer);
}
