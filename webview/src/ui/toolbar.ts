/**
 * The toolbar: search with its mode, match count and why a term cannot be read, next/previous
 * error, expand and collapse,
 * zoom, the critical-path and follow toggles, and the recent-traces picker. It emits actions
 * and shows the state; it keeps no state of its own beyond what it last showed.
 */

import { formatDuration } from '../model/layout.js';
import { queryErrorMessage } from '../model/query.js';
import type { Action } from '../state/actions.js';
import { matchBadgeText } from '../state/filter.js';
import type { ViewState } from '../state/view-state.js';
import { badge, button, checkbox, dropdown, icon, textField } from './components.js';
import { el } from './dom.js';
import { formatCount } from '../../../src/shared/format.js';

export interface Toolbar {
  readonly el: HTMLElement;
  render(s: ViewState): void;
  focusSearch(): void;
}

/** Traces listed in the picker. */
const PICKER_TRACES = 200;

export function createToolbar(emit: (a: Action) => void): Toolbar {
  const search = textField({
    placeholder: 'Filter: name, service:x, dur>100ms, share>10%, is:error',
    title:
      'Search spans (Ctrl+F). Terms: text, name:, service:, dur>, self>, share>, is:error, is:critical, has:source, is:haslog, log:, level:, kind:',
    icon: 'search',
    onInput: (v) => emit({ type: 'setQuery', query: v }),
    onKey: (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        emit({ type: 'gotoMatch', dir: e.shiftKey ? -1 : 1 });
      } else if (e.key === 'Escape') {
        e.preventDefault();
        emit({ type: 'setQuery', query: '' });
        emit({ type: 'focus', target: 'tree' });
      } else if (e.key === 'ArrowDown') {
        e.preventDefault();
        emit({ type: 'focus', target: 'tree' });
      }
      // Keys typed in the field are text, not waterfall bindings.
      e.stopPropagation();
    },
  });
  search.el.classList.add('search');
  const modeList = dropdown({
    title: 'Filter hides non-matching spans; highlight marks matches and keeps every span',
    options: [
      { value: 'filter', label: 'Filter' },
      { value: 'highlight', label: 'Highlight' },
    ],
    onChange: (v) =>
      emit({ type: 'setFilterMode', mode: v === 'highlight' ? 'highlight' : 'filter' }),
  });
  const matchBadge = badge('', 'Matching spans');
  matchBadge.classList.add('match-count');
  // Beside the box, one line: why a term matches nothing ("dur>1x: not a duration (try …)").
  // A live region, so a screen reader hears it as the user types.
  const queryError = el('span', 'query-error');
  queryError.setAttribute('role', 'status');
  const errorBadge = badge('0', 'Error spans');
  errorBadge.classList.add('error-count');
  const depthList = dropdown({
    title: 'Expand to depth',
    options: [{ value: '', label: 'Depth…' }],
    onChange: (v) => {
      if (v !== '') emit({ type: 'expandToDepth', depth: Number(v) });
    },
  });
  const traceList = dropdown({
    title: 'Recent traces',
    options: [{ value: '', label: 'No traces yet' }],
    onChange: (v) => emit({ type: 'openTrace', traceId: v }),
  });
  traceList.el.classList.add('trace-list');
  const followBox = checkbox({
    label: 'Follow latest',
    title: 'Show new traces as they arrive (F). Paused while a span is selected.',
    checked: true,
    onChange: (c) => emit({ type: 'setFollow', follow: c }),
  });
  const criticalBox = checkbox({
    label: 'Critical path',
    title: 'Highlight the critical path',
    checked: true,
    onChange: (c) => emit({ type: 'showCritical', show: c }),
  });

  const group = (...children: HTMLElement[]): HTMLElement =>
    el('div', 'toolbar-group', ...children);
  const iconButton = (name: string, title: string, action: Action): HTMLElement =>
    button({ icon: name, title, onClick: () => emit(action) }).el;
  const root = el(
    'header',
    'toolbar',
    group(search.el, modeList.el, matchBadge, queryError),
    group(
      iconButton('arrow-up', 'Previous error (Shift+E)', { type: 'gotoError', dir: -1 }),
      iconButton('arrow-down', 'Next error (E)', { type: 'gotoError', dir: 1 }),
      el('span', 'error-label', icon('error'), errorBadge),
    ),
    group(
      iconButton('expand-all', 'Expand all (*)', { type: 'expandAll' }),
      iconButton('collapse-all', 'Collapse all (Shift+C)', { type: 'collapseAll' }),
      depthList.el,
    ),
    group(
      iconButton('zoom-in', 'Zoom in (+)', { type: 'zoom', factor: 0.5 }),
      iconButton('zoom-out', 'Zoom out (-)', { type: 'zoom', factor: 2 }),
      iconButton('screen-full', 'Whole trace (0)', { type: 'resetZoom' }),
    ),
    group(criticalBox.el, followBox.el, traceList.el),
  );

  // What was last shown, so that a render touches only what changed.
  let shown: ViewState | undefined;

  const renderTraceList = (s: ViewState): void => {
    const opts = s.traces.slice(0, PICKER_TRACES).map((t) => ({
      value: t.traceId,
      label: `${t.errorCount > 0 ? '⚠ ' : ''}${t.rootName} · ${t.rootService} · ${formatDuration(t.durationMs)} · ${formatCount(t.spanCount, 'span')}`,
    }));
    const current = s.model?.payload;
    // A trace opened from a link may be older than the listed ones: list it too.
    if (current !== undefined && !opts.some((o) => o.value === current.traceId)) {
      // Placeholder rows (parents not received yet) are not spans.
      const spans = current.spanCount - (s.model?.placeholderRows ?? 0);
      opts.unshift({
        value: current.traceId,
        label: `${current.traceId.slice(0, 8)} · ${formatDuration(current.durationMs)} · ${formatCount(spans, 'span')}`,
      });
    }
    traceList.setOptions(opts.length > 0 ? opts : [{ value: '', label: 'No traces yet' }]);
    // The picker names the trace shown, not the one shown before.
    if (current !== undefined) traceList.value = current.traceId;
  };

  const renderDepthList = (s: ViewState): void => {
    const max = Math.min(s.model?.maxDepth ?? 0, 12);
    const opts = [{ value: '', label: 'Depth…' }];
    for (let d = 1; d <= max; d++) opts.push({ value: String(d), label: `Expand to depth ${d}` });
    depthList.setOptions(opts);
    depthList.value = '';
  };

  return {
    el: root,
    focusSearch: () => search.focus(),
    render(s) {
      const p = shown;
      shown = s;
      // The field is the source while the user types; it only follows a query set elsewhere.
      if (search.value !== s.query) search.value = s.query;
      if (p?.filter !== s.filter) {
        matchBadge.setText(matchBadgeText(s.filter));
        const why = s.filter.errors.map(queryErrorMessage).filter((m) => m !== '');
        queryError.textContent = why.join('; ');
        queryError.title = why.join('\n');
      }
      if (p?.filterMode !== s.filterMode) modeList.value = s.filterMode;
      if (p?.model !== s.model) {
        errorBadge.setText((s.model?.errorRows.length ?? 0).toLocaleString());
        if (s.model !== null) renderDepthList(s);
      }
      if (p === undefined || p.traces !== s.traces || p.model !== s.model) renderTraceList(s);
      followBox.checked = s.follow;
      criticalBox.checked = s.showCritical;
    },
  };
}
