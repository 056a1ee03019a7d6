/** The Logs view feature: the log records without a span context, and its filter commands. */
import type * as vscode from 'vscode';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import { LogsView } from './logs-view.js';

export function registerLogsView(receiver: ReceiverController): {
  view: LogsView;
  disposables: vscode.Disposable[];
} {
  const view = new LogsView(receiver);
  return { view, disposables: [view] };
}
