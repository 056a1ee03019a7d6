/**
 * What the webview shows before the first trace (and after `cleared`): where to send spans, at
 * the ports the receiver actually bound (the host's `receiver` notification).
 */

import { noTraceHint } from '../../../src/shared/receiver-text.js';
import type { ViewState } from '../state/view-state.js';
import { icon } from './components.js';
import { el } from './dom.js';

export interface EmptyState {
  readonly el: HTMLElement;
  render(s: ViewState): void;
}

export function createEmptyState(): EmptyState {
  const hint = el('p', 'muted', noTraceHint(null));
  let shown: ViewState['receiver'] | undefined;
  return {
    el: el('div', 'empty', icon('pulse'), el('p', '', 'No trace yet.'), hint),
    render(s) {
      if (s.receiver === shown) return;
      shown = s.receiver;
      hint.textContent = noTraceHint(s.receiver);
    },
  };
}
