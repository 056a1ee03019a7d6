/**
 * `stagelight scaffold`: the editor's instrumentation commands (src/core/scaffold) on a file
 * from the command line. The same core transforms make the same edits; this module only turns
 * flags into the cursor, selection and options the editor would give, and the result into a
 * unified diff on stdout (or the edited file with `--write`).
 *
 * Built as its own bundle (dist/cli-scaffold.js, loaded by main.ts on first use): it carries
 * the TypeScript compiler and tree-sitter, which `serve` and `demo` must not parse at start.
 * It takes the command line as scaffold-args.ts checked it, reports its own errors and returns
 * the exit status (0 edited, 1 nothing changed, 2 usage), so no error class crosses the bundle
 * boundary.
 *
 * stdout holds only the diff, so it can be piped to `git apply`; notes go to stderr.
 */
import {
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { FILE_HEADERS_ONLY, createTwoFilesPatch } from 'diff';
import {
  PROPAGATION_SNIPPETS,
  addStageAttributes,
  addTracingSetup,
  addZeroCodeSetup,
  applyEdits,
  detectProject,
  insertPropagation,
  propagationSnippets,
  traceFunction,
  wrapSelectionInSpan,
  type DependencyInstructions,
  type OtlpProtocol,
  type PropagationPattern,
  type ScaffoldLanguage,
  type ScaffoldResult,
  type TracingSetupResult,
} from '../core/scaffold/index.js';
import {
  defaultServiceName,
  endpointFor,
  protocolFor,
  resultNotices,
  validateServiceName,
} from '../core/scaffold/command-choices.js';
import { functionHeaders } from '../core/scaffold/function-headers.js';
import { findProjectRoot, projectFiles } from '../core/scaffold/project-root.js';
import { lineEnd, offsetAt } from '../core/scaffold/text.js';
import { formatCount } from '../shared/format.js';
import { ScaffoldUsageError, reportUsageError, type ScaffoldRequest } from './scaffold-args.js';

export { setTreeSitterWasmDir } from '../core/scaffold/index.js';

/** Exit status 1: the command is fine, but nothing could be changed. */
class NothingChanged extends Error {}

/** Where a command acts, as the editor would give it: UTF-16 offsets into the file's text. */
interface Place {
  start: number;
  end: number;
}

/** Where the output goes; a test may collect it instead of the process streams. */
export interface ScaffoldIo {
  cwd: string;
  out: (text: string) => void;
  err: (line: string) => void;
}

const processIo = (): ScaffoldIo => ({
  cwd: process.cwd(),
  out: (t) => process.stdout.write(t),
  err: (l) => process.stderr.write(`${l}\n`),
});

/** Runs a checked `stagelight scaffold` command line; resolves with the exit status. */
export async function scaffoldCommand(
  req: ScaffoldRequest,
  io: ScaffoldIo = processIo(),
): Promise<number> {
  try {
    return await run(req, io);
  } catch (e) {
    if (e instanceof ScaffoldUsageError) return reportUsageError(e, io.err);
    if (e instanceof NothingChanged) {
      io.err(`stagelight scaffold: ${e.message}`);
      return 1;
    }
    io.err(`stagelight scaffold: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}

async function run(req: ScaffoldRequest, io: ScaffoldIo): Promise<number> {
  const { command, file, language, lines, spanName, style, protocol, endpoint } = req;
  const pattern = command === 'propagate' ? patternOption(req.kind, language) : undefined;
  const absolute = path.resolve(io.cwd, file);
  const text = readSource(absolute, file);
  const place =
    req.functionName !== undefined
      ? functionPlace(text, language, req.functionName, file)
      : lines !== undefined
        ? linePlace(text, lines, file)
        : undefined;
  const doc = { text, language, fileName: absolute };

  if (req.zeroCode) {
    const root = projectRootOf(doc.language, absolute, io.cwd);
    const r = addZeroCodeSetup(doc, projectFiles(root));
    const extra =
      r.status === 'edited'
        ? r.manifests.map((m) => {
            const p = path.join(root, m.file);
            const before = readFileSync(p, 'utf8');
            return { absolute: p, before, after: applyEdits(before, m.edits) };
          })
        : [];
    if (r.status === 'edited') reportDependencies(r.dependencies, root, io);
    return finish(r, text, file, absolute, req.write, io, extra);
  }
  let result: ScaffoldResult;
  switch (command) {
    case 'setup':
      result = await setup(doc, absolute, io, {
        service: req.service,
        protocol,
        endpoint,
        logs: req.logs,
      });
      break;
    case 'function': {
      const at = cursor(place);
      result = await traceFunction(doc, at, {
        ...(spanName !== undefined ? { spanName } : {}),
        ...(style !== undefined ? { pythonStyle: style } : {}),
      });
      break;
    }
    case 'selection':
      result = await wrapSelectionInSpan(doc, place!, { spanName: spanName! });
      break;
    case 'attributes':
      result = await addStageAttributes(doc, cursor(place), { keys: req.keys });
      break;
    case 'propagate':
      result = await insertPropagation(text, language, absolute, cursor(place).start, pattern!);
      break;
  }
  return finish(result, text, file, absolute, req.write, io);
}

function patternOption(kind: string | undefined, language: ScaffoldLanguage): PropagationPattern {
  const forLanguage = [...new Set(propagationSnippets(language).map((s) => s.pattern))];
  const list = `for ${language}: ${forLanguage.join(', ')}`;
  if (kind === undefined) throw new ScaffoldUsageError(`propagate needs --kind <pattern>; ${list}`);
  // A pattern of another language is no usage error: the core says why it has no snippet.
  if (!PROPAGATION_SNIPPETS.some((s) => s.pattern === kind)) {
    throw new ScaffoldUsageError(`unknown --kind "${kind}"; ${list}`);
  }
  return kind as PropagationPattern;
}

function readSource(absolute: string, shown: string): string {
  let size: number;
  try {
    const st = statSync(absolute);
    if (!st.isFile()) throw new NothingChanged(`${shown} is not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof NothingChanged) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new NothingChanged(
      code === 'ENOENT'
        ? `${shown}: no such file`
        : `cannot read ${shown}: ${(e as Error).message}`,
    );
  }
  // Source files are small; a huge one is most likely not source, and the parsers would hold
  // several copies of it.
  if (size > MAX_SOURCE_BYTES) {
    throw new NothingChanged(
      `${shown} is ${Math.round(size / (1024 * 1024))} MiB; source files up to ${MAX_SOURCE_BYTES / (1024 * 1024)} MiB are edited`,
    );
  }
  const bytes = readFileSync(absolute);
  if (bytes.includes(0)) throw new NothingChanged(`${shown} is a binary file`);
  try {
    // ignoreBOM keeps a byte order mark in the text, so a write puts it back.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    // Decoding leniently would replace every invalid sequence: the write would damage the file.
    throw new NothingChanged(`${shown} is not UTF-8 text`);
  }
}

const MAX_SOURCE_BYTES = 8 * 1024 * 1024;

/** The start of the function's name on its header line, as the Trace lens puts the cursor. */
function functionPlace(
  text: string,
  language: ScaffoldLanguage,
  name: string,
  shown: string,
): Place {
  const headers = functionHeaders(text, language);
  const matches = headers.filter((h) => h.name === name);
  if (matches.length === 0) {
    const names = [...new Set(headers.map((h) => h.name))];
    throw new NothingChanged(
      `no function "${name}" in ${shown}` +
        (names.length > 0 ? ` (found: ${names.join(', ')})` : '') +
        '; --lines <n> picks one by its line',
    );
  }
  if (matches.length > 1) {
    throw new ScaffoldUsageError(
      `${formatCount(matches.length, 'function')} named "${name}" in ${shown}, on lines ${matches.map((m) => m.line + 1).join(', ')}; pick one with --lines <n>`,
    );
  }
  const h = matches[0]!;
  const at = offsetAt(text, { line: h.line, character: h.column });
  return { start: at, end: at };
}

/** Lines a..b: from the first non-blank character of a to the end of b (no line break). */
function linePlace(text: string, lines: { first: number; last: number }, shown: string): Place {
  const count = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines.last > count) {
    throw new ScaffoldUsageError(
      `--lines ${lines.first === lines.last ? lines.first : `${lines.first}-${lines.last}`} is past the end of ${shown} (${formatCount(count, 'line')})`,
    );
  }
  const lineStart = offsetAt(text, { line: lines.first - 1, character: 0 });
  let start = lineStart;
  while (start < text.length && (text[start] === ' ' || text[start] === '\t')) start++;
  if (text[start] === '\n' || text[start] === '\r') start = lineStart;
  const lastStart = offsetAt(text, { line: lines.last - 1, character: 0 });
  let end = lineEnd(text, lastStart);
  if (end > 0 && text[end - 1] === '\r') end--;
  return { start, end: Math.max(start, end) };
}

/** The cursor at the start of a place (the editor's cursor, no selection). */
function cursor(place: Place | undefined): Place {
  const at = place?.start ?? 0;
  return { start: at, end: at };
}

async function setup(
  doc: { text: string; language: ScaffoldLanguage; fileName: string },
  absolute: string,
  io: ScaffoldIo,
  opts: { service?: string; protocol?: OtlpProtocol; endpoint?: string; logs?: boolean },
): Promise<TracingSetupResult> {
  const root = projectRootOf(doc.language, absolute, io.cwd);
  const files = projectFiles(root);
  const project = detectProject(doc.language, files);
  const serviceName = (opts.service ?? defaultServiceName(project.name, root, absolute)).trim();
  const invalid = validateServiceName(serviceName);
  if (invalid !== undefined) throw new ScaffoldUsageError(`--service: ${invalid}`);
  const protocol = opts.protocol ?? protocolFor(doc.language, 'auto');
  // No running receiver to ask: its default ports (0 = the OTLP default port).
  const endpoint = opts.endpoint ?? endpointFor(protocol, undefined, { grpcPort: 0, httpPort: 0 });
  const result = await addTracingSetup(doc, files, {
    serviceName,
    endpoint,
    protocol,
    logs: opts.logs === true,
  });
  if (result.status === 'edited') {
    io.err(`service.name ${serviceName}, OTLP/${protocol} ${endpoint}`);
    reportDependencies(result.dependencies, root, io);
  }
  return result;
}

/** The project root of a file: searched up to the working folder when the file is inside it. */
function projectRootOf(language: ScaffoldLanguage, absolute: string, cwdIn: string): string {
  const cwd = path.resolve(cwdIn);
  const inside = absolute.startsWith(cwd.endsWith(path.sep) ? cwd : cwd + path.sep);
  return findProjectRoot(language, absolute, inside ? cwd : undefined);
}

function reportDependencies(deps: DependencyInstructions, root: string, io: ScaffoldIo): void {
  if (deps.command !== undefined) {
    io.err(`Add the tracing dependencies (in ${root}): ${deps.command}`);
  } else if (deps.manifestSnippet !== undefined) {
    io.err(`Add the tracing dependencies to ${deps.manifestSnippet.file}:`);
    io.err(deps.manifestSnippet.text.trimEnd());
  } else if (deps.packages.length > 0) {
    io.err(`Add the tracing dependencies: ${deps.packages.join(', ')}`);
  }
}

/** The path in the diff's headers: relative to the working folder when inside it, `/` always. */
function diffPath(absolute: string, cwd: string): string {
  const rel = path.relative(cwd, absolute);
  const shown = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : absolute;
  return shown.split(path.sep).join('/');
}

/** One more file a command edits besides the source (a manifest of the zero-code setup). */
interface ExtraFile {
  absolute: string;
  before: string;
  after: string;
}

function finish(
  result: ScaffoldResult,
  text: string,
  shown: string,
  absolute: string,
  write: boolean,
  io: ScaffoldIo,
  extra: readonly ExtraFile[] = [],
): number {
  const notices = resultNotices(result).map((n) => n.text.replace(/^Stagelight: /, ''));
  if (result.status !== 'edited') {
    throw new NothingChanged(`${notices[0] ?? 'nothing changed'} (${shown} unchanged)`);
  }
  for (const n of notices) io.err(n);
  const cwd = path.resolve(io.cwd);
  const files = [{ absolute, before: text, after: applyEdits(text, result.edits) }, ...extra];
  if (write) {
    for (const f of files) {
      writeInPlace(f.absolute, f.after);
      io.err(`Wrote ${f.absolute === absolute ? shown : diffPath(f.absolute, cwd)}.`);
    }
    return 0;
  }
  for (const f of files) {
    const p = diffPath(f.absolute, cwd);
    io.out(
      createTwoFilesPatch(`a/${p}`, `b/${p}`, f.before, f.after, undefined, undefined, {
        headerOptions: FILE_HEADERS_ONLY,
      }),
    );
  }
  return 0;
}

/**
 * Writes through a temporary file in the same folder and a rename, so an interrupted write
 * leaves the old file whole; the file keeps its mode, and a symbolic link stays one (its target
 * is what gets written).
 */
function writeInPlace(absolute: string, text: string): void {
  const target = realpathSync(absolute);
  const dir = mkdtempSync(path.join(path.dirname(target), '.stagelight-'));
  const tmp = path.join(dir, path.basename(target));
  try {
    writeFileSync(tmp, text, { mode: statSync(target).mode });
    renameSync(tmp, target);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
