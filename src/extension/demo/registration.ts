/**
 * The demo feature: Run Demo Pipeline, Stop Demo Pipeline and Open Demo Source. The runner
 * (child process, progress, crash report) loads on the first run.
 */
import * as vscode from 'vscode';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import { COMMANDS } from '../shared/commands.js';
import type { ShowWaterfall } from '../waterfall/registration.js';
import type { DemoRunner } from './demo-runner.js';

export interface DemoRegistration {
  context: vscode.ExtensionContext;
  receiver: ReceiverController;
  log: vscode.LogOutputChannel;
  showWaterfall: ShowWaterfall;
}

export interface Demo {
  /** Stops a running demo (nothing when none runs or the runner never loaded). */
  stop(): void;
  readonly disposables: vscode.Disposable[];
}

export function registerDemo(r: DemoRegistration): Demo {
  let runner: DemoRunner | undefined;
  const getRunner = async (): Promise<DemoRunner> => {
    if (runner === undefined) {
      const { DemoRunner } = await import('./demo-runner.js');
      runner = new DemoRunner(
        r.context.extensionUri,
        r.context.globalStorageUri.fsPath,
        r.receiver,
        r.log,
        () => r.showWaterfall(),
      );
      r.context.subscriptions.push(runner);
    }
    return runner;
  };
  return {
    stop: () => runner?.stop(),
    disposables: [
      vscode.commands.registerCommand(COMMANDS.runDemo, async (scenario?: string) => {
        await (await getRunner()).run(typeof scenario === 'string' ? scenario : undefined);
      }),
      vscode.commands.registerCommand(COMMANDS.stopDemo, () => runner?.stop()),
      vscode.commands.registerCommand(COMMANDS.openDemoSource, async () => {
        const { openDemoSource } = await import('./demo-runner.js');
        await openDemoSource(r.context.extensionUri);
      }),
    ],
  };
}
