/** What each key binding (`model/keyboard.ts`) does to the view state. */

import { moveSelection, type KeyAction } from '../model/keyboard.js';
import { collapseAll, collapseToDepth, expandAll } from '../model/rows.js';
import { setQuery } from './filter.js';
import {
  gotoInList,
  openSource,
  requestDetails,
  select,
  setCollapsed,
  toggle,
} from './selection.js';
import { panBy, resetZoom, zoom, zoomToSelection } from './timeline.js';
import { clearSelection, setFollow } from './trace.js';
import { withEffect, type ViewState } from './view-state.js';

export function onKey(s: ViewState, action: KeyAction): ViewState {
  if (action.type === 'search') return withEffect(s, { type: 'focus', target: 'search' });
  if (action.type === 'follow') return setFollow(s, !s.follow);
  const model = s.model;
  if (model === null) return s;
  switch (action.type) {
    case 'move':
    case 'home':
    case 'end':
    case 'left':
    case 'right':
    case 'toggle':
    case 'error': {
      const r = moveSelection(model, s.visible, s.collapsed, s.selected, action);
      let next = s;
      if (r.toggleRow >= 0 && r.toggleTo >= 0)
        next = toggle(next, r.toggleRow, r.toggleTo as 0 | 1);
      if (r.row >= 0 && r.row !== s.selected) {
        next = select(next, r.row, { scroll: true, details: true, zoom: action.type === 'error' });
      }
      return next;
    }
    case 'details':
      if (s.selected < 0) return s;
      return withEffect(requestDetails(s, s.selected), { type: 'focus', target: 'details' });
    case 'source':
      return openSource(s);
    case 'match':
      return gotoInList(s, s.filter.matchRows, action.dir);
    case 'zoom':
      return zoom(s, action.factor);
    case 'pan':
      return panBy(s, action.by * (s.window.end - s.window.start));
    case 'zoomToSpan':
      return zoomToSelection(s);
    case 'resetZoom':
      return resetZoom(s);
    case 'expandAll':
      return setCollapsed(s, expandAll(model));
    case 'collapseAll':
      return setCollapsed(s, collapseAll(model));
    case 'depth':
      return setCollapsed(s, collapseToDepth(model, action.depth));
    case 'escape':
      if (s.query !== '') return setQuery(s, '');
      return s.selected >= 0 ? clearSelection(s) : s;
  }
}
