/**
 * Registration of the scaffolding commands, the "Trace this function" code action and the
 * optional "Trace" lens. This module is part of dist/extension.js, so it stays light: the
 * commands load the scaffolding bundle (`loadScaffold`) when they first run, and the code action
 * and the lens decide where to appear with the line heuristic of `core/scaffold/function-headers.ts`,
 * never with a parser.
 */
import * as vscode from 'vscode';
import { receiverSettings } from '../shared/config.js';
import type { ScaffoldHost } from './scaffold-commands.js';
import { loadScaffold } from './scaffold-load.js';
import type { ReceiverBaseUrls } from '../../core/scaffold/command-choices.js';
import { functionHeaders, offersTraceAt } from '../../core/scaffold/function-headers.js';
import { SCAFFOLD_LANGUAGE_IDS, scaffoldLanguage } from '../../core/scaffold/languages.js';

/** Command ids, as contributed in package.json. */
export const SCAFFOLD_COMMANDS = {
  addTracingSetup: 'stagelight.addTracingSetup',
  traceFunction: 'stagelight.traceFunction',
  wrapSelectionInSpan: 'stagelight.wrapSelectionInSpan',
  addStageAttributes: 'stagelight.addStageAttributes',
  propagateContext: 'stagelight.propagateContext',
} as const;

/** `stagelight.scaffold.traceLens`: a "Trace" lens on functions that start no span yet. */
export const TRACE_LENS_SETTING = 'stagelight.scaffold.traceLens';

export interface ScaffoldRegistration {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  /** Starts the receiver if needed (telling the user when it cannot) and gives its URLs. */
  receiverUrls(): Promise<ReceiverBaseUrls | undefined>;
}

/** Registers everything; the caller pushes the disposables into `context.subscriptions`. */
export function registerScaffolding(r: ScaffoldRegistration): vscode.Disposable[] {
  const host: ScaffoldHost = {
    log: r.log,
    receiverUrls: r.receiverUrls,
    configuredPorts: () => receiverSettings(),
  };
  const bundle = () => loadScaffold(r.context.extensionPath);
  const selector: vscode.DocumentSelector = SCAFFOLD_LANGUAGE_IDS.flatMap((language) => [
    { language, scheme: 'file' },
    { language, scheme: 'untitled' },
  ]);
  const lens = new TraceLens();
  return [
    vscode.commands.registerCommand(SCAFFOLD_COMMANDS.addTracingSetup, (...a: unknown[]) =>
      bundle().addTracingSetupCommand(host, ...a),
    ),
    vscode.commands.registerCommand(SCAFFOLD_COMMANDS.traceFunction, (...a: unknown[]) =>
      bundle().traceFunctionCommand(host, ...a),
    ),
    vscode.commands.registerCommand(SCAFFOLD_COMMANDS.wrapSelectionInSpan, (...a: unknown[]) =>
      bundle().wrapSelectionCommand(host, ...a),
    ),
    vscode.commands.registerCommand(SCAFFOLD_COMMANDS.addStageAttributes, (...a: unknown[]) =>
      bundle().addStageAttributesCommand(host, ...a),
    ),
    vscode.commands.registerCommand(SCAFFOLD_COMMANDS.propagateContext, (...a: unknown[]) =>
      bundle().propagateContextCommand(host, ...a),
    ),
    vscode.languages.registerCodeActionsProvider(selector, new TraceCodeActions(), {
      providedCodeActionKinds: TraceCodeActions.kinds,
    }),
    lens,
    vscode.languages.registerCodeLensProvider(selector, lens),
  ];
}

/**
 * "Trace this function with Stagelight" (and "Wrap selection in a span" for a selection). The
 * lightbulb offers it by itself only on a function header not yet traced; asked for with
 * Ctrl+. or the Refactor menu, anywhere in a supported file (the command then finds the
 * enclosing function, or says there is none).
 */
export class TraceCodeActions implements vscode.CodeActionProvider {
  static readonly traceKind = vscode.CodeActionKind.RefactorRewrite.append('stagelight.trace');
  static readonly wrapKind = vscode.CodeActionKind.RefactorRewrite.append('stagelight.wrap');
  static readonly kinds = [TraceCodeActions.traceKind, TraceCodeActions.wrapKind];

  provideCodeActions(
    doc: vscode.TextDocument,
    range: vscode.Range | vscode.Selection,
    context: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const language = scaffoldLanguage(doc.languageId);
    if (language === undefined) return [];
    const wants = (kind: vscode.CodeActionKind): boolean =>
      context.only === undefined || context.only.contains(kind);
    const explicit = context.triggerKind === vscode.CodeActionTriggerKind.Invoke;
    const actions: vscode.CodeAction[] = [];
    if (!range.isEmpty && wants(TraceCodeActions.wrapKind)) {
      const a = new vscode.CodeAction(
        'Wrap selection in a span with Stagelight',
        TraceCodeActions.wrapKind,
      );
      a.command = { command: SCAFFOLD_COMMANDS.wrapSelectionInSpan, title: a.title };
      actions.push(a);
    }
    if (
      wants(TraceCodeActions.traceKind) &&
      (explicit || (range.isEmpty && offersTraceAt(doc.getText(), language, range.start.line)))
    ) {
      const a = new vscode.CodeAction(
        'Trace this function with Stagelight',
        TraceCodeActions.traceKind,
      );
      a.command = {
        command: SCAFFOLD_COMMANDS.traceFunction,
        title: a.title,
        arguments: [doc.uri, doc.offsetAt(range.start)],
      };
      actions.push(a);
    }
    return actions;
  }
}

/** The optional "Trace" lens over each function header that starts no span yet (default off). */
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
            command: SCAFFOLD_COMMANDS.traceFunction,
            arguments: [doc.uri, doc.offsetAt(new vscode.Position(h.line, h.column))],
          }),
      );
  }

  dispose(): void {
    this.config.dispose();
    this.emitter.dispose();
  }
}
