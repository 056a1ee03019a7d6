/**
 * The "Trace this function" and "Wrap selection in a span" code actions. Light: where they are
 * offered is decided by the line heuristic of `core/scaffold/function-headers.ts`, never by a
 * parser; the commands they run load the scaffolding.
 */
import * as vscode from 'vscode';
import { offersTraceAt } from '../../core/scaffold/function-headers.js';
import { scaffoldLanguage } from '../../core/scaffold/languages.js';
import { COMMANDS } from '../shared/commands.js';

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
      a.command = { command: COMMANDS.wrapSelectionInSpan, title: a.title };
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
        command: COMMANDS.traceFunction,
        title: a.title,
        arguments: [doc.uri, doc.offsetAt(range.start)],
      };
      actions.push(a);
    }
    return actions;
  }
}
