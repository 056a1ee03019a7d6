/**
 * The editor-side decisions of the scaffolding commands, kept free of `vscode` and of the
 * scaffold core so that they are unit-tested in plain Node and cost nothing at activation:
 * which message a result shows, which OTLP protocol and endpoint the setup gets, where the
 * project root of a file is, and where the cheap "Trace" lens and code action are offered.
 *
 * The function-header scan here is a heuristic on purpose: it runs on every lens request and
 * cursor move, where loading the parsers would cost the activation budget. The command it leads
 * to parses the document for real and says so when there is no function (`not-found`) or the
 * construct cannot be traced (`unsupported`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { OtlpProtocol, ScaffoldLanguage, ScaffoldResult } from '../core/scaffold/types.js';

/** VS Code language ids the scaffolding commands accept (the `when` clauses list the same). */
export const SCAFFOLD_LANGUAGE_IDS: readonly string[] = [
  'python',
  'typescript',
  'typescriptreact',
  'javascript',
  'javascriptreact',
  'go',
  'java',
];

/** Same mapping as the core's `scaffoldLanguage`, without loading the core. */
export function scaffoldLanguageOf(languageId: string): ScaffoldLanguage | undefined {
  switch (languageId) {
    case 'python':
      return 'python';
    case 'typescript':
    case 'typescriptreact':
      return 'typescript';
    case 'javascript':
    case 'javascriptreact':
      return 'javascript';
    case 'go':
      return 'go';
    case 'java':
      return 'java';
    default:
      return undefined;
  }
}

/** A message for the user: the editor shows `info` as information, the rest as warnings. */
export interface Notice {
  severity: 'info' | 'warning';
  text: string;
}

/**
 * What the user is told about a result. `edited`: the core's messages (info/warning), none when
 * it had nothing to add. Otherwise exactly one notice: the core's first message (every
 * non-edited result carries one), or a fallback. `already-instrumented` is information (the
 * command did its job before); `unsupported` and `not-found` are warnings.
 */
export function resultNotices(result: Pick<ScaffoldResult, 'status' | 'messages'>): Notice[] {
  const prefix = (t: string): string => (t.startsWith('Stagelight') ? t : `Stagelight: ${t}`);
  if (result.status === 'edited') {
    return result.messages.map((m) => ({
      severity: m.severity === 'info' ? 'info' : 'warning',
      text: prefix(m.text),
    }));
  }
  const severity = result.status === 'already-instrumented' ? 'info' : 'warning';
  const first = result.messages.find((m) => m.severity === 'error') ?? result.messages[0];
  const text = first?.text ?? FALLBACK[result.status];
  return [{ severity, text: prefix(text) }];
}

const FALLBACK: Record<Exclude<ScaffoldResult['status'], 'edited'>, string> = {
  'already-instrumented': 'this code is already instrumented; nothing changed.',
  unsupported: 'this construct cannot be instrumented; nothing changed.',
  'not-found': 'nothing to instrument at the cursor; nothing changed.',
};

/** `stagelight.scaffold.protocol`: a fixed transport, or the language's usual one. */
export type ProtocolSetting = 'auto' | OtlpProtocol;

/**
 * The transport a generated setup uses. `auto` follows what each SDK's own documentation leads
 * with: gRPC for Python, Go and Java; OTLP/HTTP for TS/JS, whose HTTP exporter needs no
 * gRPC stack in the user's program.
 */
export function protocolFor(language: ScaffoldLanguage, setting: ProtocolSetting): OtlpProtocol {
  if (setting !== 'auto') return setting;
  return language === 'typescript' || language === 'javascript' ? 'http' : 'grpc';
}

/** The receiver's base URLs, as `RunningServer.endpoints` reports them. */
export interface ReceiverBaseUrls {
  /** `http://127.0.0.1:4317` */
  grpc: string;
  /** `http://127.0.0.1:4318` (no `/v1/traces`: the core adds the path where an exporter wants it). */
  http: string;
}

/**
 * The endpoint written into a setup. The running receiver's actual URLs win (a taken port moves
 * the listener); without one, the configured ports on 127.0.0.1, where `0` (any free port) falls
 * back to the OTLP default, since a random port cannot be written into code.
 */
export function endpointFor(
  protocol: OtlpProtocol,
  running: ReceiverBaseUrls | undefined,
  configured: { grpcPort: number; httpPort: number },
): string {
  if (running !== undefined) return protocol === 'grpc' ? running.grpc : running.http;
  const port = protocol === 'grpc' ? configured.grpcPort || 4317 : configured.httpPort || 4318;
  return `http://127.0.0.1:${port}`;
}

/** Files that mark a project root, per language (lockfiles alone count too). */
export function isProjectMarker(language: ScaffoldLanguage, fileName: string): boolean {
  switch (language) {
    case 'python':
      return (
        /^(pyproject\.toml|poetry\.lock|uv\.lock|pdm\.lock|Pipfile|setup\.py|setup\.cfg)$/.test(
          fileName,
        ) || /^requirements.*\.txt$/.test(fileName)
      );
    case 'typescript':
    case 'javascript':
      return fileName === 'package.json';
    case 'go':
      return fileName === 'go.mod';
    case 'java':
      return /^(pom\.xml|(build|settings)\.gradle(\.kts)?)$/.test(fileName);
  }
}

/**
 * The project root of a file: the nearest folder, from the file's own up to `stopDir` (the
 * workspace folder, inclusive), that holds a marker for the language. None found: `stopDir`,
 * or the file's folder when the file is outside any workspace folder.
 */
export function findProjectRoot(
  language: ScaffoldLanguage,
  filePath: string,
  stopDir: string | undefined,
  listDir: (dir: string) => readonly string[] = safeReadDir,
): string {
  const start = path.dirname(filePath);
  const stop = stopDir === undefined ? undefined : path.resolve(stopDir);
  const inside =
    stop !== undefined &&
    (start === stop || start.startsWith(stop.endsWith(path.sep) ? stop : stop + path.sep));
  let dir = start;
  while (true) {
    if (listDir(dir).some((f) => isProjectMarker(language, f))) return dir;
    if (!inside || dir === stop) break;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return inside && stop !== undefined ? stop : start;
}

/** File names of a folder, or none when it cannot be read. */
export function safeReadDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * A default `service.name`: the project's name, else the root folder's name, else the file's
 * base name; trimmed to the characters service names use in practice.
 */
export function defaultServiceName(
  projectName: string | undefined,
  rootDir: string | undefined,
  fileName: string,
): string {
  for (const candidate of [
    projectName,
    rootDir === undefined ? undefined : path.basename(rootDir),
    path.basename(fileName).replace(/\.[^.]*$/, ''),
  ]) {
    const clean = (candidate ?? '')
      .trim()
      .replace(/[^\w.\-/]+/g, '-')
      .replace(/^-+|-+$/g, '');
    if (clean !== '') return clean;
  }
  return 'service';
}

/** Why a `service.name` typed in the input box is refused; undefined when it is fine. */
export function validateServiceName(value: string): string | undefined {
  const v = value.trim();
  if (v === '') return 'service.name cannot be empty.';
  if (/["'\\\n\r`$]/.test(v)) return 'Leave out quotes, backslashes, `$` and line breaks.';
  return undefined;
}

/** Why a span name typed in the input box is refused; undefined when it is fine. */
export function validateSpanName(value: string): string | undefined {
  const v = value.trim();
  if (v === '') return 'The span name cannot be empty.';
  if (/["'\\\n\r`$]/.test(v)) return 'Leave out quotes, backslashes, `$` and line breaks.';
  return undefined;
}

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

/** A text edit in original-document UTF-16 offsets (the core's `TextEdit`). */
export interface OffsetEdit {
  start: number;
  end: number;
  newText: string;
}

/** Escapes text for a snippet string, so that `$`, `}` and `\` are inserted literally. */
export function escapeSnippetText(text: string): string {
  return text.replace(/[$}\\]/g, '\\$&');
}

/**
 * Splits a `Propagate Context` result into plain edits plus one snippet insertion, so the
 * editor can apply both as one WorkspaceEdit (one undo step) with the snippet's tab stops.
 *
 * The core inserts the expanded snippet at `lineStartOffset` (the cursor's line start) and
 * reports where it begins in the *edited* text (`snippetOffset`). Inserts at one offset are
 * merged by the core, so an import inserted at the same place shares that edit: its text stays
 * in front of the snippet, escaped. Undefined when the insertion cannot be located (the caller
 * then applies the plain edits, without tab stops).
 */
export function snippetInsertion(
  edits: readonly OffsetEdit[],
  lineStartOffset: number,
  snippetOffset: number,
  snippetText: string,
): { edits: OffsetEdit[]; snippet: { offset: number; text: string } } | undefined {
  let index = -1;
  edits.forEach((e, i) => {
    if (e.start === lineStartOffset && e.end === e.start) index = i;
  });
  const target = edits[index];
  if (target === undefined) return undefined;
  let before = 0;
  for (let i = 0; i < index; i++) {
    const e = edits[i];
    if (e !== undefined && e.end <= lineStartOffset) before += e.newText.length - (e.end - e.start);
  }
  const local = snippetOffset - lineStartOffset - before;
  if (local < 0 || local > target.newText.length) return undefined;
  const prefix = target.newText.slice(0, local);
  return {
    edits: edits.filter((_, i) => i !== index),
    snippet: { offset: lineStartOffset, text: escapeSnippetText(prefix) + snippetText },
  };
}
