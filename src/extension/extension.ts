/**
 * The extension's entry point and composition root. Activation builds the few objects several
 * features share (the output channel, the receiver controller, the source locator, the insights
 * model), asks each feature folder for its registrations and pushes every one into
 * `context.subscriptions`. The heavy parts load on first use, inside the features: the core
 * server when the receiver starts, the webview host when the waterfall opens, the demo runner,
 * the trace file code and the scaffolding when their commands run.
 *
 * Activation events are the Stagelight commands and views, `onWebviewPanel:stagelight.waterfall`
 * (a waterfall left open comes back after a reload), plus `onStartupFinished`, which starts the
 * receiver when it ran before the window reloaded (`core/receiver/run-memory.ts`) or
 * `stagelight.receiver.startOnStartup` is on: otherwise activation after startup registers the
 * (cheap) commands and providers and starts nothing. The registrations cannot be
 * skipped: VS Code activates an extension once, and a command it later runs must exist.
 */
import * as vscode from 'vscode';
import { ReceiverRunMemory } from '../core/receiver/run-memory.js';
import { registerLanguageModelTools } from './assistant/language-model-tools.js';
import { registerMcp } from './assistant/mcp-registration.js';
import { registerBackend } from './backend/registration.js';
import { registerDemo } from './demo/registration.js';
import { InsightsModel } from './insights/insights-model.js';
import { registerInsights } from './insights/registration.js';
import { registerLenses } from './lenses/registration.js';
import { loadCore } from './receiver/load-core.js';
import { ReceiverController } from './receiver/receiver-controller.js';
import { receiverStarter, registerReceiver, startIfConfigured } from './receiver/registration.js';
import { registerScaffolding } from './scaffold/registration.js';
import { SourceLocator } from './shared/source-locator.js';
import { registerTracesView } from './traces-view/registration.js';
import { registerLogsView } from './logs-view/registration.js';
import type { LogsView } from './logs-view/logs-view.js';
import { registerWaterfall } from './waterfall/registration.js';

/** What `activate` returns: for the integration tests, which drive the extension in VS Code. */
export interface StagelightApi {
  readonly receiver: ReceiverController;
  /** The shared insights report (Insights view, lenses, waterfall side panel). */
  readonly insights: InsightsModel;
  /** The Logs view (its rows as shown). */
  readonly logs: Pick<LogsView, 'snapshot'>;
  /** Milliseconds `activate` took. */
  readonly activationMs: number;
}

/** What `deactivate` closes, in order. */
let running:
  { stopDemo(): void; closeWaterfall(): Promise<void>; receiver: ReceiverController } | undefined;

export function activate(context: vscode.ExtensionContext): StagelightApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Stagelight', { log: true });
  const receiver = new ReceiverController(context.globalStorageUri.fsPath, log);
  const withReceiver = receiverStarter(receiver);
  const runMemory = new ReceiverRunMemory(context.workspaceState);
  const locator = new SourceLocator(receiver, context.extensionUri);
  const insights = new InsightsModel(receiver, context.workspaceState, log);

  const waterfall = registerWaterfall({
    extensionUri: context.extensionUri,
    receiver,
    locator,
    insights,
    withReceiver,
  });
  const logs = registerLogsView(receiver);
  const demo = registerDemo({ context, receiver, log, showWaterfall: waterfall.show });
  running = { stopDemo: demo.stop, closeWaterfall: waterfall.close, receiver };

  context.subscriptions.push(
    log,
    receiver,
    locator,
    insights,
    ...registerReceiver({
      receiver,
      withReceiver,
      beforeStop: demo.stop,
      afterClear: () => locator.locations.clear(),
      memory: runMemory,
    }),
    ...waterfall.disposables,
    ...registerTracesView({ receiver, waterfall }),
    ...logs.disposables,
    ...registerLenses({ receiver, locator, log, insights, showWaterfall: waterfall.show }),
    ...registerInsights({ model: insights, receiver, locator, withReceiver }),
    ...registerBackend({ context, receiver, withReceiver, log }),
    ...registerScaffolding({
      context,
      log,
      receiverUrls: async () => (await withReceiver(() => receiver.start()))?.endpoints,
      runningUrls: () => receiver.endpoints,
    }),
    ...demo.disposables,
    ...registerLanguageModelTools(receiver, loadCore),
    ...registerMcp(receiver, context.extensionUri, log),
  );

  startIfConfigured(receiver, runMemory);
  const activationMs = performance.now() - t0;
  log.info(`Stagelight activated in ${activationMs.toFixed(1)} ms`);
  return { receiver, insights, logs: logs.view, activationMs };
}

/** Stops the demo and the receiver (closing the persistence log cleanly). */
export async function deactivate(): Promise<void> {
  const r = running;
  running = undefined;
  if (r === undefined) return;
  r.stopDemo();
  try {
    await r.closeWaterfall();
  } catch {
    // Nothing to close.
  }
  await r.receiver.stop();
}
