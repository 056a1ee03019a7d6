/**
 * TypeScript and JavaScript scaffolding on the TypeScript compiler API. Spans come from
 * `tracer.startActiveSpan(name, (span) => { try { ... } catch { record; set error; rethrow }
 * finally { span.end() } })`: the callback's return value (a Promise for async functions, whose
 * callback is `async` so the span ends when the promise settles) is the function's.
 */
import path from 'node:path';
import ts from 'typescript';
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
  detectIndentUnit,
  edited,
  freshName,
  indentAt,
  indentLines,
  lineEnd,
  lineStart,
  refuse,
  singleQuoted,
} from './text.js';
import type { OffsetRange, ScaffoldResult, TextEdit } from './types.js';

const API = '@opentelemetry/api';

type Flavour = { ts: boolean; cjs: boolean };

function sourceFile(text: string, fileName: string | undefined, isTs: boolean): ts.SourceFile {
  const name = fileName ?? (isTs ? 'file.ts' : 'file.js');
  const ext = path.extname(name).toLowerCase();
  const kind =
    ext === '.tsx'
      ? ts.ScriptKind.TSX
      : ext === '.jsx'
        ? ts.ScriptKind.JSX
        : isTs
          ? ts.ScriptKind.TS
          : ts.ScriptKind.JS;
  return ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true, kind);
}

/** CommonJS when a JS file has no import/export and calls `require`, or is `.cjs`. */
function flavourOf(sf: ts.SourceFile, isTs: boolean): Flavour {
  if (isTs) return { ts: true, cjs: false };
  if (sf.fileName.endsWith('.cjs')) return { ts: false, cjs: true };
  if (sf.fileName.endsWith('.mjs')) return { ts: false, cjs: false };
  const esm = sf.statements.some(
    (s) =>
      ts.isImportDeclaration(s) ||
      ts.isExportDeclaration(s) ||
      ts.isExportAssignment(s) ||
      (ts.canHaveModifiers(s) &&
        ts.getModifiers(s)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)),
  );
  return { ts: false, cjs: !esm && /\brequire\s*\(/.test(sf.text) };
}

function isRequireOf(s: ts.Statement, module?: string): s is ts.VariableStatement {
  if (!ts.isVariableStatement(s)) return false;
  return s.declarationList.declarations.some((d) => {
    const init = d.initializer;
    return (
      !!init &&
      ts.isCallExpression(init) &&
      ts.isIdentifier(init.expression) &&
      init.expression.text === 'require' &&
      init.arguments.length === 1 &&
      ts.isStringLiteral(init.arguments[0]!) &&
      (module === undefined || init.arguments[0].text === module)
    );
  });
}

/** Offset after which module-level code may go: the end of the last import's line, or after directives. */
function afterImports(sf: ts.SourceFile): { at: number; hasImports: boolean } {
  let last: ts.Statement | undefined;
  for (const s of sf.statements) {
    if (ts.isImportDeclaration(s) || ts.isImportEqualsDeclaration(s) || isRequireOf(s)) last = s;
  }
  if (last) return { at: lineEnd(sf.text, last.getEnd()), hasImports: true };
  let directive: ts.Statement | undefined;
  for (const s of sf.statements) {
    if (ts.isExpressionStatement(s) && ts.isStringLiteral(s.expression)) directive = s;
    else break;
  }
  if (directive) return { at: lineEnd(sf.text, directive.getEnd()), hasImports: true };
  const first = sf.statements[0];
  return { at: first ? lineStart(sf.text, first.getStart(sf)) : sf.text.length, hasImports: false };
}

/** Names bound from a module by an import or a destructuring require, and how to refer to them. */
interface ModuleBinding {
  /** `api.` for a namespace import, '' for named bindings. */
  prefix: string;
  names: Set<string>;
  /** Where to add a name to the existing `{ ... }`, if any. */
  addAt?: number;
  /** Whether that `{ ... }` holds any element already (type-only ones too). */
  hasElements?: boolean;
  /** Names imported with an inline `type` modifier, by local name: no value binding. */
  typeOnly?: Map<string, ts.ImportSpecifier>;
}

/**
 * Edits binding `names` through the existing `{ ... }` of `b`: a name imported as `type X` loses
 * the modifier (adding a second `X` would be a duplicate identifier), the others are appended.
 */
function extendBinding(sf: ts.SourceFile, b: ModuleBinding, names: readonly string[]): TextEdit[] {
  if (b.addAt === undefined) return [];
  const missing = names.filter((n) => !b.names.has(n));
  const edits: TextEdit[] = [];
  for (const n of missing) {
    const e = b.typeOnly?.get(n);
    if (e)
      edits.push({
        start: e.getStart(sf),
        end: (e.propertyName ?? e.name).getStart(sf),
        newText: '',
      });
  }
  const added = missing.filter((n) => !b.typeOnly?.has(n));
  if (added.length)
    edits.push({
      start: b.addAt,
      end: b.addAt,
      newText: `${b.hasElements ? ', ' : ' '}${added.join(', ')}`,
    });
  return edits;
}

function bindingOf(sf: ts.SourceFile, module: string): ModuleBinding | undefined {
  for (const s of sf.statements) {
    if (
      ts.isImportDeclaration(s) &&
      ts.isStringLiteral(s.moduleSpecifier) &&
      s.moduleSpecifier.text === module
    ) {
      const nb = s.importClause?.namedBindings;
      if (s.importClause?.isTypeOnly) continue;
      if (nb && ts.isNamespaceImport(nb)) return { prefix: `${nb.name.text}.`, names: new Set() };
      if (nb && ts.isNamedImports(nb)) {
        const names = new Set(nb.elements.filter((e) => !e.isTypeOnly).map((e) => e.name.text));
        const typeOnly = new Map(
          nb.elements.filter((e) => e.isTypeOnly).map((e) => [e.name.text, e] as const),
        );
        const lastEl = nb.elements[nb.elements.length - 1];
        return {
          prefix: '',
          names,
          addAt: lastEl ? lastEl.getEnd() : nb.getStart(sf) + 1,
          hasElements: nb.elements.length > 0,
          typeOnly,
        };
      }
    }
    if (isRequireOf(s, module)) {
      const d = s.declarationList.declarations[0];
      if (d && ts.isIdentifier(d.name)) return { prefix: `${d.name.text}.`, names: new Set() };
      if (d && ts.isObjectBindingPattern(d.name)) {
        const names = new Set(
          d.name.elements.map((e) => (ts.isIdentifier(e.name) ? e.name.text : '')),
        );
        const lastEl = d.name.elements[d.name.elements.length - 1];
        return {
          prefix: '',
          names,
          addAt: lastEl ? lastEl.getEnd() : d.name.getStart(sf) + 1,
          hasElements: d.name.elements.length > 0,
        };
      }
    }
  }
  return undefined;
}

function importLine(f: Flavour, names: string[], module: string): string {
  return f.cjs
    ? `const { ${names.join(', ')} } = require(${singleQuoted(module)});`
    : `import { ${names.join(', ')} } from ${singleQuoted(module)};`;
}

/**
 * Makes `names` of `@opentelemetry/api` available: extends an existing import or adds one.
 * Returns how to spell each name and the edits (the new import line comes back separately so it
 * can join other header lines).
 */
function ensureApi(
  sf: ts.SourceFile,
  f: Flavour,
  names: string[],
): { ref: (n: string) => string; edits: TextEdit[]; lines: string[] } {
  const b = bindingOf(sf, API);
  if (!b) return { ref: (n) => n, edits: [], lines: [importLine(f, names, API)] };
  if (b.prefix) return { ref: (n) => b.prefix + n, edits: [], lines: [] };
  return { ref: (n) => n, edits: extendBinding(sf, b, names), lines: [] };
}

/** A module-level `const x = ....getTracer(...)`. */
function existingTracer(sf: ts.SourceFile): string | undefined {
  for (const s of sf.statements) {
    if (!ts.isVariableStatement(s)) continue;
    for (const d of s.declarationList.declarations) {
      const init = d.initializer;
      if (
        init &&
        ts.isCallExpression(init) &&
        /getTracer$/.test(init.expression.getText(sf)) &&
        ts.isIdentifier(d.name)
      ) {
        return d.name.text;
      }
    }
  }
  return undefined;
}

function headerEdit(
  sf: ts.SourceFile,
  lines: string[],
  block: string | undefined,
): TextEdit | undefined {
  if (lines.length === 0 && !block) return undefined;
  const { at, hasImports } = afterImports(sf);
  const imports = lines.join('\n');
  const body = block ? (imports ? `${imports}\n\n${block}` : block) : imports;
  if (hasImports) {
    const sep = block && !imports ? '\n\n' : '\n';
    return { start: at, end: at, newText: sep + body };
  }
  if (at < sf.text.length) return { start: at, end: at, newText: `${body}\n\n` };
  const lead = sf.text === '' || sf.text.endsWith('\n') ? '' : '\n';
  return { start: at, end: at, newText: `${lead}${body}\n` };
}

interface TracerParts {
  tracer: string;
  statusCode: string;
  edits: TextEdit[];
}

function ensureTracer(sf: ts.SourceFile, f: Flavour, tracerName: string): TracerParts {
  const found = existingTracer(sf);
  const api = ensureApi(sf, f, found ? ['SpanStatusCode'] : ['trace', 'SpanStatusCode']);
  const block = found
    ? undefined
    : `const tracer = ${api.ref('trace')}.getTracer(${singleQuoted(tracerName)});`;
  const h = headerEdit(sf, api.lines, block);
  return {
    tracer: found ?? 'tracer',
    statusCode: api.ref('SpanStatusCode'),
    edits: [...api.edits, ...(h ? [h] : [])],
  };
}

function defaultTracerName(fileName: string | undefined): string {
  return fileName ? path.basename(fileName).replace(/\.[^.]+$/, '') : 'app';
}

type FunctionLike =
  | ts.FunctionDeclaration
  | ts.MethodDeclaration
  | ts.FunctionExpression
  | ts.ArrowFunction
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration;

function isFunctionLike(n: ts.Node): n is FunctionLike {
  return (
    ts.isFunctionDeclaration(n) ||
    ts.isMethodDeclaration(n) ||
    ts.isFunctionExpression(n) ||
    ts.isArrowFunction(n) ||
    ts.isConstructorDeclaration(n) ||
    ts.isGetAccessorDeclaration(n) ||
    ts.isSetAccessorDeclaration(n)
  );
}

/** Innermost node satisfying `pred` whose [getStart, end] contains [start, end]. */
function innermost<T extends ts.Node>(
  sf: ts.SourceFile,
  start: number,
  end: number,
  pred: (n: ts.Node) => n is T,
): T | undefined {
  let found: T | undefined;
  const visit = (n: ts.Node): void => {
    if (n.getStart(sf) > start || n.getEnd() < end) return;
    if (pred(n)) found = n;
    ts.forEachChild(n, visit);
  };
  ts.forEachChild(sf, visit);
  return found;
}

function propName(n: ts.PropertyName | ts.BindingName, sf: ts.SourceFile): string {
  return ts.isIdentifier(n) ||
    ts.isPrivateIdentifier(n) ||
    ts.isStringLiteral(n) ||
    ts.isNumericLiteral(n)
    ? n.text
    : n.getText(sf);
}

/** The name a function is known by, qualified by its class; undefined for an anonymous lambda. */
function functionName(fn: FunctionLike, sf: ts.SourceFile): string | undefined {
  const owner = (n: ts.Node): string | undefined => {
    const c = n.parent;
    if (c && (ts.isClassDeclaration(c) || ts.isClassExpression(c))) return c.name?.text;
    return undefined;
  };
  const qualify = (n: ts.Node, name: string) => {
    const o = owner(n);
    return o ? `${o}.${name}` : name;
  };
  if (ts.isFunctionDeclaration(fn)) return fn.name?.text;
  if (
    ts.isMethodDeclaration(fn) ||
    ts.isGetAccessorDeclaration(fn) ||
    ts.isSetAccessorDeclaration(fn)
  ) {
    return qualify(fn, propName(fn.name, sf));
  }
  if (ts.isFunctionExpression(fn) && fn.name) return fn.name.text;
  const p = fn.parent;
  if (ts.isVariableDeclaration(p) && p.initializer === fn) return propName(p.name, sf);
  if (ts.isPropertyAssignment(p) && p.initializer === fn) return propName(p.name, sf);
  if (ts.isPropertyDeclaration(p) && p.initializer === fn) return qualify(p, propName(p.name, sf));
  return undefined;
}

/** `return tracer.startActiveSpan(...)` / `tracer.startActiveSpan(...)` / `await ...` as a statement. */
function startsSpan(s: ts.Statement | undefined): boolean {
  let e: ts.Expression | undefined;
  if (s && ts.isReturnStatement(s)) e = s.expression;
  else if (s && ts.isExpressionStatement(s)) e = s.expression;
  if (e && ts.isAwaitExpression(e)) e = e.expression;
  return (
    !!e &&
    ts.isCallExpression(e) &&
    ts.isPropertyAccessExpression(e.expression) &&
    /^(startActiveSpan|startSpan)$/.test(e.expression.name.text)
  );
}

/** The span name of the startActiveSpan call whose callback's try block is `block`, if any. */
function spanNameAround(block: ts.Block): string | undefined {
  const tryStmt = block.parent;
  if (!tryStmt || !ts.isTryStatement(tryStmt) || tryStmt.tryBlock !== block) return undefined;
  const cbBody = tryStmt.parent;
  const cb = cbBody?.parent;
  const call = cb?.parent;
  if (
    !cb ||
    !call ||
    !(ts.isArrowFunction(cb) || ts.isFunctionExpression(cb)) ||
    !ts.isCallExpression(call)
  )
    return undefined;
  const first = call.arguments[0];
  return first &&
    ts.isStringLiteralLike(first) &&
    startsSpan(
      ts.isStatement(call.parent)
        ? call.parent
        : ts.isStatement(call.parent.parent)
          ? call.parent.parent
          : undefined,
    )
    ? first.text
    : undefined;
}

function isSpanCallback(fn: FunctionLike): boolean {
  const call = fn.parent;
  return (
    (ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) &&
    ts.isCallExpression(call) &&
    ts.isPropertyAccessExpression(call.expression) &&
    /^(startActiveSpan|startSpan)$/.test(call.expression.name.text)
  );
}

function ancestorFunction(n: ts.Node): FunctionLike | undefined {
  for (let p = n.parent; p; p = p.parent) if (isFunctionLike(p)) return p;
  return undefined;
}

/**
 * The node's text with nested functions blanked out: the names the new callback's `span` and
 * `error` could clash with (a nested function's own `span` only shadows, harmlessly).
 */
function ownScopeText(node: ts.Node, sf: ts.SourceFile): string {
  const start = node.getStart(sf);
  const chars = node.getText(sf).split('');
  const visit = (n: ts.Node): void => {
    if (isFunctionLike(n) && n !== node) {
      for (let i = n.getStart(sf) - start; i < n.getEnd() - start; i++) chars[i] = ' ';
      return;
    }
    ts.forEachChild(n, visit);
  };
  ts.forEachChild(node, visit);
  return chars.join('');
}

function isAsync(fn: FunctionLike): boolean {
  return !!ts.getModifiers(fn)?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword);
}

/** try/catch/finally around `inner` (already indented to `i2 + unit`), closing lines included. */
function spanCallback(
  p: {
    tracer: string;
    statusCode: string;
    name: string;
    isAsync: boolean;
    ts: boolean;
    span: string;
    error: string;
  },
  i1: string,
  unit: string,
  inner: string,
  lead: string,
): string {
  const i2 = i1 + unit;
  const i3 = i2 + unit;
  const err = p.ts ? `${p.error} as Error` : p.error;
  return [
    `${lead}${p.tracer}.startActiveSpan(${singleQuoted(p.name)}, ${p.isAsync ? 'async ' : ''}(${p.span}) => {`,
    `${i2}try {`,
    inner,
    `${i2}} catch (${p.error}) {`,
    `${i3}${p.span}.recordException(${err});`,
    `${i3}${p.span}.setStatus({ code: ${p.statusCode}.ERROR, message: String(${p.error}) });`,
    `${i3}throw ${p.error};`,
    `${i2}} finally {`,
    `${i3}${p.span}.end();`,
    `${i2}}`,
    `${i1}});`,
  ].join('\n');
}

/**
 * Edits that put the block's statements inside `head ... tail`, indenting them by two units
 * (span callback + try). Comments and blank lines inside keep their place.
 */
function wrapBlock(
  sf: ts.SourceFile,
  body: ts.Block,
  indent: string,
  unit: string,
  open: string,
  close: string,
): TextEdit[] {
  const text = sf.text;
  const openEnd = body.getStart(sf) + 1;
  const closeStart = body.getEnd() - 1;
  const templates = templateRanges(sf);
  if (text.slice(openEnd, closeStart).includes('\n')) {
    const closeLine = lineStart(text, closeStart);
    const edits: TextEdit[] = [{ start: openEnd, end: openEnd, newText: `\n${open}` }];
    const innerIndents = indentLines(text, openEnd, closeLine, unit + unit, templates);
    // The first line after `{` is indented by indentLines only if it starts after `{`'s line.
    edits.push(...innerIndents.filter((e) => e.start > openEnd));
    const closeText = text.slice(closeLine, closeStart);
    if (closeText.trim() === '')
      edits.push({ start: closeLine, end: closeLine, newText: `${close}\n` });
    else edits.push({ start: closeStart, end: closeStart, newText: `\n${close}\n${indent}` });
    return edits;
  }
  const inner = text.slice(openEnd, closeStart).trim();
  const i3 = indent + unit + unit + unit;
  return [
    {
      start: openEnd,
      end: closeStart,
      newText: `\n${open}\n${inner ? `${i3}${inner}\n` : ''}${close}\n${indent}`,
    },
  ];
}

function templateRanges(sf: ts.SourceFile): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  const visit = (n: ts.Node): void => {
    if (
      ts.isNoSubstitutionTemplateLiteral(n) ||
      ts.isTemplateExpression(n) ||
      ts.isStringLiteral(n)
    ) {
      out.push({ start: n.getStart(sf), end: n.getEnd() });
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

function splitCallback(whole: string): { open: string; close: string } {
  const lines = whole.split('\n');
  // `open`: the call line and `try {`; `close`: from `} catch` on. `inner` sits between them.
  const i = lines.indexOf('\u0000');
  return { open: lines.slice(0, i).join('\n'), close: lines.slice(i + 1).join('\n') };
}

/**
 * The names the file already imports from `module` (`import { a, b as c }` and
 * `const { a } = require(...)`), by their local names: a setup line that imports one again
 * would be a duplicate declaration.
 */
function importedFrom(sf: ts.SourceFile, module: string): Set<string> {
  const out = new Set<string>();
  for (const st of sf.statements) {
    if (
      ts.isImportDeclaration(st) &&
      ts.isStringLiteral(st.moduleSpecifier) &&
      st.moduleSpecifier.text === module
    ) {
      const b = st.importClause?.namedBindings;
      if (b && ts.isNamedImports(b)) for (const e of b.elements) out.add(e.name.text);
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        const init = d.initializer;
        if (
          ts.isObjectBindingPattern(d.name) &&
          init &&
          ts.isCallExpression(init) &&
          ts.isIdentifier(init.expression) &&
          init.expression.text === 'require' &&
          init.arguments.length === 1 &&
          ts.isStringLiteral(init.arguments[0]!) &&
          (init.arguments[0] as ts.StringLiteral).text === module
        ) {
          for (const e of d.name.elements) if (ts.isIdentifier(e.name)) out.add(e.name.text);
        }
      }
    }
  }
  return out;
}

/** `importLine` of the names not imported from `module` yet; none when all are. */
function missingImportLine(
  sf: ts.SourceFile,
  f: Flavour,
  names: string[],
  module: string,
): string[] {
  const have = importedFrom(sf, module);
  const missing = names.filter((n) => !have.has(n));
  return missing.length === 0 ? [] : [importLine(f, missing, module)];
}

/**
 * The logs pipeline of the setup: a global logger provider for the logs API, so a record
 * emitted (or bridged from a Node logger) inside a span carries that span's ids.
 */
function tsLogsBlock(opts: SetupOptions): string[] {
  const url = opts.protocol === 'grpc' ? grpcUrl(opts.endpoint) : httpLogsUrl(opts.endpoint);
  return [
    '',
    "// Logs setup: records emitted through the logs API (logs.getLogger('app').emit(...)) go the",
    '// same way, each with the ids of the span active when it was emitted.',
    'const loggerProvider = new LoggerProvider({',
    `  resource: resourceFromAttributes({ 'service.name': ${singleQuoted(opts.serviceName)} }),`,
    '  processors: [',
    '    new BatchLogRecordProcessor({',
    '      exporter: new OTLPLogExporter(',
    `        process.env.${OTLP_ENDPOINT_ENV} ? {} : { url: ${singleQuoted(url)} },`,
    '      ),',
    '    }),',
    '  ],',
    '});',
    'logs.setGlobalLoggerProvider(loggerProvider);',
    "process.once('beforeExit', () => void loggerProvider.shutdown());",
  ];
}

export async function tsSetup(
  text: string,
  isTs: boolean,
  fileName: string | undefined,
  opts: SetupOptions,
): Promise<ScaffoldResult> {
  const sf = sourceFile(text, fileName, isTs);
  const f = flavourOf(sf, isTs);
  if (
    /\bnew\s+(NodeTracerProvider|BasicTracerProvider|WebTracerProvider|NodeSDK)\s*\(/.test(text)
  ) {
    return refuse('already-instrumented', 'This file already sets up a tracer provider.');
  }
  const exporterPkg = `@opentelemetry/exporter-trace-otlp-${opts.protocol}`;
  const url = opts.protocol === 'grpc' ? grpcUrl(opts.endpoint) : httpTracesUrl(opts.endpoint);
  const imports = [
    importLine(f, ['NodeTracerProvider'], '@opentelemetry/sdk-trace-node'),
    importLine(f, ['BatchSpanProcessor'], '@opentelemetry/sdk-trace-base'),
    importLine(f, ['resourceFromAttributes'], '@opentelemetry/resources'),
    importLine(f, ['OTLPTraceExporter'], exporterPkg),
    ...(opts.logs === true
      ? [
          ...missingImportLine(sf, f, ['logs'], '@opentelemetry/api-logs'),
          ...missingImportLine(
            sf,
            f,
            ['BatchLogRecordProcessor', 'LoggerProvider'],
            '@opentelemetry/sdk-logs',
          ),
          ...missingImportLine(
            sf,
            f,
            ['OTLPLogExporter'],
            `@opentelemetry/exporter-logs-otlp-${opts.protocol}`,
          ),
        ]
      : []),
  ].filter((l) => !text.includes(l));
  const block = [
    `// Tracing setup: spans go in batches to ${OTLP_ENDPOINT_ENV} when it is set (Stagelight: Run`,
    `// with Tracing sets it; the exporter reads it itself), else to ${opts.endpoint} (OTLP/${opts.protocol === 'grpc' ? 'gRPC' : 'HTTP'}),`,
    '// the receiver when this was written.',
    'const tracerProvider = new NodeTracerProvider({',
    `  resource: resourceFromAttributes({ 'service.name': ${singleQuoted(opts.serviceName)} }),`,
    '  spanProcessors: [',
    '    new BatchSpanProcessor(',
    '      new OTLPTraceExporter(',
    `        process.env.${OTLP_ENDPOINT_ENV} ? {} : { url: ${singleQuoted(url)} },`,
    '      ),',
    '    ),',
    '  ],',
    '});',
    'tracerProvider.register();',
    '// Flush the last batch when the event loop empties, so short scripts keep their spans.',
    "process.once('beforeExit', () => void tracerProvider.shutdown());",
    ...(opts.logs === true ? tsLogsBlock(opts) : []),
  ].join('\n');
  const e = headerEdit(sf, imports, block);
  return edited(e ? [e] : []);
}

export async function tsTraceFunction(
  text: string,
  isTs: boolean,
  fileName: string | undefined,
  sel: OffsetRange,
  opts: TraceFunctionOptions = {},
): Promise<ScaffoldResult> {
  const sf = sourceFile(text, fileName, isTs);
  const f = flavourOf(sf, isTs);
  let fn = innermost(sf, sel.start, sel.end, isFunctionLike);
  // Inside the span callback of an already traced function: that function is the target.
  while (fn && isSpanCallback(fn)) fn = ancestorFunction(fn);
  if (!fn) return refuse('not-found', 'Put the cursor inside a function to trace it.');
  const name = functionName(fn, sf);
  if (ts.isConstructorDeclaration(fn)) {
    return refuse(
      'unsupported',
      'A constructor cannot be wrapped in a span callback; trace the work it calls, or wrap a selection inside it.',
    );
  }
  if (ts.isSetAccessorDeclaration(fn))
    return refuse(
      'unsupported',
      'A setter cannot return the span callback; trace what it calls instead.',
    );
  if (fn.asteriskToken) {
    return refuse(
      'unsupported',
      `${name ?? 'This function'} is a generator: a span around it would end before the caller consumes it. Trace the consumer, or the work of one iteration.`,
    );
  }
  if (name === undefined) {
    return refuse(
      'unsupported',
      'This is an anonymous function (a lambda): give it a name (assign it to a const or make it a function), then trace it.',
    );
  }
  const body = fn.body;
  if (!body) return refuse('not-found', `${name} has no body (an overload or abstract signature).`);
  if (ts.isBlock(body) && startsSpan(body.statements[0])) {
    return refuse('already-instrumented', `${name} is already traced.`);
  }
  const unit = detectIndentUnit(text, '  ');
  const indent = indentAt(text, fn.getStart(sf));
  const parts = ensureTracer(sf, f, opts.tracerName ?? defaultTracerName(fileName));
  const scope = ownScopeText(fn, sf);
  const p = {
    tracer: parts.tracer,
    statusCode: parts.statusCode,
    name: opts.spanName ?? name,
    isAsync: isAsync(fn),
    ts: f.ts,
    span: freshName('span', scope),
    error: freshName('error', scope),
  };
  const i1 = indent + unit;
  let spanEdit: TextEdit;
  let edits: TextEdit[];
  if (ts.isBlock(body)) {
    const { open, close } = splitCallback(spanCallback(p, i1, unit, '\u0000', `${i1}return `));
    edits = wrapBlock(sf, body, indent, unit, open, close);
    spanEdit = edits[0]!;
  } else {
    // `(x) => expr` becomes a block that returns the traced expression.
    const expr = body.getText(sf);
    const inner = `${i1 + unit + unit}return ${expr};`;
    const whole = spanCallback(p, i1, unit, inner, `${i1}return `);
    spanEdit = { start: body.getStart(sf), end: body.getEnd(), newText: `{\n${whole}\n${indent}}` };
    edits = [spanEdit];
  }
  const all = [...parts.edits, ...edits];
  let shift = 0;
  for (const e of all)
    if (e !== spanEdit && e.start <= spanEdit.start) shift += e.newText.length - (e.end - e.start);
  // The span's line is the first line the edit adds (after the `{`).
  const lineOffsetInEdit = spanEdit.newText.indexOf('\n') + 1;
  return { ...edited(all), spanLineOffset: spanEdit.start + shift + lineOffsetInEdit };
}

/** Statements of the innermost block holding the selection (whole statements, one block). */
function selectedTsStatements(
  sf: ts.SourceFile,
  sel: OffsetRange,
): { block: ts.Block; stmts: ts.Statement[] } | undefined {
  const text = sf.text;
  let s = sel.start;
  let e = sel.end;
  while (s < e && /\s/.test(text[s] ?? '')) s++;
  while (e > s && /\s/.test(text[e - 1] ?? '')) e--;
  const block = innermost(
    sf,
    s,
    e,
    (n): n is ts.Block => ts.isBlock(n) && n.getStart(sf) < s && e < n.getEnd(),
  );
  if (!block) return undefined;
  const stmts = block.statements.filter(
    (st) => st.getEnd() > s && st.getStart(sf) <= Math.max(s, e - 1),
  );
  return stmts.length ? { block, stmts } : undefined;
}

/** A `return`, or a `break`/`continue` leaving the selection: they cannot cross the callback. */
function escapingJump(stmts: readonly ts.Statement[]): ts.Node | undefined {
  let found: ts.Node | undefined;
  const visit = (n: ts.Node, inLoop: boolean): void => {
    if (found || isFunctionLike(n) || ts.isClassLike(n)) return;
    if (ts.isReturnStatement(n)) found = n;
    else if ((ts.isBreakStatement(n) || ts.isContinueStatement(n)) && (!inLoop || n.label))
      found = n;
    const loop = inLoop || ts.isIterationStatement(n, false) || ts.isSwitchStatement(n);
    ts.forEachChild(n, (c) => visit(c, loop));
  };
  for (const s of stmts) visit(s, false);
  return found;
}

function containsAwait(stmts: readonly ts.Statement[]): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found || isFunctionLike(n)) return;
    if (ts.isAwaitExpression(n) || (ts.isForOfStatement(n) && n.awaitModifier)) found = true;
    ts.forEachChild(n, visit);
  };
  stmts.forEach(visit);
  return found;
}

/** Names the statements declare at their top level. */
function declaredNames(stmts: readonly ts.Statement[]): string[] {
  const names: string[] = [];
  const bind = (b: ts.BindingName): void => {
    if (ts.isIdentifier(b)) names.push(b.text);
    else for (const el of b.elements) if (ts.isBindingElement(el)) bind(el.name);
  };
  for (const s of stmts) {
    if (ts.isVariableStatement(s)) s.declarationList.declarations.forEach((d) => bind(d.name));
    else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) && s.name)
      names.push(s.name.text);
  }
  return names;
}

export async function tsWrapSelection(
  text: string,
  isTs: boolean,
  fileName: string | undefined,
  sel: OffsetRange,
  opts: WrapSelectionOptions,
): Promise<ScaffoldResult> {
  const sf = sourceFile(text, fileName, isTs);
  const f = flavourOf(sf, isTs);
  const found = selectedTsStatements(sf, sel);
  if (!found) return refuse('not-found', 'Select whole statements inside a function body.');
  const { block, stmts } = found;
  const first = stmts[0]!;
  const last = stmts[stmts.length - 1]!;
  if (
    (stmts.length === 1 &&
      startsSpan(first) &&
      first.getText(sf).includes(singleQuoted(opts.spanName))) ||
    spanNameAround(block) === opts.spanName
  ) {
    return refuse('already-instrumented', `The selection is already in span ${opts.spanName}.`);
  }
  const jump = escapingJump(stmts);
  if (jump) {
    return refuse(
      'unsupported',
      `The selection has a ${jump.getText(sf).split(/[\s;(]/)[0]} that would leave the span callback; select statements without it, or trace the whole function.`,
    );
  }
  const rest = block.statements
    .slice(block.statements.indexOf(last) + 1)
    .map((s) => s.getText(sf))
    .join('\n');
  const leaked = declaredNames(stmts).filter((n) =>
    new RegExp(`(^|[^\\w$.])${n.replace(/\$/g, '\\$')}($|[^\\w$])`).test(rest),
  );
  if (leaked.length) {
    return refuse(
      'unsupported',
      `The selection declares ${leaked.join(', ')}, used after it; inside the span callback it would go out of scope. Declare it before the selection, or select up to its last use.`,
    );
  }
  if (text.slice(lineStart(text, first.getStart(sf)), first.getStart(sf)).trim() !== '') {
    return refuse(
      'unsupported',
      'The selection starts in the middle of a line; select whole lines.',
    );
  }
  const unit = detectIndentUnit(text, '  ');
  const indent = indentAt(text, first.getStart(sf));
  const parts = ensureTracer(sf, f, opts.tracerName ?? defaultTracerName(fileName));
  const scope = ownScopeText(block, sf);
  const awaits = containsAwait(stmts);
  const p = {
    tracer: parts.tracer,
    statusCode: parts.statusCode,
    name: opts.spanName,
    isAsync: awaits,
    ts: f.ts,
    span: freshName('span', scope),
    error: freshName('error', scope),
  };
  const { open, close } = splitCallback(
    spanCallback(p, indent, unit, '\u0000', `${indent}${awaits ? 'await ' : ''}`),
  );
  const from = lineStart(text, first.getStart(sf));
  const to = lineEnd(text, last.getEnd());
  const e: TextEdit = { start: from, end: from, newText: `${open}\n` };
  const all = [
    ...parts.edits,
    e,
    ...indentLines(text, from, to, unit + unit, templateRanges(sf)),
    { start: to, end: to, newText: `\n${close}` },
  ];
  let shift = 0;
  for (const x of all)
    if (x !== e && x.start < e.start) shift += x.newText.length - (x.end - x.start);
  return { ...edited(all), spanLineOffset: e.start + shift };
}

/** The `(span) => {...}` callback of an enclosing startActiveSpan call, and its span parameter. */
function enclosingSpanCallback(
  sf: ts.SourceFile,
  at: number,
): { fn: ts.ArrowFunction | ts.FunctionExpression; span: string } | undefined {
  let found: { fn: ts.ArrowFunction | ts.FunctionExpression; span: string } | undefined;
  const visit = (n: ts.Node): void => {
    if (n.getStart(sf) > at || n.getEnd() < at) return;
    if (
      ts.isCallExpression(n) &&
      ts.isPropertyAccessExpression(n.expression) &&
      n.expression.name.text === 'startActiveSpan'
    ) {
      const cb = n.arguments[n.arguments.length - 1];
      if (cb && (ts.isArrowFunction(cb) || ts.isFunctionExpression(cb))) {
        const param = cb.parameters[0];
        if (param && ts.isIdentifier(param.name)) found = { fn: cb, span: param.name.text };
      }
    }
    ts.forEachChild(n, visit);
  };
  ts.forEachChild(sf, visit);
  return found;
}

export async function tsAddAttributes(
  text: string,
  isTs: boolean,
  fileName: string | undefined,
  sel: OffsetRange,
  opts: StageAttributeOptions,
): Promise<ScaffoldResult> {
  const sf = sourceFile(text, fileName, isTs);
  const cb = enclosingSpanCallback(sf, sel.start);
  if (!cb || !ts.isBlock(cb.fn.body)) {
    return refuse(
      'not-found',
      'No span encloses the cursor: run Trace This Function or Wrap Selection in Span first.',
    );
  }
  const scope = cb.fn.body.getText(sf);
  const keys = opts.keys.filter(
    (k) => !new RegExp(`(['"\\s{,])${k.replace(/\./g, '\\.')}['"]?\\s*:`).test(scope),
  );
  if (keys.length === 0)
    return refuse('already-instrumented', 'These attributes are already set on this span.');
  // Into the innermost block inside the callback that holds the cursor (the `try` block of a
  // traced function), before the statement at the cursor or at the block's top.
  const inCallback = (n: ts.Node): n is ts.Block =>
    ts.isBlock(n) && n.getStart(sf) >= cb.fn.body.getStart(sf);
  let block = innermost(sf, sel.start, sel.start, inCallback) ?? (cb.fn.body as ts.Block);
  const tryBlock =
    block === cb.fn.body ? block.statements.find(ts.isTryStatement)?.tryBlock : undefined;
  if (tryBlock && !(tryBlock.getStart(sf) < sel.start && sel.start < tryBlock.getEnd()))
    block = tryBlock;
  const anchor =
    block.statements.find((s) => s.getStart(sf) <= sel.start && sel.start <= s.getEnd()) ??
    block.statements[0];
  const unit = detectIndentUnit(text, '  ');
  const indent = anchor
    ? indentAt(text, anchor.getStart(sf))
    : indentAt(text, block.getStart(sf)) + unit;
  const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : singleQuoted(k));
  const names = tsScopeNames(sf, sel.start, anchor ? anchor.getStart(sf) : sel.start, cb.span);
  const entries: string[] = [];
  const todos: string[] = [];
  for (const k of keys) {
    const value = opts.values?.[k] ?? attributeValue(k, names);
    const type = todoValue(stageAttribute(k).type, 'ts');
    if (value !== undefined) entries.push(`${indent}${unit}${key(k)}: ${value},`);
    else todos.push(`// ${TODO_MARK} ${key(k)}: ${type},`);
  }
  // Attributes without a value in scope stay commented out: inside the call when it sends
  // others, else as lines of their own.
  const stmt =
    entries.length > 0
      ? `${indent}${cb.span}.setAttributes({\n${[...entries, ...todos.map((t) => `${indent}${unit}${t}`)].join('\n')}\n${indent}});\n`
      : todos
          .map(
            (t) =>
              `${indent}${t.replace(/,$/, '').replace(`${TODO_MARK} `, `${TODO_MARK} ${cb.span}.setAttributes({ `)} });\n`,
          )
          .join('');
  const at = anchor ? lineStart(text, anchor.getStart(sf)) : lineEnd(text, block.getStart(sf)) + 1;
  return edited([{ start: at, end: at, newText: stmt }]);
}

/**
 * The names the code at `at` can read, innermost first: variables declared before `before` in
 * each enclosing block, the parameters of each enclosing function (not the span callback's
 * `span`), and in an instance method the class's properties as `this.x`.
 */
function tsScopeNames(sf: ts.SourceFile, at: number, before: number, spanVar: string): ScopeName[] {
  const path: ts.Node[] = [];
  const visit = (n: ts.Node): void => {
    if (n.getStart(sf) > at || n.getEnd() < at) return;
    path.push(n);
    ts.forEachChild(n, visit);
  };
  ts.forEachChild(sf, visit);
  const out: ScopeName[] = [];
  const add = (
    name: ts.BindingName | ts.PropertyName,
    type: ts.TypeNode | undefined,
    expr?: string,
  ) => {
    if (!ts.isIdentifier(name) || name.text === spanVar) return;
    out.push({ expr: expr ?? name.text, name: name.text, type: type?.getText(sf) });
  };
  let inInstanceMethod = false;
  for (const n of [...path].reverse()) {
    if (ts.isBlock(n) || ts.isSourceFile(n)) {
      const locals: ScopeName[] = [];
      for (const st of n.statements) {
        if (st.getEnd() > before || !ts.isVariableStatement(st)) continue;
        for (const d of st.declarationList.declarations)
          if (ts.isIdentifier(d.name) && d.name.text !== spanVar)
            locals.push({ expr: d.name.text, name: d.name.text, type: d.type?.getText(sf) });
      }
      out.push(...locals.reverse());
    }
    if (isFunctionLike(n)) {
      for (const p of n.parameters) add(p.name, p.type);
      if (ts.isMethodDeclaration(n) || ts.isGetAccessorDeclaration(n))
        inInstanceMethod ||= !n.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
    }
    if (ts.isClassLike(n) && inInstanceMethod) {
      for (const m of n.members) {
        if (ts.isPropertyDeclaration(m) && ts.isIdentifier(m.name))
          add(m.name, m.type, `this.${m.name.text}`);
        if (ts.isConstructorDeclaration(m))
          for (const p of m.parameters)
            if (p.modifiers?.length && ts.isIdentifier(p.name))
              add(p.name, p.type, `this.${p.name.text}`);
      }
      break;
    }
  }
  return out;
}

/** Edits importing `names` from each module (extending an existing named import). */
export function tsImportEdits(
  text: string,
  isTs: boolean,
  fileName: string | undefined,
  wanted: readonly { module: string; names: readonly string[] }[],
): TextEdit[] {
  const sf = sourceFile(text, fileName, isTs);
  const f = flavourOf(sf, isTs);
  const edits: TextEdit[] = [];
  const lines: string[] = [];
  for (const w of wanted) {
    const b = bindingOf(sf, w.module);
    if (!b) lines.push(importLine(f, [...w.names], w.module));
    else if (!b.prefix) edits.push(...extendBinding(sf, b, w.names));
  }
  const h = headerEdit(sf, lines, undefined);
  return h ? [...edits, h] : edits;
}

/** The module-level tracer constant, if the file declares one. */
export function tsTracerName(
  text: string,
  isTs: boolean,
  fileName: string | undefined,
): string | undefined {
  return existingTracer(sourceFile(text, fileName, isTs));
}
