/** Line, indentation and edit helpers shared by the language scaffolders. */
import type {
  OffsetRange,
  ScaffoldMessage,
  ScaffoldResult,
  TextEdit,
  TextPosition,
} from './types.js';

/** Offset of the start of the line holding `offset`. */
export function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset of the end of the line holding `offset` (the `\n`, or the text's end). */
export function lineEnd(text: string, offset: number): number {
  const i = text.indexOf('\n', offset);
  return i < 0 ? text.length : i;
}

/** The whitespace that starts the line holding `offset`. */
export function indentAt(text: string, offset: number): string {
  const s = lineStart(text, offset);
  let e = s;
  while (e < text.length && (text[e] === ' ' || text[e] === '\t')) e++;
  return text.slice(s, e);
}

/**
 * The indentation unit the file already uses (the smallest non-zero indent, or a tab), so
 * inserted code matches the surrounding code; `fallback` when the file has no indented line.
 */
export function detectIndentUnit(text: string, fallback: string): string {
  let smallest = Infinity;
  for (const m of text.matchAll(/^([ \t]+)\S/gm)) {
    const ws = m[1] ?? '';
    if (ws.startsWith('\t')) return '\t';
    if (ws.length < smallest) smallest = ws.length;
  }
  return Number.isFinite(smallest) && smallest >= 2 ? ' '.repeat(smallest) : fallback;
}

/**
 * Indents every line that starts in [from, to) by `unit`, except blank lines (no trailing
 * whitespace is created) and lines that start inside one of `protectedRanges` (the continuation
 * lines of multi-line strings, whose value would change). Returns the edits, one per line.
 */
export function indentLines(
  text: string,
  from: number,
  to: number,
  unit: string,
  protectedRanges: readonly OffsetRange[],
): TextEdit[] {
  const edits: TextEdit[] = [];
  let pos = lineStart(text, from);
  while (pos < to) {
    const end = lineEnd(text, pos);
    const line = text.slice(pos, end);
    const blank = line.trim() === '';
    const inside = protectedRanges.some((r) => r.start < pos && pos < r.end);
    if (!blank && !inside) edits.push({ start: pos, end: pos, newText: unit });
    pos = end + 1;
  }
  return edits;
}

/** Applies edits (non-overlapping, any order) to the text. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}

/**
 * Sorts edits and merges inserts at the same offset (in the order given), so the editor's
 * WorkspaceEdit never has to order two inserts at one position. Throws on overlap: that is a bug
 * in a scaffolder, never a user error.
 */
export function normalizeEdits(edits: readonly TextEdit[]): TextEdit[] {
  const indexed = edits.map((e, i) => ({ e, i }));
  indexed.sort((a, b) => a.e.start - b.e.start || a.e.end - b.e.end || a.i - b.i);
  const out: TextEdit[] = [];
  for (const { e } of indexed) {
    const last = out[out.length - 1];
    if (last && last.start === e.start && last.end === last.start && e.end === e.start) {
      last.newText += e.newText;
    } else if (last && e.start < last.end) {
      throw new Error(`overlapping scaffold edits at ${e.start}`);
    } else {
      out.push({ ...e });
    }
  }
  return out;
}

/** Zero-based line and UTF-16 column of an offset. */
/**
 * How far `spanEdit`'s start moves once all `edits` are applied: the net length change of the
 * other edits at or before it. Gives the offset of the new span line in the edited text.
 */
export function spanShift(edits: readonly TextEdit[], spanEdit: TextEdit): number {
  let shift = 0;
  for (const e of edits)
    if (e !== spanEdit && e.start <= spanEdit.start) shift += e.newText.length - (e.end - e.start);
  return shift;
}

export function positionAt(text: string, offset: number): TextPosition {
  let line = 0;
  let last = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    last = i + 1;
  }
  return { line, character: offset - last };
}

/** Offset of a zero-based line and UTF-16 column (clamped to the text). */
export function offsetAt(text: string, pos: TextPosition): number {
  let off = 0;
  for (let l = 0; l < pos.line; l++) {
    const i = text.indexOf('\n', off);
    if (i < 0) return text.length;
    off = i + 1;
  }
  return Math.min(off + pos.character, lineEnd(text, off));
}

/** A name not used as an identifier in `scope`: `base`, else `base2`, `base3`, ... */
export function freshName(base: string, scope: string): string {
  const used = (n: string) => new RegExp(`(^|[^\\w$])${n}($|[^\\w$])`).test(scope);
  if (!used(base)) return base;
  for (let i = 2; ; i++) if (!used(`${base}${i}`)) return `${base}${i}`;
}

/** Quotes a span name or attribute key as a double-quoted string literal (JSON rules). */
export function quoted(s: string): string {
  return JSON.stringify(s);
}

/** Quotes with single quotes (the TS/JS style of this project's generated code). */
export function singleQuoted(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

export function edited(edits: TextEdit[], messages: ScaffoldMessage[] = []): ScaffoldResult {
  return { status: 'edited', edits: normalizeEdits(edits), messages };
}

export function refuse(
  status: 'already-instrumented' | 'unsupported' | 'not-found',
  text: string,
): ScaffoldResult {
  return {
    status,
    edits: [],
    messages: [{ severity: status === 'already-instrumented' ? 'info' : 'error', text }],
  };
}
