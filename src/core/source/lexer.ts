/**
 * A minimal lexer per language: finds comments and string literals, nothing more. The span-start
 * finder matches its patterns against a *masked* copy of the text (comments blanked, string
 * contents blanked, delimiters kept), so a call written in a comment or a docstring is never
 * taken for code, and reads literal values from the string table.
 *
 * Invariant: the masked text has exactly the length and the line breaks of the input, so an
 * offset in one is the same position in the other.
 */

/** Languages whose span-start calls are recognised. */
export type SourceLanguage = 'python' | 'typescript' | 'javascript' | 'go' | 'java';

const BY_LANGUAGE_ID: Record<string, SourceLanguage> = {
  python: 'python',
  typescript: 'typescript',
  typescriptreact: 'typescript',
  javascript: 'javascript',
  javascriptreact: 'javascript',
  go: 'go',
  java: 'java',
};

const BY_EXTENSION: Record<string, SourceLanguage> = {
  py: 'python',
  pyi: 'python',
  ts: 'typescript',
  tsx: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  js: 'javascript',
  jsx: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  go: 'go',
  java: 'java',
};

/** The language of a VS Code language id, else of the file name's extension. */
export function languageOf(languageId: string, fileName = ''): SourceLanguage | undefined {
  const byId = BY_LANGUAGE_ID[languageId];
  if (byId !== undefined) return byId;
  const dot = fileName.lastIndexOf('.');
  return dot < 0 ? undefined : BY_EXTENSION[fileName.slice(dot + 1).toLowerCase()];
}

/** A string literal: [start, end) covers the delimiters (and any Python prefix). */
export interface StringToken {
  readonly start: number;
  readonly end: number;
  /** The literal's value; undefined when it is not a constant (f-string, template with `${}`). */
  readonly value: string | undefined;
}

export interface LexResult {
  /** The text with comments and string contents replaced by spaces (line breaks kept). */
  readonly masked: string;
  /** String literals in text order. */
  readonly strings: readonly StringToken[];
  /** String literal by its start offset (the first character: prefix or quote). */
  readonly stringAt: ReadonlyMap<number, StringToken>;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
  b: '\b',
  f: '\f',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '`': '`',
};

/** Characters after which a `/` in JS/TS starts a regular expression rather than a division. */
const REGEX_PRECEDERS = new Set('(,=:[!&|?{};+-*%<>~^'.split(''));

/**
 * Lexes `text` as `language`. Linear in the text; unterminated strings and comments end at the
 * end of the line (strings) or of the text (block comments), so broken code while typing costs
 * nothing more than a missed lens.
 */
export function lex(text: string, language: SourceLanguage): LexResult {
  const n = text.length;
  const out: string[] = [];
  const strings: StringToken[] = [];
  const stringAt = new Map<number, StringToken>();
  let copied = 0;
  const blank = (from: number, to: number): void => {
    // Keep the untouched run, then the blanked one with its line breaks.
    if (from > copied) out.push(text.slice(copied, from));
    out.push(text.slice(from, to).replace(/[^\n\r]/g, ' '));
    copied = to;
  };
  const addString = (
    start: number,
    contentStart: number,
    contentEnd: number,
    end: number,
    value: string | undefined,
  ) => {
    blank(contentStart, contentEnd);
    const tok: StringToken = { start, end, value };
    strings.push(tok);
    stringAt.set(start, tok);
  };

  const cStyle = language !== 'python';
  let i = 0;
  let lastSignificant = '';
  while (i < n) {
    const c = text[i]!;
    // Comments.
    if (language === 'python' && c === '#') {
      const eol = lineEnd(text, i);
      blank(i, eol);
      i = eol;
      continue;
    }
    if (cStyle && c === '/' && text[i + 1] === '/') {
      const eol = lineEnd(text, i);
      blank(i, eol);
      i = eol;
      continue;
    }
    if (cStyle && c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      const end = close < 0 ? n : close + 2;
      blank(i, end);
      i = end;
      continue;
    }
    // JS/TS regular expression literals: skipped (blanked) so that quotes inside them are not
    // taken for strings.
    if (
      (language === 'typescript' || language === 'javascript') &&
      c === '/' &&
      (lastSignificant === '' || REGEX_PRECEDERS.has(lastSignificant))
    ) {
      const end = regexEnd(text, i);
      if (end > 0) {
        blank(i + 1, end - 1);
        i = end;
        lastSignificant = '/';
        continue;
      }
    }
    // Strings.
    if (language === 'python') {
      const p = pythonString(text, i);
      if (p !== undefined) {
        addString(i, p.contentStart, p.contentEnd, p.end, p.value);
        i = p.end;
        lastSignificant = '"';
        continue;
      }
    } else if (c === '"' || c === "'" || c === '`') {
      const s = cString(text, i, language);
      addString(i, i + 1, s.contentEnd, s.end, s.value);
      i = s.end;
      lastSignificant = '"';
      continue;
    }
    if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') lastSignificant = c;
    // Identifiers are skipped whole, so that `r` in `for` is not taken for a string prefix, and
    // a `/` after an identifier or keyword is a division.
    if (isIdentChar(c)) {
      let j = i + 1;
      while (j < n && isIdentChar(text[j]!)) j++;
      // `return /x/` is a regex; any other word before `/` is an operand.
      lastSignificant = text.slice(i, j) === 'return' ? '(' : 'a';
      i = j;
      continue;
    }
    i++;
  }
  if (copied < n) out.push(text.slice(copied));
  return { masked: out.join(''), strings, stringAt };
}

function isIdentChar(c: string): boolean {
  return (
    (c >= 'a' && c <= 'z') ||
    (c >= 'A' && c <= 'Z') ||
    (c >= '0' && c <= '9') ||
    c === '_' ||
    c === '$'
  );
}

function lineEnd(text: string, from: number): number {
  const nl = text.indexOf('\n', from);
  return nl < 0 ? text.length : nl;
}

/** End (exclusive) of a regex literal starting at `start`, or -1 if it is not one on this line. */
function regexEnd(text: string, start: number): number {
  let inClass = false;
  for (let j = start + 1; j < text.length; j++) {
    const c = text[j]!;
    if (c === '\n' || c === '\r') return -1;
    if (c === '\\') {
      j++;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) {
      let k = j + 1;
      while (k < text.length && /[a-z]/i.test(text[k]!)) k++;
      return k;
    }
  }
  return -1;
}

interface Scanned {
  contentEnd: number;
  end: number;
  value: string | undefined;
}

/** A string in a C-family language (or a JS template, or a Go raw string) starting at `start`. */
function cString(text: string, start: number, language: SourceLanguage): Scanned {
  const q = text[start]!;
  const n = text.length;
  // Java text blocks: """ ... """.
  if (language === 'java' && text.startsWith('"""', start)) {
    const close = text.indexOf('"""', start + 3);
    const end = close < 0 ? n : close + 3;
    return { contentEnd: close < 0 ? n : close, end, value: undefined };
  }
  const raw = q === '`' && language === 'go';
  const template = q === '`' && (language === 'typescript' || language === 'javascript');
  const multiline = q === '`';
  let value = '';
  let constant = true;
  let j = start + 1;
  while (j < n) {
    const c = text[j]!;
    if (c === q) return { contentEnd: j, end: j + 1, value: constant ? value : undefined };
    if (!multiline && (c === '\n' || c === '\r')) break;
    if (c === '\\' && !raw) {
      const e = text[j + 1];
      if (e === undefined) break;
      const simple = SIMPLE_ESCAPES[e];
      if (simple !== undefined) value += simple;
      else constant = false; // \x, \u, line continuations: not worth decoding for span names
      j += 2;
      continue;
    }
    if (template && c === '$' && text[j + 1] === '{') {
      // An interpolation: not a constant. Skip to its closing brace (nested braces counted;
      // strings inside interpolations are rare enough in span names to ignore).
      constant = false;
      let depth = 0;
      j += 1;
      for (; j < n; j++) {
        if (text[j] === '{') depth++;
        else if (text[j] === '}' && --depth === 0) break;
      }
      j++;
      continue;
    }
    value += c;
    j++;
  }
  // Unterminated: ends at the line end (or the text end for multi-line kinds).
  return { contentEnd: j, end: j, value: undefined };
}

interface PythonScanned extends Scanned {
  contentStart: number;
}

/** A Python string (with an optional prefix) starting at `start`, or undefined if none does. */
function pythonString(text: string, start: number): PythonScanned | undefined {
  let j = start;
  // Prefixes: r, u, b, f and their two-letter combinations, any case. A prefix letter must not
  // continue an identifier (the lexer skips identifiers whole, so `start` is a word start).
  while (j < start + 2 && /[rRuUbBfF]/.test(text[j] ?? '')) j++;
  const q = text[j];
  if (q !== '"' && q !== "'") return undefined;
  const prefix = text.slice(start, j).toLowerCase();
  const rawStr = prefix.includes('r');
  const formatted = prefix.includes('f');
  const bytes = prefix.includes('b');
  const triple = text.startsWith(q.repeat(3), j);
  const open = triple ? 3 : 1;
  const contentStart = j + open;
  const n = text.length;
  let value = '';
  let constant = !formatted && !bytes;
  let k = contentStart;
  while (k < n) {
    const c = text[k]!;
    if (triple ? text.startsWith(q.repeat(3), k) : c === q) {
      return { contentStart, contentEnd: k, end: k + open, value: constant ? value : undefined };
    }
    if (!triple && (c === '\n' || c === '\r')) break;
    if (c === '\\') {
      const e = text[k + 1];
      if (e === undefined) break;
      if (rawStr) value += c + e;
      else {
        const simple = SIMPLE_ESCAPES[e];
        if (simple !== undefined) value += simple;
        else constant = false;
      }
      k += 2;
      continue;
    }
    value += c;
    k++;
  }
  return { contentStart, contentEnd: k, end: k, value: undefined };
}
