/**
 * The waterfall app: holds the view state (trace model, collapsed rows, filter, selection, time
 * window), turns user input and host messages into state changes, and schedules one canvas
 * frame per animation frame. Row logic lives in `model/`, drawing in `render/`, controls in
 * `ui/components.ts`.
 */

import type {
  HostMessage,
  SpanDetailsResponse,
  TraceNotification,
  TracePayload,
  TraceSummaryPayload,
  WebviewMessage,
} from '../../src/protocol/messages.js';
import { SpanFlag } from '../../src/protocol/messages.js';
import { keyAction, moveSelection, type KeyAction } from './model/keyboard.js';
import {
  clampWindow,
  formatDuration,
  formatShare,
  fullWindow,
  pan,
  scrollMap,
  timeAt,
  windowAround,
  zoomAt,
  type TimeWindow,
} from './model/layout.js';
import { attributeTerms, isEmptyQuery, matchQuery, parseQuery } from './model/query.js';
import {
  collapseAll,
  collapseToDepth,
  expandAll,
  indexOfRow,
  nextInList,
  reveal,
  rowsOf,
  visibleRows,
  withAncestors,
} from './model/rows.js';
import {
  ancestors,
  buildTraceModel,
  hasChildren,
  nameOf,
  normalizePayload,
  serviceOf,
  type TraceModel,
} from './model/trace-model.js';
import { buildMinimap, drawAxis, drawMinimap, drawRows, ROW_HEIGHT } from './render/draw.js';
import {
  badge,
  button,
  checkbox,
  dropdown,
  icon,
  textField,
  type DropdownControl,
} from './ui/components.js';
import { DetailsPanel } from './ui/details-panel.js';
import { InsightsPanel } from './ui/insights-panel.js';
import { el } from './ui/dom.js';
import { readTheme, watchTheme, type Theme } from './ui/theme.js';

export interface HostLink {
  post(message: WebviewMessage): void;
}

/** Fired on `window` after each frame that drew rows; the harness and the e2e tests wait on it. */
export const PAINTED_EVENT = 'stagelight:painted';
export interface PaintedDetail {
  traceId: string;
  version: number;
  spanCount: number;
  /** Milliseconds spent drawing this frame. */
  drawMs: number;
}

const MINIMAP_HEIGHT = 40;
const AXIS_HEIGHT = 24;

export class App {
  private theme: Theme;
  private model: TraceModel | null = null;
  private collapsed: Uint8Array = new Uint8Array(0);
  private visible: Int32Array = new Int32Array(0);
  private filterMask: Uint8Array | null = null;
  private matchMask: Uint8Array | null = null;
  private matchRows: Int32Array = new Int32Array(0);
  private filterMode: 'filter' | 'highlight' = 'filter';
  private query = '';
  /** The host's answer to the current attribute terms: for which trace version and terms. */
  private attributeSearch: { key: string; requestId: number; rows?: number[] } | undefined;
  private selected = -1;
  private hover = -1;
  private window: TimeWindow = { start: 0, end: 1 };
  private treeWidth = 320;
  private detailsWidth = 380;
  private showCritical = true;
  private follow = true;
  /** A trace the host opened while the user was inspecting a span: shown on request. */
  private pending: TraceNotification | null = null;
  private minimapImage: HTMLCanvasElement | null = null;
  private requestId = 0;
  private pendingDetails = -1;
  private frame = 0;
  private traces: TraceSummaryPayload[] = [];

  // DOM
  private readonly root: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly crumbs: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly rowsCanvas: HTMLCanvasElement;
  private readonly axisCanvas: HTMLCanvasElement;
  private readonly minimapCanvas: HTMLCanvasElement;
  private readonly details: DetailsPanel;
  private readonly insights: InsightsPanel;
  private readonly empty: HTMLElement;
  private readonly search;
  private readonly matchBadge;
  private readonly errorBadge;
  private readonly followBox;
  private readonly criticalBox;
  private readonly traceList: DropdownControl;
  private readonly depthList: DropdownControl;
  private readonly modeList: DropdownControl;

  constructor(
    container: HTMLElement,
    private readonly host: HostLink,
  ) {
    this.theme = readTheme();
    this.details = new DetailsPanel({
      openSource: () => this.openSource(),
      selectRow: (row) => this.select(row, { scroll: true, details: true }),
      openTrace: (traceId) => this.host.post({ type: 'selectTrace', traceId }),
      close: () => this.clearSelection(),
    });
    this.insights = new InsightsPanel({
      openTrace: (traceId) => this.host.post({ type: 'selectTrace', traceId }),
    });
    // Below the span details in the side panel: with no span selected the details are one line,
    // so the findings are what the panel shows; a selected span's details stay in view.
    this.details.el.append(this.insights.el);

    this.search = textField({
      placeholder: 'Filter: name, service:x, dur>100ms, share>10%, is:error',
      title:
        'Search spans (Ctrl+F). Terms: text, name:, service:, dur>, self>, share>, is:error, is:critical, has:source, kind:',
      icon: 'search',
      onInput: (v) => this.setQuery(v),
      onKey: (e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          this.gotoMatch(e.shiftKey ? -1 : 1);
        } else if (e.key === 'Escape') {
          e.preventDefault();
          this.search.value = '';
          this.setQuery('');
          this.scroller.focus();
        } else if (e.key === 'ArrowDown') {
          e.preventDefault();
          this.scroller.focus();
        }
        e.stopPropagation();
      },
    });
    this.search.el.classList.add('search');
    this.modeList = dropdown({
      title: 'Filter hides non-matching spans; highlight marks matches and keeps every span',
      options: [
        { value: 'filter', label: 'Filter' },
        { value: 'highlight', label: 'Highlight' },
      ],
      onChange: (v) => {
        this.filterMode = v === 'highlight' ? 'highlight' : 'filter';
        this.applyFilter(true);
      },
    });
    this.matchBadge = badge('', 'Matching spans');
    this.matchBadge.classList.add('match-count');
    this.errorBadge = badge('0', 'Error spans');
    this.errorBadge.classList.add('error-count');
    this.depthList = dropdown({
      title: 'Expand to depth',
      options: [{ value: '', label: 'Depth…' }],
      onChange: (v) => {
        if (v !== '') this.setCollapsed(collapseToDepth(this.requireModel(), Number(v)));
      },
    });
    this.traceList = dropdown({
      title: 'Recent traces',
      options: [{ value: '', label: 'No traces yet' }],
      onChange: (v) => {
        if (/^[0-9a-f]{32}$/.test(v)) this.host.post({ type: 'selectTrace', traceId: v });
      },
    });
    this.traceList.el.classList.add('trace-list');
    this.followBox = checkbox({
      label: 'Follow latest',
      title: 'Show new traces as they arrive (F). Paused while a span is selected.',
      checked: true,
      onChange: (c) => this.setFollow(c, true),
    });
    this.criticalBox = checkbox({
      label: 'Critical path',
      title: 'Highlight the critical path',
      checked: true,
      onChange: (c) => {
        this.showCritical = c;
        this.invalidate();
      },
    });

    const group = (...children: HTMLElement[]): HTMLElement =>
      el('div', 'toolbar-group', ...children);
    const toolbar = el(
      'header',
      'toolbar',
      group(this.search.el, this.modeList.el, this.matchBadge),
      group(
        button({
          icon: 'arrow-up',
          title: 'Previous error (Shift+E)',
          onClick: () => this.gotoError(-1),
        }).el,
        button({ icon: 'arrow-down', title: 'Next error (E)', onClick: () => this.gotoError(1) })
          .el,
        el('span', 'error-label', icon('error'), this.errorBadge),
      ),
      group(
        button({
          icon: 'expand-all',
          title: 'Expand all (*)',
          onClick: () => this.model && this.setCollapsed(expandAll(this.model)),
        }).el,
        button({
          icon: 'collapse-all',
          title: 'Collapse all (Shift+C)',
          onClick: () => this.model && this.setCollapsed(collapseAll(this.model)),
        }).el,
        this.depthList.el,
      ),
      group(
        button({ icon: 'zoom-in', title: 'Zoom in (+)', onClick: () => this.zoom(0.5) }).el,
        button({ icon: 'zoom-out', title: 'Zoom out (-)', onClick: () => this.zoom(2) }).el,
        button({ icon: 'screen-full', title: 'Whole trace (0)', onClick: () => this.resetZoom() })
          .el,
      ),
      group(this.criticalBox.el, this.followBox.el, this.traceList.el),
    );

    this.summary = el('div', 'summary');
    this.summary.setAttribute('aria-live', 'polite');
    this.crumbs = el('nav', 'breadcrumb');
    this.crumbs.setAttribute('aria-label', 'Ancestors of the selected span');
    this.banner = el('div', 'banner');
    this.banner.hidden = true;

    this.minimapCanvas = el('canvas', 'minimap');
    this.minimapCanvas.setAttribute(
      'aria-label',
      'Minimap of the whole trace: drag to zoom to a time range',
    );
    this.axisCanvas = el('canvas', 'axis');
    this.axisCanvas.setAttribute('aria-hidden', 'true');
    this.rowsCanvas = el('canvas', 'rows');
    this.rowsCanvas.setAttribute('aria-hidden', 'true');
    this.spacer = el('div', 'spacer');
    this.scroller = el('div', 'scroller', this.spacer);
    this.scroller.tabIndex = 0;
    this.scroller.setAttribute('role', 'tree');
    this.scroller.setAttribute(
      'aria-label',
      'Spans of the trace. Arrow keys move, Enter shows details.',
    );
    const rowsArea = el('div', 'rows-area', this.rowsCanvas, this.scroller);
    const timeline = el('div', 'timeline', this.minimapCanvas, this.axisCanvas, rowsArea);
    const splitter = el('div', 'splitter');
    splitter.setAttribute('role', 'separator');
    splitter.setAttribute('aria-orientation', 'vertical');
    this.empty = el(
      'div',
      'empty',
      icon('pulse'),
      el('p', '', 'No trace yet.'),
      el(
        'p',
        'muted',
        'Send spans to the Stagelight receiver (OTLP on 127.0.0.1:4317/4318) or run the demo pipeline; the latest trace shows here.',
      ),
    );
    const main = el('div', 'main', timeline, splitter, this.details.el);
    this.root = el('div', 'app', toolbar, this.summary, this.crumbs, this.banner, main, this.empty);
    container.replaceChildren(this.root);
    this.setDetailsWidth(this.detailsWidth);

    this.bindInput(splitter);
    watchTheme(() => {
      this.theme = readTheme();
      this.minimapImage = null;
      this.invalidate();
    });
    new ResizeObserver(() => {
      this.minimapImage = null;
      this.invalidate();
    }).observe(timeline);
    this.renderChrome();
  }

  // ----- host messages ------------------------------------------------------------------

  handle(m: HostMessage): void {
    switch (m.type) {
      case 'trace':
        this.onTrace(m);
        break;
      case 'spanDetailsResponse':
        this.onDetails(m);
        break;
      case 'attributeSearchResponse':
        if (this.attributeSearch?.requestId === m.requestId) {
          this.attributeSearch.rows = m.rows ?? [];
          this.applyFilter(false);
        }
        break;
      case 'traceList':
        this.traces = m.traces;
        this.renderTraceList();
        break;
      case 'follow':
        this.follow = m.follow;
        this.followBox.checked = m.follow;
        break;
      case 'insights':
        this.insights.update(m, this.model?.payload.traceId ?? null);
        break;
      case 'cleared':
        this.insights.clear();
        this.model = null;
        this.pending = null;
        this.selected = -1;
        this.traces = [];
        this.renderTraceList();
        this.details.showEmpty('Select a span to see its details.');
        this.renderChrome();
        this.invalidate();
        break;
    }
  }

  private onTrace(raw: TraceNotification): void {
    const trace = normalizePayload(raw.trace);
    if (trace === null) {
      this.summary.replaceChildren(
        el('span', 'summary-error', 'The trace could not be shown: malformed data.'),
      );
      return;
    }
    const m: TraceNotification = { ...raw, trace };
    const current = this.model?.payload;
    const sameTrace = current !== undefined && current.traceId === m.trace.traceId;
    // Following live, a new trace would yank the view away from a span being inspected: hold
    // it until the user is done (Escape, or the banner's button). A trace the user asked for
    // (a trace link, the picker, a CodeLens click) always shows.
    const asked = m.requested === true || m.selectRow !== undefined;
    if (!sameTrace && !asked && this.selected >= 0 && current !== undefined) {
      this.pending = m;
      this.renderBanner();
      return;
    }
    this.pending = null;
    this.renderBanner();
    this.load(m.trace, sameTrace && m.reason === 'update', m.selectRow);
    // The picker names the trace shown, not the one shown before.
    this.renderTraceList();
  }

  private load(payload: TracePayload, keepView: boolean, selectRow?: number): void {
    const old = this.model;
    const model = buildTraceModel(payload);
    const oldSelected = this.selected;
    this.model = model;
    this.minimapImage = null;
    this.insights.setCurrentTrace(payload.traceId);
    if (keepView && old !== null) {
      // Rows can shift when spans arrive mid-tree: carry collapsed rows and the selection over
      // by identity (name, service, start), which the payload has without span ids.
      const key = (m: TraceModel, r: number): string =>
        `${nameOf(m, r)}\u0000${serviceOf(m, r)}\u0000${m.payload.start[r]}`;
      const wanted = new Map<string, number>();
      for (let r = 0; r < old.rowCount; r++)
        if (this.collapsed[r] === 1) wanted.set(key(old, r), 1);
      if (oldSelected >= 0 && oldSelected < old.rowCount) wanted.set(key(old, oldSelected), 2);
      const collapsed = new Uint8Array(model.rowCount);
      this.selected = -1;
      if (wanted.size > 0) {
        for (let r = 0; r < model.rowCount; r++) {
          const w = wanted.get(key(model, r));
          if (w === 1) collapsed[r] = 1;
          else if (w === 2) this.selected = r;
        }
      }
      this.collapsed = collapsed;
      // Grow the window with the trace when it showed the whole trace before.
      const wasFull = this.window.start <= 0 && this.window.end >= old.payload.durationMs - 1e-9;
      this.window = wasFull
        ? fullWindow(payload.durationMs)
        : clampWindow(this.window, payload.durationMs);
    } else {
      this.collapsed = new Uint8Array(model.rowCount);
      this.selected = -1;
      this.window = fullWindow(payload.durationMs);
      this.scroller.scrollTop = 0;
      this.details.showEmpty('Select a span to see its details.');
    }
    this.applyFilter(false);
    this.renderDepthList();
    this.renderChrome();
    if (selectRow !== undefined && selectRow >= 0 && selectRow < model.rowCount) {
      this.select(selectRow, { scroll: true, details: true, zoom: true });
    } else if (this.selected >= 0 && keepView) {
      this.renderBreadcrumb();
    }
    this.invalidate();
  }

  private onDetails(m: SpanDetailsResponse): void {
    if (m.requestId !== this.pendingDetails) return; // a newer selection superseded it
    const model = this.model;
    if (m.details === null || model === null) {
      this.details.showEmpty(m.error ?? 'This span is no longer available.');
      return;
    }
    this.details.show(m.details, model.payload.startMs);
  }

  // ----- state changes --------------------------------------------------------------------

  private requireModel(): TraceModel {
    if (this.model === null) throw new Error('no trace');
    return this.model;
  }

  private setQuery(q: string): void {
    this.query = q;
    this.applyFilter(true);
  }

  /** Recomputes the filter/highlight masks and the visible rows. */
  private applyFilter(scrollToSelection: boolean): void {
    const model = this.model;
    if (model === null) return;
    const parsed = parseQuery(this.query);
    if (isEmptyQuery(parsed)) {
      this.filterMask = null;
      this.matchMask = null;
      this.matchRows = new Int32Array(0);
      this.matchBadge.setText(parsed.errors.length > 0 ? `? ${parsed.errors.join(' ')}` : '');
    } else {
      const attrs = attributeTerms(parsed);
      let attributeRows: number[] | undefined;
      let searching = false;
      if (attrs.length > 0) {
        const key = `${model.payload.traceId}/${model.payload.version}/${JSON.stringify(attrs)}`;
        if (this.attributeSearch?.key !== key) {
          this.requestId = (this.requestId + 1) % 2 ** 30;
          this.attributeSearch = { key, requestId: this.requestId };
          this.host.post({
            type: 'attributeSearch',
            requestId: this.requestId,
            traceId: model.payload.traceId,
            version: model.payload.version,
            terms: attrs,
          });
        }
        attributeRows = this.attributeSearch.rows;
        searching = attributeRows === undefined;
      }
      const { mask, count } = matchQuery(
        model,
        parsed,
        attributeRows ?? (searching ? [] : undefined),
      );
      this.matchMask = mask;
      this.matchRows = rowsOf(mask);
      this.filterMask = this.filterMode === 'filter' ? withAncestors(model, mask) : null;
      this.matchBadge.setText(
        searching
          ? 'searching attributes…'
          : `${count.toLocaleString()} match${count === 1 ? '' : 'es'}${parsed.errors.length > 0 ? ` · ? ${parsed.errors.join(' ')}` : ''}`,
      );
    }
    this.recomputeVisible();
    if (scrollToSelection && this.selected >= 0) this.scrollToRow(this.selected);
  }

  private recomputeVisible(): void {
    if (this.model === null) return;
    this.visible = visibleRows(this.model, this.collapsed, this.filterMask);
    const map = scrollMap(this.visible.length, ROW_HEIGHT, this.scroller.clientHeight || 1);
    this.spacer.style.height = `${map.spacerPx}px`;
    this.invalidate();
  }

  private setCollapsed(c: Uint8Array): void {
    this.collapsed = c;
    if (this.selected >= 0 && this.model !== null) {
      // Keep the selection visible: select its nearest visible ancestor.
      this.recomputeVisible();
      if (indexOfRow(this.visible, this.selected) < 0) {
        const anc = ancestors(this.model, this.selected);
        for (let i = anc.length - 1; i >= 0; i--) {
          if (indexOfRow(this.visible, anc[i] as number) >= 0) {
            this.select(anc[i] as number, { scroll: true, details: true });
            break;
          }
        }
      }
    }
    this.recomputeVisible();
    if (this.selected >= 0) this.scrollToRow(this.selected);
  }

  private toggle(row: number, to?: 0 | 1): void {
    if (this.model === null || !hasChildren(this.model, row)) return;
    this.collapsed[row] = to ?? (this.collapsed[row] === 1 ? 0 : 1);
    this.recomputeVisible();
  }

  select(row: number, o: { scroll?: boolean; details?: boolean; zoom?: boolean } = {}): void {
    const model = this.model;
    if (model === null || row < 0 || row >= model.rowCount) return;
    this.selected = row;
    if (this.filterMask !== null && this.filterMask[row] !== 1) {
      // Selecting a span hidden by the filter (a link, a breadcrumb): drop the filter.
      this.search.value = '';
      this.query = '';
      this.applyFilter(false);
    }
    if (indexOfRow(this.visible, row) < 0) {
      reveal(model, this.collapsed, row);
      this.recomputeVisible();
    }
    if (o.scroll === true) this.scrollToRow(row);
    if (o.zoom === true) {
      const s = model.payload.start[row] as number;
      const e = s + (model.payload.duration[row] as number);
      if (s < this.window.start || e > this.window.end)
        this.window = windowAround(s, e, model.payload.durationMs);
    }
    this.scroller.setAttribute('aria-activedescendant', '');
    this.scroller.setAttribute(
      'aria-label',
      `${nameOf(model, row)}, ${serviceOf(model, row)}, ${formatDuration(model.payload.duration[row] as number)}`,
    );
    this.renderBreadcrumb();
    if (o.details === true) this.requestDetails(row);
    this.invalidate();
  }

  private clearSelection(): void {
    this.selected = -1;
    this.pendingDetails = -1;
    this.details.showEmpty('Select a span to see its details.');
    this.renderBreadcrumb();
    this.invalidate();
    if (this.pending !== null && this.follow) {
      const p = this.pending;
      this.pending = null;
      this.renderBanner();
      this.load(p.trace, false, p.selectRow);
    }
  }

  private requestDetails(row: number): void {
    const model = this.model;
    if (model === null) return;
    this.requestId = (this.requestId + 1) % 2 ** 30;
    this.pendingDetails = this.requestId;
    this.details.showLoading(nameOf(model, row));
    this.host.post({
      type: 'spanDetails',
      requestId: this.requestId,
      traceId: model.payload.traceId,
      version: model.payload.version,
      row,
    });
  }

  private openSource(): void {
    const model = this.model;
    if (model === null || this.selected < 0) return;
    if (((model.payload.flags[this.selected] as number) & SpanFlag.HAS_SOURCE) === 0) return;
    this.host.post({
      type: 'openSource',
      traceId: model.payload.traceId,
      version: model.payload.version,
      row: this.selected,
    });
  }

  private setFollow(follow: boolean, fromUser: boolean): void {
    this.follow = follow;
    this.followBox.checked = follow;
    if (fromUser) this.host.post({ type: 'setFollow', follow });
    if (!follow) {
      this.pending = null;
      this.renderBanner();
    }
  }

  private gotoError(dir: 1 | -1): void {
    if (this.model === null) return;
    const row = nextInList(
      this.model.errorRows,
      this.selected < 0 ? (dir === 1 ? -1 : this.model.rowCount) : this.selected,
      dir,
    );
    if (row >= 0) this.select(row, { scroll: true, details: true, zoom: true });
  }

  private gotoMatch(dir: 1 | -1): void {
    if (this.model === null) return;
    const row = nextInList(
      this.matchRows,
      this.selected < 0 ? (dir === 1 ? -1 : this.model.rowCount) : this.selected,
      dir,
    );
    if (row >= 0) this.select(row, { scroll: true, details: true, zoom: true });
  }

  private zoom(factor: number, anchor?: number): void {
    if (this.model === null) return;
    const a = anchor ?? (this.window.start + this.window.end) / 2;
    this.window = zoomAt(this.window, factor, a, this.model.payload.durationMs);
    this.invalidate();
  }

  private resetZoom(): void {
    if (this.model === null) return;
    this.window = fullWindow(this.model.payload.durationMs);
    this.invalidate();
  }

  /** Public for the benchmark: scroll by rows and zoom around the middle. */
  scrollBy(rows: number): void {
    this.scroller.scrollTop += rows * ROW_HEIGHT;
    this.invalidate();
  }

  zoomBy(factor: number): void {
    this.zoom(factor);
  }

  private scrollToRow(row: number): void {
    const i = indexOfRow(this.visible, row);
    if (i < 0) return;
    const h = this.scroller.clientHeight;
    const map = scrollMap(this.visible.length, ROW_HEIGHT, h);
    const top = map.rowAt(this.scroller.scrollTop);
    const rowsOnScreen = h / ROW_HEIGHT;
    if (i < top + 1 || i > top + rowsOnScreen - 2) {
      this.scroller.scrollTop = map.topOf(Math.max(0, i - rowsOnScreen / 3));
    }
  }

  // ----- input ------------------------------------------------------------------------------

  private bindInput(splitter: HTMLElement): void {
    this.scroller.addEventListener('scroll', () => this.invalidate(), { passive: true });
    const rowAtY = (clientY: number): number => {
      const rect = this.scroller.getBoundingClientRect();
      const map = scrollMap(this.visible.length, ROW_HEIGHT, this.scroller.clientHeight);
      const top = map.rowAt(this.scroller.scrollTop);
      const i = Math.floor(top + (clientY - rect.top) / ROW_HEIGHT);
      return i >= 0 && i < this.visible.length ? (this.visible[i] as number) : -1;
    };
    let drag: { x: number; window: TimeWindow; moved: boolean } | null = null;
    this.scroller.addEventListener('mousedown', (e) => {
      if (e.button !== 0 || this.model === null) return;
      const rect = this.scroller.getBoundingClientRect();
      if (e.clientX - rect.left > this.treeWidth)
        drag = { x: e.clientX, window: this.window, moved: false };
    });
    window.addEventListener('mousemove', (e) => {
      if (drag !== null && this.model !== null) {
        const dx = e.clientX - drag.x;
        if (Math.abs(dx) > 3) drag.moved = true;
        if (drag.moved) {
          const tw = this.timelineWidth();
          const ms = (-dx / tw) * (drag.window.end - drag.window.start);
          this.window = pan(drag.window, ms, this.model.payload.durationMs);
          this.invalidate();
        }
        return;
      }
      if (e.target === this.scroller) {
        const row = rowAtY(e.clientY);
        if (row !== this.hover) {
          this.hover = row;
          this.invalidate();
        }
      }
    });
    window.addEventListener('mouseup', () => {
      // A drag that panned is not a click.
      if (drag?.moved === true) {
        const suppress = (ev: Event): void => {
          ev.stopPropagation();
        };
        window.addEventListener('click', suppress, { capture: true, once: true });
        setTimeout(() => window.removeEventListener('click', suppress, { capture: true }), 0);
      }
      drag = null;
    });
    this.scroller.addEventListener('mouseleave', () => {
      this.hover = -1;
      this.invalidate();
    });
    this.scroller.addEventListener('click', (e) => {
      const row = rowAtY(e.clientY);
      if (row < 0 || this.model === null) return;
      const rect = this.scroller.getBoundingClientRect();
      const x = e.clientX - rect.left;
      const depth = Math.min(this.model.payload.depth[row] as number, 24);
      const twisty = 6 + depth * 12;
      if (hasChildren(this.model, row) && x >= twisty - 4 && x <= twisty + 12) {
        this.toggle(row);
        return;
      }
      this.select(row, { details: true });
    });
    this.scroller.addEventListener('dblclick', (e) => {
      const row = rowAtY(e.clientY);
      if (row >= 0) this.toggle(row);
    });
    this.scroller.addEventListener(
      'wheel',
      (e) => {
        if (this.model === null) return;
        const rect = this.scroller.getBoundingClientRect();
        if (e.ctrlKey || e.metaKey) {
          e.preventDefault();
          const t = timeAt(
            e.clientX - rect.left,
            this.window,
            this.treeWidth,
            this.timelineWidth(),
          );
          this.zoom(
            Math.exp(e.deltaY * 0.002),
            Math.min(Math.max(t, this.window.start), this.window.end),
          );
        } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
          e.preventDefault();
          const d = e.shiftKey ? e.deltaY : e.deltaX;
          this.window = pan(
            this.window,
            (d / this.timelineWidth()) * (this.window.end - this.window.start),
            this.model.payload.durationMs,
          );
          this.invalidate();
        }
      },
      { passive: false },
    );
    this.scroller.addEventListener('keydown', (e) => this.onKey(e));
    document.addEventListener('keydown', (e) => {
      // Keys pressed outside the tree (details panel, toolbar) still navigate, except in fields.
      if (e.defaultPrevented || e.target === this.scroller) return;
      const t = e.target as HTMLElement | null;
      if (
        t !== null &&
        /^(VSCODE-TEXT-FIELD|VSCODE-DROPDOWN|INPUT|TEXTAREA|SELECT)$/.test(t.tagName)
      )
        return;
      if (t !== null && t.tagName === 'VSCODE-BUTTON' && (e.key === 'Enter' || e.key === ' '))
        return;
      this.onKey(e);
    });

    // Minimap: drag selects a time range to zoom to; a click jumps there (time and rows).
    let brush: { x0: number; x1: number } | null = null;
    this.minimapCanvas.addEventListener('mousedown', (e) => {
      const r = this.minimapCanvas.getBoundingClientRect();
      brush = { x0: e.clientX - r.left, x1: e.clientX - r.left };
    });
    window.addEventListener('mousemove', (e) => {
      if (brush === null) return;
      const r = this.minimapCanvas.getBoundingClientRect();
      brush.x1 = e.clientX - r.left;
    });
    window.addEventListener('mouseup', (e) => {
      if (brush === null || this.model === null) return;
      const r = this.minimapCanvas.getBoundingClientRect();
      const total = this.model.payload.durationMs;
      const t = (x: number): number => (x / Math.max(1, r.width)) * total;
      const { x0, x1 } = brush;
      brush = null;
      if (Math.abs(x1 - x0) > 3) {
        this.window = clampWindow({ start: t(Math.min(x0, x1)), end: t(Math.max(x0, x1)) }, total);
      } else {
        const w = this.window.end - this.window.start;
        this.window = clampWindow({ start: t(x0) - w / 2, end: t(x0) + w / 2 }, total);
        const row = Math.floor(((e.clientY - r.top) / r.height) * this.model.rowCount);
        const map = scrollMap(this.visible.length, ROW_HEIGHT, this.scroller.clientHeight);
        let i = 0;
        while (i < this.visible.length - 1 && (this.visible[i] as number) < row) i++;
        this.scroller.scrollTop = map.topOf(Math.max(0, i - 3));
      }
      this.invalidate();
    });

    // The divider between the tree column and the timeline, drawn on the canvas, can be
    // dragged in the axis; the splitter before the details panel is a DOM element.
    let colDrag = false;
    this.axisCanvas.addEventListener('mousedown', (e) => {
      const r = this.axisCanvas.getBoundingClientRect();
      if (Math.abs(e.clientX - r.left - this.treeWidth) < 8) colDrag = true;
    });
    this.axisCanvas.addEventListener('mousemove', (e) => {
      const r = this.axisCanvas.getBoundingClientRect();
      this.axisCanvas.style.cursor =
        Math.abs(e.clientX - r.left - this.treeWidth) < 8 ? 'col-resize' : 'default';
    });
    let panelDrag = false;
    splitter.addEventListener('mousedown', () => {
      panelDrag = true;
    });
    window.addEventListener('mousemove', (e) => {
      if (colDrag) {
        const r = this.axisCanvas.getBoundingClientRect();
        this.treeWidth = Math.min(Math.max(140, e.clientX - r.left), r.width - 120);
        this.invalidate();
      } else if (panelDrag) {
        this.setDetailsWidth(window.innerWidth - e.clientX);
      }
    });
    window.addEventListener('mouseup', () => {
      colDrag = false;
      panelDrag = false;
    });
  }

  private setDetailsWidth(w: number): void {
    this.detailsWidth = Math.min(Math.max(220, w), Math.max(260, window.innerWidth - 360));
    this.root.style.setProperty('--details-width', `${this.detailsWidth}px`);
    this.invalidate();
  }

  private onKey(e: KeyboardEvent): void {
    const pageRows = Math.floor(this.scroller.clientHeight / ROW_HEIGHT);
    const action = keyAction(e, pageRows);
    if (action === undefined) return;
    e.preventDefault();
    this.apply(action);
  }

  private apply(action: KeyAction): void {
    if (action.type === 'search') {
      this.search.focus();
      return;
    }
    if (action.type === 'follow') {
      this.setFollow(!this.follow, true);
      return;
    }
    const model = this.model;
    if (model === null) return;
    switch (action.type) {
      case 'move':
      case 'home':
      case 'end':
      case 'left':
      case 'right':
      case 'toggle':
      case 'error': {
        const r = moveSelection(model, this.visible, this.collapsed, this.selected, action);
        if (r.toggleRow >= 0 && r.toggleTo >= 0) this.toggle(r.toggleRow, r.toggleTo as 0 | 1);
        if (r.row >= 0 && r.row !== this.selected) {
          this.select(r.row, { scroll: true, details: true, zoom: action.type === 'error' });
        }
        break;
      }
      case 'details':
        if (this.selected >= 0) {
          this.requestDetails(this.selected);
          this.details.el.focus();
        }
        break;
      case 'source':
        this.openSource();
        break;
      case 'match':
        this.gotoMatch(action.dir);
        break;
      case 'zoom':
        this.zoom(action.factor);
        break;
      case 'pan':
        this.window = pan(
          this.window,
          action.by * (this.window.end - this.window.start),
          model.payload.durationMs,
        );
        this.invalidate();
        break;
      case 'zoomToSpan':
        if (this.selected >= 0) {
          const s = model.payload.start[this.selected] as number;
          this.window = windowAround(
            s,
            s + (model.payload.duration[this.selected] as number),
            model.payload.durationMs,
          );
          this.invalidate();
        }
        break;
      case 'resetZoom':
        this.resetZoom();
        break;
      case 'expandAll':
        this.setCollapsed(expandAll(model));
        break;
      case 'collapseAll':
        this.setCollapsed(collapseAll(model));
        break;
      case 'depth':
        this.setCollapsed(collapseToDepth(model, action.depth));
        break;
      case 'escape':
        if (this.query !== '') {
          this.search.value = '';
          this.setQuery('');
        } else if (this.selected >= 0) this.clearSelection();
        break;
    }
  }

  // ----- chrome (DOM around the canvas) ---------------------------------------------------

  private renderChrome(): void {
    const model = this.model;
    this.empty.hidden = model !== null;
    this.root.classList.toggle('has-trace', model !== null);
    if (model === null) {
      this.summary.replaceChildren();
      this.crumbs.replaceChildren();
      this.errorBadge.setText('0');
      return;
    }
    const p = model.payload;
    const root = p.spanCount > 0 ? 0 : -1;
    const spansOnPath = p.durationMs > 0 ? 1 - p.gapMs / p.durationMs : 0;
    this.summary.replaceChildren(
      el('span', 'summary-name', root >= 0 ? nameOf(model, root) : '(empty trace)'),
      el('span', 'summary-item', root >= 0 ? serviceOf(model, root) : ''),
      el('span', 'summary-item', formatDuration(p.durationMs)),
      el('span', 'summary-item', `${p.spanCount.toLocaleString()} spans`),
      el(
        'span',
        `summary-item${model.errorRows.length > 0 ? ' summary-error' : ''}`,
        `${model.errorRows.length.toLocaleString()} error${model.errorRows.length === 1 ? '' : 's'}`,
      ),
      el(
        'span',
        'summary-item critical-legend',
        `critical path: ${formatShare(spansOnPath)} in spans${p.gapMs > 0 ? `, ${formatDuration(p.gapMs)} waiting` : ''}`,
      ),
      el('span', 'summary-item muted mono', p.traceId),
    );
    this.errorBadge.setText(model.errorRows.length.toLocaleString());
  }

  private renderBreadcrumb(): void {
    const model = this.model;
    this.crumbs.replaceChildren();
    if (model === null || this.selected < 0) return;
    const chain = [...ancestors(model, this.selected), this.selected];
    const shown: (number | null)[] =
      chain.length > 8 ? [...chain.slice(0, 2), null, ...chain.slice(-5)] : chain;
    shown.forEach((row, i) => {
      if (i > 0) this.crumbs.append(icon('chevron-right'));
      if (row === null) {
        this.crumbs.append(el('span', 'crumb-gap', '…'));
        return;
      }
      const b = el('button', row === this.selected ? 'crumb current' : 'crumb', nameOf(model, row));
      b.type = 'button';
      b.title = `${serviceOf(model, row)} · ${formatDuration(model.payload.duration[row] as number)}`;
      b.addEventListener('click', () => this.select(row, { scroll: true, details: true }));
      this.crumbs.append(b);
    });
  }

  private renderBanner(): void {
    if (this.pending === null) {
      this.banner.hidden = true;
      this.banner.replaceChildren();
      return;
    }
    const show = button({
      label: 'Show latest',
      appearance: 'secondary',
      title: 'Show the newest trace',
      onClick: () => {
        const p = this.pending;
        this.pending = null;
        this.renderBanner();
        if (p !== null) this.load(p.trace, false, p.selectRow);
      },
    });
    this.banner.hidden = false;
    this.banner.replaceChildren(
      icon('debug-pause'),
      el('span', '', 'Following paused while you inspect a span; a newer trace arrived.'),
      show.el,
    );
  }

  private renderTraceList(): void {
    const opts = this.traces.slice(0, 200).map((t) => ({
      value: t.traceId,
      label: `${t.errorCount > 0 ? '⚠ ' : ''}${t.rootName} · ${t.rootService} · ${formatDuration(t.durationMs)} · ${t.spanCount} ${t.spanCount === 1 ? 'span' : 'spans'}`,
    }));
    const shown = this.model?.payload;
    // A trace opened from a link may be older than the listed ones: list it too.
    if (shown !== undefined && !opts.some((o) => o.value === shown.traceId)) {
      opts.unshift({
        value: shown.traceId,
        label: `${shown.traceId.slice(0, 8)} · ${formatDuration(shown.durationMs)} · ${shown.spanCount} ${shown.spanCount === 1 ? 'span' : 'spans'}`,
      });
    }
    this.traceList.setOptions(opts.length > 0 ? opts : [{ value: '', label: 'No traces yet' }]);
    if (shown !== undefined) this.traceList.value = shown.traceId;
  }

  private renderDepthList(): void {
    const max = Math.min(this.model?.maxDepth ?? 0, 12);
    const opts = [{ value: '', label: 'Depth…' }];
    for (let d = 1; d <= max; d++) opts.push({ value: String(d), label: `Expand to depth ${d}` });
    this.depthList.setOptions(opts);
    this.depthList.value = '';
  }

  // ----- drawing ------------------------------------------------------------------------------

  private timelineWidth(): number {
    return Math.max(1, this.scroller.clientWidth - this.treeWidth - 8);
  }

  invalidate(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** Draws one frame now (the benchmark calls it to time frames). */
  draw(): void {
    const model = this.model;
    const t0 = performance.now();
    const dpr = window.devicePixelRatio || 1;
    const size = (c: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D | null => {
      const W = Math.max(1, Math.round(w * dpr));
      const H = Math.max(1, Math.round(h * dpr));
      if (c.width !== W || c.height !== H) {
        c.width = W;
        c.height = H;
        c.style.width = `${w}px`;
        c.style.height = `${h}px`;
      }
      const ctx = c.getContext('2d', { alpha: false });
      ctx?.setTransform(dpr, 0, 0, dpr, 0, 0);
      return ctx;
    };
    const width = this.scroller.clientWidth;
    const height = this.scroller.clientHeight;
    if (model === null || width === 0) return;

    const map = scrollMap(this.visible.length, ROW_HEIGHT, height);
    const top = map.rowAt(this.scroller.scrollTop);
    this.treeWidth = Math.min(this.treeWidth, Math.max(140, width - 160));

    const rows = size(this.rowsCanvas, width, height);
    if (rows !== null) {
      drawRows(
        rows,
        width,
        height,
        {
          model,
          visible: this.visible,
          top,
          collapsed: this.collapsed,
          matches: this.matchMask,
          selected: this.selected,
          hover: this.hover,
          window: this.window,
          treeWidth: this.treeWidth,
          showCritical: this.showCritical,
        },
        this.theme,
        dpr,
      );
    }
    const axis = size(this.axisCanvas, width, AXIS_HEIGHT);
    if (axis !== null) {
      const shown =
        this.filterMask !== null ? `${this.visible.length.toLocaleString()} shown` : 'Span';
      drawAxis(axis, width, AXIS_HEIGHT, this.window, this.treeWidth, this.theme, shown);
    }
    const mm = size(this.minimapCanvas, width, MINIMAP_HEIGHT);
    if (mm !== null) {
      if (this.minimapImage === null)
        this.minimapImage = buildMinimap(model, width * dpr, MINIMAP_HEIGHT * dpr, this.theme);
      const firstIdx = Math.floor(top);
      const lastIdx = Math.min(this.visible.length - 1, Math.floor(top + height / ROW_HEIGHT));
      drawMinimap(
        mm,
        width,
        MINIMAP_HEIGHT,
        this.minimapImage,
        model,
        this.window,
        (this.visible[firstIdx] as number | undefined) ?? 0,
        (this.visible[Math.max(0, lastIdx)] as number | undefined) ?? 0,
        this.theme,
      );
    }
    const detail: PaintedDetail = {
      traceId: model.payload.traceId,
      version: model.payload.version,
      spanCount: model.payload.spanCount,
      drawMs: performance.now() - t0,
    };
    window.dispatchEvent(new CustomEvent(PAINTED_EVENT, { detail }));
  }
}
