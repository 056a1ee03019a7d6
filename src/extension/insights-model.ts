/**
 * The editor's copy of the engine's insights: one `InsightsReport` recomputed at most about once
 * a second, shared by the Insights view, the lenses, the waterfall's side panel and the
 * regression notifications, so the diagnoses run once however many places show them.
 *
 * Off the hot path: ingest only marks the report stale (the engine's coalesced change events);
 * the diagnoses run in a timer a second later, and a computation that takes long spaces the
 * next ones out (at most ~20% of the extension host's time).
 *
 * Baselines: the engine holds the pinned baseline; this keeps a copy in the workspace state so
 * that a receiver restart or a window reload keeps comparing against it. With
 * `stagelight.insights.baselinePerCommit`, a change of the workspace's HEAD commit pins the
 * traces received so far (made by the previous commit's code) as the baseline, labelled with
 * that commit's short sha; the next runs then show their change against it.
 */
import * as vscode from 'vscode';
import type {
  Baseline,
  Finding,
  InsightsReport,
  SamplingOutcome,
  SamplingPolicy,
} from '../core/analysis/insights.js';
import type { TraceEngine } from '../core/engine.js';
import type { InsightsNotification } from '../protocol/messages.js';
import { lensSettings } from './config.js';
import {
  baselineChanges,
  insightsForTrace,
  NotifyGate,
  regressionsToNotify,
  samplingLosses,
  stageId,
  type SamplingLosses,
  type SamplingTrace,
  type StageBaselineChange,
} from './insights-format.js';
import { readHeadCommit, shortSha } from './insights-head.js';
import type { ReceiverController } from './receiver.js';

const REFRESH_MS = 1000;
/** A stage's regression is announced at most this often. */
const NOTIFY_INTERVAL_MS = 5 * 60_000;
/** A per-commit baseline needs at least this many traces; fewer keep the previous baseline. */
const MIN_BASELINE_TRACES = 5;
const BASELINE_STATE_KEY = 'stagelight.insights.baseline';
/** The engine's own limit on the traces it diagnoses (`recentTraces`). */
const RECENT_LIMIT = 2000;

export interface InsightsSettings {
  readonly notifications: boolean;
  readonly baselinePerCommit: boolean;
}

export function insightsSettings(): InsightsSettings {
  const c = vscode.workspace.getConfiguration('stagelight.insights');
  return {
    notifications: c.get<boolean>('notifications', true) !== false,
    baselinePerCommit: c.get<boolean>('baselinePerCommit', true) !== false,
  };
}

/** What the lenses need: a stage's current findings and its change against the baseline. */
export interface StageInsightsSource {
  readonly onDidChange: vscode.Event<void>;
  findingsFor(service: string, name: string): readonly Finding[];
  baselineChange(service: string, name: string): StageBaselineChange | undefined;
  readonly baseline: Baseline | undefined;
}

/** What the waterfall panel needs: the notification for the trace it shows. */
export interface TraceInsightsSource {
  readonly onDidChange: vscode.Event<void>;
  notificationFor(traceId: string): InsightsNotification | undefined;
}

/** The parts of the built-in git extension's API (`vscode.git`, version 1) used here. */
interface GitRepositoryLike {
  readonly rootUri: vscode.Uri;
  readonly state: {
    readonly HEAD: { readonly commit?: string } | undefined;
    readonly onDidChange: vscode.Event<void>;
  };
}
interface GitApiLike {
  readonly repositories: readonly GitRepositoryLike[];
  readonly onDidOpenRepository: vscode.Event<GitRepositoryLike>;
}

export class InsightsModel implements StageInsightsSource, TraceInsightsSource, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private headDisposables: vscode.Disposable[] = [];
  private _report: InsightsReport | undefined;
  private byStage = new Map<string, Finding[]>();
  private changes = new Map<string, StageBaselineChange>();
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastRun = 0;
  private intervalMs = REFRESH_MS;
  private lastComputeMs = 0;
  private readonly gate = new NotifyGate(NOTIFY_INTERVAL_MS);
  private head: string | undefined;
  private cached: { traceId: string; generation: number; n: InsightsNotification } | undefined;

  constructor(
    private readonly receiver: ReceiverController,
    private readonly state: vscode.Memento,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      this.emitter,
      receiver.onDidChangeTraces(() => this.refreshSoon()),
      receiver.onDidChangeState((s) => {
        if (s === 'running') {
          this.restoreBaseline();
          this.refreshSoon(0);
        } else if (s === 'stopped') {
          this.setReport(undefined);
        }
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('stagelight.insights.baselinePerCommit')) void this.trackHead();
      }),
    );
    void this.trackHead();
  }

  /** The latest report; undefined while the receiver is stopped or before the first one. */
  get report(): InsightsReport | undefined {
    return this._report;
  }

  /** Milliseconds the last computation took (diagnoses and baseline comparison). */
  get computeMs(): number {
    return this.lastComputeMs;
  }

  get baseline(): Baseline | undefined {
    return this.receiver.engine?.baseline;
  }

  findingsFor(service: string, name: string): readonly Finding[] {
    return this.byStage.get(stageId(service, name)) ?? [];
  }

  baselineChange(service: string, name: string): StageBaselineChange | undefined {
    return this.changes.get(stageId(service, name));
  }

  /** Recomputes after `delayMs` (default: a second, or longer when computing is slow). */
  refreshSoon(delayMs?: number): void {
    const wait = delayMs ?? Math.max(REFRESH_MS, this.lastRun + this.intervalMs - Date.now());
    if (this.timer !== undefined) {
      if (delayMs === undefined) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.compute();
    }, wait);
  }

  /** Recomputes now (the commands that change the baseline want the result at once). */
  refreshNow(): InsightsReport | undefined {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.compute();
    return this._report;
  }

  private compute(): void {
    const engine = this.receiver.engine;
    if (engine === undefined) {
      this.setReport(undefined);
      return;
    }
    const t0 = performance.now();
    let report: InsightsReport;
    try {
      report = engine.insights();
      this.changes =
        engine.baseline === undefined
          ? new Map()
          : baselineChanges(currentSummary(engine), engine.baseline);
    } catch (e) {
      this.log.error(`insights: ${(e as Error).stack ?? String(e)}`);
      return;
    }
    this.lastComputeMs = performance.now() - t0;
    this.lastRun = Date.now();
    // A slow computation spaces the next ones out rather than taking the host's time.
    this.intervalMs = Math.max(REFRESH_MS, 5 * this.lastComputeMs);
    this.log.trace(
      `insights: ${report.findings.length} findings over ${report.traces} traces in ${this.lastComputeMs.toFixed(1)} ms`,
    );
    this.setReport(report);
    this.notify(report);
  }

  private setReport(report: InsightsReport | undefined): void {
    this._report = report;
    this.generation++;
    this.cached = undefined;
    const byStage = new Map<string, Finding[]>();
    for (const f of report?.findings ?? []) {
      if (f.stage === undefined) continue;
      const key = stageId(f.stage.service, f.stage.name);
      const list = byStage.get(key);
      if (list === undefined) byStage.set(key, [f]);
      else list.push(f);
    }
    this.byStage = byStage;
    if (report === undefined) this.changes = new Map();
    this.emitter.fire();
  }

  private notify(report: InsightsReport): void {
    if (!insightsSettings().notifications) return;
    // Two at most at once: a pipeline-wide slowdown regresses several stages together.
    for (const f of regressionsToNotify(report, this.gate, Date.now()).slice(0, 2)) {
      const stage = f.stage!;
      const open = 'Open Slowest Trace';
      const show = 'Show Insights';
      void vscode.window
        .showWarningMessage(`Stagelight: ${stage.service} stage regressed: ${f.title}`, open, show)
        .then((pick) => {
          if (pick === open) {
            const slowest = this.slowestTrace(f.traceIds);
            void (slowest !== undefined
              ? vscode.commands.executeCommand('stagelight.openTrace', slowest.traceId)
              : vscode.commands.executeCommand('stagelight.openStage', stage.service, stage.name));
          } else if (pick === show) {
            void vscode.commands.executeCommand('stagelight.showInsights');
          }
        });
    }
  }

  /** The slowest of these traces that is still held. */
  slowestTrace(traceIds: readonly string[]): { traceId: string; durationMs: number } | undefined {
    const store = this.receiver.engine?.store;
    let best: { traceId: string; durationMs: number } | undefined;
    for (const id of traceIds) {
      const t = store?.get(id);
      if (t === undefined) continue;
      if (best === undefined || t.durationMs > best.durationMs)
        best = { traceId: t.traceId, durationMs: t.durationMs };
    }
    return best;
  }

  /** The insights notification for a trace (cached until the next report). */
  notificationFor(traceId: string): InsightsNotification | undefined {
    const engine = this.receiver.engine;
    const report = this._report;
    if (engine === undefined || report === undefined) return undefined;
    const c = this.cached;
    if (c !== undefined && c.traceId === traceId && c.generation === this.generation) return c.n;
    const analysis = engine.analyze(traceId);
    const stages = new Set<string>();
    for (const s of analysis?.tree.spans ?? []) stages.add(stageId(s.serviceName, s.name));
    const explain = analysis === undefined ? [] : (engine.explain(traceId) ?? []);
    const n = insightsForTrace(report, traceId, stages, explain, engine.baseline);
    this.cached = { traceId, generation: this.generation, n };
    return n;
  }

  // ----- baselines ------------------------------------------------------------------------

  /**
   * Pins the recent traces as the baseline. With `minTraces`, a window with fewer traces keeps
   * the previous baseline and returns undefined.
   */
  pin(label: string, minTraces = 1): Baseline | undefined {
    const engine = this.receiver.engine;
    if (engine === undefined) return undefined;
    const previous = engine.baseline;
    const b = engine.pinBaseline(label);
    const traces = Math.max(0, ...b.stages.map((s) => s.count));
    if (traces < minTraces) {
      engine.baseline = previous;
      return undefined;
    }
    void this.state.update(BASELINE_STATE_KEY, b);
    this.refreshNow();
    return b;
  }

  clearBaseline(): void {
    const engine = this.receiver.engine;
    if (engine !== undefined) engine.baseline = undefined;
    void this.state.update(BASELINE_STATE_KEY, undefined);
    this.refreshNow();
  }

  /** Puts the stored baseline back into a (re)started engine. */
  private restoreBaseline(): void {
    const engine = this.receiver.engine;
    if (engine === undefined || engine.baseline !== undefined) return;
    const b = this.state.get<unknown>(BASELINE_STATE_KEY);
    if (isBaseline(b)) engine.baseline = b;
  }

  // ----- sampling what-if -------------------------------------------------------------------

  /** The engine's sampling outcome, with the slow and failed traces each policy would lose. */
  samplingWhatIf(
    policy: SamplingPolicy,
  ): { outcome: SamplingOutcome; losses: SamplingLosses } | undefined {
    const engine = this.receiver.engine;
    if (engine === undefined) return undefined;
    const outcome = engine.samplingWhatIf(policy);
    // The traces the engine looked at: updated within the statistics window, newest last.
    const cutoff = Date.now() - lensSettings().windowMinutes * 60_000;
    const traces: SamplingTrace[] = [];
    for (const t of engine.store.all()) {
      if (t.updatedAt < cutoff || t.spans.length === 0) continue;
      traces.push({
        traceId: t.traceId,
        durationMs: t.durationMs,
        hasError: t.errorCount > 0,
        rootName: (t.root ?? t.spans[0])?.name ?? '',
      });
    }
    const recent = traces.slice(-RECENT_LIMIT);
    return { outcome, losses: samplingLosses(recent, policy, outcome.slowThresholdMs) };
  }

  // ----- the workspace's HEAD commit --------------------------------------------------------

  /** The HEAD commit last seen (full sha), if known. */
  get headCommit(): string | undefined {
    return this.head;
  }

  private async trackHead(): Promise<void> {
    for (const d of this.headDisposables) d.dispose();
    this.headDisposables = [];
    if (!insightsSettings().baselinePerCommit) return;
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (folder === undefined || folder.uri.scheme !== 'file') return;
    const api = await gitApi();
    if (api !== undefined) {
      let attached = false;
      const attach = (repo: GitRepositoryLike): void => {
        attached = true;
        this.onHead(repo.state.HEAD?.commit);
        this.headDisposables.push(
          repo.state.onDidChange(() => this.onHead(repo.state.HEAD?.commit)),
        );
      };
      const root = folder.uri.fsPath;
      const inFolder = (r: GitRepositoryLike): boolean =>
        root === r.rootUri.fsPath || root.startsWith(r.rootUri.fsPath + '/');
      const repo = api.repositories.find(inFolder);
      if (repo !== undefined) attach(repo);
      else {
        this.headDisposables.push(
          api.onDidOpenRepository((r) => {
            if (!attached && inFolder(r)) attach(r);
          }),
        );
      }
      return;
    }
    // No git extension: read .git directly, again when its HEAD or branch refs change.
    const root = folder.uri.fsPath;
    const check = (): void => this.onHead(readHeadCommit(root));
    check();
    const watcher = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(folder, '.git/{HEAD,packed-refs,refs/heads/**}'),
    );
    this.headDisposables.push(
      watcher,
      watcher.onDidChange(check),
      watcher.onDidCreate(check),
      vscode.window.onDidChangeWindowState((s) => {
        if (s.focused) check();
      }),
    );
  }

  private onHead(sha: string | undefined): void {
    if (sha === undefined || sha === this.head) return;
    const previous = this.head;
    this.head = sha;
    this.log.info(`insights: workspace HEAD is ${shortSha(sha)}`);
    if (previous === undefined || !insightsSettings().baselinePerCommit) return;
    const b = this.pin(shortSha(previous), MIN_BASELINE_TRACES);
    if (b === undefined) return;
    const traces = Math.max(0, ...b.stages.map((s) => s.count));
    this.log.info(`insights: pinned ${traces} traces of ${b.label} as the baseline`);
    this.headDisposables.push(
      vscode.window.setStatusBarMessage(
        `$(pin) Stagelight: baseline ${b.label} pinned (${traces} traces); new runs show their change against it`,
        10_000,
      ),
    );
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const d of this.headDisposables) d.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * The recent traces summarised the way a baseline is (`makeBaseline` through `pinBaseline`),
 * so that "now" and the baseline are measured alike. The engine pins as a side effect; the
 * pinned baseline is put back at once (synchronously: nothing observes the swap).
 */
function currentSummary(engine: TraceEngine): Baseline {
  const pinned = engine.baseline;
  try {
    return engine.pinBaseline('now');
  } finally {
    engine.baseline = pinned;
  }
}

function isBaseline(v: unknown): v is Baseline {
  if (typeof v !== 'object' || v === null) return false;
  const b = v as Record<string, unknown>;
  return (
    typeof b.label === 'string' &&
    typeof b.pinnedAt === 'number' &&
    Array.isArray(b.stages) &&
    b.stages.every(
      (s: unknown) =>
        typeof s === 'object' &&
        s !== null &&
        typeof (s as Record<string, unknown>).service === 'string' &&
        typeof (s as Record<string, unknown>).name === 'string' &&
        typeof (s as Record<string, unknown>).p95Ms === 'number',
    )
  );
}

async function gitApi(): Promise<GitApiLike | undefined> {
  const ext = vscode.extensions.getExtension<{ enabled?: boolean; getAPI(v: 1): GitApiLike }>(
    'vscode.git',
  );
  if (ext === undefined) return undefined;
  try {
    const exports = ext.isActive ? ext.exports : await ext.activate();
    if (exports.enabled === false) return undefined;
    return exports.getAPI(1);
  } catch {
    return undefined;
  }
}
