/**
 * A `Propagate Context` result as the editor applies it: plain edits plus one snippet insertion
 * with tab stops, in one WorkspaceEdit (one undo step).
 */
import type { TextEdit } from './types.js';

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
  edits: readonly TextEdit[],
  lineStartOffset: number,
  snippetOffset: number,
  snippetText: string,
): { edits: TextEdit[]; snippet: { offset: number; text: string } } | undefined {
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
