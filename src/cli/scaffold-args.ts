/**
 * The command line of `stagelight scaffold`, read and checked without the scaffolding itself:
 * part of dist/cli.js, so that a wrong command line is told at once, before the scaffolding
 * bundle (dist/cli-scaffold.js, with the TypeScript compiler and tree-sitter) is loaded. What
 * needs the file or the core (a function's name, a propagation pattern) is checked there.
 */
import { parseArgs } from 'node:util';
import { STAGE_ATTRIBUTES } from '../core/scaffold/attributes.js';
import { validateServiceName, validateSpanName } from '../core/scaffold/command-choices.js';
import { scaffoldLanguageOfFile } from '../core/scaffold/languages.js';
import type { OtlpProtocol, ScaffoldLanguage } from '../core/scaffold/types.js';

export const SCAFFOLD_SUBCOMMANDS = [
  'setup',
  'function',
  'selection',
  'attributes',
  'propagate',
] as const;
export type Subcommand = (typeof SCAFFOLD_SUBCOMMANDS)[number];

/** Exit status 2: the command line is wrong. */
export class ScaffoldUsageError extends Error {}

/** A checked `stagelight scaffold` command line. */
export interface ScaffoldRequest {
  command: Subcommand;
  /** The file as given (relative to the working folder or absolute). */
  file: string;
  language: ScaffoldLanguage;
  write: boolean;
  functionName?: string;
  /** 1-based, inclusive. */
  lines?: { first: number; last: number };
  spanName?: string;
  style?: 'decorator' | 'with';
  keys: string[];
  /** The propagation pattern, checked against the catalogue by the command. */
  kind?: string;
  service?: string;
  protocol?: OtlpProtocol;
  endpoint?: string;
  zeroCode: boolean;
  /** setup, Python and TS/JS: the logs pipeline too. */
  logs: boolean;
}

/** Reads `stagelight scaffold ...` (argv after `scaffold`); throws on a wrong command line. */
export function parseScaffoldArgs(argv: string[]): ScaffoldRequest {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      write: { type: 'boolean' },
      function: { type: 'string' },
      lines: { type: 'string' },
      name: { type: 'string' },
      style: { type: 'string' },
      key: { type: 'string', multiple: true },
      kind: { type: 'string' },
      service: { type: 'string' },
      protocol: { type: 'string' },
      endpoint: { type: 'string' },
      'zero-code': { type: 'boolean' },
      logs: { type: 'boolean' },
    },
  });
  const [sub, file, ...extra] = positionals;
  if (sub === undefined) {
    throw new ScaffoldUsageError(`which command? ${SCAFFOLD_SUBCOMMANDS.join(', ')}`);
  }
  if (!(SCAFFOLD_SUBCOMMANDS as readonly string[]).includes(sub)) {
    throw new ScaffoldUsageError(
      `unknown command "${sub}"; one of ${SCAFFOLD_SUBCOMMANDS.join(', ')}`,
    );
  }
  const command = sub as Subcommand;
  if (file === undefined) throw new ScaffoldUsageError(`${command} needs a file`);
  if (extra.length > 0) {
    throw new ScaffoldUsageError(`one file at a time; "${extra.join(' ')}" is extra`);
  }
  checkApplicable(command, values);
  const language = scaffoldLanguageOfFile(file);
  if (language === undefined) {
    throw new ScaffoldUsageError(
      `cannot tell the language of ${file} from its extension: .py, .ts, .tsx, .js, .jsx, .mjs, .cjs, .go or .java`,
    );
  }
  if (values.function !== undefined && values.lines !== undefined) {
    throw new ScaffoldUsageError('give --function or --lines, not both');
  }
  const lines = values.lines === undefined ? undefined : parseLines(values.lines);
  // Checked before the file is read: a wrong command line is said as such, file or no file.
  const spanName = values.name === undefined ? undefined : checkedName(values.name, '--name');
  if (command === 'selection' && spanName === undefined) {
    throw new ScaffoldUsageError('selection needs --name <span>, the name of the new span');
  }
  if (command === 'selection' && lines === undefined) {
    throw new ScaffoldUsageError('selection needs --lines <a-b>, the statements to wrap');
  }
  if (
    (command === 'function' || command === 'attributes' || command === 'propagate') &&
    values.function === undefined &&
    lines === undefined
  ) {
    throw new ScaffoldUsageError(
      command === 'propagate'
        ? 'propagate needs --lines <n>, the line to insert at'
        : `${command} needs --function <name> or --lines <n>`,
    );
  }
  if (command === 'attributes' && (values.key === undefined || values.key.length === 0)) {
    throw new ScaffoldUsageError(
      `attributes needs at least one --key; known keys: ${STAGE_ATTRIBUTES.map((a) => a.key).join(', ')}`,
    );
  }
  const zeroCode = values['zero-code'] ?? false;
  if (zeroCode && language !== 'python') {
    throw new ScaffoldUsageError('--zero-code applies to Python files only');
  }
  const logs = values.logs ?? false;
  if (logs && language !== 'python' && language !== 'typescript' && language !== 'javascript') {
    throw new ScaffoldUsageError('--logs applies to Python, TypeScript and JavaScript files');
  }
  if (zeroCode) {
    if (logs) {
      throw new ScaffoldUsageError(
        '--logs does not apply to --zero-code (set OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED=true instead)',
      );
    }
    for (const o of ['service', 'protocol', 'endpoint'] as const) {
      if (values[o] !== undefined) {
        throw new ScaffoldUsageError(
          `--${o} does not apply to --zero-code (Run with Tracing sets it in the environment)`,
        );
      }
    }
  }
  const style = styleOption(values.style, language);
  const protocol = protocolOption(values.protocol);
  const endpoint = values.endpoint === undefined ? undefined : endpointOption(values.endpoint);
  if (values.service !== undefined) {
    const invalid = validateServiceName(values.service);
    if (invalid !== undefined) throw new ScaffoldUsageError(`--service: ${invalid}`);
  }
  return {
    command,
    file,
    language,
    write: values.write ?? false,
    functionName: values.function,
    lines,
    spanName,
    style,
    keys: values.key ?? [],
    kind: values.kind,
    service: values.service?.trim(),
    protocol,
    endpoint,
    zeroCode,
    logs,
  };
}

/** Options that belong to other commands are refused, not silently ignored. */
function checkApplicable(command: Subcommand, values: Record<string, unknown>): void {
  const only: Record<string, readonly Subcommand[]> = {
    function: ['function', 'attributes'],
    lines: ['function', 'selection', 'attributes', 'propagate'],
    name: ['function', 'selection'],
    style: ['function'],
    key: ['attributes'],
    kind: ['propagate'],
    service: ['setup'],
    protocol: ['setup'],
    endpoint: ['setup'],
    'zero-code': ['setup'],
    logs: ['setup'],
  };
  for (const [option, commands] of Object.entries(only)) {
    if (values[option] !== undefined && !commands.includes(command)) {
      throw new ScaffoldUsageError(`--${option} does not apply to ${command}`);
    }
  }
}

/** `--lines 12` or `--lines 12-18`: 1-based and inclusive. */
function parseLines(value: string): { first: number; last: number } {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(value);
  const first = m ? Number(m[1]) : NaN;
  const last = m?.[2] !== undefined ? Number(m[2]) : first;
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first < 1 || last < first) {
    throw new ScaffoldUsageError(
      `--lines must be a line <n> or a range <a-b> with 1 <= a <= b, got "${value}"`,
    );
  }
  return { first, last };
}

function checkedName(value: string, flag: string): string {
  const invalid = validateSpanName(value);
  if (invalid !== undefined) throw new ScaffoldUsageError(`${flag}: ${invalid}`);
  return value.trim();
}

function styleOption(
  value: string | undefined,
  language: ScaffoldLanguage,
): 'decorator' | 'with' | undefined {
  if (value === undefined) return undefined;
  if (language !== 'python') throw new ScaffoldUsageError('--style applies to Python files only');
  if (value !== 'decorator' && value !== 'with') {
    throw new ScaffoldUsageError(`--style must be decorator or with, got "${value}"`);
  }
  return value;
}

function protocolOption(value: string | undefined): OtlpProtocol | undefined {
  if (value === undefined) return undefined;
  if (value !== 'grpc' && value !== 'http') {
    throw new ScaffoldUsageError(`--protocol must be grpc or http, got "${value}"`);
  }
  return value;
}

function endpointOption(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ScaffoldUsageError(
      `--endpoint must be a URL such as http://127.0.0.1:4317, got "${value}"`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ScaffoldUsageError(`--endpoint must be an http:// or https:// URL, got "${value}"`);
  }
  if (/["'\\`$\s]/.test(value)) {
    throw new ScaffoldUsageError('--endpoint: leave out quotes, backslashes, `$` and spaces');
  }
  return value;
}

/** Prints a usage error of `stagelight scaffold` as both bundles do; returns exit status 2. */
export function reportUsageError(e: Error, err: (line: string) => void): number {
  err(`stagelight scaffold: ${e.message}`);
  err('Run "stagelight scaffold --help" for usage.');
  return 2;
}
