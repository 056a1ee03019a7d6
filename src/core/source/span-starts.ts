/**
 * Finds the source lines that start spans, per language, with the span name when it is known
 * statically: a string literal at the call, or a constant of the same file holding one.
 *
 * Recognised calls (member calls only, the way the OpenTelemetry APIs are used):
 * - Python: `x.start_as_current_span(NAME…)`, `x.start_span(NAME…)`, also as a decorator
 *   (`@tracer.start_as_current_span(NAME)`), NAME positional or `name=`.
 * - TypeScript / JavaScript: `x.startActiveSpan(NAME…)`, `x.startSpan(NAME…)`.
 * - Go: `x.Start(ctx, NAME…)`.
 * - Java: `x.spanBuilder(NAME)`.
 *
 * The rule is to say nothing rather than something wrong: a name built at run time (an
 * f-string, a template with `${}`, a concatenation, a parameter) yields no site, and so does a
 * constant assigned two different values in the file.
 */

import { lex, type LexResult, type SourceLanguage, type StringToken } from './lexer.js';

/** A span-start call whose span name is known. */
export interface SpanStartSite {
  /** 0-based line of the call (of the decorator for a Python decorator). */
  readonly line: number;
  /** 0-based column of the method name. */
  readonly column: number;
  readonly name: string;
  /** The name's origin: written at the call, or a same-file constant. */
  readonly via: 'literal' | 'constant';
}

interface CallPattern {
  /** Matches up to and including the opening parenthesis; group 1 is the method name. */
  readonly re: RegExp;
  /** Positional index of the span name. */
  readonly argIndex: number;
  /** Keyword argument that may carry the name (Python). */
  readonly keyword?: string;
}

const PATTERNS: Record<SourceLanguage, readonly CallPattern[]> = {
  python: [{ re: /\.(start_as_current_span|start_span)\s*\(/g, argIndex: 0, keyword: 'name' }],
  typescript: [{ re: /\.(startActiveSpan|startSpan)\s*(?:<[^>()]*>\s*)?\(/g, argIndex: 0 }],
  javascript: [{ re: /\.(startActiveSpan|startSpan)\s*\(/g, argIndex: 0 }],
  go: [{ re: /\.(Start)\s*\(/g, argIndex: 1 }],
  java: [{ re: /\.(spanBuilder)\s*\(/g, argIndex: 0 }],
};

/**
 * Declarations of a constant, matched against the masked text of the line *before* a string
 * literal (group 1: the name); the rest of the line after the literal must be empty or a
 * terminator. Several assignments of one name with different values make it ambiguous.
 */
const CONSTANT_PREFIX: Record<SourceLanguage, RegExp> = {
  // NAME = "x", NAME: Final[str] = "x" (module or class level; any indentation)
  python: /^\s*([A-Za-z_]\w*)\s*(?::\s*[\w[\]., ]+)?=\s*$/,
  // const NAME = 'x', export const NAME: string = 'x', static readonly NAME = 'x'
  typescript:
    /(?:^|[\s;{])(?:const|let|var|readonly)\s+([A-Za-z_$][\w$]*)\s*(?::\s*[\w.$<>| ]+)?=\s*$/,
  javascript: /(?:^|[\s;{])(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*$/,
  // const NAME = "x", NAME = "x" (inside a const block), NAME string = "x", NAME := "x"
  go: /^\s*(?:const\s+|var\s+)?([A-Za-z_]\w*)\s*(?:string\s*)?:?=\s*$/,
  // static final String NAME = "x";  String NAME = "x";
  java: /(?:^|[\s;{(])String\s+([A-Za-z_$][\w$]*)\s*=\s*$/,
};

const CONSTANT_SUFFIX: Record<SourceLanguage, RegExp> = {
  python: /^\s*$/,
  typescript: /^\s*(?:as\s+const\s*)?[;,]?\s*$/,
  javascript: /^\s*[;,]?\s*$/,
  go: /^\s*;?\s*$/,
  java: /^\s*;\s*$/,
};

/** A constant with two different values in one file. */
const AMBIGUOUS = Symbol('ambiguous');

/** Same-file string constants: name -> value (or AMBIGUOUS). */
function findConstants(
  lexed: LexResult,
  language: SourceLanguage,
): Map<string, string | typeof AMBIGUOUS> {
  const constants = new Map<string, string | typeof AMBIGUOUS>();
  const prefixRe = CONSTANT_PREFIX[language];
  const suffixRe = CONSTANT_SUFFIX[language];
  const { masked } = lexed;
  for (const tok of lexed.strings) {
    if (tok.value === undefined) continue;
    const lineStart = masked.lastIndexOf('\n', tok.start - 1) + 1;
    const m = prefixRe.exec(masked.slice(lineStart, tok.start));
    if (m === null) continue;
    let lineStop = masked.indexOf('\n', tok.end);
    if (lineStop < 0) lineStop = masked.length;
    if (!suffixRe.test(masked.slice(tok.end, lineStop))) continue;
    const name = m[1]!;
    const prev = constants.get(name);
    constants.set(name, prev === undefined || prev === tok.value ? tok.value : AMBIGUOUS);
  }
  return constants;
}

/** Offsets of each line start, for offset -> line conversion. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineOf(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function skipSpace(masked: string, i: number): number {
  while (i < masked.length && /\s/.test(masked[i]!)) i++;
  return i;
}

/**
 * The start of positional argument `index` after the opening parenthesis at `open - 1`, or -1
 * when the call has fewer arguments. Commas nested in brackets do not count; string contents
 * are blanked in the masked text, so commas inside strings never count either.
 */
function argStart(masked: string, open: number, index: number): number {
  let i = skipSpace(masked, open);
  for (let k = 0; k < index; k++) {
    let depth = 0;
    for (; i < masked.length; i++) {
      const c = masked[i]!;
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']' || c === '}') {
        if (depth === 0) return -1;
        depth--;
      } else if (c === ',' && depth === 0) break;
    }
    if (i >= masked.length) return -1;
    i = skipSpace(masked, i + 1);
  }
  return i;
}

const IDENT = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*/;

/**
 * The span name of the argument starting at `at`: a constant string literal, or an identifier
 * (possibly qualified: the last segment is looked up) naming a same-file constant. The argument
 * must end right after it (`,` or `)`), so `"a" + b` gives nothing.
 */
function argumentName(
  masked: string,
  at: number,
  stringAt: ReadonlyMap<number, StringToken>,
  constants: ReadonlyMap<string, string | typeof AMBIGUOUS>,
): { name: string; via: SpanStartSite['via'] } | undefined {
  let name: string | undefined;
  let via: SpanStartSite['via'] = 'literal';
  let end: number;
  const tok = stringAt.get(at);
  if (tok !== undefined) {
    name = tok.value;
    end = tok.end;
  } else {
    const m = IDENT.exec(masked.slice(at, at + 200));
    if (m === null) return undefined;
    const last = m[0].slice(m[0].lastIndexOf('.') + 1);
    const value = constants.get(last);
    if (typeof value !== 'string') return undefined;
    name = value;
    via = 'constant';
    end = at + m[0].length;
  }
  const next = masked[skipSpace(masked, end)];
  if (next !== ',' && next !== ')') return undefined;
  if (name === undefined || name === '') return undefined;
  return { name, via };
}

/** What the lens provider needs from one version of a document. */
export interface DocumentScan {
  readonly sites: readonly SpanStartSite[];
  /**
   * Values of the constant string literals in the document: a service name written in the file
   * (its tracer setup) tells which of several services sharing a span name the file belongs to.
   */
  readonly literals: ReadonlySet<string>;
}

/** Scans a document: its span-start sites and its string literal values. */
export function scanDocument(text: string, language: SourceLanguage): DocumentScan {
  const lexed = lex(text, language);
  const literals = new Set<string>();
  for (const s of lexed.strings) if (s.value !== undefined) literals.add(s.value);
  return { sites: sitesOf(text, lexed, language), literals };
}

/**
 * The span-start sites of a document, in line order. Linear in the text (one lexer pass and one
 * regex pass per call pattern).
 */
export function findSpanStarts(text: string, language: SourceLanguage): SpanStartSite[] {
  return sitesOf(text, lex(text, language), language);
}

function sitesOf(text: string, lexed: LexResult, language: SourceLanguage): SpanStartSite[] {
  const { masked, stringAt } = lexed;
  const patterns = PATTERNS[language];
  // Cheap exit: most files start no span.
  const any = patterns.some((p) => {
    p.re.lastIndex = 0;
    return p.re.test(masked);
  });
  if (!any) return [];
  const constants = findConstants(lexed, language);
  const starts = lineStarts(text);
  const sites: SpanStartSite[] = [];
  for (const p of patterns) {
    p.re.lastIndex = 0;
    for (let m = p.re.exec(masked); m !== null; m = p.re.exec(masked)) {
      const open = m.index + m[0].length;
      let found: ReturnType<typeof argumentName>;
      if (p.keyword !== undefined) {
        // Python: `name=` anywhere among the arguments wins over position.
        const kw = keywordArg(masked, open, p.keyword);
        if (kw >= 0) found = argumentName(masked, kw, stringAt, constants);
      }
      if (found === undefined) {
        const at = argStart(masked, open, p.argIndex);
        if (at >= 0 && !isKeywordArg(masked, at)) {
          found = argumentName(masked, at, stringAt, constants);
        }
      }
      if (found === undefined) continue;
      const methodAt = m.index + 1;
      const line = lineOf(starts, methodAt);
      sites.push({
        line,
        column: methodAt - starts[line]!,
        name: found.name,
        via: found.via,
      });
    }
  }
  sites.sort((a, b) => a.line - b.line || a.column - b.column);
  return sites;
}

/** True when the argument at `at` is `word=` (a Python keyword argument). */
function isKeywordArg(masked: string, at: number): boolean {
  return /^[A-Za-z_]\w*\s*=(?!=)/.test(masked.slice(at, at + 100));
}

/** Start of the value of keyword argument `keyword` at the call's top level, or -1. */
function keywordArg(masked: string, open: number, keyword: string): number {
  let depth = 0;
  for (let i = open; i < masked.length; i++) {
    const c = masked[i]!;
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) return -1;
      depth--;
    } else if (depth === 0 && (i === open || c === ',')) {
      const j = skipSpace(masked, c === ',' ? i + 1 : i);
      const m = /^([A-Za-z_]\w*)\s*=(?!=)\s*/.exec(masked.slice(j, j + 100));
      if (m !== null && m[1] === keyword) return j + m[0].length;
    }
  }
  return -1;
}
