/**
 * The Traces view feature: the live list of traces (its sort and filter commands are the
 * view's), Open Trace File and Export Trace. The OTLP/JSON file code loads when one of those
 * two runs.
 */
import * as vscode from 'vscode';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import { COMMANDS } from '../shared/commands.js';
import type { Waterfall } from '../waterfall/registration.js';
import { TracesView } from './traces-view.js';

export interface TracesViewRegistration {
  receiver: ReceiverController;
  waterfall: Pick<Waterfall, 'show' | 'currentTraceId'>;
}

export function registerTracesView(r: TracesViewRegistration): vscode.Disposable[] {
  return [
    new TracesView(r.receiver),
    vscode.commands.registerCommand(COMMANDS.openTraceFile, async (uri?: vscode.Uri) => {
      const { openTraceFile } = await import('./trace-files.js');
      const traceId = await openTraceFile(r.receiver, uri instanceof vscode.Uri ? uri : undefined);
      if (traceId !== undefined) await r.waterfall.show(traceId);
    }),
    vscode.commands.registerCommand(COMMANDS.exportTrace, async (traceId?: string) => {
      const { exportTrace } = await import('./trace-files.js');
      await exportTrace(
        r.receiver,
        typeof traceId === 'string' ? traceId : await r.waterfall.currentTraceId(),
      );
    }),
  ];
}
