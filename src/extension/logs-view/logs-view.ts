/**
 * The "Logs" tree view of the Stagelight container: the log records without a span context,
 * newest first, filterable from the view title, each opening the trace that was active on its
 * service at its time when there is one. The rows, the link and the filter are the core's
 * (`core/api/logs-view.ts`); this only adapts them to the tree.
 */
import * as vscode from 'vscode';
import {
  logsViewMessage,
  logsViewRows,
  parseLogsFilter,
  type LogsFilter,
  type LogsViewRow,
} from '../../core/api/logs-view.js';
import { logValueText } from '../../core/store/log-store.js';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import { COMMANDS } from '../shared/commands.js';

export const LOGS_VIEW_ID = 'stagelight.logs';
/** Log records arrive without an engine event: a visible view looks for new ones this often. */
const POLL_MS = 1000;
const REFRESH_MS = 500;

export class LogsView implements vscode.TreeDataProvider<LogsViewRow>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly view: vscode.TreeView<LogsViewRow>;
  private readonly disposables: vscode.Disposable[] = [];
  private filter: LogsFilter = parseLogsFilter('');
  private timer: NodeJS.Timeout | undefined;
  private readonly poll: NodeJS.Timeout;
  /** What the list was built from: the store's count and evictions, to see new records. */
  private seen = '';

  constructor(private readonly receiver: ReceiverController) {
    this.view = vscode.window.createTreeView(LOGS_VIEW_ID, {
      treeDataProvider: this,
      showCollapseAll: false,
    });
    this.disposables.push(
      this.view,
      this.emitter,
      receiver.onDidChangeState(() => this.refreshSoon(0)),
      receiver.onDidChangeTraces(() => this.refreshSoon(REFRESH_MS)),
      // With a text argument (a keybinding, a test) the filter is set without asking.
      vscode.commands.registerCommand(COMMANDS.filterLogs, (text?: unknown) =>
        typeof text === 'string' ? this.setFilter(text) : this.askFilter(),
      ),
      vscode.commands.registerCommand(COMMANDS.clearLogFilter, () => this.setFilter('')),
    );
    this.poll = setInterval(() => {
      if (this.view.visible && this.storeState() !== this.seen) this.refreshSoon(0);
    }, POLL_MS);
    this.poll.unref();
  }

  private storeState(): string {
    const logs = this.receiver.engine?.signals.logStore;
    return logs === undefined ? '' : `${logs.count}/${logs.evicted}`;
  }

  private refreshSoon(delayMs: number): void {
    if (this.timer !== undefined) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.emitter.fire();
    }, delayMs);
  }

  getTreeItem(row: LogsViewRow): vscode.TreeItem {
    const r = row.record;
    const item = new vscode.TreeItem(row.label, vscode.TreeItemCollapsibleState.None);
    item.description = `${new Date(r.timeMs).toLocaleTimeString()} · ${row.description}`;
    item.iconPath = iconOf(row.level);
    const tooltip = new vscode.MarkdownString();
    tooltip.appendText(`${row.description}, ${new Date(r.timeMs).toISOString()}\n\n`);
    tooltip.appendCodeblock(logValueText(r.body), 'text');
    for (const kv of r.attributes.slice(0, 20)) {
      tooltip.appendText(`${kv.key} = ${logValueText(kv.value)}\n`);
    }
    tooltip.appendText(
      row.traceId === undefined
        ? '\nNo trace of this service was running at that time.'
        : `\nClick to open trace ${row.traceId}, active on this service then.`,
    );
    item.tooltip = tooltip;
    item.contextValue = row.traceId === undefined ? 'stagelight.log' : 'stagelight.log.linked';
    if (row.traceId !== undefined) {
      item.command = {
        command: COMMANDS.openTrace,
        title: 'Open Trace Active Then',
        arguments: [row.traceId],
      };
    }
    return item;
  }

  getChildren(element?: LogsViewRow): LogsViewRow[] {
    if (element !== undefined) return [];
    const engine = this.receiver.engine;
    this.seen = this.storeState();
    let rows: LogsViewRow[] = [];
    if (engine !== undefined) {
      rows = logsViewRows(engine.signals.logStore, engine.store.all(), this.filter);
    }
    const message = logsViewMessage({
      running: engine !== undefined,
      shown: rows.length,
      filter: this.filter,
    });
    this.view.message = message === '' ? undefined : message;
    return rows;
  }

  /** The rows the view shows now, and the line above them (what a user reads). */
  snapshot(): { rows: LogsViewRow[]; message: string | undefined } {
    const rows = this.getChildren();
    return { rows, message: this.view.message };
  }

  private async askFilter(): Promise<void> {
    const text = await vscode.window.showInputBox({
      title: 'Filter logs',
      prompt:
        'Words to find in the body or an attribute; "severity:warn" for WARN and above; "service:NAME"',
      value: this.filter.text,
    });
    if (text !== undefined) this.setFilter(text);
  }

  setFilter(text: string): void {
    this.filter = parseLogsFilter(text);
    this.view.description = this.filter.text === '' ? undefined : `filter: ${this.filter.text}`;
    void vscode.commands.executeCommand('setContext', 'stagelight.logs.filtered', text !== '');
    this.refreshSoon(0);
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    clearInterval(this.poll);
    for (const d of this.disposables) d.dispose();
  }
}

function iconOf(level: string): vscode.ThemeIcon {
  if (level === 'ERROR' || level === 'FATAL')
    return new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
  if (level === 'WARN')
    return new vscode.ThemeIcon('warning', new vscode.ThemeColor('editorWarning.foreground'));
  if (level === 'INFO') return new vscode.ThemeIcon('info');
  return new vscode.ThemeIcon('debug-console');
}
