/**
 * The Traces view's filter and sort orders over trace summaries, as typed by the user: words
 * matched against root name, services and trace id (all must match), `error` for traces with
 * errors, `>500ms` / `>1.5s` for a minimum duration. Pure, so it is tested without the editor.
 * (The read API's `/api/traces` query is a different, URL-shaped filter: `read-api.ts`.)
 */
import type { TraceSummary } from '../store/trace-store.js';

/** A parsed filter; `text` is what the user typed, trimmed. */
export interface TraceListFilter {
  readonly text: string;
  readonly words: readonly string[];
  readonly errorsOnly: boolean;
  readonly minDurationMs: number;
}

export type TraceListSort = 'recent' | 'duration' | 'spans' | 'errors';

export function parseTraceListFilter(text: string): TraceListFilter {
  const words: string[] = [];
  let errorsOnly = false;
  let minDurationMs = 0;
  for (const w of text.trim().toLowerCase().split(/\s+/)) {
    if (w === '') continue;
    if (w === 'error' || w === 'errors' || w === 'is:error') {
      errorsOnly = true;
      continue;
    }
    const m = /^>=?(\d+(?:\.\d+)?)(ms|s)?$/.exec(w);
    if (m !== null) {
      minDurationMs = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
      continue;
    }
    words.push(w);
  }
  return { text: text.trim(), words, errorsOnly, minDurationMs };
}

export function matchesTraceListFilter(t: TraceSummary, f: TraceListFilter): boolean {
  if (f.errorsOnly && !t.hasError) return false;
  if (t.durationMs < f.minDurationMs) return false;
  if (f.words.length === 0) return true;
  const hay = `${t.rootName} ${t.services.join(' ')} ${t.traceId}`.toLowerCase();
  return f.words.every((w) => hay.includes(w));
}

/** Sorts `list` in place and returns it. */
export function sortTraceList(list: TraceSummary[], sort: TraceListSort): TraceSummary[] {
  switch (sort) {
    case 'duration':
      return list.sort((a, b) => b.durationMs - a.durationMs);
    case 'spans':
      return list.sort((a, b) => b.spanCount - a.spanCount);
    case 'errors':
      return list.sort((a, b) => Number(b.hasError) - Number(a.hasError) || b.startMs - a.startMs);
    default:
      return list.sort((a, b) => b.startMs - a.startMs);
  }
}

/**
 * The slowest of `list` (the walkthrough's "open the slowest request"): complete traces first,
 * since a trace whose root has not arrived is still growing; undefined for an empty list.
 */
export function slowestTrace(list: readonly TraceSummary[]): TraceSummary | undefined {
  let best: TraceSummary | undefined;
  for (const t of list) {
    if (
      best === undefined ||
      (t.hasRoot && !best.hasRoot) ||
      (t.hasRoot === best.hasRoot && t.durationMs > best.durationMs)
    ) {
      best = t;
    }
  }
  return best;
}
