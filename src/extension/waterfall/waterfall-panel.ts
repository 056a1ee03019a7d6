/**
 * The host side of the waterfall webview: one `WebviewPanel` that loads the webview bundle
 * (`dist/webview/waterfall.js` / `.css`) under a strict Content-Security-Policy, and speaks the
 * typed protocol of `src/protocol/messages.ts`.
 *
 * Invariants:
 * - Nothing is posted before the webview's `ready` (a message posted earlier would be lost);
 *   `ready` may come again after the webview reloads, and gets the full state again.
 * - Every incoming message goes through `isWebviewMessage`; anything else is dropped.
 * - After a window reload VS Code restores an open panel through the serializer
 *   (`registration.ts`); `revive` adopts it and shows the trace the webview remembered
 *   (`WaterfallMemory`, from its `setState`).
 * - A details or go-to-source request names the trace version it was made against. The host
 *   keeps the analyses of the last payloads it posted, so a request about rows the webview
 *   shows is answered from exactly those rows even if the trace has grown since.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { TraceAnalysis } from '../../core/analysis/analyze-trace.js';
import type { TraceEngine, EngineChange } from '../../core/engine.js';
import {
  buildTracePayload,
  rowOfSpan,
  spanAtRow,
  traceSummaryPayload,
} from '../../core/api/trace-payload.js';
import { buildSpanDetails } from '../../core/api/span-details-view.js';
import { searchAttributes } from '../../core/api/attribute-search.js';
import { spanLogLines } from '../../core/api/span-logs.js';
import { answerCompare } from '../../core/api/compare-payload.js';
import { metricsStrip } from '../../core/api/metrics-strip.js';
import {
  isWebviewMessage,
  type HostMessage,
  type SpanDetails,
  type WaterfallMemory,
  type WebviewMessage,
} from '../../protocol/messages.js';
import type { TraceInsightsSource } from '../insights/insights-model.js';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import type { SourceLocator } from '../shared/source-locator.js';
import { WATERFALL_VIEW_TYPE } from './view-type.js';

/** Updates of the shown trace are sent at most this often (a growing trace changes constantly). */
const UPDATE_INTERVAL_MS = 50;
/** The trace list is sent at most this often. */
const LIST_INTERVAL_MS = 300;
const LIST_LIMIT = 200;
/** Posted payloads whose analyses are kept for requests (per panel). */
const POSTED_KEEP = 8;
/** The side panel's insights are sent at most this often (following live opens many traces). */
const INSIGHTS_INTERVAL_MS = 300;
/**
 * How often the shown trace's log count is looked at (one map lookup): log records come on
 * their own schedule, often after the trace's last span, and the engine's trace changes do not
 * announce them, so new lines re-post the trace with their marks.
 */
const LOG_CHECK_INTERVAL_MS = 1000;

export interface ShowOptions {
  /** Trace to open; the most recent one when absent. */
  traceId?: string;
  /** Span to select in it. */
  spanId?: string;
  /** Where the side panel's insights come from (kept for the panel's life once given). */
  insights?: TraceInsightsSource;
}

export class WaterfallPanel implements vscode.Disposable {
  private static current: WaterfallPanel | undefined;

  private readonly panel: vscode.WebviewPanel;
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private follow = true;
  private traceId: string | undefined;
  private pendingSelectSpan: string | undefined;
  private readonly posted: Array<{ traceId: string; version: number; analysis: TraceAnalysis }> =
    [];
  private updateTimer: NodeJS.Timeout | undefined;
  private lastUpdate = 0;
  private listTimer: NodeJS.Timeout | undefined;
  private insights: TraceInsightsSource | undefined;
  private insightsSub: vscode.Disposable | undefined;
  private insightsTimer: NodeJS.Timeout | undefined;
  private readonly logTimer: NodeJS.Timeout;
  /** The shown trace's log records when it was last posted. */
  private logsPosted = 0;

  /** Shows the panel (creating it once) with the trace asked for. */
  static show(
    extensionUri: vscode.Uri,
    receiver: ReceiverController,
    locator: SourceLocator,
    opts: ShowOptions = {},
  ): WaterfallPanel {
    let p = WaterfallPanel.current;
    if (p === undefined) {
      p = new WaterfallPanel(extensionUri, receiver, locator);
      WaterfallPanel.current = p;
    } else {
      p.panel.reveal(undefined, false);
    }
    if (opts.insights !== undefined) p.setInsights(opts.insights);
    if (opts.traceId !== undefined) {
      // Opening a chosen trace stops following, or the next new trace would replace it.
      p.setFollow(false);
      p.open(opts.traceId, opts.spanId);
    } else if (p.traceId === undefined) {
      p.openLatest();
    }
    return p;
  }

  /**
   * Takes over a panel VS Code restored after a window reload (`WebviewPanelSerializer`), and
   * shows what it showed: the trace in `memory` when it is still held and was not followed live,
   * else the latest.
   */
  static revive(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    receiver: ReceiverController,
    locator: SourceLocator,
    memory: WaterfallMemory,
    insights?: TraceInsightsSource,
  ): WaterfallPanel {
    WaterfallPanel.current?.dispose();
    const p = new WaterfallPanel(extensionUri, receiver, locator, panel);
    WaterfallPanel.current = p;
    if (insights !== undefined) p.setInsights(insights);
    const held =
      memory.traceId !== undefined && receiver.engine?.store.get(memory.traceId) !== undefined;
    if (memory.follow === false && held && memory.traceId !== undefined) {
      p.setFollow(false);
      p.open(memory.traceId);
    } else {
      p.openLatest();
    }
    return p;
  }

  /** The trace shown in the open panel, if any (for Export Trace). */
  static currentTraceId(): string | undefined {
    return WaterfallPanel.current?.traceId;
  }

  static disposeCurrent(): void {
    WaterfallPanel.current?.dispose();
  }

  /** Creates the panel, or adopts `restored` (a panel VS Code brought back after a reload). */
  private constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly receiver: ReceiverController,
    private readonly locator: SourceLocator,
    restored?: vscode.WebviewPanel,
  ) {
    const root = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    const webviewOptions: vscode.WebviewOptions = {
      enableScripts: true,
      localResourceRoots: [root, ...fontRoots(extensionUri)],
    };
    if (restored !== undefined) {
      this.panel = restored;
      this.panel.webview.options = webviewOptions;
    } else {
      this.panel = vscode.window.createWebviewPanel(
        WATERFALL_VIEW_TYPE,
        'Trace Waterfall',
        { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
        {
          ...webviewOptions,
          // The webview keeps a large trace's arrays; rebuilding them on every tab switch would
          // cost more than the memory.
          retainContextWhenHidden: true,
        },
      );
    }
    this.panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'stagelight.svg');
    this.panel.webview.html = this.html(root);
    this.logTimer = setInterval(() => this.checkSignals(), LOG_CHECK_INTERVAL_MS);
    this.disposables.push(
      this.panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
      this.panel.onDidDispose(() => this.dispose()),
      receiver.onDidChangeTraces((c) => this.onTraces(c)),
      receiver.onDidChangeState((s) => {
        if (s === 'stopped') {
          this.traceId = undefined;
          this.post({ type: 'cleared' });
        }
        if (s === 'running' || s === 'stopped') this.postReceiver();
      }),
    );
  }

  private html(root: vscode.Uri): string {
    const webview = this.panel.webview;
    const nonce = makeNonce();
    const script = webview.asWebviewUri(vscode.Uri.joinPath(root, 'waterfall.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(root, 'waterfall.css'));
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data:`,
      `style-src ${webview.cspSource} 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" nonce="${nonce}" href="${style.toString()}">
<title>Trace Waterfall</title>
</head>
<body>
<div id="stagelight-root"></div>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  private get engine(): TraceEngine | undefined {
    return this.receiver.engine;
  }

  private post(m: HostMessage): void {
    if (!this.ready) return;
    void this.panel.webview.postMessage(m);
  }

  private onMessage(m: unknown): void {
    if (!isWebviewMessage(m)) return;
    const msg: WebviewMessage = m;
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        this.posted.length = 0;
        this.post({ type: 'follow', follow: this.follow });
        this.postReceiver();
        this.postList();
        if (this.traceId !== undefined) this.postTrace('open', this.pendingSelectSpan);
        else this.openLatest();
        break;
      case 'selectTrace':
        this.setFollow(false);
        this.open(msg.traceId);
        break;
      case 'setFollow':
        this.follow = msg.follow;
        if (msg.follow) this.openLatest();
        break;
      case 'chooseMetrics':
        WaterfallPanel.metricKeys = msg.keys;
        this.postMetricsStrip(true);
        break;
      case 'spanDetails': {
        const details = this.details(msg.traceId, msg.version, msg.row);
        this.post({
          type: 'spanDetailsResponse',
          requestId: msg.requestId,
          details: details ?? null,
          ...(details === undefined
            ? { error: 'The span is no longer held (trace evicted or cleared).' }
            : {}),
        });
        break;
      }
      case 'attributeSearch': {
        const analysis = this.analysisFor(msg.traceId, msg.version);
        this.post({
          type: 'attributeSearchResponse',
          requestId: msg.requestId,
          rows:
            analysis === undefined
              ? null
              : searchAttributes(analysis, msg.terms, this.engine?.signals.logStore),
          ...(analysis === undefined
            ? { error: 'The trace is no longer held, or changed: search again.' }
            : {}),
        });
        break;
      }
      case 'compare':
        this.post({
          type: 'compareResponse',
          requestId: msg.requestId,
          ...answerCompare(this.engine, msg),
        });
        break;
      case 'openSource': {
        const d = this.details(msg.traceId, msg.version, msg.row);
        if (d === undefined) {
          void vscode.window.showWarningMessage('Stagelight: that span is no longer held.');
          break;
        }
        void this.locator.reveal(d.service, d.name, d.source);
        break;
      }
    }
  }

  private setFollow(follow: boolean): void {
    if (this.follow === follow) return;
    this.follow = follow;
    this.post({ type: 'follow', follow });
  }

  private analysisFor(traceId: string, version: number): TraceAnalysis | undefined {
    const kept = this.posted.find((p) => p.traceId === traceId && p.version === version);
    if (kept !== undefined) return kept.analysis;
    const entry = this.engine?.store.get(traceId);
    return entry !== undefined && entry.version === version
      ? this.engine?.analyze(traceId)
      : undefined;
  }

  private details(traceId: string, version: number, row: number): SpanDetails | undefined {
    const analysis = this.analysisFor(traceId, version);
    if (analysis === undefined) return undefined;
    const span = spanAtRow(analysis, row);
    if (span === undefined) return undefined;
    const details = buildSpanDetails(span, row, analysis, analysis.criticalPath.durationMs);
    if (details.source === undefined) {
      // No code.* attributes on this span: the line that starts spans of its stage, if known.
      const known = this.locator.knownLocation(span.serviceName, span.name);
      if (known !== undefined) details.source = known;
    }
    const logs = this.engine?.signals.logStore;
    if (logs !== undefined) {
      details.logs = spanLogLines(logs, span.traceId, span.spanId, analysis.tree.startMs);
    }
    return details;
  }

  /** Shows a trace; `requested` when the user asked for it (not the latest while following). */
  private open(traceId: string, spanId?: string, requested = true): void {
    this.traceId = traceId.toLowerCase();
    this.pendingSelectSpan = spanId;
    this.postTrace('open', spanId, requested);
  }

  private openLatest(): void {
    const latest = this.engine?.store.list({ limit: 1 })[0];
    if (latest !== undefined && latest.traceId !== this.traceId) {
      this.open(latest.traceId, undefined, false);
    }
  }

  private postTrace(reason: 'open' | 'update', selectSpanId?: string, requested = false): void {
    const engine = this.engine;
    if (!this.ready || engine === undefined || this.traceId === undefined) return;
    const entry = engine.store.get(this.traceId);
    const analysis = entry === undefined ? undefined : engine.analyze(entry.traceId);
    if (entry === undefined || analysis === undefined) return;
    const trace = buildTracePayload(entry, analysis, {
      hasSource: (span) => this.locator.knownLocation(span.serviceName, span.name) !== undefined,
      logs: engine.signals.logStore,
    });
    this.logsPosted = engine.signals.logStore.countFor(entry.traceId);
    this.posted.push({ traceId: entry.traceId, version: trace.version, analysis });
    if (this.posted.length > POSTED_KEEP) this.posted.shift();
    let selectRow: number | undefined;
    if (selectSpanId !== undefined) {
      const row = rowOfSpan(analysis, selectSpanId);
      if (row >= 0) selectRow = row;
      this.pendingSelectSpan = undefined;
    }
    this.lastUpdate = Date.now();
    // Typed arrays are structured-cloned by postMessage, not turned into JSON.
    this.post({
      type: 'trace',
      trace,
      reason,
      ...(selectRow !== undefined ? { selectRow } : {}),
      ...(requested ? { requested: true } : {}),
    });
    if (reason === 'open') this.scheduleInsights();
    // A live trace grows, and its range with it: the strip follows, posted when it changed.
    this.postMetricsStrip(reason === 'open');
  }

  /** The metrics the user chose for the strip (this session); undefined: the default ones. */
  private static metricKeys: string[] | undefined;

  /** The metrics strip last posted (its JSON), to post it again only when it changed. */
  private stripPosted: string | undefined;
  /** What the strip was last computed from: trace, range, chosen metrics, store version. */
  private stripInputs = '';

  /**
   * Posts the metrics strip over the shown trace's time range; unless `force`, only when it
   * differs from the one last posted (the next export of a metric often lands after the trace
   * ended, and the strip then draws the range between the two readings).
   */
  private postMetricsStrip(force: boolean): void {
    const engine = this.engine;
    const entry = this.traceId === undefined ? undefined : engine?.store.get(this.traceId);
    if (!this.ready || engine === undefined || entry === undefined) return;
    const store = engine.signals.metricStore;
    const inputs = JSON.stringify([
      entry.traceId,
      entry.startMs,
      entry.endMs,
      WaterfallPanel.metricKeys ?? null,
      store.version,
    ]);
    if (!force && inputs === this.stripInputs) return;
    this.stripInputs = inputs;
    const strip = metricsStrip(store, entry.startMs, entry.endMs, WaterfallPanel.metricKeys);
    const json = JSON.stringify([entry.traceId, strip]);
    if (!force && json === this.stripPosted) return;
    this.stripPosted = json;
    this.post({ type: 'metricsStrip', traceId: entry.traceId, strip });
  }

  private setInsights(source: TraceInsightsSource): void {
    if (this.insights === source) return;
    this.insightsSub?.dispose();
    this.insights = source;
    this.insightsSub = source.onDidChange(() => this.scheduleInsights());
    this.scheduleInsights();
  }

  /** Posts the insights for the shown trace, at most every `INSIGHTS_INTERVAL_MS`. */
  private scheduleInsights(): void {
    if (this.insightsTimer !== undefined || this.insights === undefined) return;
    this.insightsTimer = setTimeout(() => {
      this.insightsTimer = undefined;
      if (this.traceId === undefined) return;
      const n = this.insights?.notificationFor(this.traceId);
      if (n !== undefined) this.post(n);
    }, INSIGHTS_INTERVAL_MS);
  }

  private onTraces(c: EngineChange): void {
    if (c.cleared) {
      this.traceId = undefined;
      this.posted.length = 0;
      this.post({ type: 'cleared' });
    }
    const touched = c.added.length > 0 || c.updated.length > 0 || c.evicted.length > 0 || c.cleared;
    if (touched) this.scheduleList();
    if (this.follow && c.added.length > 0) {
      // The newest trace by start time: added ids are in arrival order, which is close enough
      // and costs nothing.
      const newest = c.added[c.added.length - 1]!;
      if (newest !== this.traceId) {
        this.traceId = newest;
        this.scheduleUpdate('open');
        return;
      }
    }
    if (
      this.traceId !== undefined &&
      (c.updated.includes(this.traceId) || c.added.includes(this.traceId))
    ) {
      this.scheduleUpdate('update');
    }
  }

  /**
   * Re-posts the shown trace when log records of it came or went since it was posted, and the
   * metrics strip when data points came or went since it was computed.
   */
  private checkSignals(): void {
    const signals = this.engine?.signals;
    if (!this.ready || signals === undefined || this.traceId === undefined) return;
    if (signals.logStore.countFor(this.traceId) !== this.logsPosted) this.scheduleUpdate('update');
    this.postMetricsStrip(false);
  }

  private pendingReason: 'open' | 'update' | undefined;

  /** Posts the shown trace now, or after `UPDATE_INTERVAL_MS` since the last post. */
  private scheduleUpdate(reason: 'open' | 'update'): void {
    if (reason === 'open' || this.pendingReason === undefined) this.pendingReason = reason;
    if (this.updateTimer !== undefined) return;
    const wait = Math.max(0, this.lastUpdate + UPDATE_INTERVAL_MS - Date.now());
    this.updateTimer = setTimeout(() => {
      this.updateTimer = undefined;
      const r = this.pendingReason ?? 'update';
      this.pendingReason = undefined;
      this.postTrace(r);
    }, wait);
  }

  private scheduleList(): void {
    if (this.listTimer !== undefined) return;
    this.listTimer = setTimeout(() => {
      this.listTimer = undefined;
      this.postList();
    }, LIST_INTERVAL_MS);
  }

  /** Where the receiver listens, for the empty state: the bound ports, or null while stopped. */
  private postReceiver(): void {
    const e = this.receiver.endpoints;
    this.post({
      type: 'receiver',
      endpoints: e === undefined ? null : { grpc: e.grpc, http: e.http },
    });
  }

  private postList(): void {
    const engine = this.engine;
    const traces =
      engine === undefined ? [] : engine.store.list({ limit: LIST_LIMIT }).map(traceSummaryPayload);
    this.post({ type: 'traceList', traces });
  }

  dispose(): void {
    if (WaterfallPanel.current === this) WaterfallPanel.current = undefined;
    if (this.updateTimer !== undefined) clearTimeout(this.updateTimer);
    if (this.listTimer !== undefined) clearTimeout(this.listTimer);
    if (this.insightsTimer !== undefined) clearTimeout(this.insightsTimer);
    clearInterval(this.logTimer);
    this.insightsSub?.dispose();
    for (const d of this.disposables) d.dispose();
    this.disposables.length = 0;
    this.panel.dispose();
  }
}

/**
 * Where the webview's fonts are: esbuild's `file` loader writes the codicon font to the output
 * root (`dist/`), beside the bundles rather than in `dist/webview/`. When it is there, `dist/`
 * itself must be a root (a file URI is not accepted as one); once the font moves into
 * `dist/webview/` this adds nothing and the root stays narrow.
 */
function fontRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  const dist = vscode.Uri.joinPath(extensionUri, 'dist');
  try {
    return fs.readdirSync(dist.fsPath).some((f) => /\.(ttf|woff2?)$/.test(f)) ? [dist] : [];
  } catch {
    return [];
  }
}

function makeNonce(): string {
  const bytes = new Uint8Array(24);
  globalThis.crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64').replace(/[+/=]/g, '');
}
