/**
 * The metrics strip above the waterfall: one sparkline per chosen series over the shown trace's
 * time range (`core/api/metrics-strip.ts` computes it; the host posts it after each trace), its
 * exemplars as dots that open their trace, and a picker of the metrics to show. It follows the
 * waterfall's time window (zoom and pan): the app hands it the window of the trace it shows.
 * It keeps no state beyond the last strip and window; the app hands it each strip the host
 * posts and carries out its two actions (the picker's choice, an exemplar's trace).
 */
import type { MetricsStripPayload } from '../../../src/protocol/messages.js';
import {
  formatValue,
  layoutSeries,
  seriesLabels,
  unitSuffix,
} from '../model/metrics-strip-layout.js';
import { el } from './dom.js';
import './metrics-strip.css';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 1000;
const HEIGHT = 24;

export interface MetricsStrip {
  readonly el: HTMLElement;
  /** Draws a strip the host posted for `traceId`. */
  show(strip: MetricsStripPayload, traceId: string): void;
  /** The waterfall shows [fromMs, toMs] (epoch ms) of `traceId`: the strip draws that range. */
  setWindow(traceId: string, fromMs: number, toMs: number): void;
  hide(): void;
}

/** What the strip asks for; the app sends it to the host. */
export interface MetricsStripActions {
  chooseMetrics(keys: string[]): void;
  openTrace(traceId: string): void;
}

export function createMetricsStrip(actions: MetricsStripActions): MetricsStrip {
  const root = el('div', 'metrics-strip');
  root.hidden = true;
  root.setAttribute('role', 'region');
  root.setAttribute('aria-label', 'Metrics over this trace');
  let shown: { strip: MetricsStripPayload; traceId: string } | undefined;
  let win: { traceId: string; fromMs: number; toMs: number } | undefined;
  const draw = () => {
    if (shown === undefined) return;
    const w = win !== undefined && win.traceId === shown.traceId ? win : undefined;
    render(
      root,
      shown.strip,
      w?.fromMs ?? shown.strip.fromMs,
      w?.toMs ?? shown.strip.toMs,
      actions,
    );
  };
  return {
    el: root,
    show: (strip, traceId) => {
      shown = { strip, traceId };
      draw();
    },
    setWindow: (traceId, fromMs, toMs) => {
      if (
        win !== undefined &&
        win.traceId === traceId &&
        win.fromMs === fromMs &&
        win.toMs === toMs
      ) {
        return;
      }
      win = { traceId, fromMs, toMs };
      if (shown?.traceId === traceId) draw();
    },
    hide: () => {
      shown = undefined;
      root.hidden = true;
    },
  };
}

function render(
  root: HTMLElement,
  strip: MetricsStripPayload,
  fromMs: number,
  toMs: number,
  actions: MetricsStripActions,
): void {
  // The strip is drawn again as readings arrive and as the window moves: the picker stays as
  // the user left it (open, scrolled, the focused box still focused).
  const wasOpen = root.querySelector<HTMLDetailsElement>('details.metrics-picker')?.open === true;
  const scrolled = root.querySelector('.metrics-picker-list')?.scrollTop ?? 0;
  const active = document.activeElement;
  const focusedKey =
    active instanceof HTMLInputElement && root.contains(active) ? active.dataset.key : undefined;
  root.replaceChildren();
  root.hidden = strip.available.length === 0;
  if (root.hidden) return;
  const chosen = new Set(strip.chosen);
  const picker = el('details', 'metrics-picker');
  picker.open = wasOpen;
  picker.append(el('summary', '', `Metrics (${chosen.size} of ${strip.available.length})`));
  const list = el('div', 'metrics-picker-list');
  for (const m of strip.available) {
    const box = el('input');
    box.type = 'checkbox';
    box.checked = chosen.has(m.key);
    box.addEventListener('change', () => {
      const keys = [...list.querySelectorAll<HTMLInputElement>('input')]
        .filter((b) => b.checked)
        .map((b) => b.dataset.key ?? '');
      actions.chooseMetrics(keys);
    });
    box.dataset.key = m.key;
    list.append(el('label', 'metrics-picker-item', box, `${m.name} · ${m.service}`));
  }
  picker.append(list);
  root.append(picker);
  list.scrollTop = scrolled;
  if (focusedKey !== undefined) {
    for (const box of list.querySelectorAll<HTMLInputElement>('input')) {
      if (box.dataset.key === focusedKey) box.focus({ preventScroll: true });
    }
  }
  if (strip.series.length === 0) {
    root.append(
      el(
        'div',
        'metrics-strip-empty',
        chosen.size === 0
          ? 'No metric chosen: pick some to see them over this trace.'
          : 'No points of the chosen metrics in this trace’s time range.',
      ),
    );
    return;
  }
  const labels = seriesLabels(strip.series);
  strip.series.forEach((s, i) => {
    const layout = layoutSeries(s, fromMs, toMs, WIDTH, HEIGHT);
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.classList.add('metrics-spark');
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', layout.line);
    line.classList.add('metrics-line');
    svg.append(line);
    for (const e of layout.exemplars) {
      const dot = document.createElementNS(SVG, 'circle');
      dot.setAttribute('cx', String(e.x));
      dot.setAttribute('cy', String(e.y));
      dot.setAttribute('r', '3');
      dot.classList.add('metrics-exemplar');
      const title = document.createElementNS(SVG, 'title');
      title.textContent = e.label;
      dot.append(title);
      dot.addEventListener('click', () => actions.openTrace(e.traceId));
      svg.append(dot);
    }
    const last = s.points[s.points.length - 1]?.[1];
    const unit = unitSuffix(s.unit);
    const name = el('span', 'metrics-name', labels[i]!);
    name.title = [s.service, ...s.attributes].join(', ');
    root.append(
      el(
        'div',
        'metrics-row',
        name,
        svg,
        el('span', 'metrics-value', last === undefined ? '' : `${formatValue(last)}${unit}`),
      ),
    );
  });
}
