/**
 * Go scaffolding on tree-sitter-go. A traced function starts with
 * `ctx, span := tracer.Start(ctx, "Name")` and `defer span.End()`, plus a deferred check that
 * records a returned error (the error result is named for that) and sets the error status, also
 * for a panic (re-panicked; span.End records its exception event). The output is gofmt-clean: tabs, and imports sorted inside their group.
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
import type { OffsetRange, ScaffoldMessage, ScaffoldResult, TextEdit } from './types.js';

const OTEL = 'go.opentelemetry.io/otel';
const CODES = 'go.opentelemetry.io/otel/codes';
const ATTRIBUTE = 'go.opentelemetry.io/otel/attribute';

interface GoImport {
  path: string;
  alias?: string;
}

function named(n: Node): Node[] {
  return n.namedChildren.filter((c): c is Node => c !== null);
}

function isStd(path: string): boolean {
  return !(path.split('/')[0] ?? '').includes('.');
}

function specLine(i: GoImport): string {
  return `${i.alias ? `${i.alias} ` : ''}${quoted(i.path)}`;
}

function specPath(spec: Node): string {
  const p = spec.childForFieldName('path')?.text ?? '""';
  return p.slice(1, -1);
}

/**
 * Edits that add the missing imports. Into a parenthesised block: each into the group (run of
 * specs without a blank line) of its kind (standard library or not) at its sorted place, or a
 * new group at the end; gofmt sorts only within a group, so the result stays gofmt-clean.
 */
function importEdits(root: Node, text: string, wanted: readonly GoImport[]): TextEdit[] {
  const decls = named(root).filter((n) => n.type === 'import_declaration');
  const specs = decls.flatMap((d) => [...descendants(d)].filter((n) => n.type === 'import_spec'));
  const have = new Set(specs.map(specPath));
  const missing = wanted.filter(
    (w, i) => !have.has(w.path) && wanted.findIndex((x) => x.path === w.path) === i,
  );
  if (missing.length === 0) return [];
  const sorted = [...missing].sort((a, b) => (a.path < b.path ? -1 : 1));
  const block = (list: readonly GoImport[]): string => {
    const std = list.filter((i) => isStd(i.path));
    const other = list.filter((i) => !isStd(i.path));
    const groups = [std, other]
      .filter((g) => g.length)
      .map((g) => g.map((i) => `\t${specLine(i)}`).join('\n'));
    return `import (\n${groups.join('\n\n')}\n)`;
  };
  const grouped = decls.find((d) => named(d).some((c) => c.type === 'import_spec_list'));
  if (!grouped) {
    const first = decls[0];
    if (!first) {
      const pkg = named(root).find((n) => n.type === 'package_clause');
      const at = pkg ? lineEnd(text, pkg.endIndex) : 0;
      return [{ start: at, end: at, newText: `\n\n${block(sorted)}` }];
    }
    // `import "fmt"` becomes a block holding the old spec and the new ones.
    const old = specs.filter(
      (s) => first.startIndex <= s.startIndex && s.endIndex <= first.endIndex,
    );
    const all = [
      ...old.map((s) => ({ path: specPath(s), alias: s.childForFieldName('name')?.text })),
      ...sorted,
    ].sort((a, b) => (a.path < b.path ? -1 : 1));
    return [{ start: first.startIndex, end: first.endIndex, newText: block(all) }];
  }
  const list = named(grouped).find((c) => c.type === 'import_spec_list')!;
  const inList = named(list).filter((c) => c.type === 'import_spec');
  // Groups: consecutive specs with no blank line between them.
  const groups: Node[][] = [];
  for (const s of inList) {
    const g = groups[groups.length - 1];
    const prev = g?.[g.length - 1];
    if (g && prev && s.startPosition.row - prev.endPosition.row <= 1) g.push(s);
    else groups.push([s]);
  }
  const edits: TextEdit[] = [];
  const newGroup: GoImport[] = [];
  for (const imp of sorted) {
    const std = isStd(imp.path);
    const g = std
      ? groups.find((gr) => gr.every((s) => isStd(specPath(s))))
      : [...groups].reverse().find((gr) => gr.some((s) => !isStd(specPath(s))));
    if (!g) {
      newGroup.push(imp);
      continue;
    }
    const after = g.find((s) => specPath(s) > imp.path);
    if (after) {
      const at = lineStart(text, after.startIndex);
      edits.push({ start: at, end: at, newText: `\t${specLine(imp)}\n` });
    } else {
      const at = lineEnd(text, g[g.length - 1]!.endIndex);
      edits.push({ start: at, end: at, newText: `\n\t${specLine(imp)}` });
    }
  }
  if (newGroup.length) {
    const lastSpec = inList[inList.length - 1];
    const at = lastSpec ? lineEnd(text, lastSpec.endIndex) : list.startIndex + 1;
    const body = newGroup.map((i) => `\t${specLine(i)}`).join('\n');
    edits.push({ start: at, end: at, newText: lastSpec ? `\n\n${body}` : `\n${body}` });
  }
  return edits;
}

/** A package-level `var x = otel.Tracer(...)`. */
function existingTracer(root: Node): string | undefined {
  for (const d of named(root)) {
    if (d.type !== 'var_declaration' || !/\.Tracer\(/.test(d.text)) continue;
    const spec = [...descendants(d)].find((n) => n.type === 'var_spec');
    const name = spec?.childForFieldName('name')?.text;
    if (name) return name;
  }
  return undefined;
}

/** The offset after the import declarations (or the package clause). */
function afterHeader(root: Node, text: string): number {
  const top = named(root);
  const last =
    [...top].reverse().find((n) => n.type === 'import_declaration') ??
    top.find((n) => n.type === 'package_clause');
  return last ? lineEnd(text, last.endIndex) : 0;
}

function packageName(root: Node): string {
  return named(root).find((n) => n.type === 'package_clause')?.namedChildren[0]?.text ?? 'main';
}

function ensureTracer(
  root: Node,
  text: string,
  name: string | undefined,
  extra: GoImport[],
): { tracer: string; edits: TextEdit[] } {
  const found = existingTracer(root);
  const imports = importEdits(root, text, found ? extra : [{ path: OTEL }, ...extra]);
  if (found) return { tracer: found, edits: imports };
  const at = afterHeader(root, text);
  const decl: TextEdit = {
    start: at,
    end: at,
    newText: `\n\nvar tracer = otel.Tracer(${quoted(name ?? packageName(root))})`,
  };
  return { tracer: 'tracer', edits: [...imports, decl] };
}

/** `Type.Method` for a method (receiver type without `*` and type arguments), else the name. */
function functionName(fn: Node): string {
  const name = fn.childForFieldName('name')?.text ?? 'func';
  if (fn.type !== 'method_declaration') return name;
  const recv = fn.childForFieldName('receiver')?.text ?? '';
  const m = /\*?\s*([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*\)$/.exec(recv);
  return m?.[1] ? `${m[1]}.${name}` : name;
}

/** How the span gets its parent: a ctx parameter, an *http.Request's context, or none. */
function contextSource(
  fn: Node,
): { kind: 'ctx'; name: string } | { kind: 'request'; name: string } | { kind: 'none' } {
  const params = named(fn.childForFieldName('parameters') ?? fn).filter(
    (n) => n.type === 'parameter_declaration',
  );
  for (const p of params) {
    const type = p.childForFieldName('type')?.text.replace(/\s/g, '');
    const names = p
      .childrenForFieldName('name')
      .filter((c): c is Node => c !== null)
      .map((c) => c.text);
    const usable = names.find((n) => n !== '_');
    if (type === 'context.Context' && usable) return { kind: 'ctx', name: usable };
    if (type === '*http.Request' && usable) return { kind: 'request', name: usable };
  }
  return { kind: 'none' };
}

/**
 * The name of the function's error result, naming the results when they are unnamed
 * (`(int, error)` -> `(_ int, err error)`); undefined when the last result is not an error.
 */
function errorResult(fn: Node, body: Node): { name: string; edit?: TextEdit } | undefined {
  const result = fn.childForFieldName('result');
  if (!result) return undefined;
  const bodyText = body.text;
  // `err` unless the body declares `err` on its own (`err := ...`, `var err`), which a named
  // result in the same scope would turn into a compile error.
  const pick = () =>
    /(^|[\s;{(])err\s*:=/.test(bodyText) || /\bvar\s+err\b/.test(bodyText)
      ? freshName('retErr', bodyText)
      : 'err';
  if (result.type === 'type_identifier' && result.text === 'error') {
    const name = pick();
    return {
      name,
      edit: { start: result.startIndex, end: result.endIndex, newText: `(${name} error)` },
    };
  }
  if (result.type !== 'parameter_list') return undefined;
  const decls = named(result).filter((n) => n.type === 'parameter_declaration');
  const last = decls[decls.length - 1];
  if (!last || last.childForFieldName('type')?.text !== 'error') return undefined;
  const names = last.childrenForFieldName('name').filter((c): c is Node => c !== null);
  if (names.length) {
    const n = names[names.length - 1]!.text;
    return n === '_' ? undefined : { name: n };
  }
  const name = pick();
  const parts = decls.map(
    (d, i) => `${i === decls.length - 1 ? name : '_'} ${d.childForFieldName('type')?.text ?? ''}`,
  );
  return {
    name,
    edit: { start: result.startIndex, end: result.endIndex, newText: `(${parts.join(', ')})` },
  };
}

/**
 * The deferred error recording. A panic only gets the error status here: the SDK's span.End,
 * deferred before this and so run after it, recovers the panic again and records it as the
 * exception event itself (a RecordError here would make it two).
 */
function recordLines(i: string, span: string, err: string | undefined): string[] {
  const lines = [
    `${i}defer func() {`,
    `${i}\tif rec := recover(); rec != nil {`,
    `${i}\t\t${span}.SetStatus(codes.Error, fmt.Sprint(rec))`,
    `${i}\t\tpanic(rec)`,
    `${i}\t}`,
  ];
  if (err) {
    lines.push(
      `${i}\tif ${err} != nil {`,
      `${i}\t\t${span}.RecordError(${err})`,
      `${i}\t\t${span}.SetStatus(codes.Error, ${err}.Error())`,
      `${i}\t}`,
    );
  }
  lines.push(`${i}}()`);
  return lines;
}

function bodyList(body: Node): Node[] {
  const list = named(body).find((c) => c.type === 'statement_list');
  return list ? named(list).filter((c) => c.type !== 'comment') : [];
}

export async function goTraceFunction(
  text: string,
  sel: OffsetRange,
  opts: TraceFunctionOptions = {},
): Promise<ScaffoldResult> {
  return withTree('go', text, (root) => {
    const fn = enclosing(root, sel.start, sel.end, [
      'function_declaration',
      'method_declaration',
      'func_literal',
    ]);
    if (!fn) return refuse('not-found', 'Put the cursor inside a function to trace it.');
    if (fn.type === 'func_literal') {
      return refuse(
        'unsupported',
        'This is an anonymous func literal: make it a named function, or use Wrap Selection in Span inside it.',
      );
    }
    if (fn.hasError)
      return refuse('unsupported', 'This function has syntax errors; fix them first.');
    const body = fn.childForFieldName('body');
    const name = functionName(fn);
    if (!body) return refuse('not-found', `${name} has no body.`);
    const first = bodyList(body)[0];
    if (first?.type === 'short_var_declaration' && /\.Start\(/.test(first.text)) {
      return refuse('already-instrumented', `${name} is already traced.`);
    }
    const messages: ScaffoldMessage[] = [];
    const src = contextSource(fn);
    const span = freshName('span', body.text);
    const extra: GoImport[] = [{ path: 'fmt' }, { path: CODES }];
    let startLine: string[];
    if (src.kind === 'ctx')
      startLine = [
        `${src.name}, ${span} := tracer.Start(${src.name}, ${quoted(opts.spanName ?? name)})`,
      ];
    else if (src.kind === 'request') {
      const ctx = freshName('ctx', body.text);
      startLine = [
        `${ctx}, ${span} := tracer.Start(${src.name}.Context(), ${quoted(opts.spanName ?? name)})`,
        `${src.name} = ${src.name}.WithContext(${ctx})`,
      ];
    } else {
      extra.push({ path: 'context' });
      startLine = [
        `_, ${span} := tracer.Start(context.Background(), ${quoted(opts.spanName ?? name)})`,
      ];
      messages.push({
        severity: 'warning',
        text: `${name} has no context.Context parameter, so its span starts a new trace. Add a ctx parameter to join the caller's trace.`,
      });
    }
    const t = ensureTracer(root, text, opts.tracerName, extra);
    if (t.tracer !== 'tracer')
      startLine = startLine.map((l) => l.replace('tracer.Start(', `${t.tracer}.Start(`));
    const err = errorResult(fn, body);
    const i = `${indentAt(text, fn.startIndex)}\t`;
    const lines = [
      ...startLine.map((l) => i + l),
      `${i}defer ${span}.End()`,
      ...recordLines(i, span, err?.name),
    ];
    const open = body.startIndex + 1;
    const close = body.endIndex - 1;
    let spanEdit: TextEdit;
    if (text.slice(open, close).includes('\n')) {
      spanEdit = { start: open, end: open, newText: `\n${lines.join('\n')}` };
    } else {
      const inner = text.slice(open, close).trim();
      spanEdit = {
        start: open,
        end: close,
        newText: `\n${lines.join('\n')}\n${inner ? `${i}${inner}\n` : ''}${indentAt(text, fn.startIndex)}`,
      };
    }
    const all = [...t.edits, ...(err?.edit ? [err.edit] : []), spanEdit];
    return {
      ...edited(all, messages),
      spanLineOffset: spanEdit.start + spanShift(all, spanEdit) + 1,
    };
  });
}

/** Names the statements declare at their own level (`x, err :=`, `var x`). */
function declaredNames(stmts: readonly Node[]): string[] {
  const out: string[] = [];
  for (const s of stmts) {
    if (s.type === 'short_var_declaration') {
      const left = s.childForFieldName('left');
      for (const id of left ? named(left) : []) if (id.text !== '_') out.push(id.text);
    } else if (s.type === 'var_declaration' || s.type === 'const_declaration') {
      for (const spec of descendants(s)) {
        if (spec.type === 'var_spec' || spec.type === 'const_spec') {
          spec.childrenForFieldName('name').forEach((n) => n && n.text !== '_' && out.push(n.text));
        }
      }
    }
  }
  return out;
}

/** A return, goto, or break/continue that leaves the selection (it cannot leave a func literal). */
function escapingJump(stmts: readonly Node[]): Node | undefined {
  const visit = (n: Node, inLoop: boolean): Node | undefined => {
    if (n.type === 'func_literal') return undefined;
    if (n.type === 'return_statement' || n.type === 'goto_statement') return n;
    if (
      (n.type === 'break_statement' || n.type === 'continue_statement') &&
      (!inLoop || n.namedChildren.length > 0)
    )
      return n;
    const loop =
      inLoop ||
      [
        'for_statement',
        'expression_switch_statement',
        'type_switch_statement',
        'select_statement',
      ].includes(n.type);
    for (const c of named(n)) {
      const f = visit(c, loop);
      if (f) return f;
    }
    return undefined;
  };
  for (const s of stmts) {
    const f = visit(s, false);
    if (f) return f;
  }
  return undefined;
}

export async function goWrapSelection(
  text: string,
  sel: OffsetRange,
  opts: WrapSelectionOptions,
): Promise<ScaffoldResult> {
  return withTree('go', text, (root) => {
    const found = selectedStatements(root, text, sel.start, sel.end, ['statement_list']);
    if (!found) return refuse('not-found', 'Select whole statements inside a function body.');
    const fn = enclosing(root, found.block.startIndex, found.block.endIndex, [
      'function_declaration',
      'method_declaration',
      'func_literal',
    ]);
    if (!fn) return refuse('not-found', 'Select statements inside a function.');
    const kids = named(found.block).filter((c) => c.type !== 'comment');
    const stmts = kids.slice(kids.indexOf(found.first), kids.indexOf(found.last) + 1);
    if (
      stmts.length === 1 &&
      found.first.type === 'expression_statement' &&
      /\.Start\(/.test(found.first.text) &&
      found.first.text.includes(quoted(opts.spanName))
    ) {
      return refuse('already-instrumented', `The selection is already in span ${opts.spanName}.`);
    }
    const lit = found.block.parent?.parent;
    if (
      lit?.type === 'func_literal' &&
      kids[0]?.type === 'short_var_declaration' &&
      /\.Start\(/.test(kids[0].text) &&
      kids[0].text.includes(quoted(opts.spanName))
    ) {
      return refuse('already-instrumented', `The selection is already in span ${opts.spanName}.`);
    }
    const jump = escapingJump(stmts);
    if (jump)
      return refuse(
        'unsupported',
        `The selection has a ${jump.text.split(/\s/)[0]} that would leave the span's func literal; select statements without it.`,
      );
    const rest = kids
      .slice(kids.indexOf(found.last) + 1)
      .map((k) => k.text)
      .join('\n');
    const leaked = declaredNames(stmts).filter((n) => new RegExp(`\\b${n}\\b`).test(rest));
    if (leaked.length) {
      return refuse(
        'unsupported',
        `The selection declares ${leaked.join(', ')}, used after it; inside the span's func literal it would go out of scope. Declare it before the selection.`,
      );
    }
    const selText = stmts.map((s) => s.text).join('\n');
    const src = contextSource(
      fn.type === 'func_literal'
        ? (enclosing(root, fn.startIndex, fn.endIndex, [
            'function_declaration',
            'method_declaration',
          ]) ?? fn)
        : fn,
    );
    const extra: GoImport[] = [{ path: 'fmt' }, { path: CODES }];
    let parent: string;
    let lhs: string;
    if (src.kind === 'ctx') {
      parent = src.name;
      lhs = new RegExp(`\\b${src.name}\\b`).test(selText) ? src.name : '_';
    } else if (src.kind === 'request') {
      parent = `${src.name}.Context()`;
      lhs = '_';
    } else {
      extra.push({ path: 'context' });
      parent = 'context.Background()';
      lhs = '_';
    }
    const t = ensureTracer(root, text, opts.tracerName, extra);
    const indent = indentAt(text, found.first.startIndex);
    const span = freshName('span', selText);
    const i = `${indent}\t`;
    const head = [
      `${indent}func() {`,
      `${i}${lhs}, ${span} := ${t.tracer}.Start(${parent}, ${quoted(opts.spanName)})`,
      `${i}defer ${span}.End()`,
      ...recordLines(i, span, undefined),
    ].join('\n');
    const from = lineStart(text, found.first.startIndex);
    const to = lineEnd(text, found.last.endIndex);
    const open: TextEdit = { start: from, end: from, newText: `${head}\n` };
    const all = [
      ...t.edits,
      open,
      ...indentLines(text, from, to, '\t', rawStrings(root)),
      { start: to, end: to, newText: `\n${indent}}()` },
    ];
    return {
      ...edited(all),
      spanLineOffset: open.start + spanShift(all, open) + indent.length + 'func() {\n'.length,
    };
  });
}

function rawStrings(root: Node): { start: number; end: number }[] {
  return [...descendants(root)]
    .filter((n) => n.type === 'raw_string_literal' && n.startPosition.row !== n.endPosition.row)
    .map((n) => ({ start: n.startIndex, end: n.endIndex }));
}

/**
 * The names the code at `at` can read, innermost first: variables declared before `before`
 * (`:=`, `var`) in each enclosing function or func literal, then its parameters.
 */
function goScopeNames(at: Node, before: number, spanVar: string): ScopeName[] {
  const out: ScopeName[] = [];
  const push = (id: Node | null | undefined, type?: string) => {
    if (id?.type === 'identifier' && id.text !== '_' && id.text !== spanVar && id.text !== 'ctx')
      out.push({ expr: id.text, name: id.text, type });
  };
  for (let fn: Node | null = at; fn; fn = fn.parent) {
    if (!['function_declaration', 'method_declaration', 'func_literal'].includes(fn.type)) continue;
    const body = fn.childForFieldName('body');
    const locals: [Node, string | undefined][] = [];
    if (body) {
      for (const n of descendants(body, (c) => c.type === 'func_literal')) {
        if (n.endIndex > before) continue;
        if (n.type === 'short_var_declaration')
          for (const id of named(n.childForFieldName('left') ?? n)) locals.push([id, undefined]);
        if (n.type === 'var_spec')
          for (const id of n.childrenForFieldName('name'))
            if (id) locals.push([id, n.childForFieldName('type')?.text]);
      }
    }
    for (const [id, type] of locals.reverse()) push(id, type);
    for (const p of named(fn.childForFieldName('parameters') ?? fn)) {
      if (p.type !== 'parameter_declaration') continue;
      const type = p.childForFieldName('type')?.text;
      for (const id of p.childrenForFieldName('name')) push(id, type);
    }
    if (fn.type === 'method_declaration') out.push(...receiverFields(fn));
  }
  return out;
}

/**
 * The fields of a method's receiver (`r.Model` in `func (r *Reranker) ...`) when its struct is
 * declared in the same file, as Python offers `self.x` and Java the class's fields.
 */
function receiverFields(method: Node): ScopeName[] {
  const recv = named(method.childForFieldName('receiver') ?? method).find(
    (p) => p.type === 'parameter_declaration',
  );
  const name = recv?.childForFieldName('name')?.text;
  const typeName = recv?.childForFieldName('type')?.text.replace(/^\*/, '').replace(/\[.*$/, '');
  if (!name || name === '_' || !typeName) return [];
  let root: Node = method;
  while (root.parent) root = root.parent;
  for (const spec of descendants(root)) {
    if (spec.type !== 'type_spec' || spec.childForFieldName('name')?.text !== typeName) continue;
    const struct = spec.childForFieldName('type');
    if (struct?.type !== 'struct_type') return [];
    const out: ScopeName[] = [];
    for (const f of descendants(struct)) {
      if (f.type !== 'field_declaration') continue;
      const type = f.childForFieldName('type')?.text;
      for (const id of f.childrenForFieldName('name'))
        if (id) out.push({ expr: `${name}.${id.text}`, name: id.text, type });
    }
    return out;
  }
  return [];
}

export async function goAddAttributes(
  text: string,
  sel: OffsetRange,
  opts: StageAttributeOptions,
): Promise<ScaffoldResult> {
  return withTree('go', text, (root) => {
    // The innermost function or func literal (out to the named function) whose body starts a
    // span, and that span's variable.
    let spanVar: string | undefined;
    let list: Node | undefined;
    const at0 = root.descendantForIndex(sel.start, sel.start);
    for (let n: Node | null = at0; n && !spanVar; n = n.parent) {
      if (!['function_declaration', 'method_declaration', 'func_literal'].includes(n.type))
        continue;
      const body = n.childForFieldName('body');
      const start = body
        ? bodyList(body).find((s) => s.type === 'short_var_declaration' && /\.Start\(/.test(s.text))
        : undefined;
      const left = start?.childForFieldName('left');
      spanVar = left ? named(left)[1]?.text : undefined;
      list = body ? named(body).find((c) => c.type === 'statement_list') : undefined;
      if (n.type !== 'func_literal') break;
    }
    if (!spanVar || !list) {
      return refuse(
        'not-found',
        'No span encloses the cursor: run Trace This Function or Wrap Selection in Span first.',
      );
    }
    const keys = opts.keys.filter((k) => !list!.text.includes(quoted(k)));
    if (keys.length === 0)
      return refuse('already-instrumented', 'These attributes are already set on this span.');
    const stmts = named(list).filter((c) => c.type !== 'comment');
    // After the span's start and its defers; before the statement at the cursor when later.
    let anchor = stmts.find((s) => s.startIndex <= sel.start && sel.start <= s.endIndex);
    const firstWork = stmts.find(
      (s) =>
        !(s.type === 'short_var_declaration' && /\.Start\(/.test(s.text)) &&
        s.type !== 'defer_statement' &&
        !/^\w+ = \w+\.WithContext\(/.test(s.text),
    );
    if (!anchor || (firstWork && anchor.startIndex < firstWork.startIndex)) anchor = firstWork;
    const ctor = { string: 'String', int: 'Int', double: 'Float64', bool: 'Bool' } as const;
    const indent = anchor
      ? indentAt(text, anchor.startIndex)
      : `${indentAt(text, list.startIndex)}`;
    const before = anchor ? anchor.startIndex : sel.start;
    const names = goScopeNames(root.descendantForIndex(before, before) ?? list, before, spanVar);
    const args: string[] = [];
    const todos: string[] = [];
    for (const k of keys) {
      const a = stageAttribute(k);
      const value = opts.values?.[k] ?? attributeValue(k, names);
      if (value !== undefined) args.push(`attribute.${ctor[a.type]}(${quoted(k)}, ${value}),`);
      else
        todos.push(
          `// ${TODO_MARK} attribute.${ctor[a.type]}(${quoted(k)}, ${todoValue(a.type, 'go')}),`,
        );
    }
    const at = anchor ? lineStart(text, anchor.startIndex) : lineEnd(text, list.endIndex) + 1;
    // Without a value to send, only the commented-out lines: no call, and no `attribute`
    // import that nothing would use (Go refuses unused imports).
    if (args.length === 0) {
      const lines = todos.map(
        (t) =>
          `${indent}${t.replace(`${TODO_MARK} `, `${TODO_MARK} ${spanVar}.SetAttributes(`).replace(/,$/, ')')}\n`,
      );
      return edited([{ start: at, end: at, newText: lines.join('') }]);
    }
    const inner = [...args, ...todos].map((l) => `${indent}\t${l}`);
    const stmt = `${indent}${spanVar}.SetAttributes(\n${inner.join('\n')}\n${indent})\n`;
    return edited([
      ...importEdits(root, text, [{ path: ATTRIBUTE }]),
      { start: at, end: at, newText: stmt },
    ]);
  });
}

export async function goSetup(text: string, opts: SetupOptions): Promise<ScaffoldResult> {
  return withTree('go', text, (root) => {
    if (
      /\bsdktrace\.NewTracerProvider\(|\btrace\.NewTracerProvider\(|func setupTracing\(/.test(text)
    ) {
      return refuse('already-instrumented', 'This file already sets up a tracer provider.');
    }
    const exp = opts.protocol === 'grpc' ? 'otlptracegrpc' : 'otlptracehttp';
    const imports: GoImport[] = [
      { path: 'context' },
      { path: OTEL },
      { path: ATTRIBUTE },
      { path: `go.opentelemetry.io/otel/exporters/otlp/otlptrace/${exp}` },
      { path: 'go.opentelemetry.io/otel/propagation' },
      { path: 'go.opentelemetry.io/otel/sdk/resource' },
      { path: 'go.opentelemetry.io/otel/sdk/trace', alias: 'sdktrace' },
      { path: 'os' },
    ];
    const main = named(root).find(
      (n) => n.type === 'function_declaration' && n.childForFieldName('name')?.text === 'main',
    );
    if (main) imports.push({ path: 'log' });
    const fnText = [
      '',
      '',
      `// setupTracing sends spans in batches to ${OTLP_ENDPOINT_ENV} when it is set (Stagelight:`,
      `// Run with Tracing sets it), else to ${opts.endpoint} (OTLP/${opts.protocol === 'grpc' ? 'gRPC' : 'HTTP'}), the receiver when`,
      '// this was written. Call the returned function before the program exits to flush the last',
      '// batch.',
      'func setupTracing(ctx context.Context) (func(context.Context) error, error) {',
      `\tvar options []${exp}.Option`,
      `\tif os.Getenv(${quoted(OTLP_ENDPOINT_ENV)}) == "" {`,
      '\t\t// Otherwise the exporter reads the variable itself (an http:// URL means no TLS).',
      `\t\toptions = append(options, ${exp}.WithEndpointURL(${quoted(opts.protocol === 'grpc' ? grpcUrl(opts.endpoint) : httpTracesUrl(opts.endpoint))}))`,
      '\t}',
      `\texporter, err := ${exp}.New(ctx, options...)`,
      '\tif err != nil {',
      '\t\treturn nil, err',
      '\t}',
      `\tres, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", ${quoted(opts.serviceName)})))`,
      '\tif err != nil {',
      '\t\treturn nil, err',
      '\t}',
      '\tprovider := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))',
      '\totel.SetTracerProvider(provider)',
      '\totel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))',
      '\treturn provider.Shutdown, nil',
      '}',
    ].join('\n');
    const edits = importEdits(root, text, imports);
    const end = text.length;
    edits.push({ start: end, end, newText: `${text.endsWith('\n') ? fnText.slice(1) : fnText}\n` });
    if (main) {
      const body = main.childForFieldName('body');
      if (body) {
        const at = body.startIndex + 1;
        const lines = [
          '\tshutdownTracing, tracingErr := setupTracing(context.Background())',
          '\tif tracingErr != nil {',
          '\t\tlog.Fatal(tracingErr)',
          '\t}',
          '\tdefer shutdownTracing(context.Background())',
        ];
        edits.push({ start: at, end: at, newText: `\n${lines.join('\n')}` });
      }
    }
    return edited(edits);
  });
}

/** Edits adding the import paths (`alias path` for an aliased one) the file lacks, gofmt-clean. */
export async function goImportEdits(text: string, paths: readonly string[]): Promise<TextEdit[]> {
  return withTree('go', text, (root) =>
    importEdits(
      root,
      text,
      paths.map((p) => {
        const [a, b] = p.split(' ');
        return b ? { alias: a, path: b } : { path: p };
      }),
    ),
  );
}

/** The package-level tracer variable, if the file declares one. */
export async function goTracerName(text: string): Promise<string | undefined> {
  return withTree('go', text, existingTracer);
}
