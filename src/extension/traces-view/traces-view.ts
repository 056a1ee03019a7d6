/**
 * The "Traces" tree view of the Stagelight activity bar container: recent traces with root
 * name, service, duration, span count and an error marker, live (refreshed on the engine's
 * coalesced changes, at most twice a second), sortable and filterable from the view title.
 */
import * as vscode from 'vscode';
import type { TraceSummary } from '../../core/store/trace-store.js';
import {
  matchesTraceListFilter,
  parseTraceListFilter,
  sortTraceList,
  type TraceListFilter,
  type TraceListSort,
} from '../../core/api/trace-list-filter.js';
import { traceListItemText } from '../../core/api/trace-list-item.js';
import { formatDuration } from '../../core/source/lens-text.js';
import { tracesViewMessage } from '../../core/api/traces-view-message.js';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import { COMMANDS } from '../shared/commands.js';
import { formatCount } from '../../shared/format.js';

export const TRACES_VIEW_ID = 'stagelight.traces';

/** Most traces listed: the view is for recent ones; the store may hold thousands. */
const LIST_LIMIT = 500;
const REFRESH_MS = 500;

const SORTS: ReadonlyArray<{ sort: TraceListSort; label: string }> = [
  { sort: 'recent', label: 'Most recent first' },
  { sort: 'duration', label: 'Slowest first' },
  { sort: 'spans', label: 'Most spans first' },
  { sort: 'errors', label: 'Errors first, then most recent' },
];

export class TracesView implements vscode.TreeDataProvider<TraceSummary>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly view: vscode.TreeView<TraceSummary>;
  private readonly disposables: vscode.Disposable[] = [];
  private sort: TraceListSort = 'recent';
  private filter: TraceListFilter = parseTraceListFilter('');
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly receiver: ReceiverController) {
    this.view = vscode.window.createTreeView(TRACES_VIEW_ID, {
      treeDataProvider: this,
      showCollapseAll: false,
    });
    this.disposables.push(
      this.view,
      this.emitter,
      receiver.onDidChangeState(() => this.refreshSoon(0)),
      receiver.onDidChangeTraces(() => this.refreshSoon(REFRESH_MS)),
      vscode.commands.registerCommand(COMMANDS.sortTraces, () => this.pickSort()),
      vscode.commands.registerCommand(COMMANDS.filterTraces, () => this.askFilter()),
      vscode.commands.registerCommand(COMMANDS.clearTraceFilter, () => this.setFilter('')),
    );
    this.updateDescription();
  }

  private refreshSoon(delayMs: number): void {
    if (this.timer !== undefined) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.emitter.fire();
      this.updateDescription();
    }, delayMs);
  }

  getTreeItem(t: TraceSummary): vscode.TreeItem {
    const text = traceListItemText(t);
    const item = new vscode.TreeItem(text.label, vscode.TreeItemCollapsibleState.None);
    item.id = t.traceId;
    item.description = text.description;
    item.iconPath = t.hasError
      ? new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'))
      : new vscode.ThemeIcon(text.partial ? 'loading~spin' : 'pass');
    item.tooltip = new vscode.MarkdownString(
      `**${escapeMarkdown(text.title)}**\n\n` +
        `- duration ${formatDuration(t.durationMs)}, ${formatCount(t.spanCount, 'span')}, ${formatCount(t.errorCount, 'error')}\n` +
        `- services: ${t.services.map(escapeMarkdown).join(', ')}\n` +
        `- started ${new Date(t.startMs).toLocaleTimeString()}\n` +
        `- trace id \`${t.traceId}\``,
    );
    item.contextValue = t.hasError ? 'stagelight.trace.error' : 'stagelight.trace';
    item.command = {
      command: COMMANDS.openTrace,
      title: 'Open in Waterfall',
      arguments: [t.traceId],
    };
    return item;
  }

  getChildren(element?: TraceSummary): TraceSummary[] {
    if (element !== undefined) return [];
    const engine = this.receiver.engine;
    if (engine === undefined) {
      this.setMessage(0, 0);
      return [];
    }
    // `list` returns the most recently started first; filter, then sort the window shown.
    const f = this.filter;
    const all = engine.store.list({
      limit: f.words.length === 0 ? LIST_LIMIT : Number.MAX_SAFE_INTEGER,
      error: f.errorsOnly ? true : undefined,
      minDurationMs: f.minDurationMs > 0 ? f.minDurationMs : undefined,
    });
    const shown: TraceSummary[] = [];
    for (const t of all) {
      if (!matchesTraceListFilter(t, this.filter)) continue;
      shown.push(t);
      if (shown.length >= LIST_LIMIT) break;
    }
    this.setMessage(engine.store.traceCount, shown.length);
    return sortTraceList(shown, this.sort);
  }

  /** The line above the list (see `core/api/traces-view-message.ts`); set only when it changes. */
  private setMessage(held: number, shown: number): void {
    const message = tracesViewMessage({
      endpoints: this.receiver.endpoints,
      held,
      shown,
      filterText: this.filter.text,
    });
    if (message !== this.view.message) this.view.message = message;
  }

  private updateDescription(): void {
    const engine = this.receiver.engine;
    const parts: string[] = [];
    if (this.filter.text !== '') parts.push(`filter: ${this.filter.text}`);
    if (this.sort !== 'recent') parts.push(SORTS.find((s) => s.sort === this.sort)?.label ?? '');
    if (engine !== undefined) parts.push(formatCount(engine.store.traceCount, 'trace'));
    this.view.description = parts.join(' · ');
    void vscode.commands.executeCommand(
      'setContext',
      'stagelight.traces.filtered',
      this.filter.text !== '',
    );
  }

  private async pickSort(): Promise<void> {
    const pick = await vscode.window.showQuickPick(
      SORTS.map((s) => ({ label: s.label, sort: s.sort, picked: s.sort === this.sort })),
      { title: 'Sort traces' },
    );
    if (pick === undefined) return;
    this.sort = pick.sort;
    this.refreshSoon(0);
  }

  private async askFilter(): Promise<void> {
    const text = await vscode.window.showInputBox({
      title: 'Filter traces',
      prompt:
        'Words to match in root name, service or trace id; "error" for failed traces; ">500ms" or ">1.5s" for slow ones',
      value: this.filter.text,
    });
    if (text !== undefined) this.setFilter(text);
  }

  setFilter(text: string): void {
    this.filter = parseTraceListFilter(text);
    this.refreshSoon(0);
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

function escapeMarkdown(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!<>|]/g, '\\$&');
}
