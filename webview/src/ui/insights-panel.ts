/**
 * The side panel's "Insights" section: the findings about the open trace (then the others),
 * each with its severity, one-line verdict, the numbers behind it and links to the traces that
 * show it; and the open trace's stages against the typical trace. The host sends it all
 * formatted (`InsightsNotification`); this only lays it out. Titles carry span names and
 * attribute values, so every text is set as text.
 *
 * Re-rendered on every notification (about once a second while traces arrive), keeping what
 * the user opened or closed: the section itself and each finding's numbers.
 */

import type {
  ExplainRowPayload,
  InsightFindingPayload,
  InsightsNotification,
} from '../../../src/protocol/messages.js';
import { formatDuration, formatShare } from '../model/layout.js';
import { badge, icon } from './components.js';
import { el } from './dom.js';
import { pathIcicle } from './path-icicle.js';
import './insights-panel.css';
import { formatCount } from '../../../src/shared/format.js';

export interface InsightsActions {
  /** Open a trace in the waterfall (`SelectTraceCommand`). */
  openTrace(traceId: string): void;
}

const SEVERITY_ICON: Record<InsightFindingPayload['severity'], string> = {
  critical: 'error',
  warning: 'warning',
  info: 'info',
};

/** Traces linked per finding. */
const TRACE_LINKS = 5;
/** Stages shown in "this trace vs typical". */
const EXPLAIN_ROWS = 5;

function findingKey(f: InsightFindingPayload): string {
  return `${f.stale === true ? 'stale' : 'now'}\u0000${f.kind}\u0000${f.stage?.service ?? ''}\u0000${f.stage?.name ?? ''}\u0000${f.title.split(':')[0] ?? ''}`;
}

export class InsightsPanel {
  readonly el: HTMLDetailsElement;
  private readonly count: HTMLElement & { setText(t: string): void };
  private readonly body: HTMLElement;
  private last: InsightsNotification | null = null;
  private currentTraceId: string | null = null;
  /** Findings whose numbers the user opened (or closed, for the first one). */
  private readonly open = new Map<string, boolean>();

  constructor(private readonly actions: InsightsActions) {
    this.count = badge('', 'Findings that need attention');
    this.count.classList.add('insights-count');
    this.count.hidden = true;
    this.body = el('div', 'insights-body');
    this.el = el('details', 'section insights-section');
    this.el.open = true;
    this.el.append(el('summary', '', icon('lightbulb'), ' Insights ', this.count), this.body);
    this.body.append(el('p', 'details-empty', 'Insights appear once a few traces arrived.'));
  }

  /** Shows the host's latest insights; `currentTraceId` is the trace the waterfall shows. */
  update(n: InsightsNotification, currentTraceId: string | null): void {
    this.last = n;
    this.currentTraceId = currentTraceId;
    this.render();
  }

  /** The waterfall switched traces: the relevance marks may be stale until the host answers. */
  setCurrentTrace(traceId: string | null): void {
    if (traceId === this.currentTraceId) return;
    this.currentTraceId = traceId;
    if (this.last !== null) this.render();
  }

  clear(): void {
    this.last = null;
    this.count.setText('');
    this.count.hidden = true;
    this.body.replaceChildren(el('p', 'details-empty', 'No traces.'));
  }

  private render(): void {
    const n = this.last;
    if (n === null) return;
    const currentFindings = n.findings.filter((f) => f.stale !== true);
    const staleFindings = n.findings.filter((f) => f.stale === true);
    const serious = currentFindings.filter((f) => f.severity !== 'info').length;
    this.count.setText(serious > 0 ? String(serious) : '');
    this.count.hidden = serious === 0;
    // Relevance and the explain rows are about `n.traceId`; while the waterfall shows another
    // trace (a newer one arrived), present every finding as a finding of the latest run.
    const sameTrace = n.traceId !== null && n.traceId === this.currentTraceId;
    const parts: Node[] = [];
    const meta = `${formatCount(currentFindings.length, 'finding')} over ${formatCount(n.traces, 'trace')} of the latest run`;
    parts.push(el('div', 'insights-meta', meta));
    parts.push(
      el(
        'div',
        `insights-baseline baseline-${n.baseline.state}`,
        icon(
          n.baseline.state === 'set'
            ? 'pinned'
            : n.baseline.state === 'pending'
              ? 'sync'
              : 'circle-slash',
        ),
        ` ${n.baseline.message}`,
      ),
    );
    if (n.criticalPath !== undefined) {
      const icicle = pathIcicle(n.criticalPath, (id) => this.actions.openTrace(id));
      if (icicle !== null) parts.push(icicle);
    }
    if (sameTrace) {
      const rows = n.explain.filter((r) => r.share > 0).slice(0, EXPLAIN_ROWS);
      if (rows.length > 0) parts.push(this.explainTable(rows));
    }
    const relevant = sameTrace ? currentFindings.filter((f) => f.relevant) : [];
    const others = sameTrace ? currentFindings.filter((f) => !f.relevant) : currentFindings;
    if (currentFindings.length === 0) {
      const text =
        n.traces === 0
          ? ' No traces in the latest run yet.'
          : n.baseline.state === 'set'
            ? ' No findings: the latest run looks like the baseline.'
            : ' No findings within the latest run; with no baseline, nothing to compare it with.';
      parts.push(
        el('p', 'insights-none', icon(n.baseline.state === 'set' ? 'pass' : 'info'), text),
      );
    }
    if (relevant.length > 0) {
      parts.push(el('h3', 'insights-heading', 'About this trace'));
      parts.push(this.list(relevant, true));
    }
    if (others.length > 0) {
      if (relevant.length > 0) {
        const more = el('details', 'insights-others');
        more.open = this.open.get('\u0000others') ?? false;
        more.addEventListener('toggle', () => this.open.set('\u0000others', more.open));
        more.append(
          el('summary', '', `Other findings in the latest run (${others.length})`),
          this.list(others, false),
        );
        parts.push(more);
      } else {
        if (sameTrace) parts.push(el('h3', 'insights-heading', 'In the latest run'));
        parts.push(this.list(others, !sameTrace));
      }
    }
    if (staleFindings.length > 0) {
      const old = el('details', 'insights-stale');
      old.open = this.open.get('\u0000stale') ?? false;
      old.addEventListener('toggle', () => this.open.set('\u0000stale', old.open));
      old.append(
        el('summary', '', `From earlier runs, not seen in the latest (${staleFindings.length})`),
        this.list(staleFindings, false),
      );
      parts.push(old);
    }
    this.body.replaceChildren(...parts);
  }

  private explainTable(rows: readonly ExplainRowPayload[]): HTMLElement {
    const table = el('table', 'insights-explain');
    const head = el(
      'tr',
      '',
      el('th', '', 'Stage'),
      el('th', 'num', 'This trace'),
      el('th', 'num', 'Typical'),
      el('th', 'num', 'Of the excess'),
    );
    const body = el('tbody');
    for (const r of rows) {
      const name = el('td', 'explain-stage', r.name);
      name.title = `${r.service} / ${r.name}`;
      body.append(
        el(
          'tr',
          '',
          name,
          el('td', 'num', formatDuration(r.ms)),
          el('td', 'num muted', formatDuration(r.typicalMs)),
          el('td', 'num', r.share > 0 ? formatShare(r.share) : '–'),
        ),
      );
    }
    table.append(el('thead', '', head), body);
    return el(
      'div',
      'insights-explain-wrap',
      el('h3', 'insights-heading', 'This trace vs typical'),
      table,
    );
  }

  private list(findings: readonly InsightFindingPayload[], openFirst: boolean): HTMLElement {
    const list = el('ul', 'insight-list');
    findings.forEach((f, i) => list.append(this.item(f, openFirst && i === 0)));
    return list;
  }

  private item(f: InsightFindingPayload, openByDefault: boolean): HTMLElement {
    const li = el('li', `insight sev-${f.severity}${f.stale === true ? ' stale' : ''}`);
    li.append(
      el(
        'div',
        'insight-head',
        icon(SEVERITY_ICON[f.severity] ?? 'info', f.severity),
        el('span', 'insight-title', f.title),
      ),
    );
    const kind = f.stale === true ? `${f.kindLabel} · earlier run` : f.kindLabel;
    li.append(
      el('div', 'insight-sub', f.stage !== undefined ? `${kind} · ${f.stage.service}` : kind),
    );
    if (f.numbers.length > 0) {
      const key = findingKey(f);
      const numbers = el('details', 'insight-numbers');
      numbers.open = this.open.get(key) ?? openByDefault;
      numbers.addEventListener('toggle', () => this.open.set(key, numbers.open));
      const grid = el('dl', 'details-grid');
      for (const row of f.numbers) grid.append(el('dt', '', row.label), el('dd', '', row.value));
      numbers.append(el('summary', '', `The numbers (${f.numbers.length})`), grid);
      li.append(numbers);
    }
    if (f.traceIds.length > 0) {
      const links = el('div', 'insight-traces', el('span', 'muted', 'Traces: '));
      for (const id of f.traceIds.slice(0, TRACE_LINKS)) {
        const current = id === this.currentTraceId;
        const b = el('button', current ? 'trace-link current' : 'trace-link', id.slice(0, 8));
        b.type = 'button';
        b.title = current ? `Trace ${id} (shown)` : `Open trace ${id}`;
        b.disabled = current;
        b.addEventListener('click', () => this.actions.openTrace(id));
        links.append(b);
      }
      li.append(links);
    }
    return li;
  }
}
