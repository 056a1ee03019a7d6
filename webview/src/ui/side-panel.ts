/**
 * The side panel: the selected span's details (`details-panel.ts`) with the Insights section
 * (`insights-panel.ts`) and the Compare section (`compare-panel.ts`) below them. Maps the view state onto the two panels' calls and their
 * buttons onto actions.
 */

import type { Action } from '../state/actions.js';
import type { ViewState } from '../state/view-state.js';
import { createComparePanel } from './compare-panel.js';
import { DetailsPanel } from './details-panel.js';
import { InsightsPanel } from './insights-panel.js';

export interface SidePanel {
  readonly el: HTMLElement;
  render(s: ViewState): void;
  focus(): void;
}

export function createSidePanel(emit: (a: Action) => void): SidePanel {
  const details = new DetailsPanel({
    openSource: () => emit({ type: 'openSource' }),
    selectRow: (row) => emit({ type: 'select', row, scroll: true, details: true }),
    openTrace: (traceId) => emit({ type: 'openTrace', traceId }),
    close: () => emit({ type: 'clearSelection' }),
  });
  const insights = new InsightsPanel({
    openTrace: (traceId) => emit({ type: 'openTrace', traceId }),
  });
  // Below the span details: with no span selected the details are one line, so the findings
  // are what the panel shows; a selected span's details stay in view.
  details.el.append(insights.el);
  const compare = createComparePanel(emit);
  details.el.append(compare.el);

  let shown:
    | { details: ViewState['details']; insights: ViewState['insights']; traceId: string | null }
    | undefined;
  return {
    el: details.el,
    focus: () => details.el.focus(),
    render(s) {
      const traceId = s.model?.payload.traceId ?? null;
      const d = s.details;
      if (shown?.details !== d) {
        if (d.kind === 'empty') details.showEmpty(d.text);
        else if (d.kind === 'loading') details.showLoading(d.name);
        else details.show(d.details, d.traceStartMs);
      }
      if (shown !== undefined && shown.insights !== s.insights) {
        if (s.insights === 'cleared') insights.clear();
        else if (s.insights !== null) insights.update(s.insights, traceId);
      } else if (shown !== undefined && shown.traceId !== traceId) {
        // The relevance marks are about the trace shown; a new one may make them stale.
        insights.setCurrentTrace(traceId);
      }
      compare.render(s);
      shown = { details: d, insights: s.insights, traceId };
    },
  };
}
