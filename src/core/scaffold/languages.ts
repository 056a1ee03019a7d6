/**
 * The editor languages the scaffolding writes code for, and the language each is written in.
 * Light on purpose (no imports): the extension's activation bundle uses it to decide where the
 * commands, the code action and the lens apply, without loading the scaffolding itself.
 */
import type { ScaffoldLanguage } from './types.js';

/** VS Code language ids the scaffolding commands accept (the `when` clauses list the same). */
export const SCAFFOLD_LANGUAGE_IDS: readonly string[] = [
  'python',
  'typescript',
  'typescriptreact',
  'javascript',
  'javascriptreact',
  'go',
  'java',
];

/** Maps a VS Code language id to a scaffold language; undefined when not supported. */
export function scaffoldLanguage(languageId: string): ScaffoldLanguage | undefined {
  switch (languageId) {
    case 'python':
      return 'python';
    case 'typescript':
    case 'typescriptreact':
      return 'typescript';
    case 'javascript':
    case 'javascriptreact':
      return 'javascript';
    case 'go':
      return 'go';
    case 'java':
      return 'java';
    default:
      return undefined;
  }
}

/**
 * The scaffold language of a file, by its extension (the command line has no editor language
 * id); undefined when not supported.
 */
export function scaffoldLanguageOfFile(fileName: string): ScaffoldLanguage | undefined {
  const ext = /\.[^./\\]+$/.exec(fileName)?.[0].toLowerCase();
  switch (ext) {
    case '.py':
    case '.pyw':
      return 'python';
    case '.ts':
    case '.tsx':
    case '.mts':
    case '.cts':
      return 'typescript';
    case '.js':
    case '.jsx':
    case '.mjs':
    case '.cjs':
      return 'javascript';
    case '.go':
      return 'go';
    case '.java':
      return 'java';
    default:
      return undefined;
  }
}
