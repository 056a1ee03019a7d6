/**
 * The status bar item: receiver state, ports, spans per second and spans held. Clicking it
 * opens the waterfall. Refreshed on state changes and once a second while running (the rate
 * decays to 0 with no event to say so).
 */
import * as vscode from 'vscode';
import { formatCount } from '../../shared/format.js';
import { COMMANDS } from '../shared/commands.js';
import type { ReceiverController } from './receiver-controller.js';
import { forwarderNeedsAttention, forwarderTooltipLine } from '../../core/api/forward-status.js';

export class ReceiverStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private timer: NodeJS.Timeout | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly receiver: ReceiverController) {
    this.item = vscode.window.createStatusBarItem(
      'stagelight.receiver',
      vscode.StatusBarAlignment.Left,
      50,
    );
    this.item.name = 'Stagelight Receiver';
    this.item.command = COMMANDS.showWaterfall;
    this.subscription = receiver.onDidChangeState(() => this.update());
    this.update();
    this.item.show();
  }

  private update(): void {
    const r = this.receiver;
    const engine = r.engine;
    const ports = r.ports;
    if (r.state === 'running' && engine !== undefined && ports !== undefined) {
      const rate = engine.spansPerSecond;
      const held = engine.store.spanCount;
      const forward = engine.forwarder?.status();
      const memory = engine.memory();
      this.item.text = `$(pulse) Stagelight :${ports.grpc}/:${ports.http} · ${formatRate(rate)} spans/s · ${formatCount(held, 'span')}`;
      const tip = new vscode.MarkdownString(
        `**Stagelight receiver** running\n\n` +
          `- OTLP/gRPC: \`${r.endpoints?.grpc ?? ''}\`\n` +
          `- OTLP/HTTP: \`${r.endpoints?.httpTraces ?? ''}\`\n` +
          `- ${formatCount(held, 'span')} in ${formatCount(engine.store.traceCount, 'trace')} held (budget ${engine.store.maxSpans.toLocaleString('en-US')})\n` +
          `- ${mib(memory.total)} of the ${mib(memory.budget)} memory budget held\n` +
          (forward === undefined ? '' : `${forwarderTooltipLine(forward)}\n`) +
          `\nClick to open the trace waterfall.`,
        true,
      );
      this.item.tooltip = tip;
      this.item.backgroundColor = forwarderNeedsAttention(forward)
        ? new vscode.ThemeColor('statusBarItem.warningBackground')
        : undefined;
      this.timer ??= setInterval(() => this.update(), 1000);
    } else {
      if (this.timer !== undefined) clearInterval(this.timer);
      this.timer = undefined;
      this.item.text =
        r.state === 'starting'
          ? '$(sync~spin) Stagelight starting'
          : r.state === 'stopping'
            ? '$(sync~spin) Stagelight stopping'
            : '$(debug-disconnect) Stagelight off';
      this.item.tooltip =
        'Stagelight receiver is not running. Click to start it and open the trace waterfall.';
    }
  }

  dispose(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.subscription.dispose();
    this.item.dispose();
  }
}

function mib(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024)).toLocaleString('en-US')} MiB`;
}

function formatRate(r: number): string {
  if (r >= 10_000) return `${Math.round(r / 1000)}k`;
  if (r >= 1000) return `${(r / 1000).toFixed(1)}k`;
  return String(Math.round(r));
}
