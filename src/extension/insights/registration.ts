/**
 * The insights feature: the Insights view and its commands (baselines, the sampling what-if,
 * "Add a span here"). The model they show is the composition root's, since the lenses and the
 * waterfall read it too; it computes nothing itself (the engine's analysis service does).
 */
import type * as vscode from 'vscode';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import type { WithReceiver } from '../receiver/registration.js';
import type { SourceLocator } from '../shared/source-locator.js';
import { registerInsightsCommands } from './insights-commands.js';
import type { InsightsModel } from './insights-model.js';
import { InsightsView } from './insights-view.js';

export interface InsightsRegistration {
  model: InsightsModel;
  receiver: ReceiverController;
  locator: SourceLocator;
  withReceiver: WithReceiver;
}

export function registerInsights(r: InsightsRegistration): vscode.Disposable[] {
  const view = new InsightsView(r.model, r.receiver);
  return [view, ...registerInsightsCommands(r.model, view, r.locator, r.withReceiver)];
}
