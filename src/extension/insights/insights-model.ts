/**
 * The editor's view of the engine's insights: the latest `InsightsReport`, which the engine's
 * analysis service computes in the background (in short slices, about once a second while
 * traces arrive), shared by the Insights view, the lenses, the waterfall's side panel and the
 * regression notifications. Nothing is computed here.
 *
 * Baselines: the engine holds the baseline and keeps it in its data folder; this also keeps a
 * copy in the workspace state, so that a receiver started for another workspace's data still
 * compares against this workspace's. With `stagelight.insights.baselinePerCommit`, a change of
 * the workspace's HEAD commit pins the latest run (made by the previous commit's code) as the
 * baseline, labelled with that commit's short sha.
 */
import * as vscode from 'vscode';
import { parseBaseline, type Baseline } from '../../core/analysis/baseline.js';
import type { Finding, InsightsReport, StageDelta } from '../../core/analysis/insights/types.js';
import type { SamplingOutcome, SamplingPolicy } from '../../core/analysis/insights/sampling.js';
import {
  insightsForTrace,
  NotifyGate,
  regressionsToNotify,
} from '../../core/api/insights-payload.js';
import type { InsightsNotification } from '../../protocol/messages.js';
import { stageKey } from '../../shared/stage-key.js';
import { readHeadCommit, shortSha } from '../../core/source/git-head.js';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import { COMMANDS } from '../shared/commands.js';
import { formatCount } from '../../shared/format.js';

/** A stage's regression is announced at most this often. */
const NOTIFY_INTERVAL_MS = 5 * 60_000;
/** A per-commit baseline needs at least this many traces; fewer keep the previous baseline. */
const MIN_BASELINE_TRACES = 5;
const BASELINE_STATE_KEY = 'stagelight.insights.baseline.v2';

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
  baselineChange(service: string, name: string): StageDelta | undefined;
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
  private reportSub: (() => void) | undefined;
  private _report: InsightsReport | undefined;
  private byStage = new Map<string, Finding[]>();
  private deltas = new Map<string, StageDelta>();
  private generation = 0;
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
      receiver.onDidChangeState((s) => {
        if (s === 'running') this.attach();
        else if (s === 'stopped') {
          this.detach();
          this.setReport(undefined);
        }
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('stagelight.insights.baselinePerCommit')) void this.trackHead();
      }),
    );
    if (receiver.engine !== undefined) this.attach();
    void this.trackHead();
  }

  /** Follows the running engine's reports. */
  private attach(): void {
    const engine = this.receiver.engine;
    if (engine === undefined) return;
    this.detach();
    this.restoreBaseline();
    this.reportSub = engine.analysis.onReport((r) => {
      this.log.trace(
        `insights: ${formatCount(r.findings.length, 'finding')} over ${formatCount(r.traces, 'trace')} (run ${r.scope.runId})`,
      );
      this.setReport(r);
      this.notify(r);
    });
    if (engine.analysis.report !== undefined) this.setReport(engine.analysis.report);
  }

  private detach(): void {
    this.reportSub?.();
    this.reportSub = undefined;
  }

  /** The latest report; undefined while the receiver is stopped or before the first one. */
  get report(): InsightsReport | undefined {
    return this._report;
  }

  get baseline(): Baseline | undefined {
    return this.receiver.engine?.baseline;
  }

  findingsFor(service: string, name: string): readonly Finding[] {
    return this.byStage.get(stageKey(service, name)) ?? [];
  }

  baselineChange(service: string, name: string): StageDelta | undefined {
    return this.deltas.get(stageKey(service, name));
  }

  /** A report with every span received so far (computed without blocking the host). */
  async refreshNow(): Promise<InsightsReport | undefined> {
    const engine = this.receiver.engine;
    if (engine === undefined) return undefined;
    const r = await engine.insightsFresh();
    this.setReport(r);
    return r;
  }

  private setReport(report: InsightsReport | undefined): void {
    this._report = report;
    this.generation++;
    this.cached = undefined;
    const byStage = new Map<string, Finding[]>();
    for (const f of report?.findings ?? []) {
      if (f.stage === undefined) continue;
      const key = stageKey(f.stage.service, f.stage.name);
      const list = byStage.get(key);
      if (list === undefined) byStage.set(key, [f]);
      else list.push(f);
    }
    this.byStage = byStage;
    this.deltas = new Map(
      (report?.stageDeltas ?? []).map((d) => [stageKey(d.service, d.name), d] as const),
    );
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
              ? vscode.commands.executeCommand(COMMANDS.openTrace, slowest.traceId)
              : vscode.commands.executeCommand(COMMANDS.openStage, stage.service, stage.name));
          } else if (pick === show) {
            void vscode.commands.executeCommand(COMMANDS.showInsights);
          }
        });
    }
  }

  /** The slowest of these traces that is still held. */
  slowestTrace(traceIds: readonly string[]): { traceId: string; durationMs: number } | undefined {
    const engine = this.receiver.engine;
    let best: { traceId: string; durationMs: number } | undefined;
    for (const id of traceIds) {
      const t = engine?.store.get(id);
      if (t === undefined) continue;
      const durationMs = engine!.analysis.factsOf(t).durationMs;
      if (best === undefined || durationMs > best.durationMs)
        best = { traceId: t.traceId, durationMs };
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
    const entry = engine.store.get(traceId);
    const facts = entry === undefined ? undefined : engine.analysis.factsOf(entry);
    const explanation = entry === undefined ? undefined : engine.analysis.explain(entry);
    const n = insightsForTrace(report, facts, explanation);
    this.cached = { traceId, generation: this.generation, n };
    return n;
  }

  // ----- baselines ------------------------------------------------------------------------

  /**
   * Pins the latest run's traces as the baseline. With `minTraces`, a run with fewer traces
   * keeps the previous baseline and returns undefined.
   */
  pin(label: string, source: Baseline['source'] = 'pinned', minTraces = 1): Baseline | undefined {
    const engine = this.receiver.engine;
    if (engine === undefined) return undefined;
    const b = engine.pinBaseline(label, source, minTraces);
    if (b === undefined) return undefined;
    void this.state.update(BASELINE_STATE_KEY, b);
    return b;
  }

  clearBaseline(): void {
    const engine = this.receiver.engine;
    if (engine !== undefined) engine.baseline = undefined;
    void this.state.update(BASELINE_STATE_KEY, undefined);
  }

  /** Puts this workspace's baseline into a (re)started engine that has none. */
  private restoreBaseline(): void {
    const engine = this.receiver.engine;
    if (engine === undefined || engine.baseline !== undefined) return;
    const stored = this.state.get<unknown>(BASELINE_STATE_KEY);
    if (stored === undefined) return;
    const parsed = parseBaseline(stored);
    if (parsed.baseline !== undefined) engine.baseline = parsed.baseline;
  }

  // ----- sampling what-if -------------------------------------------------------------------

  /** What head and tail sampling would have kept of the recent traces. */
  samplingWhatIf(policy: SamplingPolicy): SamplingOutcome | undefined {
    return this.receiver.engine?.samplingWhatIf(policy);
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
    const b = this.pin(shortSha(previous), 'commit', MIN_BASELINE_TRACES);
    if (b === undefined) return;
    this.log.info(
      `insights: pinned ${formatCount(b.rows.length, 'trace')} of ${b.label} as the baseline`,
    );
    this.headDisposables.push(
      vscode.window.setStatusBarMessage(
        `$(pin) Stagelight: baseline ${b.label} pinned (${formatCount(b.rows.length, 'trace')}); new runs show their change against it`,
        10_000,
      ),
    );
  }

  dispose(): void {
    this.detach();
    for (const d of this.headDisposables) d.dispose();
    for (const d of this.disposables) d.dispose();
  }
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
