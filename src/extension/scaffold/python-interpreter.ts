/**
 * The Python interpreter for a file: the editor's side of `chooseInterpreter` (core). It asks
 * the Python extension for its selected environment and reads `python.defaultInterpreterPath`;
 * the extension may be missing, inactive, or expose another API, so every step is guarded and
 * a failure only means "no selection".
 */
import * as vscode from 'vscode';
import {
  chooseInterpreter,
  shellKind,
  type Interpreter,
  type ShellKind,
} from '../../core/scaffold/python-interpreter.js';

interface PythonEnvironmentsApi {
  getActiveEnvironmentPath?: (resource?: vscode.Uri) => { path?: unknown } | undefined;
}

/** The Python extension's active environment for `uri`, when it is installed and active. */
function selectedEnvironment(uri: vscode.Uri | undefined): string | undefined {
  try {
    const ext = vscode.extensions.getExtension('ms-python.python');
    // Not activated here: activating it can take seconds, and an inactive one has no selection
    // for this window yet.
    if (ext === undefined || !ext.isActive) return undefined;
    const exports: unknown = ext.exports;
    if (exports === null || typeof exports !== 'object') return undefined;
    const environments = (exports as { environments?: PythonEnvironmentsApi }).environments;
    const active = environments?.getActiveEnvironmentPath?.(uri);
    return typeof active?.path === 'string' ? active.path : undefined;
  } catch {
    return undefined;
  }
}

/** The interpreter for a file: searched in its project root, then its workspace folder. */
export function pythonInterpreter(uri: vscode.Uri | undefined, projectRoot?: string): Interpreter {
  const folder = uri === undefined ? undefined : vscode.workspace.getWorkspaceFolder(uri);
  const folders = [projectRoot, folder?.uri.fsPath].filter(
    (f, i, all): f is string => f !== undefined && all.indexOf(f) === i,
  );
  const setting = vscode.workspace
    .getConfiguration('python', uri)
    .get<string>('defaultInterpreterPath');
  return chooseInterpreter(
    { selected: selectedEnvironment(uri), defaultInterpreterPath: setting },
    folders,
  );
}

/** The kind of the shell new terminals start. */
export function terminalShell(): ShellKind {
  return shellKind(vscode.env.shell);
}
