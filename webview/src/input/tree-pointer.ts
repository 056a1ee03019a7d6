/**
 * The mouse over the rows: hover, click to select (or, on a twisty, to collapse or expand),
 * double click to toggle, and a drag in the timeline part to pan. Emits actions only.
 */

import { pan, type TimeWindow } from '../model/layout.js';
import { hasChildren } from '../model/trace-model.js';
import { twistyX } from '../render/draw.js';
import type { StoreAccess } from '../state/store.js';
import { rowAtClientY, timelineWidth, treeWidthOf } from './geometry.js';

/** A drag shorter than this is a click. */
const DRAG_PX = 3;

export function bindTreePointer(scroller: HTMLElement, store: StoreAccess): void {
  let drag: { x: number; window: TimeWindow; moved: boolean } | null = null;

  scroller.addEventListener('mousedown', (e) => {
    const s = store.getState();
    if (e.button !== 0 || s.model === null) return;
    const rect = scroller.getBoundingClientRect();
    if (e.clientX - rect.left > treeWidthOf(scroller, s)) {
      drag = { x: e.clientX, window: s.window, moved: false };
    }
  });
  window.addEventListener('mousemove', (e) => {
    const s = store.getState();
    if (drag !== null && s.model !== null) {
      const dx = e.clientX - drag.x;
      if (Math.abs(dx) > DRAG_PX) drag.moved = true;
      if (drag.moved) {
        const ms = (-dx / timelineWidth(scroller, s)) * (drag.window.end - drag.window.start);
        store.dispatch({
          type: 'setWindow',
          window: pan(drag.window, ms, s.model.payload.durationMs),
        });
      }
      return;
    }
    if (e.target === scroller) {
      const row = rowAtClientY(scroller, s, e.clientY);
      if (row !== s.hover) store.dispatch({ type: 'hover', row });
    }
  });
  window.addEventListener('mouseup', () => {
    // A drag that panned is not a click.
    if (drag?.moved === true) {
      const suppress = (ev: Event): void => {
        ev.stopPropagation();
      };
      window.addEventListener('click', suppress, { capture: true, once: true });
      setTimeout(() => window.removeEventListener('click', suppress, { capture: true }), 0);
    }
    drag = null;
  });
  scroller.addEventListener('mouseleave', () => store.dispatch({ type: 'hover', row: -1 }));
  scroller.addEventListener('click', (e) => {
    const s = store.getState();
    const row = rowAtClientY(scroller, s, e.clientY);
    if (row < 0 || s.model === null) return;
    const x = e.clientX - scroller.getBoundingClientRect().left;
    const twisty = twistyX(s.model.payload.depth[row] as number);
    if (hasChildren(s.model, row) && x >= twisty - 4 && x <= twisty + 12) {
      store.dispatch({ type: 'toggle', row });
      return;
    }
    store.dispatch({ type: 'select', row, details: true });
  });
  scroller.addEventListener('dblclick', (e) => {
    const row = rowAtClientY(scroller, store.getState(), e.clientY);
    if (row >= 0) store.dispatch({ type: 'toggle', row });
  });
}
