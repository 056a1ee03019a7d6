/**
 * The search box over the shown trace: the query's matches (with the host's answer for
 * attribute terms), the filter mask that keeps matches with their ancestors, and the visible
 * rows that follow from them and from what is collapsed. Recomputed only when one of those
 * inputs changes: each recomputation is a pass over every row.
 */

import { attributeTerms, isEmptyQuery, matchQuery, parseQuery } from '../model/query.js';
import { rowsOf, visibleRows, withAncestors } from '../model/rows.js';
import {
  NO_FILTER,
  withEffect,
  type FilterMode,
  type FilterResult,
  type ViewState,
} from './view-state.js';
import { formatCount } from '../../../src/shared/format.js';

/** `s` with `visible` recomputed from its model, collapsed rows and filter. */
export function withVisible(s: ViewState): ViewState {
  if (s.model === null) return s;
  return { ...s, visible: visibleRows(s.model, s.collapsed, s.filter.mask) };
}

/**
 * Recomputes the filter and the visible rows for the current query. Attribute terms are
 * evaluated by the host: a query, trace or version it has not answered for yet asks it
 * (`searchAttributes`) and matches nothing until it answers. `scrollToSelection` brings the
 * selection back into view (the rows around it may have come or gone).
 */
export function applyFilter(s: ViewState, scrollToSelection: boolean): ViewState {
  const model = s.model;
  if (model === null) return s;
  const parsed = parseQuery(s.query);
  let next = s;
  let filter: FilterResult;
  if (isEmptyQuery(parsed)) {
    filter = { ...NO_FILTER, errors: parsed.errors };
  } else {
    const attrs = attributeTerms(parsed);
    let attributeRows: readonly number[] | undefined;
    let searching = false;
    if (attrs.length > 0) {
      const { traceId, version } = model.payload;
      const key = `${traceId}/${version}/${JSON.stringify(attrs)}`;
      if (next.attributeSearch?.key !== key) {
        next = withEffect(
          { ...next, attributeSearch: { key, rows: undefined } },
          { type: 'searchAttributes', key, traceId, version, terms: attrs },
        );
      }
      attributeRows = next.attributeSearch?.rows;
      searching = attributeRows === undefined;
    }
    const { mask, count } = matchQuery(
      model,
      parsed,
      attributeRows ?? (searching ? [] : undefined),
    );
    filter = {
      mask: s.filterMode === 'filter' ? withAncestors(model, mask) : null,
      matches: mask,
      matchRows: rowsOf(mask),
      count,
      errors: parsed.errors,
      active: true,
      searching,
    };
  }
  next = withVisible({ ...next, filter });
  if (scrollToSelection && next.selected >= 0) {
    next = withEffect(next, { type: 'scroll', to: 'row', row: next.selected });
  }
  return next;
}

export function setQuery(s: ViewState, query: string): ViewState {
  return applyFilter({ ...s, query }, true);
}

export function setFilterMode(s: ViewState, mode: FilterMode): ViewState {
  return applyFilter({ ...s, filterMode: mode }, true);
}

/** The host's answer for attribute terms: used when it answers the current question only. */
export function attributeSearchResult(
  s: ViewState,
  key: string,
  rows: readonly number[] | null,
): ViewState {
  if (s.attributeSearch?.key !== key) return s;
  return applyFilter({ ...s, attributeSearch: { key, rows: rows ?? [] } }, false);
}

/** The match counter beside the search box ('' hides it). */
export function matchBadgeText(f: FilterResult): string {
  const unread = f.errors.length > 0 ? `? ${f.errors.join(' ')}` : '';
  if (!f.active) return unread;
  if (f.searching) return 'searching attributes…';
  return `${formatCount(f.count, 'match', 'matches')}${unread !== '' ? ` · ${unread}` : ''}`;
}
