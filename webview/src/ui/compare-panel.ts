/**
 * The side panel's "Compare" section: what to compare the shown trace with (its operation's
 * typical trace, the baseline, another recent trace) and the answer, stage by stage: time on
 * the critical path before and after, and the stages that appeared or vanished. The waterfall
 * marks the changed stages' rows with the same deltas (`state/compare.ts`). Stage names are
 * untrusted: set as text only.
 */

import type { CompareRowPayload, ComparisonPayload } from '../../../src/protocol/messages.js';
import { formatCount, formatDelta } from '../../../src/shared/format.js';
import { formatDuration } from '../model/layout.js';
import { nameOf, serviceOf, type TraceModel } from '../model/trace-model.js';
import type { Action } from '../state/actions.js';
import { deltaThresholdMs, type CompareView } from '../state/compare.js';
import type { ViewState } from '../state/view-state.js';
import { button, dropdown, icon } from './components.js';
import { el } from './dom.js';
import './compare-panel.css';

/** Stages listed; the rest are counted. */
const TABLE_ROWS = 12;
const TRACE_OPTIONS = 50;
const PICK = '';

export interface ComparePanel {
  readonly el: HTMLElement;
  render(s: ViewState): void;
}

/** The first row of a stage in the shown trace, -1 when it has none. */
function firstRowOf(model: TraceModel, service: string, name: string): number {
  for (let r = 0; r < model.rowCount; r++) {
    if (nameOf(model, r) === name && serviceOf(model, r) === service) return r;
  }
  return -1;
}

function sideLabel(label: string, traceId: string | undefined): string {
  if (label === traceId) return 'this trace';
  return /^[0-9a-f]{32}$/.test(label) ? `trace ${label.slice(0, 8)}` : label;
}

export function createComparePanel(emit: (a: Action) => void): ComparePanel {
  const section = el('details', 'section compare-section');
  section.open = true;
  const typical = button({
    label: 'Typical',
    title: 'Compare with the typical trace of this operation (medians of the recent ones)',
    onClick: () => emit({ type: 'compareWith', against: 'typical' }),
  });
  const baseline = button({
    label: 'Baseline',
    title: 'Compare with the pinned baseline',
    onClick: () => emit({ type: 'compareWith', against: 'baseline' }),
  });
  const prod = button({
    label: 'Prod',
    title:
      'Compare with the traces pulled from the team backend (Stagelight: Pull Traces from Backend)',
    onClick: () => emit({ type: 'compareWith', against: 'prod' }),
  });
  const off = button({
    icon: 'close',
    title: 'Stop comparing',
    onClick: () => emit({ type: 'compareWith', against: 'off' }),
  });
  const traces = dropdown({
    title: 'Compare with another recent trace',
    options: [{ value: PICK, label: 'Another trace…' }],
    onChange: (v) => {
      if (v !== PICK) emit({ type: 'compareWith', against: 'trace', otherTraceId: v });
    },
  });
  traces.el.classList.add('compare-trace-list');
  typical.el.classList.add('compare-typical');
  baseline.el.classList.add('compare-baseline');
  prod.el.classList.add('compare-prod');
  off.el.classList.add('compare-off');
  const choices = el('div', 'compare-choices', typical.el, baseline.el, prod.el, traces.el, off.el);
  const body = el('div', 'compare-body');
  section.append(el('summary', '', icon('diff'), ' Compare'), choices, body);

  let shown:
    { compare: CompareView; traces: ViewState['traces']; model: TraceModel | null } | undefined;
  const selectStage = (r: CompareRowPayload, model: TraceModel | null): void => {
    if (model === null) return;
    const row = firstRowOf(model, r.service, r.name);
    if (row >= 0) emit({ type: 'select', row, scroll: true, details: true, zoom: true });
  };

  const table = (c: ComparisonPayload, model: TraceModel | null, traceId: string | undefined) => {
    const before = sideLabel(c.before.label, traceId);
    const after = sideLabel(c.after.label, traceId);
    const parts: Node[] = [
      el(
        'div',
        'compare-summary',
        `${after}: ${formatDuration(c.after.durationMs)} vs ${before}: ` +
          `${formatDuration(c.before.durationMs)} (${formatDelta(c.deltaMs)})`,
      ),
    ];
    const min = deltaThresholdMs(Math.max(c.before.durationMs, c.after.durationMs)) / 2;
    const rows = c.rows.filter((r) => r.status !== 'both' || Math.abs(r.deltaMs) >= min);
    if (rows.length === 0) {
      parts.push(el('p', 'compare-status', 'No stage changed on the critical path.'));
      return parts;
    }
    const t = el('table', 'compare-table');
    t.append(
      el(
        'thead',
        '',
        el(
          'tr',
          '',
          el('th', '', 'Stage'),
          el('th', 'num', before),
          el('th', 'num', after),
          el('th', 'num', 'Change'),
        ),
      ),
    );
    const tbody = el('tbody');
    for (const r of rows.slice(0, TABLE_ROWS)) {
      const name = el('button', 'compare-stage', r.name);
      name.type = 'button';
      name.title = `${r.service} / ${r.name}${r.status === 'vanished' ? ' (not in this trace)' : ': show it in the waterfall'}`;
      name.disabled = r.status === 'vanished' || model === null;
      name.addEventListener('click', () => selectStage(r, model));
      const stage = el('td', '', name);
      if (r.status !== 'both') {
        stage.append(el('span', 'compare-tag', r.status === 'appeared' ? 'new' : 'gone'));
      }
      const cls = r.deltaMs > 0 ? 'num slower' : r.deltaMs < 0 ? 'num faster' : 'num';
      tbody.append(
        el(
          'tr',
          `compare-row status-${r.status}`,
          stage,
          el('td', 'num', r.beforeMs === undefined ? '–' : formatDuration(r.beforeMs)),
          el('td', 'num', r.afterMs === undefined ? '–' : formatDuration(r.afterMs)),
          el('td', cls, formatDelta(r.deltaMs)),
        ),
      );
    }
    t.append(tbody);
    parts.push(t);
    const rest = c.rows.length - Math.min(rows.length, TABLE_ROWS);
    if (rest > 0) {
      parts.push(el('p', 'compare-more', `${formatCount(rest, 'more stage')} changed less.`));
    }
    return parts;
  };

  return {
    el: section,
    render(s) {
      if (
        shown !== undefined &&
        shown.compare === s.compare &&
        shown.traces === s.traces &&
        shown.model === s.model
      ) {
        return;
      }
      const traceId = s.model?.payload.traceId;
      const c = s.compare;
      if (shown === undefined || shown.traces !== s.traces || shown.model !== s.model) {
        traces.setOptions([
          { value: PICK, label: 'Another trace…' },
          ...s.traces
            .filter((t) => t.traceId !== traceId)
            .slice(0, TRACE_OPTIONS)
            .map((t) => ({
              value: t.traceId,
              label: `${t.traceId.slice(0, 8)} ${t.rootName} ${formatDuration(t.durationMs)}`,
            })),
        ]);
      }
      traces.value = c.kind !== 'off' && c.against === 'trace' ? (c.otherTraceId ?? PICK) : PICK;
      typical.el.setAttribute('aria-pressed', String(c.kind !== 'off' && c.against === 'typical'));
      baseline.el.setAttribute(
        'aria-pressed',
        String(c.kind !== 'off' && c.against === 'baseline'),
      );
      prod.el.setAttribute('aria-pressed', String(c.kind !== 'off' && c.against === 'prod'));
      off.setDisabled(c.kind === 'off');
      const disabled = s.model === null;
      typical.setDisabled(disabled);
      baseline.setDisabled(disabled);
      prod.setDisabled(disabled);
      traces.setDisabled(disabled);
      if (c.kind === 'off') {
        body.replaceChildren(
          el(
            'p',
            'compare-status',
            'Compare this trace, stage by stage, with the typical trace, the baseline or another trace.',
          ),
        );
      } else if (c.kind === 'loading') {
        body.replaceChildren(el('p', 'compare-status', 'Comparing…'));
      } else if (c.kind === 'failed') {
        body.replaceChildren(
          el('p', 'compare-status failed', icon('warning'), ` ${c.error ?? 'No comparison.'}`),
        );
      } else if (c.comparison !== undefined) {
        body.replaceChildren(...table(c.comparison, s.model, traceId));
      }
      shown = { compare: c, traces: s.traces, model: s.model };
    },
  };
}
