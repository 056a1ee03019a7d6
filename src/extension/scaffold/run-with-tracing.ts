/**
 * **Stagelight: Run with Tracing** and the debug configuration provider: the user's program gets
 * `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL` and `OTEL_SERVICE_NAME` pointing
 * at the receiver's current port. A Python file set up for zero-code instrumentation runs under
 * `opentelemetry-instrument`, with the distro's exporter variables too. What to set and what to run is the core's (`run-env.ts`,
 * `python-interpreter.ts`); this module only reads the editor's state and starts the terminal.
 *
 * Light (part of dist/extension.js): it needs neither the parsers nor the receiver's code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  defaultServiceName,
  type ProtocolSetting,
  type ReceiverBaseUrls,
} from '../../core/scaffold/command-choices.js';
import { scaffoldLanguage } from '../../core/scaffold/languages.js';
import { findProjectRoot, projectFiles } from '../../core/scaffold/project-root.js';
import { pythonRunsZeroCode } from '../../core/scaffold/python-zero-code.js';
import {
  TRACED_DEBUG_TYPES,
  addTracingEnv,
  debugTypeLanguage,
  envFileKeys,
  programProtocol,
  runCommand,
  runCommandLine,
  tracingEnv,
  zeroCodeTracingEnv,
} from '../../core/scaffold/run-env.js';
import type { ScaffoldLanguage } from '../../core/scaffold/types.js';
import { pythonInterpreter, terminalShell } from './python-interpreter.js';

export interface RunHost {
  readonly log: vscode.LogOutputChannel;
  /** Starts the receiver if needed; undefined when it cannot (the user has been told why). */
  receiverUrls(): Promise<ReceiverBaseUrls | undefined>;
  /** The running receiver's URLs, without starting it. */
  runningUrls(): ReceiverBaseUrls | undefined;
}

/** How Run with Tracing ended, for the integration tests. */
export interface RunOutcome {
  status: 'started' | 'no-file' | 'unsupported-language' | 'no-receiver' | 'not-saved';
  env?: Record<string, string>;
  commandLine?: string;
  cwd?: string;
  /** Python started under opentelemetry-instrument (zero-code instrumentation). */
  zeroCode?: boolean;
}

function protocolSetting(): ProtocolSetting {
  const v = vscode.workspace
    .getConfiguration('stagelight.scaffold')
    .get<string>('protocol', 'auto');
  return v === 'grpc' || v === 'http' ? v : 'auto';
}

/** The project root of a file on disk (its workspace folder when no manifest is nearer). */
function projectRoot(language: ScaffoldLanguage, file: vscode.Uri): string {
  const folder = vscode.workspace.getWorkspaceFolder(file)?.uri.fsPath;
  return findProjectRoot(language, file.fsPath, folder);
}

/** `Stagelight: Run with Tracing`: the active file in a new terminal with the tracing env. */
export async function runWithTracing(host: RunHost, arg?: unknown): Promise<RunOutcome> {
  const editor = vscode.window.activeTextEditor;
  const uri = arg instanceof vscode.Uri ? arg : editor?.document.uri;
  const doc =
    uri === undefined
      ? undefined
      : (vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString()) ??
        (await vscode.workspace.openTextDocument(uri)));
  if (doc === undefined) {
    void vscode.window.showInformationMessage(
      'Stagelight: open a Python, TypeScript, JavaScript, Go or Java file to run it with tracing.',
    );
    return { status: 'no-file' };
  }
  const language = scaffoldLanguage(doc.languageId);
  if (language === undefined) {
    void vscode.window.showWarningMessage(
      `Stagelight: Run with Tracing runs Python, TypeScript, JavaScript, Go and Java files, not ${doc.languageId}.`,
    );
    return { status: 'unsupported-language' };
  }
  if (doc.uri.scheme !== 'file' || (doc.isDirty && !(await doc.save()))) {
    void vscode.window.showWarningMessage('Stagelight: save the file first to run it.');
    return { status: 'not-saved' };
  }
  const receiver = await host.receiverUrls();
  if (receiver === undefined) return { status: 'no-receiver' };

  const root = projectRoot(language, doc.uri);
  const zeroCode = language === 'python' && pythonRunsZeroCode(doc.getText(), projectFiles(root));
  const env = (zeroCode ? zeroCodeTracingEnv : tracingEnv)(
    receiver,
    programProtocol(language, protocolSetting(), doc.getText()),
    defaultServiceName(undefined, root, doc.fileName),
  );
  const goRoot = language === 'go' ? root : undefined;
  const cmd = runCommand(doc.fileName, language, {
    python: language === 'python' ? pythonInterpreter(doc.uri, root).command : 'python3',
    projectRoot: language === 'go' ? undefined : root,
    goModule: goRoot !== undefined && fs.existsSync(path.join(goRoot, 'go.mod')),
    zeroCode,
  });
  const line = runCommandLine(cmd, terminalShell());
  const terminal = vscode.window.createTerminal({
    name: `Stagelight: ${path.basename(doc.fileName)}`,
    cwd: cmd.cwd,
    env,
  });
  terminal.show();
  terminal.sendText(line, true);
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  host.log.info(
    `Run with Tracing${zeroCode ? ' (zero-code, opentelemetry-instrument)' : ''}: ${line} in ${cmd.cwd} (${vars.join(' ')})`,
  );
  return { status: 'started', env, commandLine: line, cwd: cmd.cwd, zeroCode };
}

/**
 * Adds the tracing env to launch configurations of the debug types in `TRACED_DEBUG_TYPES`
 * while the receiver runs. A debug session does not start the receiver: without one, the
 * configuration is left as it is (a generated setup then sends to the port written in it).
 */
export class TracingDebugConfigurations implements vscode.DebugConfigurationProvider {
  constructor(private readonly host: RunHost) {}

  resolveDebugConfiguration(
    folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.DebugConfiguration {
    const language = debugTypeLanguage(config.type);
    const receiver = this.host.runningUrls();
    if (language === undefined || receiver === undefined) return config;
    const program = typeof config.program === 'string' ? config.program : undefined;
    const active = vscode.window.activeTextEditor?.document;
    const activeMatches = active !== undefined && sameLanguage(active.languageId, language);
    const name = defaultServiceName(
      undefined,
      folder?.uri.fsPath,
      program !== undefined && !program.includes('${')
        ? program
        : activeMatches
          ? active.fileName
          : (config.name ?? 'service'),
    );
    const tracing = tracingEnv(
      receiver,
      programProtocol(language, protocolSetting(), activeMatches ? active.getText() : undefined),
      name,
    );
    const { env, added } = addTracingEnv(
      isEnv(config.env) ? config.env : undefined,
      tracing,
      envFileNames(config.envFile, folder),
    );
    if (added.length > 0)
      this.host.log.info(`Debug session "${config.name}": added ${added.join(', ')}`);
    return { ...config, env };
  }
}

function sameLanguage(languageId: string, language: ScaffoldLanguage): boolean {
  const l = scaffoldLanguage(languageId);
  const js = (x: ScaffoldLanguage | undefined) => x === 'javascript' || x === 'typescript';
  return l === language || (js(l) && js(language));
}

function isEnv(v: unknown): v is Record<string, string | null | undefined> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The variable names the configuration's env file sets, so its values are not overridden. */
function envFileNames(envFile: unknown, folder: vscode.WorkspaceFolder | undefined): Set<string> {
  if (typeof envFile !== 'string' || envFile === '') return new Set();
  const file = envFile.replace(/\$\{workspaceFolder\}/g, folder?.uri.fsPath ?? '');
  try {
    return envFileKeys(fs.readFileSync(file, 'utf8'));
  } catch {
    return new Set();
  }
}

/** The command and the debug configuration providers, one per traced debug type. */
export function registerRunWithTracing(host: RunHost, commandId: string): vscode.Disposable[] {
  const provider = new TracingDebugConfigurations(host);
  return [
    vscode.commands.registerCommand(commandId, (arg?: unknown) => runWithTracing(host, arg)),
    ...Object.keys(TRACED_DEBUG_TYPES).map((type) =>
      vscode.debug.registerDebugConfigurationProvider(type, provider),
    ),
  ];
}
