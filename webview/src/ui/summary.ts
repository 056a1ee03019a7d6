/**
 * The line under the toolbar: the shown trace's root span and service, duration, span and error
 * counts, how much of it the critical path spends in spans, and its id. Names are untrusted:
 * text only.
 */

import { SpanFlag } from '../../../src/protocol/messages.js';
import { formatDuration, formatShare } from '../model/layout.js';
import { nameOf, serviceOf } from '../model/trace-model.js';
import type { ViewState } from '../state/view-state.js';
import { el } from './dom.js';
import { formatCount } from '../../../src/shared/format.js';

export interface Summary {
  readonly el: HTMLElement;
  render(s: ViewState): void;
}

export function createSummary(): Summary {
  const root = el('div', 'summary');
  root.setAttribute('aria-live', 'polite');
  let shown: Pick<ViewState, 'model' | 'notice'> | undefined;
  return {
    el: root,
    render(s) {
      if (shown?.model === s.model && shown.notice === s.notice) return;
      shown = s;
      const model = s.model;
      if (s.notice !== null) {
        root.replaceChildren(el('span', 'summary-error', s.notice));
        return;
      }
      if (model === null) {
        root.replaceChildren();
        return;
      }
      const p = model.payload;
      const hasRoot = p.spanCount > 0;
      // Row 0 is a placeholder while the root span has not arrived: the trace is partial.
      const partial = hasRoot && ((p.flags[0] as number) & SpanFlag.PLACEHOLDER) !== 0;
      const spans = p.spanCount - model.placeholderRows;
      const errors = model.errorRows.length;
      const spansOnPath = p.durationMs > 0 ? 1 - p.gapMs / p.durationMs : 0;
      root.replaceChildren(
        el(
          'span',
          'summary-name',
          partial ? 'Partial trace' : hasRoot ? nameOf(model, 0) : '(empty trace)',
        ),
        el(
          'span',
          'summary-item',
          partial ? 'root span not received yet' : hasRoot ? serviceOf(model, 0) : '',
        ),
        el('span', 'summary-item', formatDuration(p.durationMs)),
        el('span', 'summary-item', formatCount(spans, 'span')),
        el(
          'span',
          `summary-item${errors > 0 ? ' summary-error' : ''}`,
          formatCount(errors, 'error'),
        ),
        el(
          'span',
          'summary-item critical-legend',
          `critical path: ${formatShare(spansOnPath)} in spans${p.gapMs > 0 ? `, ${formatDuration(p.gapMs)} waiting` : ''}`,
        ),
        el('span', 'summary-item muted mono', p.traceId),
      );
    },
  };
}
