/**
 * The scaffolding feature: the five instrumentation commands, the "Trace this function" code
 * action, the optional "Trace" lens, and Run with Tracing with its debug configuration
 * provider. This module is part of dist/extension.js, so it stays light: the commands load the
 * scaffolding bundle (`loadScaffold`: the TypeScript compiler and tree-sitter) when one first
 * runs; the code action and the lens use the line heuristic only; Run with Tracing needs
 * neither.
 */
import * as vscode from 'vscode';
import type { ReceiverBaseUrls } from '../../core/scaffold/command-choices.js';
import { SCAFFOLD_LANGUAGE_IDS } from '../../core/scaffold/languages.js';
import { COMMANDS, type CommandId } from '../shared/commands.js';
import { receiverSettings } from '../shared/config.js';
import type * as ScaffoldBundle from './scaffold-bundle.js';
import type { ScaffoldHost } from './scaffold-commands.js';
import { registerRunWithTracing } from './run-with-tracing.js';
import { loadScaffold } from './scaffold-load.js';
import { TraceCodeActions } from './trace-code-actions.js';
import { TraceLens } from './trace-lens.js';

/** The bundle's command functions: each takes the host, then the command's arguments. */
type CommandFunction = Exclude<keyof typeof ScaffoldBundle, 'setTreeSitterWasmDir'>;

/** Each command and the bundle's function that carries it out. */
const SCAFFOLD_COMMANDS: ReadonlyArray<readonly [CommandId, CommandFunction]> = [
  [COMMANDS.addTracingSetup, 'addTracingSetupCommand'],
  [COMMANDS.traceFunction, 'traceFunctionCommand'],
  [COMMANDS.wrapSelectionInSpan, 'wrapSelectionCommand'],
  [COMMANDS.addStageAttributes, 'addStageAttributesCommand'],
  [COMMANDS.propagateContext, 'propagateContextCommand'],
];

export interface ScaffoldRegistration {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  /** Starts the receiver if needed (telling the user when it cannot) and gives its URLs. */
  receiverUrls(): Promise<ReceiverBaseUrls | undefined>;
  /** The running receiver's URLs, without starting it (debug sessions). */
  runningUrls(): ReceiverBaseUrls | undefined;
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
    ...SCAFFOLD_COMMANDS.map(([id, run]) =>
      vscode.commands.registerCommand(id, (...a: unknown[]) => bundle()[run](host, ...a)),
    ),
    vscode.languages.registerCodeActionsProvider(selector, new TraceCodeActions(), {
      providedCodeActionKinds: TraceCodeActions.kinds,
    }),
    lens,
    vscode.languages.registerCodeLensProvider(selector, lens),
    ...registerRunWithTracing(
      { log: r.log, receiverUrls: r.receiverUrls, runningUrls: r.runningUrls },
      COMMANDS.runWithTracing,
    ),
  ];
}
