/**
 * The minimap: a drag selects a time range to zoom to; a click jumps there, in time and in
 * rows (the minimap's rows are the whole trace's, top to bottom).
 */

import type { StoreAccess } from '../state/store.js';

/** A brush narrower than this is a click. */
const CLICK_PX = 3;

export function bindMinimapBrush(minimap: HTMLCanvasElement, store: StoreAccess): void {
  let brush: { x0: number; x1: number } | null = null;
  minimap.addEventListener('mousedown', (e) => {
    const x = e.clientX - minimap.getBoundingClientRect().left;
    brush = { x0: x, x1: x };
  });
  window.addEventListener('mousemove', (e) => {
    if (brush === null) return;
    brush.x1 = e.clientX - minimap.getBoundingClientRect().left;
  });
  window.addEventListener('mouseup', (e) => {
    const b = brush;
    brush = null;
    const model = store.getState().model;
    if (b === null || model === null) return;
    const r = minimap.getBoundingClientRect();
    const t = (x: number): number => (x / Math.max(1, r.width)) * model.payload.durationMs;
    if (Math.abs(b.x1 - b.x0) > CLICK_PX) {
      store.dispatch({
        type: 'setWindow',
        window: { start: t(Math.min(b.x0, b.x1)), end: t(Math.max(b.x0, b.x1)) },
      });
    } else {
      const row = Math.floor(((e.clientY - r.top) / r.height) * model.rowCount);
      store.dispatch({ type: 'minimapJump', time: t(b.x0), row });
    }
  });
}
