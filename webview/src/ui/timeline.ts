/**
 * The waterfall itself: the minimap, the time axis and the rows, three canvases drawn by
 * `render/draw.ts`, under a transparent scroller whose spacer gives the scroll range. The
 * scroller's position is the DOM's (the user scrolls it); the state asks for scrolls through
 * effects, carried out here against the live geometry. Each drawn frame fires
 * `stagelight:painted`, which the harness, the benchmark and the tests wait on.
 */

import { formatDuration, scrollMap } from '../model/layout.js';
import { indexOfRow } from '../model/rows.js';
import { logCountText, logHoverText } from '../model/log-marks.js';
import { nameOf, serviceOf } from '../model/trace-model.js';
import { buildMinimap, drawAxis, drawMinimap, drawRows, ROW_HEIGHT } from '../render/draw.js';
import { treeWidthIn } from '../state/timeline.js';
import type { Effect, ViewState } from '../state/view-state.js';
import { el } from './dom.js';
import type { Theme } from './theme.js';

/** Fired on `window` after each frame that drew rows. */
export const PAINTED_EVENT = 'stagelight:painted';
export interface PaintedDetail {
  traceId: string;
  version: number;
  spanCount: number;
  /** Milliseconds spent drawing this frame. */
  drawMs: number;
}

export const MINIMAP_HEIGHT = 40;
export const AXIS_HEIGHT = 24;

const TREE_LABEL = 'Spans of the trace. Arrow keys move, Enter shows details.';

type ScrollEffect = Extract<Effect, { type: 'scroll' }>;

/** What a row's delta is against, as its label says it ("vs typical"). */
function againstText(s: ViewState): string {
  const c = s.compare;
  if (c.kind === 'off') return '';
  if (c.against === 'trace') return `vs ${c.otherTraceId?.slice(0, 8) ?? 'the other trace'}`;
  return `vs ${c.against}`;
}

export interface Timeline {
  readonly el: HTMLElement;
  readonly scroller: HTMLElement;
  readonly axis: HTMLCanvasElement;
  readonly minimap: HTMLCanvasElement;
  /** Updates the DOM that follows the state (scroll range, the tree's accessible name). */
  render(s: ViewState): void;
  /** Whether the canvases show something other than `s` after `previous`. */
  changed(s: ViewState, previous: ViewState): boolean;
  scroll(e: ScrollEffect, s: ViewState): void;
  /** Draws one frame of `s` now. */
  draw(s: ViewState, theme: Theme): void;
  /** The minimap image is stale (new theme or size). */
  resetMinimap(): void;
}

export function createTimeline(): Timeline {
  const minimap = el('canvas', 'minimap');
  minimap.setAttribute('aria-label', 'Minimap of the whole trace: drag to zoom to a time range');
  const axis = el('canvas', 'axis');
  axis.setAttribute('aria-hidden', 'true');
  const rows = el('canvas', 'rows');
  rows.setAttribute('aria-hidden', 'true');
  const spacer = el('div', 'spacer');
  const scroller = el('div', 'scroller', spacer);
  scroller.tabIndex = 0;
  scroller.setAttribute('role', 'tree');
  scroller.setAttribute('aria-label', TREE_LABEL);
  const root = el('div', 'timeline', minimap, axis, el('div', 'rows-area', rows, scroller));

  /** The minimap's static image, for one model at one size; rebuilt when either changes. */
  let minimapImage: { model: ViewState['model']; width: number; image: HTMLCanvasElement } | null =
    null;
  let shown: Pick<ViewState, 'visible' | 'model' | 'selected' | 'hover'> | undefined;

  const map = (s: ViewState) => scrollMap(s.visible.length, ROW_HEIGHT, scroller.clientHeight);

  return {
    el: root,
    scroller,
    axis,
    minimap,
    resetMinimap: () => {
      minimapImage = null;
    },
    render(s) {
      if (s.model !== null && (shown?.hover !== s.hover || shown.model !== s.model)) {
        // The hovered span's log lines, read as the browser's tooltip.
        const text = s.hover >= 0 ? logHoverText(s.model, s.hover) : '';
        if (text === '') scroller.removeAttribute('title');
        else scroller.title = text;
      }
      if (shown?.visible !== s.visible) {
        const m = scrollMap(s.visible.length, ROW_HEIGHT, scroller.clientHeight || 1);
        spacer.style.height = `${m.spacerPx}px`;
      }
      if (
        s.model !== null &&
        s.selected >= 0 &&
        (shown?.selected !== s.selected || shown.model !== s.model)
      ) {
        const p = s.model.payload;
        scroller.setAttribute('aria-activedescendant', '');
        scroller.setAttribute(
          'aria-label',
          [
            nameOf(s.model, s.selected),
            serviceOf(s.model, s.selected),
            formatDuration(p.duration[s.selected] as number),
            logCountText(s.model, s.selected),
          ]
            .filter((t) => t !== '')
            .join(', '),
        );
      } else if (s.selected < 0 && shown !== undefined && shown.selected >= 0) {
        scroller.setAttribute('aria-label', TREE_LABEL);
      }
      shown = s;
    },
    changed(s, p) {
      return (
        s.model !== p.model ||
        s.visible !== p.visible ||
        s.collapsed !== p.collapsed ||
        s.filter !== p.filter ||
        s.selected !== p.selected ||
        s.hover !== p.hover ||
        s.window !== p.window ||
        s.treeWidth !== p.treeWidth ||
        s.showCritical !== p.showCritical ||
        s.detailsWidth !== p.detailsWidth ||
        s.compare !== p.compare
      );
    },
    scroll(e, s) {
      if (e.to === 'top') {
        scroller.scrollTop = 0;
      } else if (e.to === 'index') {
        scroller.scrollTop = map(s).topOf(e.index);
      } else {
        // Into view only when it is not (near an edge counts as not).
        const i = indexOfRow(s.visible, e.row);
        if (i < 0) return;
        const h = scroller.clientHeight;
        const m = scrollMap(s.visible.length, ROW_HEIGHT, h);
        const top = m.rowAt(scroller.scrollTop);
        const rowsOnScreen = h / ROW_HEIGHT;
        if (i < top + 1 || i > top + rowsOnScreen - 2) {
          scroller.scrollTop = m.topOf(Math.max(0, i - rowsOnScreen / 3));
        }
      }
    },
    draw(s, theme) {
      const model = s.model;
      const t0 = performance.now();
      const dpr = window.devicePixelRatio || 1;
      const size = (
        c: HTMLCanvasElement,
        w: number,
        h: number,
      ): CanvasRenderingContext2D | null => {
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
      const width = scroller.clientWidth;
      const height = scroller.clientHeight;
      if (model === null || width === 0) return;

      const m = scrollMap(s.visible.length, ROW_HEIGHT, height);
      const top = m.rowAt(scroller.scrollTop);
      const treeWidth = treeWidthIn(s, width);

      const rowsCtx = size(rows, width, height);
      if (rowsCtx !== null) {
        drawRows(
          rowsCtx,
          width,
          height,
          {
            model,
            visible: s.visible,
            top,
            collapsed: s.collapsed,
            matches: s.filter.matches,
            selected: s.selected,
            hover: s.hover,
            window: s.window,
            treeWidth,
            showCritical: s.showCritical,
            ...(s.compare.kind === 'shown' && s.compare.rowDelta !== undefined
              ? { compare: { rowDelta: s.compare.rowDelta, against: againstText(s) } }
              : {}),
          },
          theme,
          dpr,
        );
      }
      const axisCtx = size(axis, width, AXIS_HEIGHT);
      if (axisCtx !== null) {
        const title =
          s.filter.mask !== null ? `${s.visible.length.toLocaleString()} shown` : 'Span';
        drawAxis(axisCtx, width, AXIS_HEIGHT, s.window, treeWidth, theme, title);
      }
      const mm = size(minimap, width, MINIMAP_HEIGHT);
      if (mm !== null) {
        if (minimapImage === null || minimapImage.model !== model || minimapImage.width !== width) {
          minimapImage = {
            model,
            width,
            image: buildMinimap(model, width * dpr, MINIMAP_HEIGHT * dpr, theme),
          };
        }
        const firstIdx = Math.floor(top);
        const lastIdx = Math.min(s.visible.length - 1, Math.floor(top + height / ROW_HEIGHT));
        drawMinimap(
          mm,
          width,
          MINIMAP_HEIGHT,
          minimapImage.image,
          model,
          s.window,
          (s.visible[firstIdx] as number | undefined) ?? 0,
          (s.visible[Math.max(0, lastIdx)] as number | undefined) ?? 0,
          theme,
        );
      }
      const detail: PaintedDetail = {
        traceId: model.payload.traceId,
        version: model.payload.version,
        spanCount: model.payload.spanCount,
        drawMs: performance.now() - t0,
      };
      window.dispatchEvent(new CustomEvent(PAINTED_EVENT, { detail }));
    },
  };
}
