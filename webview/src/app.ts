/**
 * The waterfall app, a coordinator: it owns the store and wires the rest to it. Host
 * notifications and answers come in as actions; the DOM (`ui/view.ts`) shows each new state;
 * the state's effects go out to the host and the DOM (`effects.ts`); input bindings (`input/`)
 * turn events into actions; the frame scheduler draws the canvases at most once per animation
 * frame. What an action does is decided in `state/`, what the waterfall looks like in `ui/` and
 * `render/`; nothing those modules reach calls back into this one.
 */

import type { HostClient } from './host/host-client.js';
import { createEffectRunner } from './effects.js';
import { bindKeyboard } from './input/keyboard.js';
import { bindMinimapBrush } from './input/minimap-brush.js';
import { bindColumnSplitter, bindPanelSplitter } from './input/splitters.js';
import { bindTreePointer } from './input/tree-pointer.js';
import { bindWheel } from './input/wheel.js';
import { createFrameScheduler, type FrameScheduler } from './render/frame-scheduler.js';
import { ROW_HEIGHT } from './render/draw.js';
import { createStore, type Store } from './state/store.js';
import { persistedChanged, persistedOf, type PersistedState } from './state/persisted.js';
import { initialViewState } from './state/view-state.js';
import { readTheme, watchTheme } from './ui/theme.js';
import { createView, type View } from './ui/view.js';
import { createMetricsStrip } from './ui/metrics-strip.js';

export { PAINTED_EVENT, type PaintedDetail } from './ui/timeline.js';

/** Where the webview's layout and trace are remembered across reloads (`getState`/`setState`). */
export interface AppMemory {
  readonly saved: PersistedState;
  save(state: PersistedState): void;
}

export class App {
  private readonly store: Store;
  private readonly view: View;
  private readonly frames: FrameScheduler;

  constructor(container: HTMLElement, host: HostClient, memory?: AppMemory) {
    const store = createStore(initialViewState(memory?.saved));
    const view = createView(container, store.dispatch);
    const { timeline } = view;
    let theme = readTheme();
    const frames = createFrameScheduler(() => timeline.draw(store.getState(), theme));
    this.store = store;
    this.view = view;
    this.frames = frames;

    // Listeners run in this order: the DOM shows the state first, so that its effects act on
    // that DOM (a scroll needs the new scroll range), then a frame is asked for if it shows.
    store.subscribe(view.render);
    store.subscribe(createEffectRunner(host, store.dispatch, view));
    store.subscribe((s, previous) => {
      if (timeline.changed(s, previous)) frames.invalidate();
    });
    store.subscribe((s, previous) => {
      if (persistedChanged(s, previous)) memory?.save(persistedOf(s));
    });
    host.onNotification((message) => store.dispatch({ type: 'host', message }));
    // The metrics strip sits above the waterfall; it draws what the host posts for it.
    const strip = createMetricsStrip({
      chooseMetrics: (keys) => host.command({ type: 'chooseMetrics', keys }),
      openTrace: (traceId) => host.command({ type: 'selectTrace', traceId }),
    });
    host.onNotification((m) => {
      if (m.type === 'metricsStrip') strip.show(m.strip, m.traceId);
      else if (m.type === 'cleared') strip.hide();
    });
    // It shows the waterfall's time window: zoom and pan move it too.
    store.subscribe((s) => {
      const p = s.model?.payload;
      if (p !== undefined) {
        strip.setWindow(p.traceId, p.startMs + s.window.start, p.startMs + s.window.end);
      }
    });
    timeline.el.parentElement?.before(strip.el);

    bindTreePointer(timeline.scroller, store);
    bindWheel(timeline.scroller, store);
    bindKeyboard(timeline.scroller, store);
    bindMinimapBrush(timeline.minimap, store);
    bindColumnSplitter(timeline.axis, timeline.scroller, store);
    bindPanelSplitter(view.splitter, store);
    // The scroll position is the DOM's: scrolling only needs a new frame.
    timeline.scroller.addEventListener('scroll', () => frames.invalidate(), { passive: true });
    watchTheme(() => {
      theme = readTheme();
      timeline.resetMinimap();
      frames.invalidate();
    });
    new ResizeObserver(() => {
      timeline.resetMinimap();
      store.dispatch({ type: 'resized', width: timeline.scroller.clientWidth });
      frames.invalidate();
    }).observe(timeline.el);

    view.render(store.getState());
    store.dispatch({
      type: 'resizeDetails',
      px: store.getState().detailsWidth,
      windowWidth: window.innerWidth,
    });
  }

  /** Draws one frame now (for drivers timing frames). */
  draw(): void {
    this.frames.flush();
  }

  /** Scrolls the rows by `rows` (for drivers). */
  scrollBy(rows: number): void {
    this.view.timeline.scroller.scrollTop += rows * ROW_HEIGHT;
  }

  /** Zooms around the window's middle (for drivers). */
  zoomBy(factor: number): void {
    this.store.dispatch({ type: 'zoom', factor });
  }
}
