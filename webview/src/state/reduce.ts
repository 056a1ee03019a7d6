/**
 * The view state's one entry point, after Jaeger UI's `store.ts` facade over its timeline and
 * layout stores: `reduce(state, action)` hands each action to the module of its concern
 * (`trace`, `filter`, `selection`, `timeline`, `keys`) and returns the next state. Pure: no
 * DOM, no host; what an action needs from outside is described in `effects`, which hold only
 * what the latest action asked for.
 */

import { collapseAll, collapseToDepth, expandAll } from '../model/rows.js';
import type { Action } from './actions.js';
import { afterTraceChange, compareResult, compareWith } from './compare.js';
import { attributeSearchResult, setFilterMode, setQuery } from './filter.js';
import { onKey } from './keys.js';
import {
  detailsResult,
  gotoInList,
  openSource,
  select,
  setCollapsed,
  toggle,
} from './selection.js';
import {
  minimapJump,
  panBy,
  resetZoom,
  resized,
  resizeDetails,
  resizeTree,
  setWindow,
  zoom,
} from './timeline.js';
import { clearSelection, onHostNotification, openTrace, setFollow, showPending } from './trace.js';
import { NO_EFFECTS, withEffect, type ViewState } from './view-state.js';

export function reduce(state: ViewState, action: Action): ViewState {
  // The previous action's effects were carried out by now; this one starts with none.
  const s = state.effects.length === 0 ? state : { ...state, effects: NO_EFFECTS };
  switch (action.type) {
    case 'host':
      return afterTraceChange(s, onHostNotification(s, action.message));
    case 'compareResult':
      return compareResult(s, action.key, action.response);
    case 'compareWith':
      return compareWith(s, action.against, action.otherTraceId);
    case 'spanDetailsResult':
      return detailsResult(s, action.key, action.response);
    case 'attributeSearchResult':
      return attributeSearchResult(s, action.key, action.response.rows);
    case 'select':
      return select(s, action.row, action);
    case 'clearSelection':
      return clearSelection(s);
    case 'toggle':
      return toggle(s, action.row);
    case 'hover':
      return action.row === s.hover ? s : { ...s, hover: action.row };
    case 'key':
      return onKey(s, action.action);
    case 'setQuery':
      return setQuery(s, action.query);
    case 'setFilterMode':
      return setFilterMode(s, action.mode);
    case 'gotoError':
      return s.model === null ? s : gotoInList(s, s.model.errorRows, action.dir);
    case 'gotoMatch':
      return gotoInList(s, s.filter.matchRows, action.dir);
    case 'expandAll':
      return s.model === null ? s : setCollapsed(s, expandAll(s.model));
    case 'collapseAll':
      return s.model === null ? s : setCollapsed(s, collapseAll(s.model));
    case 'expandToDepth':
      return s.model === null ? s : setCollapsed(s, collapseToDepth(s.model, action.depth));
    case 'zoom':
      return zoom(s, action.factor, action.anchor);
    case 'pan':
      return panBy(s, action.byMs);
    case 'setWindow':
      return setWindow(s, action.window);
    case 'resetZoom':
      return resetZoom(s);
    case 'minimapJump':
      return minimapJump(s, action.time, action.row);
    case 'resizeTree':
      return resizeTree(s, action.x, action.width);
    case 'resized':
      return resized(s, action.width);
    case 'resizeDetails':
      return resizeDetails(s, action.px, action.windowWidth);
    case 'setFollow':
      return setFollow(s, action.follow);
    case 'showCritical':
      return action.show === s.showCritical ? s : { ...s, showCritical: action.show };
    case 'showPending':
      return afterTraceChange(s, showPending(s));
    case 'openTrace':
      return openTrace(s, action.traceId);
    case 'openSource':
      return openSource(s);
    case 'focus':
      return withEffect(s, { type: 'focus', target: action.target });
  }
}
