/**
 * The extension's entry point and composition root. Activation builds the light parts (receiver
 * controller, status bar, traces view, lens provider, commands) and pushes every registration
 * into `context.subscriptions`; the heavy parts load on first use with `import()`: the core
 * server when the receiver starts, the webview host when the waterfall opens, the demo runner
 * and the trace file code when their commands run.
 *
 * Activation events are the Stagelight commands and views, plus `onStartupFinished`, which only
 * matters when `stagelight.receiver.startOnStartup` is on: otherwise activation after startup
 * registers the (cheap) commands and providers and starts nothing. The registrations cannot be
 * skipped: VS Code activates an extension once, and a command it later runs must exist.
 */
import * as vscode from 'vscode';
import { receiverSettings } from './shared/config.js';
import { LatencyLenses } from './lenses/latency-lenses.js';
import { ReceiverController } from './receiver/receiver-controller.js';
import { registerScaffolding } from './scaffold/registration.js';
import { SourceLocator } from './shared/source-locator.js';
import { ReceiverStatusBar } from './receiver/status-bar.js';
import { TracesView } from './traces-view/traces-view.js';
import { registerInsightsCommands } from './insights/insights-commands.js';
import { InsightsModel } from './insights/insights-model.js';
import { InsightsView } from './insights/insights-view.js';
import type { DemoRunner } from './demo/demo-runner.js';

/** Command ids, as contributed in package.json. */
export const COMMANDS = {
  startReceiver: 'stagelight.startReceiver',
  stopReceiver: 'stagelight.stopReceiver',
  copyEndpoint: 'stagelight.copyEndpoint',
  clearTraces: 'stagelight.clearTraces',
  openTraceFile: 'stagelight.openTraceFile',
  exportTrace: 'stagelight.exportTrace',
  showWaterfall: 'stagelight.showWaterfall',
  openTrace: 'stagelight.openTrace',
  openStage: 'stagelight.openStage',
  runDemo: 'stagelight.runDemo',
  stopDemo: 'stagelight.stopDemo',
  openDemoSource: 'stagelight.openDemoSource',
} as const;

/** What `activate` returns: for the integration tests, which drive the extension in VS Code. */
export interface StagelightApi {
  readonly receiver: ReceiverController;
  /** The shared insights report (Insights view, lenses, waterfall side panel). */
  readonly insights: InsightsModel;
  /** Milliseconds `activate` took. */
  readonly activationMs: number;
}

let running: { receiver: ReceiverController; demo: () => DemoRunner | undefined } | undefined;

export function activate(context: vscode.ExtensionContext): StagelightApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Stagelight', { log: true });
  const receiver = new ReceiverController(context.globalStorageUri.fsPath, log);
  const locator = new SourceLocator(receiver, context.extensionUri);
  const insights = new InsightsModel(receiver, context.workspaceState, log);
  const lenses = new LatencyLenses(receiver, locator, log, insights);
  const insightsView = new InsightsView(insights, receiver);
  const selector: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }];

  let demo: DemoRunner | undefined;
  const getDemo = async (): Promise<DemoRunner> => {
    if (demo === undefined) {
      const { DemoRunner } = await import('./demo/demo-runner.js');
      demo = new DemoRunner(
        context.extensionUri,
        context.globalStorageUri.fsPath,
        receiver,
        log,
        () => showWaterfall(),
      );
      context.subscriptions.push(demo);
    }
    return demo;
  };
  running = { receiver, demo: () => demo };

  /** Starts the receiver if needed (telling the user when it cannot), then runs `f`. */
  const withReceiver = async <T>(f: () => Promise<T> | T): Promise<T | undefined> => {
    try {
      await receiver.start();
    } catch (e) {
      const pick = await vscode.window.showErrorMessage(
        `Stagelight: the receiver could not start: ${(e as Error).message}`,
        'Open Settings',
      );
      if (pick === 'Open Settings') {
        void vscode.commands.executeCommand('workbench.action.openSettings', 'stagelight.receiver');
      }
      return undefined;
    }
    return f();
  };

  const showWaterfall = async (traceId?: string, spanId?: string): Promise<void> => {
    await withReceiver(async () => {
      const { WaterfallPanel } = await import('./waterfall/waterfall-panel.js');
      WaterfallPanel.show(context.extensionUri, receiver, locator, {
        insights,
        ...(typeof traceId === 'string' ? { traceId } : {}),
        ...(typeof spanId === 'string' ? { spanId } : {}),
      });
    });
  };

  const copyEndpoint = async (): Promise<void> => {
    const server = await withReceiver(() => receiver.start());
    if (server === undefined) return;
    await vscode.env.clipboard.writeText(server.endpoints.grpc);
    const pick = await vscode.window.showInformationMessage(
      `Stagelight: copied the OTLP/gRPC endpoint ${server.endpoints.grpc}. OTLP/HTTP: ${server.endpoints.httpTraces}`,
      'Copy HTTP Endpoint',
    );
    if (pick === 'Copy HTTP Endpoint')
      await vscode.env.clipboard.writeText(server.endpoints.httpTraces);
  };

  const cmd = (id: string, f: (...args: never[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, f);

  context.subscriptions.push(
    log,
    receiver,
    locator,
    lenses,
    new ReceiverStatusBar(receiver),
    new TracesView(receiver),
    insights,
    insightsView,
    ...registerInsightsCommands(insights, insightsView, locator, withReceiver),
    vscode.languages.registerCodeLensProvider(selector, lenses),
    vscode.languages.registerHoverProvider(selector, lenses),
    ...registerScaffolding({
      context,
      log,
      receiverUrls: async () => (await withReceiver(() => receiver.start()))?.endpoints,
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      // The statistics window and the receiver settings are the engine's: they apply at start.
      const restartNeeded =
        e.affectsConfiguration('stagelight.lenses.windowMinutes') ||
        e.affectsConfiguration('stagelight.receiver.maxSpans') ||
        e.affectsConfiguration('stagelight.receiver.maxMemoryMiB') ||
        e.affectsConfiguration('stagelight.receiver.forwardUrl');
      if (!restartNeeded || receiver.state !== 'running') return;
      const pick = await vscode.window.showInformationMessage(
        'Stagelight: the new setting applies when the receiver restarts (received traces are kept).',
        'Restart Receiver',
      );
      if (pick === 'Restart Receiver') {
        await receiver.stop();
        await withReceiver(() => undefined);
      }
    }),
    receiver.onDidChangeState((s) => {
      void vscode.commands.executeCommand(
        'setContext',
        'stagelight.receiverRunning',
        s === 'running',
      );
    }),
    cmd(COMMANDS.startReceiver, async () => {
      const server = await withReceiver(() => receiver.start());
      if (server === undefined) return;
      void vscode.window
        .showInformationMessage(
          `Stagelight receiver: OTLP/gRPC ${server.endpoints.grpc}, OTLP/HTTP ${server.endpoints.httpTraces}`,
          'Copy gRPC Endpoint',
        )
        .then((p) => {
          if (p !== undefined) void vscode.env.clipboard.writeText(server.endpoints.grpc);
        });
    }),
    cmd(COMMANDS.stopReceiver, async () => {
      demo?.stop();
      await receiver.stop();
    }),
    cmd(COMMANDS.copyEndpoint, copyEndpoint),
    cmd(COMMANDS.clearTraces, () => {
      const engine = receiver.engine;
      if (engine === undefined) return;
      engine.clear();
      locator.locations.clear();
      void vscode.window.showInformationMessage('Stagelight: traces cleared.');
    }),
    cmd(COMMANDS.openTraceFile, async (uri?: vscode.Uri) => {
      const { openTraceFile } = await import('./traces-view/trace-files.js');
      const traceId = await openTraceFile(receiver, uri instanceof vscode.Uri ? uri : undefined);
      if (traceId !== undefined) await showWaterfall(traceId);
    }),
    cmd(COMMANDS.exportTrace, async (traceId?: string) => {
      const { exportTrace } = await import('./traces-view/trace-files.js');
      const { WaterfallPanel } = await import('./waterfall/waterfall-panel.js');
      await exportTrace(
        receiver,
        typeof traceId === 'string' ? traceId : WaterfallPanel.currentTraceId(),
      );
    }),
    cmd(COMMANDS.showWaterfall, (traceId?: string, spanId?: string) =>
      showWaterfall(traceId, spanId),
    ),
    cmd(COMMANDS.openTrace, (traceId?: string, spanId?: string) => showWaterfall(traceId, spanId)),
    cmd(COMMANDS.openStage, async (service?: string, name?: string) => {
      if (typeof service !== 'string' || typeof name !== 'string') return;
      const { openStage } = await import('./lenses/open-stage.js');
      const target = openStage(receiver, service, name);
      if (target === undefined) {
        void vscode.window.showInformationMessage(
          `Stagelight: no trace with span "${name}" (${service}) is held any more.`,
        );
        return;
      }
      await showWaterfall(target.traceId, target.spanId);
    }),
    cmd(COMMANDS.runDemo, async (scenario?: string) => {
      await (await getDemo()).run(typeof scenario === 'string' ? scenario : undefined);
    }),
    cmd(COMMANDS.stopDemo, () => demo?.stop()),
    cmd(COMMANDS.openDemoSource, async () => {
      const { openDemoSource } = await import('./demo/demo-runner.js');
      await openDemoSource(context.extensionUri);
    }),
  );

  if (receiverSettings().startOnStartup) {
    void receiver.start().catch((e: Error) => {
      void vscode.window.showErrorMessage(`Stagelight: the receiver could not start: ${e.message}`);
    });
  }
  const activationMs = performance.now() - t0;
  log.info(`Stagelight activated in ${activationMs.toFixed(1)} ms`);
  return { receiver, insights, activationMs };
}

/** Stops the demo and the receiver (closing the persistence log cleanly). */
export async function deactivate(): Promise<void> {
  const r = running;
  running = undefined;
  if (r === undefined) return;
  r.demo()?.stop();
  try {
    const { WaterfallPanel } = await import('./waterfall/waterfall-panel.js');
    WaterfallPanel.disposeCurrent();
  } catch {
    // Nothing to close.
  }
  await r.receiver.stop();
}
