/**
 * The waterfall feature: Show Trace Waterfall, Open Trace in Waterfall and Open Slowest Trace,
 * and the serializer that brings an open panel back after a window reload. The webview host
 * (`waterfall-panel.ts`) loads on the first of them, not at activation.
 */
import * as vscode from 'vscode';
import { slowestTrace } from '../../core/api/trace-list-filter.js';
import type { TraceInsightsSource } from '../insights/insights-model.js';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import type { WithReceiver } from '../receiver/registration.js';
import { readWaterfallMemory } from '../../protocol/messages.js';
import { COMMANDS } from '../shared/commands.js';
import type { SourceLocator } from '../shared/source-locator.js';
import { WATERFALL_VIEW_TYPE } from './view-type.js';

/** Opens the waterfall on a trace (the latest when none is named), starting the receiver. */
export type ShowWaterfall = (traceId?: string, spanId?: string) => Promise<void>;

export interface WaterfallRegistration {
  extensionUri: vscode.Uri;
  receiver: ReceiverController;
  locator: SourceLocator;
  insights: TraceInsightsSource;
  withReceiver: WithReceiver;
}

export interface Waterfall {
  readonly show: ShowWaterfall;
  /** The trace the open panel shows, if any (for Export Trace). */
  currentTraceId(): Promise<string | undefined>;
  /** Closes the panel, if one was opened. */
  close(): Promise<void>;
  readonly disposables: vscode.Disposable[];
}

export function registerWaterfall(r: WaterfallRegistration): Waterfall {
  let loaded: typeof import('./waterfall-panel.js') | undefined;
  const load = async () => (loaded ??= await import('./waterfall-panel.js'));
  const show: ShowWaterfall = async (traceId, spanId) => {
    await r.withReceiver(async () => {
      const { WaterfallPanel } = await load();
      WaterfallPanel.show(r.extensionUri, r.receiver, r.locator, {
        insights: r.insights,
        ...(typeof traceId === 'string' ? { traceId } : {}),
        ...(typeof spanId === 'string' ? { spanId } : {}),
      });
    });
  };
  const open = (traceId?: string, spanId?: string) => show(traceId, spanId);
  /** The slowest of the recent traces (those the Traces view lists). */
  const openSlowest = async (): Promise<void> => {
    const slowest = slowestTrace(r.receiver.engine?.store.list({ limit: 500 }) ?? []);
    if (slowest === undefined) {
      void vscode.window.showInformationMessage(
        'Stagelight: no traces yet. Run the demo pipeline, or point an exporter at the receiver.',
      );
      return;
    }
    await show(slowest.traceId);
  };
  return {
    show,
    currentTraceId: async () =>
      loaded === undefined ? undefined : loaded.WaterfallPanel.currentTraceId(),
    close: async () => loaded?.WaterfallPanel.disposeCurrent(),
    disposables: [
      vscode.commands.registerCommand(COMMANDS.showWaterfall, open),
      vscode.commands.registerCommand(COMMANDS.openTrace, open),
      vscode.commands.registerCommand(COMMANDS.openSlowestTrace, openSlowest),
      // A panel left open comes back after a window reload (activation `onWebviewPanel:`), on
      // the trace the webview remembered; the receiver starts for it, as for Show Waterfall.
      vscode.window.registerWebviewPanelSerializer(WATERFALL_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const revived = await r.withReceiver(async () => {
            const { WaterfallPanel } = await load();
            WaterfallPanel.revive(
              panel,
              r.extensionUri,
              r.receiver,
              r.locator,
              readWaterfallMemory(state),
              r.insights,
            );
            return true;
          });
          // Without a receiver there is nothing to show: close the restored tab.
          if (revived === undefined) panel.dispose();
        },
      }),
    ],
  };
}
