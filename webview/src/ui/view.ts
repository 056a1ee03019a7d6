/**
 * The webview's DOM: builds the components and lays them out (toolbar, summary, breadcrumb,
 * banner, then the waterfall, the splitter and the side panel; the empty state in place of all
 * but the toolbar until a trace shows). `render` brings each component up to a new state; each
 * touches only what changed for it.
 */

import type { Action } from '../state/actions.js';
import type { Effect, FocusTarget, ViewState } from '../state/view-state.js';
import { createBanner } from './banner.js';
import { createBreadcrumb } from './breadcrumb.js';
import { el } from './dom.js';
import { createEmptyState } from './empty-state.js';
import { createSidePanel, type SidePanel } from './side-panel.js';
import { createSummary } from './summary.js';
import { createTimeline, type Timeline } from './timeline.js';
import { createToolbar, type Toolbar } from './toolbar.js';

export interface View {
  readonly root: HTMLElement;
  readonly toolbar: Toolbar;
  readonly timeline: Timeline;
  readonly splitter: HTMLElement;
  readonly side: SidePanel;
  render(s: ViewState): void;
  scroll(e: Extract<Effect, { type: 'scroll' }>, s: ViewState): void;
  focus(target: FocusTarget): void;
}

export function createView(container: HTMLElement, emit: (a: Action) => void): View {
  const toolbar = createToolbar(emit);
  const summary = createSummary();
  const breadcrumb = createBreadcrumb(emit);
  const banner = createBanner(emit);
  const timeline = createTimeline();
  const side = createSidePanel(emit);
  const empty = createEmptyState();
  const splitter = el('div', 'splitter');
  splitter.setAttribute('role', 'separator');
  splitter.setAttribute('aria-orientation', 'vertical');
  splitter.setAttribute('aria-label', 'Width of the details panel (Left and Right arrows)');
  splitter.tabIndex = 0;
  const main = el('div', 'main', timeline.el, splitter, side.el);
  const root = el('div', 'app', toolbar.el, summary.el, breadcrumb.el, banner.el, main, empty.el);
  container.replaceChildren(root);

  let detailsWidth = -1;
  return {
    root,
    toolbar,
    timeline,
    splitter,
    side,
    scroll: (e, s) => timeline.scroll(e, s),
    focus(target) {
      if (target === 'search') toolbar.focusSearch();
      else if (target === 'tree') timeline.scroller.focus();
      else side.focus();
    },
    render(s) {
      empty.el.hidden = s.model !== null;
      empty.render(s);
      root.classList.toggle('has-trace', s.model !== null);
      if (s.detailsWidth !== detailsWidth) {
        detailsWidth = s.detailsWidth;
        root.style.setProperty('--details-width', `${detailsWidth}px`);
        splitter.setAttribute('aria-valuenow', String(Math.round(detailsWidth)));
      }
      toolbar.render(s);
      summary.render(s);
      breadcrumb.render(s);
      banner.render(s);
      timeline.render(s);
      side.render(s);
    },
  };
}
