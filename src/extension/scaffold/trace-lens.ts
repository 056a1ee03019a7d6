/**
 * The optional "Trace" lens (`stagelight.scaffold.traceLens`) over each function that starts no
 * span yet; it runs Trace This Function there. Light, like the code actions.
 */
import * as vscode from 'vscode';
import { functionHeaders } from '../../core/scaffold/function-headers.js';
import { scaffoldLanguage } from '../../core/scaffold/languages.js';
import { COMMANDS } from '../shared/commands.js';

/** `stagelight.scaffold.traceLens`: a "Trace" lens on functions that start no span yet. */
export const TRACE_LENS_SETTING = 'stagelight.scaffold.traceLens';

/** The lens provider (default off). */
export class TraceLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  private readonly config = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(TRACE_LENS_SETTING)) this.emitter.fire();
  });

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (vscode.workspace.getConfiguration().get<boolean>(TRACE_LENS_SETTING, false) !== true) {
      return [];
    }
    const language = scaffoldLanguage(doc.languageId);
    if (language === undefined) return [];
    return functionHeaders(doc.getText(), language)
      .filter((h) => !h.instrumented)
      .map(
        (h) =>
          new vscode.CodeLens(new vscode.Range(h.line, 0, h.line, 0), {
            title: '$(pulse) Trace',
            tooltip: `Stagelight: wrap ${h.name} in a span`,
            command: COMMANDS.traceFunction,
            arguments: [doc.uri, doc.offsetAt(new vscode.Position(h.line, h.column))],
          }),
      );
  }

  dispose(): void {
    this.config.dispose();
    this.emitter.dispose();
  }
}
