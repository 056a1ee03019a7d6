/** The "following paused" banner: shown while a pushed trace waits for the user to be done. */

import type { Action } from '../state/actions.js';
import type { ViewState } from '../state/view-state.js';
import { button, icon } from './components.js';
import { el } from './dom.js';

export interface Banner {
  readonly el: HTMLElement;
  render(s: ViewState): void;
}

export function createBanner(emit: (a: Action) => void): Banner {
  const root = el('div', 'banner');
  root.hidden = true;
  const show = button({
    label: 'Show latest',
    appearance: 'secondary',
    title: 'Show the newest trace',
    onClick: () => emit({ type: 'showPending' }),
  });
  root.append(
    icon('debug-pause'),
    el('span', '', 'Following paused while you inspect a span; a newer trace arrived.'),
    show.el,
  );
  return {
    el: root,
    render(s) {
      root.hidden = s.pending === null;
    },
  };
}
