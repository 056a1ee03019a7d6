/**
 * Key bindings (`model/keyboard.ts`) in the tree, and anywhere else outside a field: the
 * details panel and the toolbar's buttons still navigate. Emits `key` actions only.
 */

import { keyAction } from '../model/keyboard.js';
import { ROW_HEIGHT } from '../render/draw.js';
import type { StoreAccess } from '../state/store.js';

/** Elements whose keys are their own (typing, choosing). */
const FIELDS = /^(VSCODE-TEXT-FIELD|VSCODE-DROPDOWN|INPUT|TEXTAREA|SELECT)$/;

export function bindKeyboard(scroller: HTMLElement, store: Pick<StoreAccess, 'dispatch'>): void {
  const onKey = (e: KeyboardEvent): void => {
    const pageRows = Math.floor(scroller.clientHeight / ROW_HEIGHT);
    const action = keyAction(e, pageRows);
    if (action === undefined) return;
    e.preventDefault();
    store.dispatch({ type: 'key', action });
  };
  scroller.addEventListener('keydown', onKey);
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.target === scroller) return;
    const t = e.target as HTMLElement | null;
    if (t !== null && FIELDS.test(t.tagName)) return;
    // Enter and Space press a focused button.
    if (t !== null && t.tagName === 'VSCODE-BUTTON' && (e.key === 'Enter' || e.key === ' ')) return;
    onKey(e);
  });
}
