/**
 * The selected span and the tree's shape around it: selecting (which reveals the row, and drops
 * a filter that hides it), the details the side panel asks the host for, collapsing and
 * expanding (which keeps the selection visible), next/previous error or match.
 */

import { SpanFlag, type SpanDetailsResponse } from '../../../src/protocol/messages.js';
import { windowAround } from '../model/layout.js';
import { indexOfRow, nextInList, reveal } from '../model/rows.js';
import { ancestors, hasChildren, nameOf } from '../model/trace-model.js';
import type { SelectOptions } from './actions.js';
import { applyFilter, withVisible } from './filter.js';
import { DETAILS_PROMPT, withEffect, type ViewState } from './view-state.js';

export function select(s: ViewState, row: number, o: SelectOptions = {}): ViewState {
  const model = s.model;
  if (model === null || !Number.isInteger(row) || row < 0 || row >= model.rowCount) return s;
  let next: ViewState = { ...s, selected: row };
  // Selecting a span the filter hides (a link, a breadcrumb, an error): drop the filter.
  if (next.filter.mask !== null && next.filter.mask[row] !== 1) {
    next = applyFilter({ ...next, query: '' }, false);
  }
  if (indexOfRow(next.visible, row) < 0) {
    next = withVisible({ ...next, collapsed: reveal(model, Uint8Array.from(next.collapsed), row) });
  }
  if (o.scroll === true) next = withEffect(next, { type: 'scroll', to: 'row', row });
  if (o.zoom === true) {
    const start = model.payload.start[row] as number;
    const end = start + (model.payload.duration[row] as number);
    if (start < next.window.start || end > next.window.end) {
      next = { ...next, window: windowAround(start, end, model.payload.durationMs) };
    }
  }
  if (o.details === true) next = requestDetails(next, row);
  return next;
}

/** No selection; the details panel shows its prompt. */
export function deselect(s: ViewState): ViewState {
  return { ...s, selected: -1, details: { kind: 'empty', text: DETAILS_PROMPT } };
}

/** Asks the host for `row`'s details; the panel shows "Loading…" until they come. */
export function requestDetails(s: ViewState, row: number): ViewState {
  const model = s.model;
  if (model === null) return s;
  const { traceId, version } = model.payload;
  if (((model.payload.flags[row] as number) & SpanFlag.PLACEHOLDER) !== 0) {
    // Nothing to ask the host: the span behind this row has not been received.
    return { ...s, details: { kind: 'empty', text: placeholderText(nameOf(model, row)) } };
  }
  // The key names the span in this trace version: an answer for another one is not shown.
  const key = `${traceId}/${version}/${row}`;
  return withEffect(
    { ...s, details: { kind: 'loading', key, row, name: nameOf(model, row) } },
    { type: 'requestDetails', key, traceId, version, row },
  );
}

/** What the details panel says for a placeholder row named `name` (its span id and status). */
export function placeholderText(name: string): string {
  return (
    `Span ${name}: the spans below name it as their parent, but it has not arrived. ` +
    'A trace still arriving sends its children first; the span takes this row when it comes.'
  );
}

/** The host's answer to the `requestDetails` effect with `key`; dropped unless still awaited. */
export function detailsResult(s: ViewState, key: string, r: SpanDetailsResponse): ViewState {
  if (s.details.kind !== 'loading' || s.details.key !== key) return s;
  if (r.details === null || s.model === null) {
    return {
      ...s,
      details: { kind: 'empty', text: r.error ?? 'This span is no longer available.' },
    };
  }
  return {
    ...s,
    details: { kind: 'shown', details: r.details, traceStartMs: s.model.payload.startMs },
  };
}

/** Collapses (`to` 1) or expands (0) `row`, or flips it; rows without children stay as they are. */
export function toggle(s: ViewState, row: number, to?: 0 | 1): ViewState {
  if (s.model === null || row < 0 || row >= s.model.rowCount || !hasChildren(s.model, row)) {
    return s;
  }
  const collapsed = Uint8Array.from(s.collapsed);
  collapsed[row] = to ?? (collapsed[row] === 1 ? 0 : 1);
  return withVisible({ ...s, collapsed });
}

/**
 * Replaces what is collapsed. A selection that would be hidden moves to its nearest visible
 * ancestor; the selection is scrolled into view.
 */
export function setCollapsed(s: ViewState, collapsed: Uint8Array): ViewState {
  const model = s.model;
  if (model === null) return s;
  let next = withVisible({ ...s, collapsed });
  if (next.selected >= 0 && indexOfRow(next.visible, next.selected) < 0) {
    const anc = ancestors(model, next.selected);
    for (let i = anc.length - 1; i >= 0; i--) {
      if (indexOfRow(next.visible, anc[i] as number) >= 0) {
        next = select(next, anc[i] as number, { scroll: true, details: true });
        break;
      }
    }
  }
  if (next.selected >= 0)
    next = withEffect(next, { type: 'scroll', to: 'row', row: next.selected });
  return next;
}

/** Selects the next (dir 1) or previous row of `list` after the selection, wrapping around. */
export function gotoInList(s: ViewState, list: Int32Array, dir: 1 | -1): ViewState {
  const model = s.model;
  if (model === null) return s;
  const from = s.selected < 0 ? (dir === 1 ? -1 : model.rowCount) : s.selected;
  const row = nextInList(list, from, dir);
  return row >= 0 ? select(s, row, { scroll: true, details: true, zoom: true }) : s;
}

/** "Go to source" for the selected span, when its source is known. */
export function openSource(s: ViewState): ViewState {
  const model = s.model;
  if (model === null || s.selected < 0) return s;
  if (((model.payload.flags[s.selected] as number) & SpanFlag.HAS_SOURCE) === 0) return s;
  const { traceId, version } = model.payload;
  return withEffect(s, {
    type: 'post',
    command: { type: 'openSource', traceId, version, row: s.selected },
  });
}
