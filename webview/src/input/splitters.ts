/**
 * The two dividers: between the tree column and the timeline (drawn on the canvas, dragged in
 * the axis) and before the side panel (a DOM element, dragged or moved with the arrow keys).
 */

import type { StoreAccess } from '../state/store.js';
import { treeWidthOf } from './geometry.js';

/** How close to the column divider, px, the pointer grabs it. */
const GRAB_PX = 8;

export function bindColumnSplitter(
  axis: HTMLCanvasElement,
  scroller: HTMLElement,
  store: StoreAccess,
): void {
  const nearDivider = (clientX: number): boolean =>
    Math.abs(
      clientX - axis.getBoundingClientRect().left - treeWidthOf(scroller, store.getState()),
    ) < GRAB_PX;
  let dragging = false;
  axis.addEventListener('mousedown', (e) => {
    if (nearDivider(e.clientX)) dragging = true;
  });
  axis.addEventListener('mousemove', (e) => {
    axis.style.cursor = nearDivider(e.clientX) ? 'col-resize' : 'default';
  });
  window.addEventListener('mousemove', (e) => {
    if (!dragging) return;
    const r = axis.getBoundingClientRect();
    store.dispatch({ type: 'resizeTree', x: e.clientX - r.left, width: r.width });
  });
  window.addEventListener('mouseup', () => {
    dragging = false;
  });
}

/** Px per arrow key on the panel splitter (Shift: four times as many). */
const KEY_STEP_PX = 16;

export function bindPanelSplitter(splitter: HTMLElement, store: StoreAccess): void {
  // The panel is on the right: the left arrow widens it.
  splitter.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    // Not a waterfall binding here (left/right would move in the tree).
    e.preventDefault();
    e.stopPropagation();
    const step = (e.shiftKey ? 4 : 1) * KEY_STEP_PX * (e.key === 'ArrowLeft' ? 1 : -1);
    store.dispatch({
      type: 'resizeDetails',
      px: store.getState().detailsWidth + step,
      windowWidth: window.innerWidth,
    });
  });
  let dragging = false;
  splitter.addEventListener('mousedown', () => {
    dragging = true;
  });
  window.addEventListener('mousemove', (e) => {
    if (!dragging) return;
    store.dispatch({
      type: 'resizeDetails',
      px: window.innerWidth - e.clientX,
      windowWidth: window.innerWidth,
    });
  });
  window.addEventListener('mouseup', () => {
    dragging = false;
  });
}
