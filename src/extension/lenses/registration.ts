/**
 * The lenses feature: latency CodeLenses and hovers on the lines that start spans, in every file
 * and untitled document, and Open Slowest Trace of Stage behind a lens click (the stage's span in
 * the slowest trace of the lens window). The provider is light (the scan and the matching are
 * `core/source`); it computes only when asked.
 */
import * as vscode from 'vscode';
import { slowestStageSpan } from '../../core/source/stage-samples.js';
import type { StageInsightsSource } from '../insights/insights-model.js';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import { COMMANDS } from '../shared/commands.js';
import { lensSettings } from '../shared/config.js';
import type { SourceLocator } from '../shared/source-locator.js';
import type { ShowWaterfall } from '../waterfall/registration.js';
import { LatencyLenses } from './latency-lenses.js';

export interface LensesRegistration {
  receiver: ReceiverController;
  locator: SourceLocator;
  log: vscode.LogOutputChannel;
  insights: StageInsightsSource;
  showWaterfall: ShowWaterfall;
}

export function registerLenses(r: LensesRegistration): vscode.Disposable[] {
  const lenses = new LatencyLenses(r.receiver, r.locator, r.log, r.insights);
  const selector: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }];
  return [
    lenses,
    vscode.languages.registerCodeLensProvider(selector, lenses),
    vscode.languages.registerHoverProvider(selector, lenses),
    vscode.commands.registerCommand(COMMANDS.openStage, async (service?: string, name?: string) => {
      if (typeof service !== 'string' || typeof name !== 'string') return;
      const engine = r.receiver.engine;
      const sinceMs = Date.now() - lensSettings().windowMinutes * 60_000;
      const target =
        engine === undefined
          ? undefined
          : slowestStageSpan(() => engine.store.all(), service, name, sinceMs);
      if (target === undefined) {
        void vscode.window.showInformationMessage(
          `Stagelight: no trace with span "${name}" (${service}) is held any more.`,
        );
        return;
      }
      await r.showWaterfall(target.traceId, target.spanId);
    }),
  ];
}
