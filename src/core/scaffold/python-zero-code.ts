/**
 * Python zero-code instrumentation: instead of a tracer provider written into the file, the
 * program runs under `opentelemetry-instrument` (opentelemetry-distro), which configures the
 * SDK from `OTEL_*` variables and instruments the libraries it finds installed. The setup is
 * one marker comment in the file plus the packages in the project's manifest; Run with Tracing
 * sees the marker (or the distro among the project's requirements) and starts the program under
 * the instrumenter.
 *
 * Light on purpose (no parser): Run with Tracing is part of the activation bundle, and decides
 * with `pythonRunsZeroCode` on every run. The checks are line-based, which is enough for what
 * they look for: a call that builds a provider, a marker comment, a requirement's name.
 */
import type { ProjectFiles } from './project.js';
import { edited, refuse } from './text.js';
import type { ScaffoldResult, TextEdit } from './types.js';

/** What zero-code instrumentation needs installed: the distro and the OTLP exporters. */
export const ZERO_CODE_PACKAGES: readonly string[] = [
  'opentelemetry-distro',
  'opentelemetry-exporter-otlp',
];

/** The comment that marks a file set up for zero-code instrumentation. */
export const ZERO_CODE_MARKER =
  '# OpenTelemetry zero-code instrumentation: run under opentelemetry-instrument (Stagelight: Run with Tracing does).';

const MARKER_RE = /^[ \t]*#[ \t]*OpenTelemetry zero-code instrumentation\b/m;

/** The file builds or installs a tracer provider in code (a manual setup). */
export function setsTracerProvider(source: string): boolean {
  return source
    .split(/\r?\n/)
    .some((line) => /^[^#]*\b(set_tracer_provider|TracerProvider)\s*\(/.test(line));
}

/** PEP 503 normalization of a distribution name: case, and runs of `-_.` alike. */
export function normalizeRequirementName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The distribution a requirement line names (`Foo[bar]>=1 ; python_version...` -> foo). */
function requirementName(line: string): string | undefined {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line.replace(/#.*$/, ''));
  return m ? normalizeRequirementName(m[1]!) : undefined;
}

/** The distributions a requirements file lists (options, includes and comments left out). */
export function requirementsTxtNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(-|#|$)/.test(line)) continue;
    const n = requirementName(line);
    if (n !== undefined) names.add(n);
  }
  return names;
}

/** The `[project]` table's `dependencies = [...]` array: its brackets' offsets and entries. */
interface DependencyArray {
  open: number;
  close: number;
  names: Set<string>;
  /** Whether the array spans several lines (new entries then go one per line). */
  multiline: boolean;
}

/**
 * Finds `dependencies = [ ... ]` in the `[project]` table. Hand-written rather than a TOML
 * library: the edit must keep the user's formatting and comments, which a parse-and-serialize
 * round trip loses; only this one array is read. Strings may hold `]`; they are skipped whole.
 * Undefined when the table or the key is missing, or the array is not closed.
 */
function pyprojectDependencies(text: string): DependencyArray | undefined {
  const table = /^\[project\][ \t]*(#.*)?$/m.exec(text);
  if (!table) return undefined;
  const bodyStart = table.index + table[0].length;
  const next = /^\[/m.exec(text.slice(bodyStart));
  const bodyEnd = next ? bodyStart + next.index : text.length;
  const body = text.slice(bodyStart, bodyEnd);
  const key = /^[ \t]*dependencies[ \t]*=[ \t]*\[/m.exec(body);
  if (!key) return undefined;
  const open = bodyStart + key.index + key[0].length - 1;
  const names = new Set<string>();
  let i = open + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ']') {
      const close = i;
      return { open, close, names, multiline: text.slice(open, close).includes('\n') };
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), i);
      const quote = triple ? c.repeat(3) : c;
      let j = i + quote.length;
      while (j < text.length && !text.startsWith(quote, j))
        j += text[j] === '\\' && c === '"' ? 2 : 1;
      if (j >= text.length) return undefined;
      const n = requirementName(text.slice(i + quote.length, j));
      if (n !== undefined) names.add(n);
      i = j + quote.length;
      continue;
    }
    i++;
  }
  return undefined;
}

/** Edits of one manifest file of the project root. */
export interface ManifestEdit {
  /** File name in the project root, e.g. `requirements.txt`. */
  file: string;
  edits: TextEdit[];
}

/**
 * The edits that add `packages` to the project's manifests, each one only where it is not
 * listed yet (by its normalized name, whatever version or extras it is listed with):
 * `requirements.txt` gets lines at its end; `pyproject.toml` entries in `[project]
 * dependencies`. Managers that edit their manifest themselves (Poetry, uv, PDM, Pipenv) are left
 * to their `add` command. Also says which manifest could not be edited, and why.
 */
export function requirementEdits(
  project: ProjectFiles,
  packages: readonly string[],
): { manifests: ManifestEdit[]; notes: string[] } {
  const manifests: ManifestEdit[] = [];
  const notes: string[] = [];
  const req = project.files.includes('requirements.txt')
    ? project.read('requirements.txt')
    : undefined;
  if (req !== undefined) {
    const listed = requirementsTxtNames(req);
    const missing = packages.filter((p) => !listed.has(normalizeRequirementName(p)));
    if (missing.length > 0) {
      const eol = req.includes('\r\n') ? '\r\n' : '\n';
      const lead = req === '' || req.endsWith('\n') ? '' : eol;
      const newText = lead + missing.map((p) => p + eol).join('');
      manifests.push({
        file: 'requirements.txt',
        edits: [{ start: req.length, end: req.length, newText }],
      });
    }
  }
  const toml = project.files.includes('pyproject.toml')
    ? project.read('pyproject.toml')
    : undefined;
  const managed = ['poetry.lock', 'uv.lock', 'pdm.lock', 'Pipfile'].some((f) =>
    project.files.includes(f),
  );
  if (toml !== undefined && !managed && !/^\[tool\.poetry\]/m.test(toml)) {
    const deps = pyprojectDependencies(toml);
    if (deps === undefined) {
      if (/^\[project\]/m.test(toml) && req === undefined) {
        notes.push(
          'pyproject.toml has no readable [project] dependencies list; add the packages there by hand.',
        );
      }
    } else {
      const missing = packages.filter((p) => !deps.names.has(normalizeRequirementName(p)));
      if (missing.length > 0)
        manifests.push({ file: 'pyproject.toml', edits: arrayInsert(toml, deps, missing) });
    }
  }
  return { manifests, notes };
}

/** The insertion of `missing` before the array's `]`, in the array's own layout. */
function arrayInsert(text: string, deps: DependencyArray, missing: readonly string[]): TextEdit[] {
  const inner = text.slice(deps.open + 1, deps.close);
  const quoted = missing.map((p) => `"${p}"`);
  const lastContent = inner.replace(/\s+$/, '');
  const at = deps.open + 1 + lastContent.length;
  if (!deps.multiline) {
    const sep = lastContent.trim() === '' || lastContent.endsWith(',') ? '' : ', ';
    return [{ start: at, end: at, newText: sep + quoted.join(', ') }];
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const entryIndent = /\n([ \t]+)["']/.exec(inner)?.[1] ?? '    ';
  const edits: TextEdit[] = [];
  // The last entry needs a comma after it, before a comment that may end its line.
  const lineStart = lastContent.lastIndexOf('\n') + 1;
  const m = /^(.*["'])[ \t]*(#.*)?$/.exec(lastContent.slice(lineStart));
  if (m && !/,[ \t]*$/.test(m[1]!)) {
    const comma = deps.open + 1 + lineStart + m[1]!.length;
    edits.push({ start: comma, end: comma, newText: ',' });
  }
  edits.push({
    start: at,
    end: at,
    newText: quoted.map((q) => `${eol}${entryIndent}${q},`).join(''),
  });
  return edits;
}

/**
 * `Add Tracing Setup` with zero-code instrumentation: the marker comment at the top (after a
 * shebang and an encoding line) and nothing else in the file. Refused when the file sets up a
 * provider in code (both would export every span twice), or is marked already.
 */
export function pythonZeroCodeSetup(text: string): ScaffoldResult {
  if (MARKER_RE.test(text)) {
    return refuse(
      'already-instrumented',
      'This file is already set up for zero-code instrumentation.',
    );
  }
  if (setsTracerProvider(text)) {
    return refuse(
      'already-instrumented',
      'This file already sets up a tracer provider in code; zero-code instrumentation would add a second one.',
    );
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let at = text.startsWith('\ufeff') ? 1 : 0;
  for (let n = 0; n < 2; n++) {
    const end = text.indexOf('\n', at);
    const line = text.slice(at, end < 0 ? text.length : end);
    const first = n === 0 && line.startsWith('#!');
    if (!first && !/^[ \t\f]*#.*coding[:=][ \t]*[-\w.]+/.test(line)) break;
    at = end < 0 ? text.length : end + 1;
  }
  const lead = at === text.length && at > 0 && !text.endsWith('\n') ? eol : '';
  return edited(
    [{ start: at, end: at, newText: `${lead}${ZERO_CODE_MARKER}${eol}` }],
    [
      {
        severity: 'info',
        text: 'Zero-code instrumentation: no tracing code in the file. Run with Tracing starts it under opentelemetry-instrument; install the instrumentations for your libraries with `opentelemetry-bootstrap -a install`.',
      },
    ],
  );
}

/**
 * Whether Run with Tracing starts a Python file under the instrumenter: the file has no manual
 * setup, and is marked or its project lists opentelemetry-distro among its requirements.
 */
export function pythonRunsZeroCode(source: string, project?: ProjectFiles): boolean {
  if (setsTracerProvider(source)) return false;
  if (MARKER_RE.test(source)) return true;
  if (project === undefined) return false;
  const distro = normalizeRequirementName('opentelemetry-distro');
  const req = project.files.includes('requirements.txt')
    ? project.read('requirements.txt')
    : undefined;
  if (req !== undefined && requirementsTxtNames(req).has(distro)) return true;
  const toml = project.files.includes('pyproject.toml')
    ? project.read('pyproject.toml')
    : undefined;
  return toml !== undefined && pyprojectDependencies(toml)?.names.has(distro) === true;
}

/**
 * The Python statement that runs `opentelemetry-instrument` with the chosen interpreter. The
 * package has no `__main__` (so no `-m`), and its console script sits wherever pip put it
 * (the venv's bin, ~/.local/bin, a conda Scripts folder); importing its entry point from the
 * interpreter that will run the program always finds the one installed for it.
 */
export const ZERO_CODE_BOOTSTRAP =
  'from opentelemetry.instrumentation.auto_instrumentation import run; run()';
