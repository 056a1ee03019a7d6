/**
 * The harness page's stand-in for the extension host, loaded before the webview bundle: it
 * defines `acquireVsCodeApi`, answers the webview's messages and feeds it traces, so the real
 * bundle runs in a plain browser for benchmarks and browser tests.
 *
 * URL parameters:
 *   spans=N     open a generated trace of N spans once the webview is ready
 *   live=1      forward host messages from the serving process (Server-Sent Events on /events)
 *   select=ROW  select that row on open (as a CodeLens click would)
 * `window.stagelightHarness` lets a driver post traces and read what the webview sent.
 */

import {
  TRACE_PAYLOAD_COLUMNS,
  type HostMessage,
  type SpanDetails,
  type TracePayload,
  type WebviewMessage,
} from '../../src/protocol/messages.js';
import { syntheticDetails, syntheticTrace } from './synthetic-trace.js';

interface Harness {
  /** Every message the webview posted, in order. */
  sent: WebviewMessage[];
  ready: boolean;
  current: TracePayload | null;
  /** Posts a generated trace; resolves with ms from posting to the first frame that drew it. */
  open(spans: number, version?: number): Promise<number>;
  post(m: HostMessage): void;
  /**
   * Details to answer with instead of the generated ones, by `${traceId}/${row}`: a test sets
   * what the real host would (the core's details of a trace it posted).
   */
  details: Record<string, SpanDetails>;
  /** Painted frames' draw times (ms) since the last reset. */
  drawMs: number[];
  resetFrames(): void;
  /** Wall-clock (Date.now()) of the first paint of each (traceId, spanCount), for live runs. */
  livePaints: { traceId: string; spanCount: number; at: number }[];
  /**
   * Scrolls (`steps` frames: small moves and page jumps), then zooms with ctrl+wheel (`steps`
   * frames), one input per animation frame; returns each frame's draw time and the intervals.
   */
  exerciseFrames(steps: number): Promise<{ scroll: number[]; zoom: number[]; intervals: number[] }>;
}

const params = new URLSearchParams(location.search);

/** JSON has no typed arrays: the live stream sends plain arrays, turned back here. */
function revive(m: HostMessage): HostMessage {
  if (m.type !== 'trace') return m;
  const t = m.trace as unknown as Record<string, unknown>;
  for (const [k, Ctor] of Object.entries(TRACE_PAYLOAD_COLUMNS)) {
    if (Array.isArray(t[k])) t[k] = Ctor.from(t[k] as number[]);
  }
  return m;
}

const harness: Harness = {
  sent: [],
  ready: false,
  current: null,
  details: {},
  drawMs: [],
  livePaints: [],
  resetFrames() {
    this.drawMs = [];
  },
  post(m) {
    if (m.type === 'trace') this.current = m.trace;
    window.postMessage(m, '*');
  },
  async exerciseFrames(steps) {
    const scroller = document.querySelector('.scroller') as HTMLElement;
    const rect = scroller.getBoundingClientRect();
    const nextFrame = (): Promise<number> => new Promise((r) => requestAnimationFrame(r));
    const intervals: number[] = [];
    let last = await nextFrame();
    const step = async (act: () => void): Promise<void> => {
      act();
      // The view's own rAF callback was registered by act(), so it draws in this frame first.
      const now = await nextFrame();
      intervals.push(now - last);
      last = now;
    };
    this.resetFrames();
    for (let i = 0; i < steps; i++) {
      await step(() => {
        scroller.scrollTop += i % 25 === 0 ? scroller.clientHeight * 3 : 66;
      });
    }
    const scroll = [...this.drawMs];
    this.resetFrames();
    for (let i = 0; i < steps; i++) {
      await step(() => {
        const zoomIn = Math.floor(i / 25) % 2 === 0;
        scroller.dispatchEvent(
          new WheelEvent('wheel', {
            deltaY: zoomIn ? -120 : 120,
            ctrlKey: true,
            clientX: rect.left + rect.width * 0.7,
            clientY: rect.top + 100,
            bubbles: true,
            cancelable: true,
          }),
        );
      });
    }
    return { scroll, zoom: [...this.drawMs], intervals };
  },
  open(spans, version = 1) {
    const trace = syntheticTrace(spans, { version });
    return new Promise((resolve) => {
      const t0 = performance.now();
      const onPaint = (e: Event): void => {
        const d = (e as CustomEvent<{ version: number; spanCount: number }>).detail;
        if (d.spanCount !== trace.spanCount || d.version !== version) return;
        window.removeEventListener('stagelight:painted', onPaint);
        resolve(performance.now() - t0);
      };
      window.addEventListener('stagelight:painted', onPaint);
      this.post({ type: 'trace', trace, reason: 'open' });
    });
  },
};

const seen = new Set<string>();
window.addEventListener('stagelight:painted', (e) => {
  const d = (e as CustomEvent<{ traceId: string; spanCount: number; drawMs: number }>).detail;
  harness.drawMs.push(d.drawMs);
  const key = `${d.traceId}/${d.spanCount}`;
  if (!seen.has(key)) {
    seen.add(key);
    harness.livePaints.push({ traceId: d.traceId, spanCount: d.spanCount, at: Date.now() });
  }
});

function onWebviewMessage(m: WebviewMessage): void {
  harness.sent.push(m);
  switch (m.type) {
    case 'ready': {
      harness.ready = true;
      const n = Number(params.get('spans') ?? '0');
      if (n > 0) {
        const select = params.get('select');
        const trace = syntheticTrace(n);
        harness.post({
          type: 'trace',
          trace,
          reason: 'open',
          ...(select !== null ? { selectRow: Number(select) } : {}),
        });
        harness.post({
          type: 'traceList',
          traces: [
            {
              traceId: trace.traceId,
              rootService: 'rag-gateway',
              rootName: 'batch_inference',
              startMs: trace.startMs,
              durationMs: trace.durationMs,
              spanCount: trace.spanCount,
              errorCount: 2,
            },
          ],
        });
      }
      if (params.get('live') === '1') {
        const events = new EventSource('/events');
        events.onmessage = (e) => harness.post(revive(JSON.parse(e.data as string) as HostMessage));
      }
      break;
    }
    case 'spanDetails': {
      const t = harness.current;
      const ok = t !== null && t.traceId === m.traceId && m.row < t.spanCount;
      // Answer asynchronously, as a real host would.
      setTimeout(() => {
        harness.post({
          type: 'spanDetailsResponse',
          requestId: m.requestId,
          details: ok
            ? (harness.details[`${m.traceId}/${m.row}`] ?? syntheticDetails(t, m.row))
            : null,
          ...(ok ? {} : { error: 'This span is no longer available.' }),
        });
      }, 5);
      break;
    }
    default:
      break;
  }
}

// The webview's remembered state outlives a reload of the page, as VS Code keeps it for the
// panel; a new page starts without.
const STATE_KEY = 'stagelight-harness-state';
let state: unknown = JSON.parse(sessionStorage.getItem(STATE_KEY) ?? 'null');
(window as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
  postMessage: (m: WebviewMessage) => onWebviewMessage(m),
  getState: () => state,
  setState: (s: unknown) => {
    state = s;
    sessionStorage.setItem(STATE_KEY, JSON.stringify(s));
  },
});
(window as unknown as { stagelightHarness: Harness }).stagelightHarness = harness;
