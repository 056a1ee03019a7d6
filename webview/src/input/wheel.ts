/**
 * The wheel over the rows: with Ctrl (or Cmd) it zooms around the time under the pointer;
 * with Shift, or sideways, it pans. A plain vertical wheel scrolls the rows (the browser's).
 */

import { timeAt } from '../model/layout.js';
import type { StoreAccess } from '../state/store.js';
import { timelineWidth, treeWidthOf } from './geometry.js';

export function bindWheel(scroller: HTMLElement, store: StoreAccess): void {
  scroller.addEventListener(
    'wheel',
    (e) => {
      const s = store.getState();
      if (s.model === null) return;
      const rect = scroller.getBoundingClientRect();
      const width = timelineWidth(scroller, s);
      if (e.ctrlKey || e.metaKey) {
        e.preventDefault();
        const t = timeAt(e.clientX - rect.left, s.window, treeWidthOf(scroller, s), width);
        store.dispatch({
          type: 'zoom',
          factor: Math.exp(e.deltaY * 0.002),
          anchor: Math.min(Math.max(t, s.window.start), s.window.end),
        });
      } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
        e.preventDefault();
        const d = e.shiftKey ? e.deltaY : e.deltaX;
        store.dispatch({ type: 'pan', byMs: (d / width) * (s.window.end - s.window.start) });
      }
    },
    { passive: false },
  );
}
