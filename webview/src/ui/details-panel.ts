/**
 * The selected span's details: timing, critical share, status, attributes grouped (model.*,
 * gen_ai.*, code.*, others), resource, scope, events (exception stacks), links, and "Go to
 * source". Every value from the span is untrusted and set as text only.
 */

import type {
  AttributeGroup,
  KeyValueText,
  SpanDetails,
  SpanLogLine,
} from '../../../src/protocol/messages.js';
import { formatDuration, formatShare } from '../model/layout.js';
import { formatRate } from '../../../src/shared/format.js';
import { button, dropdown, textField } from './components.js';
import { filterSpanLogLines, SEVERITY_FLOORS, severityClass } from '../model/log-marks.js';
import { formatCount } from '../../../src/shared/format.js';
import { el } from './dom.js';

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const GROUP_TITLES: Record<AttributeGroup, string> = {
  model: 'Model (model.*)',
  gen_ai: 'GenAI (gen_ai.*)',
  code: 'Code (code.*)',
  other: 'Attributes',
};

export interface DetailsActions {
  openSource(): void;
  selectRow(row: number): void;
  openTrace(traceId: string): void;
  close(): void;
}

export class DetailsPanel {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  /**
   * The span whose details were shown last, and where the panel was scrolled while they were:
   * another span's details start at their top, the same span's asked again keep their place.
   */
  private shown: { span: string; top: number } | null = null;

  constructor(private readonly actions: DetailsActions) {
    this.body = el('div', 'details-body');
    this.el = el('aside', 'details');
    this.el.setAttribute('aria-label', 'Span details');
    this.el.tabIndex = -1;
    this.el.append(this.body);
    this.showEmpty('Select a span to see its details.');
  }

  showEmpty(text: string): void {
    this.shown = null;
    this.body.replaceChildren(el('p', 'details-empty', text));
  }

  showLoading(name: string): void {
    // Read before the placeholder shortens the panel (and the browser clamps its scroll).
    if (this.shown !== null) this.shown.top = this.el.scrollTop;
    this.body.replaceChildren(
      el('h2', 'details-title', name),
      el('p', 'details-empty', 'Loading…'),
    );
  }

  /** `traceStartMs`: epoch ms of the trace start, for the span's offset. */
  show(d: SpanDetails, traceStartMs: number): void {
    const close = button({
      icon: 'close',
      title: 'Close details (Escape)',
      onClick: () => this.actions.close(),
    });
    close.el.classList.add('details-close');
    const header = el('div', 'details-header', el('h2', 'details-title', d.name), close.el);
    const sub = el('div', 'details-sub', `${d.service} · ${KINDS[d.kind] ?? `kind ${d.kind}`}`);
    const parts: Node[] = [header, sub];

    if (d.source !== undefined) {
      const src = d.source;
      const go = button({
        label: 'Go to source',
        icon: 'go-to-file',
        appearance: 'primary',
        title: `Open ${src.file}:${src.line} (G)`,
        onClick: () => this.actions.openSource(),
      });
      go.el.classList.add('go-to-source');
      parts.push(
        el('div', 'details-actions', go.el, el('span', 'source-path', `${src.file}:${src.line}`)),
      );
    }

    const timing = el('dl', 'details-grid');
    const row = (k: string, v: string, cls = ''): void => {
      timing.append(el('dt', '', k), el('dd', cls, v));
    };
    row('Duration', formatDuration(d.durationMs));
    row('Starts at', `+${formatDuration(d.startMs - traceStartMs)}`);
    if (d.clockShiftMs !== undefined && d.clockShiftMs !== 0) {
      // Both readings: the adjusted times are drawn, the raw ones are what the span said.
      const shift = d.clockShiftMs;
      row(
        'Clock adjusted',
        `${shift > 0 ? '+' : '−'}${formatDuration(Math.abs(shift))}: its process's clock ` +
          `disagrees with its caller's; raw start +${formatDuration(d.startMs - shift - traceStartMs)}`,
        'clock-adjusted',
      );
    }
    row('Self time', formatDuration(d.selfMs));
    row(
      'Critical path',
      d.criticalMs > 0
        ? `${formatDuration(d.criticalMs)} · ${formatShare(d.criticalShare)} of the trace`
        : 'not on the critical path',
    );
    if (d.llm !== undefined) {
      const l = d.llm;
      const rate = formatRate(l.tokensPerSec);
      if (l.ttftMs !== undefined) row('Time to first token', formatDuration(l.ttftMs));
      row(
        'Decode',
        `${rate} tokens/s${l.decodeMs !== undefined ? ` over ${formatDuration(l.decodeMs)}` : ' (whole call)'}`,
      );
      row(
        'Tokens',
        `${l.outputTokens} out${l.inputTokens !== undefined ? ` · ${l.inputTokens} in` : ''}`,
      );
    }
    const statusText = d.status.code === 2 ? 'Error' : d.status.code === 1 ? 'OK' : 'Unset';
    row(
      'Status',
      d.status.message !== '' ? `${statusText}: ${d.status.message}` : statusText,
      d.status.code === 2 ? 'status-error' : '',
    );
    row('Span id', d.spanId, 'mono');
    if (d.parentSpanId !== '') row('Parent id', d.parentSpanId, 'mono');
    parts.push(timing);

    if (d.logs !== undefined && d.logs.total > 0)
      parts.push(logsSection(d.logs, { min: 0, text: '' }));

    const groups: AttributeGroup[] = ['model', 'gen_ai', 'code', 'other'];
    for (const g of groups) {
      const items = d.attributes.filter((a) => a.group === g);
      if (items.length > 0) parts.push(section(GROUP_TITLES[g], kvTable(items), `attrs-${g}`));
    }
    if (d.attributes.length === 0)
      parts.push(section('Attributes', el('p', 'details-empty', 'none')));

    if (d.events.length > 0) {
      const list = el('ol', 'events');
      for (const e of d.events) {
        const item = el('li', e.name === 'exception' ? 'event exception' : 'event');
        item.append(
          el(
            'div',
            'event-head',
            el('span', 'event-name', e.name),
            el('span', 'event-offset', `+${formatDuration(e.offsetMs)}`),
          ),
        );
        const stack = e.attributes.find((a) => a.key === 'exception.stacktrace');
        const rest = e.attributes.filter((a) => a !== stack);
        if (rest.length > 0) item.append(kvTable(rest));
        if (stack !== undefined) item.append(el('pre', 'stack', stack.value));
        list.append(item);
      }
      parts.push(section(`Events (${d.events.length})`, list, 'events-section'));
    }

    if (d.links.length > 0) {
      const list = el('ul', 'links');
      for (const l of d.links) {
        const item = el('li', 'link');
        const label =
          l.row >= 0
            ? `span ${l.spanId} (this trace)`
            : `trace ${l.traceId.slice(0, 8)}… span ${l.spanId}`;
        const go = button({
          label,
          icon: l.row >= 0 ? 'arrow-right' : 'link-external',
          title: l.row >= 0 ? 'Select the linked span' : 'Open the linked trace',
          onClick: () =>
            l.row >= 0 ? this.actions.selectRow(l.row) : this.actions.openTrace(l.traceId),
        });
        item.append(go.el);
        if (l.attributes.length > 0) item.append(kvTable(l.attributes));
        list.append(item);
      }
      parts.push(section(`Links (${d.links.length})`, list, 'links-section'));
    }

    parts.push(section('Resource', kvTable(d.resource), 'resource-section'));
    parts.push(
      section(
        'Scope',
        kvTable([
          { key: 'name', value: d.scope.name },
          { key: 'version', value: d.scope.version },
        ]),
      ),
    );
    this.body.replaceChildren(...parts);
    const span = `${d.traceId}/${d.spanId}`;
    const top = this.shown?.span === span ? this.shown.top : 0;
    this.el.scrollTop = top;
    this.shown = { span, top };
    if (top > 0) {
      // The toolkit's buttons take their full height a frame later; until then the panel may
      // be a few px too short for `top`, so the place is set again once they have.
      requestAnimationFrame(() => {
        if (this.shown?.span === span && this.shown.top === top) this.el.scrollTop = top;
      });
    }
  }
}

/**
 * The span's log lines with their filter. The filter is this panel's own (it lives while the
 * span's details are shown and starts empty for each span): it narrows lines already here.
 */
function logsSection(
  logs: { lines: SpanLogLine[]; total: number },
  filter: { min: number; text: string },
): HTMLElement {
  const list = el('ol', 'logs');
  const count = el('span', 'logs-count');
  const draw = (): void => {
    const shown = filterSpanLogLines(logs.lines, filter.min, filter.text);
    list.replaceChildren(...shown.map(logItem));
    const cut = logs.total > logs.lines.length ? ` (the first ${logs.lines.length} listed)` : '';
    count.textContent =
      shown.length === logs.lines.length
        ? `${formatCount(logs.total, 'line')}${cut}`
        : `${shown.length} of ${formatCount(logs.lines.length, 'line')}${cut}`;
    if (shown.length === 0) list.append(el('li', 'details-empty', 'No line matches the filter.'));
  };
  const level = dropdown({
    title: 'Lowest severity shown',
    options: SEVERITY_FLOORS,
    onChange: (v) => {
      filter.min = SEVERITY_FLOORS.find((f) => f.value === v)?.min ?? 0;
      draw();
    },
  });
  const text = textField({
    placeholder: 'Filter lines',
    title: 'Show the lines that contain this text (body, severity or attribute value)',
    icon: 'filter',
    onInput: (v) => {
      filter.text = v;
      draw();
    },
  });
  draw();
  const bar = el('div', 'logs-filter', level.el, text.el, count);
  return section(`Logs (${logs.total})`, el('div', '', bar, list), 'logs-section');
}

function logItem(l: SpanLogLine): HTMLElement {
  const item = el('li', `log sev-${severityClass(l.severityNumber)}`);
  item.append(
    el(
      'div',
      'log-head',
      el('span', 'log-offset', `+${formatDuration(l.offsetMs)}`),
      el('span', 'log-severity', l.severity === '' ? '—' : l.severity),
      el('span', 'log-body', l.body),
    ),
  );
  if (l.attributes.length > 0) item.append(kvTable(l.attributes));
  return item;
}

function section(title: string, content: Node, cls = ''): HTMLElement {
  const details = el('details', `section ${cls}`);
  details.open = true;
  details.append(el('summary', '', title), content);
  return details;
}

function kvTable(items: readonly KeyValueText[]): HTMLElement {
  const table = el('table', 'kv');
  const body = el('tbody');
  for (const kv of items) {
    const value = el('td', 'kv-value', kv.value);
    value.title = kv.value.length > 200 ? `${kv.value.slice(0, 200)}…` : kv.value;
    body.append(el('tr', '', el('th', 'kv-key', kv.key), value));
  }
  table.append(body);
  return table;
}
