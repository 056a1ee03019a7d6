/**
 * The selected span's ancestors, root first; each one selects its span. A deep chain shows its
 * first two and last five links around an ellipsis. Names are untrusted: text only.
 */

import { formatDuration } from '../model/layout.js';
import { ancestors, nameOf, serviceOf } from '../model/trace-model.js';
import type { Action } from '../state/actions.js';
import type { ViewState } from '../state/view-state.js';
import { icon } from './components.js';
import { el } from './dom.js';

export interface Breadcrumb {
  readonly el: HTMLElement;
  render(s: ViewState): void;
}

export function createBreadcrumb(emit: (a: Action) => void): Breadcrumb {
  const root = el('nav', 'breadcrumb');
  root.setAttribute('aria-label', 'Ancestors of the selected span');
  let shown: Pick<ViewState, 'model' | 'selected'> | undefined;
  return {
    el: root,
    render(s) {
      if (shown?.model === s.model && shown.selected === s.selected) return;
      shown = s;
      const model = s.model;
      root.replaceChildren();
      if (model === null || s.selected < 0) return;
      const chain = [...ancestors(model, s.selected), s.selected];
      const links: (number | null)[] =
        chain.length > 8 ? [...chain.slice(0, 2), null, ...chain.slice(-5)] : chain;
      links.forEach((row, i) => {
        if (i > 0) root.append(icon('chevron-right'));
        if (row === null) {
          root.append(el('span', 'crumb-gap', '…'));
          return;
        }
        const b = el('button', row === s.selected ? 'crumb current' : 'crumb', nameOf(model, row));
        b.type = 'button';
        b.title = `${serviceOf(model, row)} · ${formatDuration(model.payload.duration[row] as number)}`;
        b.addEventListener('click', () =>
          emit({ type: 'select', row, scroll: true, details: true }),
        );
        root.append(b);
      });
    },
  };
}
