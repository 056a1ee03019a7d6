/**
 * Where the cheap "Trace" lens and the "Trace this function" code action are offered: function
 * headers found by a line-based heuristic, and whether each already starts a span.
 *
 * A heuristic on purpose: it runs on every lens request and cursor move, where loading the
 * parsers would cost the activation budget, so this module imports no parser and nothing of the
 * scaffolding but its types. The command it leads to parses the document for real and says so
 * when there is no function (`not-found`) or the construct cannot be traced (`unsupported`).
 */
import type { ScaffoldLanguage } from './types.js';

/** A function header found by the heuristic scan. */
export interface FunctionHeader {
  /** 0-based line of the `def`/`function`/`func`/method signature. */
  line: number;
  /** 0-based column of the function's name on that line (the command's cursor goes there). */
  column: number;
  name: string;
  /** The header or the lines right around it already start a span. */
  instrumented: boolean;
}

const KEYWORDS = new Set([
  'if',
  'for',
  'while',
  'switch',
  'catch',
  'with',
  'return',
  'new',
  'throw',
  'else',
  'case',
  'do',
  'try',
  'finally',
  'yield',
  'await',
  'typeof',
  'delete',
  'void',
  'super',
  'this',
  'synchronized',
  'function',
  'constructor',
]);

/** Words that can stand where a Java return type would, in a statement that is no method. */
const JAVA_NOT_TYPES = new Set(['return', 'new', 'throw', 'else', 'case', 'yield', 'assert']);

const JAVA_MODIFIERS =
  /^(public|protected|private|static|final|abstract|native|synchronized|default|strictfp)$/;

/** Functions the scaffolding itself writes (Java's `tracer()`, the Go/Java setup): never offered. */
const GENERATED_HELPERS = new Set(['tracer', 'setupTracing']);

/** Calls that start a span, in any of the five languages (as the scaffold writes them). */
const SPAN_START =
  /\b(start_as_current_span|start_span|startActiveSpan|startSpan|spanBuilder)\s*[(<]|\.Start\s*\(\s*(ctx|r\.Context\(\)|context\.)/;

/**
 * Function headers of a document, by a line-based heuristic (see the module comment). Finds
 * Python `def`/`async def`; TS/JS `function` declarations, arrow functions assigned to a
 * `const`/`let`/`var`, and class methods written on one line up to `{`; Go `func` declarations
 * and methods; Java methods (a return type before the name; constructors are left out, as the
 * command refuses them). A header counts as instrumented when a span start appears in the
 * decorator/annotation lines above it or within the next few lines.
 */
export function functionHeaders(text: string, language: ScaffoldLanguage): FunctionHeader[] {
  const lines = text.split(/\r?\n/);
  const out: FunctionHeader[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const m = matchHeader(line, language);
    if (m === undefined || GENERATED_HELPERS.has(m.name)) continue;
    out.push({ line: i, column: m.column, name: m.name, instrumented: isInstrumented(lines, i) });
  }
  return out;
}

function matchHeader(
  line: string,
  language: ScaffoldLanguage,
): { name: string; column: number } | undefined {
  let m: RegExpExecArray | null = null;
  let group = 1;
  switch (language) {
    case 'python':
      m = /^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*[([]/.exec(line);
      break;
    case 'typescript':
    case 'javascript': {
      m =
        /^\s*(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:async\s+)?function\s+([A-Za-z_$][\w$]*)\s*[(<]/.exec(
          line,
        );
      if (m !== null) break;
      m =
        /^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*(?:async\s+)?(?:function\b|\([^)]*\)?\s*(?::[^=]+)?=>|\(\s*$|\([^)]*$|[A-Za-z_$][\w$]*\s*=>)/.exec(
          line,
        );
      if (m !== null) break;
      // Methods: modifiers, the name, a parameter list, an optional return type, then `{`.
      m =
        /^\s*(?:(?:public|private|protected|static|override|readonly|abstract)\s+)*(?:async\s+)?\*?\s*(#?[A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\s*\([^;]*\)\s*(?::\s*[^={;]+)?\{\s*$/.exec(
          line,
        );
      if (m !== null && (/^\s*\w+\s*\(.*\)\s*\{\s*$/.test(line) || /\)\s*[:{]/.test(line))) break;
      m = null;
      break;
    }
    case 'go':
      m = /^func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)\s*[([]/.exec(line);
      break;
    case 'java': {
      m =
        /^\s*((?:[A-Za-z_][\w]*\s+)*)(?:<[^>]*>\s+)?([A-Za-z_][\w.]*(?:<[^;=(){}]*>)?(?:\[\])*)\s+([A-Za-z_]\w*)\s*\(/.exec(
          line,
        );
      if (m === null) break;
      const type = m[2] ?? '';
      const mods = (m[1] ?? '').trim().split(/\s+/).filter(Boolean);
      if (
        JAVA_MODIFIERS.test(type) ||
        JAVA_NOT_TYPES.has(type) ||
        mods.some((w) => !JAVA_MODIFIERS.test(w)) ||
        /=/.test(line.slice(0, m.index + m[0].length)) ||
        /;\s*$/.test(line)
      ) {
        m = null;
        break;
      }
      group = 3;
      break;
    }
  }
  if (m === null) return undefined;
  const name = m[group];
  if (name === undefined || KEYWORDS.has(name)) return undefined;
  const column = m.index + m[0].lastIndexOf(name);
  return { name, column };
}

function indentOf(line: string): number {
  return (/^\s*/.exec(line)?.[0] ?? '').replace(/\t/g, '    ').length;
}

function isInstrumented(lines: readonly string[], header: number): boolean {
  // Decorators / annotations directly above.
  for (let j = header - 1; j >= 0; j--) {
    const above = (lines[j] ?? '').trim();
    if (!above.startsWith('@')) break;
    if (SPAN_START.test(above)) return true;
  }
  // The header and the first lines of its body (a wrapper puts the span first), up to the line
  // that leaves the function: back at the header's indentation, except a signature's closing
  // `)` or an own-line `{`.
  const indent = indentOf(lines[header] ?? '');
  for (let j = header; j < Math.min(lines.length, header + 6); j++) {
    const l = lines[j] ?? '';
    if (j > header && l.trim() !== '' && indentOf(l) <= indent && !/^\s*[){]/.test(l)) break;
    if (SPAN_START.test(l)) return true;
  }
  return false;
}

/**
 * Whether the lightbulb offers "Trace this function" on its own at this line: only on a
 * function header that is not instrumented yet. (Asked for explicitly, with Ctrl+. or the
 * Refactor menu, it is offered anywhere in a supported file.)
 */
export function offersTraceAt(text: string, language: ScaffoldLanguage, line: number): boolean {
  const l = text.split(/\r?\n/, line + 1)[line];
  if (l === undefined) return false;
  const m = matchHeader(l, language);
  if (m === undefined || GENERATED_HELPERS.has(m.name)) return false;
  return !isInstrumented(text.split(/\r?\n/, line + 7), line);
}
