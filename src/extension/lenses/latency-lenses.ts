/**
 * Latency CodeLenses and hovers on the lines that start spans. The work is in `core/source`
 * (scanning, matching, text); this adapts it to the editor and keeps it off the typing path:
 *
 * - A document's scan is cached per document version, and the matched lines per (version,
 *   statistics generation, code-location version): an edit rescans one document once; a new
 *   statistics snapshot re-joins without rescanning.
 * - Statistics move with every batch; lenses are told to refresh at most once a second
 *   (`REFRESH_MS`). VS Code itself debounces lens requests after edits.
 * - The time of each computation is logged (trace level), so it can be checked in the field.
 */
import * as vscode from 'vscode';
import type { StageStats } from '../../core/analysis/stage-stats.js';
import { languageOf } from '../../core/source/lexer.js';
import { scanDocument, type DocumentScan } from '../../core/source/span-starts.js';
import {
  indexStagesByName,
  matchStageLines,
  type StageLine,
  type StagesByName,
} from '../../core/source/stage-match.js';
import {
  criticalShareText,
  formatDuration,
  formatPercent,
  histogram,
  histogramText,
  lensText,
  lensTooltip,
  pulledLensText,
  pulledTooltipLine,
} from '../../core/source/lens-text.js';
import { collectStageSamples } from '../../core/source/stage-samples.js';
import { traceSource } from '../../core/backend/origin.js';
import { lensSettings } from '../shared/config.js';
import {
  baselineLensText,
  kindLabel,
  llmLensText,
  severityIcon,
} from '../../core/api/insights-payload.js';
import type { StageInsightsSource } from '../insights/insights-model.js';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import { COMMANDS } from '../shared/commands.js';
import type { SourceLocator } from '../shared/source-locator.js';
import { formatCount } from '../../shared/format.js';

const REFRESH_MS = 1000;
const EMPTY_SCAN: DocumentScan = { sites: [], literals: new Set() };
/** Traces listed in a hover. */
const HOVER_TRACES = 5;

interface Snapshot {
  readonly generation: number;
  readonly stages: StagesByName;
  /** The statistics of the traces pulled from the team backend, by stage key. */
  readonly pulled: ReadonlyMap<string, StageStats>;
}

interface CachedLines {
  readonly version: number;
  readonly generation: number;
  readonly locationsVersion: number;
  readonly lines: readonly StageLine[];
}

export class LatencyLenses
  implements vscode.CodeLensProvider, vscode.HoverProvider, vscode.Disposable
{
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly scans = new Map<string, { version: number; scan: DocumentScan }>();
  private readonly lines = new Map<string, CachedLines>();
  private snapshot: Snapshot | undefined;
  private generation = 0;
  private refreshTimer: NodeJS.Timeout | undefined;
  private lastRefresh = 0;

  constructor(
    private readonly receiver: ReceiverController,
    private readonly locator: SourceLocator,
    private readonly log: vscode.LogOutputChannel,
    /** Findings and baseline changes per stage, shown in the lens and the hover. */
    private readonly insights?: StageInsightsSource,
  ) {
    this.disposables.push(
      this.emitter,
      ...(insights !== undefined ? [insights.onDidChange(() => this.refreshSoon())] : []),
      receiver.onDidChangeTraces((c) => {
        if (c.statsUpdated || c.cleared) this.refreshSoon();
      }),
      receiver.onDidChangeState(() => this.refreshNow()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('stagelight.lenses')) this.refreshNow();
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.scans.delete(d.uri.toString());
        this.lines.delete(d.uri.toString());
      }),
    );
  }

  /** Drops the snapshot and asks for lenses again, now. */
  private refreshNow(): void {
    if (this.refreshTimer !== undefined) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    this.lastRefresh = Date.now();
    this.snapshot = undefined;
    this.generation++;
    this.emitter.fire();
  }

  /** The same, at most once per `REFRESH_MS`. */
  private refreshSoon(): void {
    if (this.refreshTimer !== undefined) return;
    const wait = Math.max(0, this.lastRefresh + REFRESH_MS - Date.now());
    this.refreshTimer = setTimeout(() => this.refreshNow(), wait);
  }

  private currentSnapshot(): Snapshot | undefined {
    const engine = this.receiver.engine;
    if (engine === undefined) return undefined;
    if (this.snapshot === undefined || this.snapshot.generation !== this.generation) {
      const stats = engine.stats.snapshot();
      const pulled = new Map(engine.pulledStats.snapshot().map((s) => [s.key as string, s]));
      this.snapshot = { generation: this.generation, stages: indexStagesByName(stats), pulled };
    }
    return this.snapshot;
  }

  private scanOf(doc: vscode.TextDocument): DocumentScan {
    const key = doc.uri.toString();
    const cached = this.scans.get(key);
    if (cached !== undefined && cached.version === doc.version) return cached.scan;
    const lang = languageOf(doc.languageId, doc.fileName);
    const scan = lang === undefined ? EMPTY_SCAN : scanDocument(doc.getText(), lang);
    this.scans.set(key, { version: doc.version, scan });
    return scan;
  }

  /** The matched stage lines of a document (cached; see the module comment). */
  stageLines(doc: vscode.TextDocument): readonly StageLine[] {
    const snap = this.currentSnapshot();
    if (snap === undefined || snap.stages.size === 0) return [];
    const key = doc.uri.toString();
    const locVersion = this.locator.locations.version;
    const cached = this.lines.get(key);
    if (
      cached !== undefined &&
      cached.version === doc.version &&
      cached.generation === snap.generation &&
      cached.locationsVersion === locVersion
    ) {
      return cached.lines;
    }
    const lines = matchStageLines({
      path: doc.uri.scheme === 'file' ? doc.uri.fsPath : doc.uri.toString(),
      lineCount: doc.lineCount,
      scan: this.scanOf(doc),
      stages: snap.stages,
      locations: this.locator.locations,
    });
    for (const l of lines) {
      if (l.origin === 'call')
        this.locator.noteMatched(l.stage.service, l.stage.name, doc.uri.fsPath, l.line);
    }
    this.lines.set(key, {
      version: doc.version,
      generation: snap.generation,
      locationsVersion: locVersion,
      lines,
    });
    return lines;
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const settings = lensSettings();
    if (!settings.enabled || this.receiver.engine === undefined) return [];
    const t0 = performance.now();
    const lines = this.stageLines(doc);
    const snap = this.currentSnapshot();
    const lenses = lines.map((l) => {
      const range = new vscode.Range(l.line, 0, l.line, 0);
      const stats = lensText(l.stage, { statistics: settings.statistics });
      const llmFinding = this.insights
        ?.findingsFor(l.stage.service, l.stage.name)
        .find((f) => f.kind === 'llm');
      const llm = llmFinding === undefined ? undefined : llmLensText(llmFinding);
      const prod = snap?.pulled.get(l.stage.key);
      const withProd = prod === undefined ? stats : `${stats} · ${pulledLensText(prod)}`;
      const base = llm === undefined ? withProd : `${withProd} · ${llm}`;
      const change = this.insights?.baselineChange(l.stage.service, l.stage.name);
      const baseline = this.insights?.baseline;
      const title =
        change !== undefined && baseline !== undefined
          ? `${base} · ${baselineLensText(change, baseline.label)}`
          : base;
      return new vscode.CodeLens(range, {
        title,
        tooltip:
          lensTooltip(l.stage, {
            statistics: settings.statistics,
            windowMinutes: settings.windowMinutes,
          }) + (prod === undefined ? '' : `\n${pulledTooltipLine(prod)}`),
        command: COMMANDS.openStage,
        arguments: [l.stage.service, l.stage.name],
      });
    });
    const ms = performance.now() - t0;
    if (lines.length > 0 || ms > 5) {
      this.log.trace(
        `lenses: ${lenses.length} for ${doc.fileName} (${doc.lineCount} lines) in ${ms.toFixed(2)} ms`,
      );
    }
    return lenses;
  }

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    if (!lensSettings().enabled || this.receiver.engine === undefined) return undefined;
    const l = this.stageLines(doc).find((x) => x.line === pos.line);
    if (l === undefined) return undefined;
    const text = doc.lineAt(l.line);
    const start = text.firstNonWhitespaceCharacterIndex;
    if (pos.character < start) return undefined;
    const md = this.hoverMarkdown(l.stage);
    return md === undefined
      ? undefined
      : new vscode.Hover(md, new vscode.Range(l.line, start, l.line, text.text.length));
  }

  private hoverMarkdown(stage: StageStats): vscode.MarkdownString | undefined {
    const engine = this.receiver.engine;
    if (engine === undefined) return undefined;
    const settings = lensSettings();
    const since = Date.now() - settings.windowMinutes * 60_000;
    // Local traces only: the pulled ones have their own line below.
    const local = [...engine.store.all()].filter((t) => traceSource(t.spans) === undefined);
    const { samples } = collectStageSamples(local, stage.service, stage.name, since);
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = {
      enabledCommands: [COMMANDS.openTrace, COMMANDS.openStage, COMMANDS.showInsights],
    };
    md.appendMarkdown(
      `**${escape(stage.name)}** · ${escape(stage.service)} · last ${settings.windowMinutes} min\n\n`,
    );
    // The stage's current findings first: they are the answer the numbers below support.
    for (const f of this.insights?.findingsFor(stage.service, stage.name) ?? []) {
      md.appendMarkdown(
        `$(${severityIcon(f.severity).icon}) **${escape(kindLabel(f.kind))}:** ${escape(f.title)} · ` +
          `[Insights](command:stagelight.showInsights)\n\n`,
      );
    }
    const change = this.insights?.baselineChange(stage.service, stage.name);
    const baseline = this.insights?.baseline;
    if (change !== undefined && baseline !== undefined) {
      md.appendMarkdown(
        `$(pinned) ${escape(baselineLensText(change, baseline.label, 'long'))}\n\n`,
      );
    }
    md.appendMarkdown(
      `p50 ${formatDuration(stage.p50Ms)} · p95 ${formatDuration(stage.p95Ms)} · p99 ${formatDuration(stage.p99Ms)} · ` +
        `max ${formatDuration(stage.maxMs)} · n=${stage.count} · errors ${formatPercent(100 * stage.errorRate)}` +
        (criticalShareText(stage) !== undefined ? ` · ${criticalShareText(stage)}` : '') +
        '\n\n',
    );
    const prod = this.currentSnapshot()?.pulled.get(stage.key);
    if (prod !== undefined) md.appendMarkdown(`$(cloud) ${escape(pulledTooltipLine(prod))}\n\n`);
    const bins = histogram(samples.map((s) => s.durationMs));
    if (bins.length > 0) {
      md.appendMarkdown(`Latency of the ${formatCount(samples.length, 'span')} held:\n`);
      md.appendCodeblock(histogramText(bins).join('\n'), 'text');
    }
    if (samples.length > 0) {
      md.appendMarkdown('\nRecent traces:\n\n');
      const seen = new Set<string>();
      for (const s of samples) {
        if (seen.has(s.traceId)) continue;
        seen.add(s.traceId);
        const args = encodeURIComponent(JSON.stringify([s.traceId, s.spanId]));
        md.appendMarkdown(
          `- [${s.traceId.slice(0, 8)}](command:stagelight.openTrace?${args}) ` +
            `span ${formatDuration(s.durationMs)} of ${formatDuration(s.traceDurationMs)} · ` +
            `${new Date(s.startMs).toLocaleTimeString()}${s.error ? ' · $(error) error' : ''}\n`,
        );
        if (seen.size >= HOVER_TRACES) break;
      }
    }
    const args = encodeURIComponent(JSON.stringify([stage.service, stage.name]));
    md.appendMarkdown(`\n[Open the slowest recent trace](command:stagelight.openStage?${args})`);
    return md;
  }

  dispose(): void {
    if (this.refreshTimer !== undefined) clearTimeout(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
  }
}

function escape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!<>|$]/g, '\\$&');
}
