/**
 * The receiver feature: the controller's commands (start, stop, copy the endpoint, clear), the
 * status bar item, the `stagelight.receiverRunning` context key the menus' `when` clauses read,
 * and the prompt to restart when a setting that applies at start changes. Light: the core itself
 * loads on the first start (`load-core.ts`).
 */
import * as vscode from 'vscode';
import type { ReceiverRunMemory } from '../../core/receiver/run-memory.js';
import { COMMANDS } from '../shared/commands.js';
import { receiverSettings } from '../shared/config.js';
import { formatCount } from '../../shared/format.js';
import { copiedEndpointText, endpointsText } from '../../shared/receiver-text.js';
import { copyEndpoint } from './copy-endpoint.js';
import type { ReceiverController } from './receiver-controller.js';
import { ReceiverStatusBar } from './status-bar.js';

/** Starts the receiver if needed (telling the user when it cannot), then runs `f`. */
export type WithReceiver = <T>(f: () => Promise<T> | T) => Promise<T | undefined>;

/** The `WithReceiver` of a controller: a failed start shows why, with a way to the settings. */
export function receiverStarter(receiver: ReceiverController): WithReceiver {
  return async (f) => {
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
}

export interface ReceiverRegistration {
  receiver: ReceiverController;
  withReceiver: WithReceiver;
  /** Runs before Stop Receiver stops it (the demo stops first: it would export into nothing). */
  beforeStop(): void;
  /** Runs after Clear Traces emptied the engine. */
  afterClear(): void;
  /** Whether it ran before this window reloaded (`workspaceState`). */
  memory: ReceiverRunMemory;
}

export function registerReceiver(r: ReceiverRegistration): vscode.Disposable[] {
  const { receiver, withReceiver } = r;
  const cmd = (id: string, f: (...args: never[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, f);
  return [
    new ReceiverStatusBar(receiver),
    receiver.onDidChangeState((s) => {
      void vscode.commands.executeCommand(
        'setContext',
        'stagelight.receiverRunning',
        s === 'running',
      );
      if (s === 'running') void r.memory.noteRunning();
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
    cmd(COMMANDS.startReceiver, async () => {
      const server = await withReceiver(() => receiver.start());
      if (server === undefined) return;
      void vscode.window
        .showInformationMessage(
          `Stagelight receiver: ${endpointsText(server.endpoints)}`,
          'Copy gRPC Endpoint',
          'Copy HTTP Endpoint',
        )
        .then((p) => {
          if (p === 'Copy gRPC Endpoint') void copyEndpoint('grpc', server.endpoints);
          if (p === 'Copy HTTP Endpoint') void copyEndpoint('http', server.endpoints);
        });
    }),
    cmd(COMMANDS.stopReceiver, async () => {
      r.beforeStop();
      await receiver.stop();
      await r.memory.noteStoppedByUser();
    }),
    cmd(COMMANDS.copyEndpoint, async () => {
      const server = await withReceiver(() => receiver.start());
      if (server === undefined) return;
      await vscode.env.clipboard.writeText(server.endpoints.grpc);
      const pick = await vscode.window.showInformationMessage(
        copiedEndpointText('grpc', server.endpoints),
        'Copy HTTP Endpoint',
      );
      if (pick === 'Copy HTTP Endpoint') await copyEndpoint('http', server.endpoints);
    }),
    cmd(COMMANDS.clearTraces, async (opts?: { confirm?: boolean }) => {
      const engine = receiver.engine;
      if (engine === undefined) return;
      const held = engine.store.traceCount;
      // A command run by code (`{ confirm: false }`, the test suites) clears without asking.
      if (held > 0 && opts?.confirm !== false) {
        const pick = await vscode.window.showWarningMessage(
          `Clear ${formatCount(held, 'trace')}?`,
          {
            modal: true,
            detail:
              'They are removed from the Traces view, the waterfall, the lenses and the span log. ' +
              'Spans already forwarded upstream stay there.',
          },
          'Clear Traces',
        );
        if (pick !== 'Clear Traces') return;
      }
      engine.clear();
      r.afterClear();
      void vscode.window.showInformationMessage(
        `Stagelight: ${formatCount(held, 'trace')} cleared.`,
      );
    }),
  ];
}

/**
 * Starts the receiver now (not awaited) when it ran before the window reloaded, or with
 * `stagelight.receiver.startOnStartup`.
 */
export function startIfConfigured(receiver: ReceiverController, memory: ReceiverRunMemory): void {
  if (!memory.startOnActivation(receiverSettings().startOnStartup)) return;
  void receiver.start().catch((e: Error) => {
    void vscode.window.showErrorMessage(`Stagelight: the receiver could not start: ${e.message}`);
  });
}
