/**
 * The "Insights" tree view of the Stagelight container: what the comparison is against (or that
 * there is no baseline), the latest run's findings, most important first, each with its
 * severity, its one-line verdict, a row per number behind it, the traces that show it and what
 * to do (open the slowest trace; for untraced time, add a span); findings of earlier runs,
 * marked stale; then what a 2x speed-up of each stage is worth. Live: it redraws when
 * `InsightsModel` has a new report (about once a second while traces arrive).
 */
import * as vscode from 'vscode';
import type { Finding, InsightsReport, WhatIf } from '../../core/analysis/insights/types.js';
import { formatCount, formatDuration } from '../../shared/format.js';
import {
  findingId,
  findingNumbers,
  kindLabel,
  parallelText,
  severityIcon,
  whatIfText,
} from '../../core/api/insights-payload.js';
import type { InsightsModel } from './insights-model.js';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import { COMMANDS } from '../shared/commands.js';
import { pulledStageRows, type PulledStageRow } from '../../core/backend/pulled-stages.js';

export const INSIGHTS_VIEW_ID = 'stagelight.insights';
/** Traces listed under a finding. */
const TRACE_ROWS = 5;

type Node =
  | { kind: 'baseline' }
  | { kind: 'prod' }
  | { kind: 'prodStage'; row: PulledStageRow }
  | { kind: 'empty'; text: string }
  | { kind: 'finding'; finding: Finding; id: string; first: boolean }
  | { kind: 'number'; parent: string; index: number; label: string; value: string }
  | { kind: 'stale'; items: Finding[] }
  | { kind: 'open'; parent: string; finding: Finding }
  | { kind: 'addSpan'; parent: string; finding: Finding }
  | { kind: 'traces'; parent: string; finding: Finding }
  | { kind: 'trace'; parent: string; traceId: string }
  | { kind: 'whatIfs'; items: WhatIf[]; parallel: InsightsReport['parallel'] }
  | { kind: 'whatIf'; item: WhatIf }
  | { kind: 'parallel'; item: InsightsReport['parallel'][number]; index: number };

export class InsightsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly view: vscode.TreeView<Node>;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly model: InsightsModel,
    private readonly receiver: ReceiverController,
  ) {
    this.view = vscode.window.createTreeView(INSIGHTS_VIEW_ID, {
      treeDataProvider: this,
      showCollapseAll: true,
    });
    this.disposables.push(
      this.view,
      this.emitter,
      model.onDidChange(() => {
        this.emitter.fire();
        this.updateDescription();
      }),
      // Opening the view asks for a report now rather than at the next change.
      this.view.onDidChangeVisibility((e) => {
        if (e.visible && model.report === undefined) void model.refreshNow();
      }),
    );
    this.updateDescription();
  }

  /** Shows the view (the `stagelight.showInsights` command). */
  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${INSIGHTS_VIEW_ID}.focus`);
  }

  private updateDescription(): void {
    const r = this.model.report;
    const parts: string[] = [];
    if (r !== undefined) {
      const serious = r.findings.filter((f) => f.severity !== 'info').length;
      parts.push(
        `${serious} of ${r.findings.length} need attention · ${formatCount(r.traces, 'trace')}`,
      );
      parts.push(
        r.baseline.state === 'set' ? `vs ${r.baseline.label ?? 'baseline'}` : 'no baseline',
      );
    }
    this.view.description = parts.join(' · ');
    const count = r?.findings.filter((f) => f.severity !== 'info').length ?? 0;
    this.view.badge =
      count > 0
        ? { value: count, tooltip: `${formatCount(count, 'Stagelight finding')}` }
        : undefined;
  }

  getChildren(node?: Node): Node[] {
    if (node === undefined) return this.roots();
    switch (node.kind) {
      case 'finding':
        return this.findingChildren(node.finding, node.id);
      case 'traces':
        return node.finding.traceIds
          .slice(0, TRACE_ROWS)
          .map((traceId) => ({ kind: 'trace', parent: node.parent, traceId }));
      case 'whatIfs':
        return [
          ...node.items.map((item): Node => ({ kind: 'whatIf', item })),
          ...node.parallel.map((item, index): Node => ({ kind: 'parallel', item, index })),
        ];
      case 'stale':
        return this.findingNodes(node.items, false);
      case 'prod': {
        const engine = this.receiver.engine;
        if (engine === undefined) return [];
        return pulledStageRows(engine.stats.snapshot(), engine.pulledStats.snapshot()).map(
          (row): Node => ({ kind: 'prodStage', row }),
        );
      }
      default:
        return [];
    }
  }

  private roots(): Node[] {
    if (this.receiver.engine === undefined) return [];
    const r = this.model.report;
    const out: Node[] = [];
    if (r === undefined) {
      out.push({ kind: 'empty', text: 'Computing insights…' });
      return out;
    }
    out.push({ kind: 'baseline' });
    if ((this.receiver.engine?.pulledStats.stageCount ?? 0) > 0) out.push({ kind: 'prod' });
    if (r.scope.windowTraces === 0) return out; // the welcome text says what to do
    if (r.findings.length === 0) {
      out.push({
        kind: 'empty',
        text:
          r.traces === 0
            ? 'No traces in the latest run yet'
            : r.baseline.state === 'set'
              ? `No findings: the latest run (${formatCount(r.traces, 'trace')}) looks like the baseline`
              : `No findings within the latest run (${formatCount(r.traces, 'trace')}), and no baseline to compare it with`,
      });
    }
    out.push(...this.findingNodes(r.findings, true));
    if (r.stale.length > 0) out.push({ kind: 'stale', items: r.stale });
    const useful = r.whatIf.filter((w) => w.p95BeforeMs - w.p95AfterMs >= 1);
    const parallel = r.parallel.filter((p) => p.savedMs >= 1);
    if (useful.length > 0 || parallel.length > 0) {
      out.push({ kind: 'whatIfs', items: useful, parallel });
    }
    return out;
  }

  private findingNodes(findings: readonly Finding[], expandFirst: boolean): Node[] {
    const seen = new Map<string, number>();
    return findings.map((finding, i) => {
      // Two findings with the same identity (rare) still need distinct tree ids.
      const base = findingId(finding);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      return {
        kind: 'finding',
        finding,
        id: n === 0 ? base : `${base}#${n}`,
        first: expandFirst && i === 0,
      };
    });
  }

  private findingChildren(f: Finding, id: string): Node[] {
    const out: Node[] = findingNumbers(f).map((n, index) => ({
      kind: 'number',
      parent: id,
      index,
      label: n.label,
      value: n.value,
    }));
    if (f.traceIds.length > 0 || f.stage !== undefined)
      out.push({ kind: 'open', parent: id, finding: f });
    if (f.kind === 'untraced-time' && f.stage !== undefined)
      out.push({ kind: 'addSpan', parent: id, finding: f });
    if (f.traceIds.length > 1) out.push({ kind: 'traces', parent: id, finding: f });
    return out;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'baseline': {
        const status = this.model.report?.baseline;
        const b = this.model.baseline;
        const set = status?.state === 'set' && b !== undefined;
        const item = new vscode.TreeItem(
          set
            ? `Baseline ${b.label}`
            : status?.state === 'pending'
              ? 'Taking the baseline…'
              : 'No baseline',
        );
        item.id = 'baseline';
        item.description = set
          ? `${b.source} · ${formatCount(b.rows.length, 'trace')} · ${new Date(b.pinnedAt).toLocaleString()}`
          : 'findings only compare within the latest run';
        item.iconPath = new vscode.ThemeIcon(set ? 'pinned' : 'circle-slash');
        item.tooltip = set
          ? `${status.message}. Changes are measured against it (lenses, regressions). Clear it with "Stagelight: Clear Baseline".`
          : `${status?.message ?? ''} Pin one with "Stagelight: Pin Baseline" after a normal run.`;
        item.contextValue = set ? 'stagelight.insight.baseline' : 'stagelight.insight.noBaseline';
        return item;
      }
      case 'prod': {
        const item = new vscode.TreeItem(
          'Production (pulled from the team backend)',
          vscode.TreeItemCollapsibleState.Collapsed,
        );
        item.id = 'prod';
        item.iconPath = new vscode.ThemeIcon('cloud');
        item.description = 'p95 per stage beside local runs';
        item.tooltip =
          'Stage statistics over the traces pulled in the last day ("Stagelight: Pull Traces from Backend"), kept apart from local runs. Compare a trace against them with "Prod" in the waterfall.';
        return item;
      }
      case 'prodStage': {
        const { row } = node;
        const item = new vscode.TreeItem(row.name);
        item.id = `prod/${row.service}/${row.name}`;
        item.description = `${row.text} · ${row.service}`;
        item.tooltip = row.tooltip;
        item.command = {
          command: COMMANDS.openStage,
          title: 'Open the slowest recent trace',
          arguments: [row.service, row.name],
        };
        return item;
      }
      case 'empty': {
        const item = new vscode.TreeItem(node.text);
        item.id = 'empty';
        item.iconPath = new vscode.ThemeIcon('pass');
        return item;
      }
      case 'finding': {
        const f = node.finding;
        const item = new vscode.TreeItem(
          f.title,
          node.first
            ? vscode.TreeItemCollapsibleState.Expanded
            : vscode.TreeItemCollapsibleState.Collapsed,
        );
        item.id = node.id;
        const sev = severityIcon(f.severity);
        item.iconPath = new vscode.ThemeIcon(sev.icon, new vscode.ThemeColor(sev.color));
        const kind = f.stale === true ? `${kindLabel(f.kind)} · earlier run` : kindLabel(f.kind);
        item.description = f.stage !== undefined ? `${kind} · ${f.stage.service}` : kind;
        const md = new vscode.MarkdownString();
        md.appendText(f.title);
        md.appendMarkdown('\n\n');
        for (const n of findingNumbers(f)) {
          md.appendMarkdown('- ');
          md.appendText(`${n.label}: ${n.value}`);
          md.appendMarkdown('\n');
        }
        item.tooltip = md;
        item.contextValue = `stagelight.insight.${f.kind}`;
        return item;
      }
      case 'number': {
        const item = new vscode.TreeItem(node.label);
        // By position: two rows may share a label (two exceptions seen once each).
        item.id = `${node.parent}/n/${node.index}`;
        item.description = node.value;
        item.tooltip = `${node.label}: ${node.value}`;
        return item;
      }
      case 'open': {
        const f = node.finding;
        const slowest = this.model.slowestTrace(f.traceIds);
        const item = new vscode.TreeItem(
          slowest !== undefined ? 'Open slowest trace' : 'Open slowest trace of the stage',
        );
        item.id = `${node.parent}/open`;
        item.iconPath = new vscode.ThemeIcon('graph');
        if (slowest !== undefined) {
          item.description = `${formatDuration(slowest.durationMs)} · ${slowest.traceId.slice(0, 8)}`;
          item.command = {
            command: COMMANDS.openTrace,
            title: 'Open Slowest Trace',
            arguments: [slowest.traceId],
          };
        } else if (f.stage !== undefined) {
          item.command = {
            command: COMMANDS.openStage,
            title: 'Open Slowest Trace',
            arguments: [f.stage.service, f.stage.name],
          };
        }
        return item;
      }
      case 'addSpan': {
        const stage = node.finding.stage!;
        const item = new vscode.TreeItem('Add a span here');
        item.id = `${node.parent}/addSpan`;
        item.iconPath = new vscode.ThemeIcon('add');
        item.description = `inside ${stage.name}`;
        item.tooltip = `Open where ${stage.name} starts its span and scaffold a child span around the work no child span covers`;
        item.command = {
          command: COMMANDS.addSpan,
          title: 'Add a Span Here',
          arguments: [stage.service, stage.name],
        };
        return item;
      }
      case 'traces': {
        const n = Math.min(TRACE_ROWS, node.finding.traceIds.length);
        const item = new vscode.TreeItem(
          `Traces that show it (${n})`,
          vscode.TreeItemCollapsibleState.Collapsed,
        );
        item.id = `${node.parent}/traces`;
        item.iconPath = new vscode.ThemeIcon('list-unordered');
        return item;
      }
      case 'trace': {
        const t = this.receiver.engine?.store.get(node.traceId);
        const item = new vscode.TreeItem(node.traceId.slice(0, 8));
        item.id = `${node.parent}/t/${node.traceId}`;
        item.description =
          t === undefined
            ? 'no longer held'
            : `${formatDuration(t.durationMs)}${t.errorCount > 0 ? ` · ${formatCount(t.errorCount, 'error')}` : ''}`;
        item.iconPath = new vscode.ThemeIcon(
          t !== undefined && t.errorCount > 0 ? 'error' : 'pulse',
        );
        item.command = {
          command: COMMANDS.openTrace,
          title: 'Open in Waterfall',
          arguments: [node.traceId],
        };
        return item;
      }
      case 'stale': {
        const item = new vscode.TreeItem(
          `From earlier runs (${node.items.length})`,
          vscode.TreeItemCollapsibleState.Collapsed,
        );
        item.id = 'stale';
        item.iconPath = new vscode.ThemeIcon('history');
        item.tooltip = 'Findings of earlier runs that the latest run does not show';
        return item;
      }
      case 'whatIfs': {
        const item = new vscode.TreeItem(
          'What a 2x speed-up, or running stages at once, is worth',
          vscode.TreeItemCollapsibleState.Collapsed,
        );
        item.id = 'whatIfs';
        item.iconPath = new vscode.ThemeIcon('rocket');
        item.tooltip =
          'End-to-end p95 of the recent traces with one stage twice as fast (critical paths recomputed; an upper bound on the gain)';
        return item;
      }
      case 'whatIf': {
        const item = new vscode.TreeItem(whatIfText(node.item));
        item.id = `whatIf/${node.item.stage.service}/${node.item.stage.name}`;
        item.description = node.item.stage.service;
        return item;
      }
      case 'parallel': {
        const item = new vscode.TreeItem(parallelText(node.item));
        item.id = `parallel/${node.index}/${node.item.first.name}/${node.item.second.name}`;
        item.description = `under ${node.item.parent.name}`;
        item.tooltip =
          'The two never overlap in the recent traces; the trace cannot show whether one needs the other.';
        item.iconPath = new vscode.ThemeIcon('split-horizontal');
        return item;
      }
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
