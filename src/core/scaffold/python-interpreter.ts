/**
 * Which Python runs the user's commands (a `pip install` of the tracing packages, Run with
 * Tracing): the one the user picked, else the workspace's virtual environment, else `python3`.
 * A bare `python` from PATH would install into, or run with, the system Python while the
 * project's packages live in its `.venv`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What the editor knows of the user's choice; each may be missing. */
export interface InterpreterHints {
  /** The Python extension's active environment (`environments.getActiveEnvironmentPath()`). */
  selected?: string;
  /** The `python.defaultInterpreterPath` setting, `${workspaceFolder}` not yet replaced. */
  defaultInterpreterPath?: string;
}

export type InterpreterSource = 'python-extension' | 'setting' | 'venv' | 'default';

export interface Interpreter {
  /** A path, or a command found on PATH (`python3`, the setting's `python3.12`). */
  command: string;
  source: InterpreterSource;
}

/** Virtual environment folders looked for, in this order, in each workspace folder. */
export const VENV_DIRS: readonly string[] = ['.venv', 'venv'];

/** The interpreter inside a virtual environment folder, on this platform. */
export function venvInterpreter(venvDir: string, platform: NodeJS.Platform): string {
  return platform === 'win32'
    ? path.win32.join(venvDir, 'Scripts', 'python.exe')
    : path.posix.join(venvDir, 'bin', 'python');
}

/**
 * The interpreter to use. The Python extension's selection wins; then the setting, unless it is
 * its default `python` (which only means "not set"); then `.venv` or `venv` in the first of
 * `folders` (the file's project root, the workspace folder) that has one; then `python3`
 * (`python` on Windows, where `python3` is usually the Store stub).
 */
export function chooseInterpreter(
  hints: InterpreterHints,
  folders: readonly string[],
  platform: NodeJS.Platform = process.platform,
  exists: (file: string) => boolean = fs.existsSync,
): Interpreter {
  const selected = hints.selected?.trim();
  if (selected) return { command: selected, source: 'python-extension' };
  const setting = hints.defaultInterpreterPath?.trim();
  if (setting && setting !== 'python') {
    const folder = folders[folders.length - 1];
    const command =
      folder === undefined ? setting : setting.replace(/\$\{workspaceFolder\}/g, folder);
    if (!command.includes('${')) return { command, source: 'setting' };
  }
  for (const folder of folders) {
    for (const dir of VENV_DIRS) {
      const candidate = venvInterpreter(
        platform === 'win32' ? path.win32.join(folder, dir) : path.posix.join(folder, dir),
        platform,
      );
      if (exists(candidate)) return { command: candidate, source: 'venv' };
    }
  }
  return { command: platform === 'win32' ? 'python' : 'python3', source: 'default' };
}

/**
 * A dependency command with its leading `python` (as `installInstructions` writes the pip
 * command) replaced by `interpreter`, quoted for the shell; other commands (uv, poetry, pdm,
 * pipenv manage their own environments) unchanged.
 */
export function withInterpreter(command: string, interpreter: string, shell: ShellKind): string {
  if (!/^python\s/.test(command)) return command;
  return `${commandLine([interpreter], shell)}${command.slice('python'.length)}`;
}

/** The shell a terminal's `sendText` talks to: POSIX sh-likes, PowerShell, or cmd.exe. */
export type ShellKind = 'posix' | 'powershell' | 'cmd';

/** The kind of a shell, by its path (`vscode.env.shell`); POSIX unless it is a Windows shell. */
export function shellKind(shellPath: string): ShellKind {
  const base = shellPath.split(/[\\/]/).pop()?.toLowerCase() ?? '';
  if (/^(powershell|pwsh)(\.exe)?$/.test(base)) return 'powershell';
  if (/^cmd(\.exe)?$/.test(base)) return 'cmd';
  return 'posix';
}

/** One argument quoted for the shell when it needs it. */
export function quoteArg(arg: string, shell: ShellKind): string {
  const safe = shell === 'posix' ? /^[\w@%+=:,./-]+$/ : /^[\w@%+=:,./\\-]+$/;
  if (safe.test(arg)) return arg;
  // Windows file names cannot hold a double quote, so cmd's quoting needs no escapes.
  if (shell === 'cmd') return `"${arg}"`;
  return `'${arg.replace(/'/g, shell === 'posix' ? `'\\''` : "''")}'`;
}

/** A command line for `argv`; PowerShell needs `&` to call a quoted program path. */
export function commandLine(argv: readonly string[], shell: ShellKind): string {
  const parts = argv.map((a) => quoteArg(a, shell));
  if (shell === 'powershell' && parts[0] !== argv[0]) parts[0] = `& ${parts[0]}`;
  return parts.join(' ');
}
