/**
 * The other languages' OpenTelemetry SDKs, installed the way their users install them, for the
 * tests that run real programs against a real receiver:
 * - Python: a virtual environment under .cache/py-otel with test/interop/python/requirements.txt
 *   (pip from PyPI; never the system Python's site-packages), rebuilt when the file changes, and
 *   one under .cache/py-otel-distro with requirements-distro.txt for zero-code instrumentation;
 * - Go: test/interop/go built with the machine's Go (modules from the Go module proxy), the
 *   binary cached under .cache/interop, named by a hash of its sources;
 * - Java: test/interop/java's dependencies resolved by Maven (Maven Central, into ~/.m2), its
 *   class compiled with the machine's javac under .cache/interop, named by a hash of its sources.
 * - generated Go and Java programs (the scaffolding's output): built the same way, with the
 *   go.mod/go.sum or pom.xml of test/fixtures/scaffold-run, under .cache/scaffold-run.
 * Each returns the reason instead when the toolchain itself is missing (`python3`, `go`, `mvn`
 * and `javac`), so that a machine without it skips with that reason; an install that fails is
 * an error.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CACHE = path.join(ROOT, '.cache');
const INTEROP = path.join(ROOT, 'test', 'interop');

export type Toolchain = { ok: true; path: string } | { ok: false; reason: string };
/** A program to run: the command and its first arguments. */
export type Program = { ok: true; command: string; args: string[] } | { ok: false; reason: string };

function onPath(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

/** The browser test's Python project: numpy and the OpenTelemetry SDK with its exporters. */
export const PYTHON_E2E_REQUIREMENTS = path.join(ROOT, 'test', 'e2e', 'python', 'requirements.txt');

/**
 * The python of the virtual environment `.cache/<name>` with the packages of `requirements`
 * (pip from PyPI), created again whenever that file changes.
 */
export function pythonVenv(name: string, requirements: string): Toolchain {
  if (!onPath('python3', ['--version'])) return { ok: false, reason: 'python3 is not installed' };
  const venv = path.join(CACHE, name);
  const python = path.join(venv, 'bin', 'python');
  const wanted = readFileSync(requirements, 'utf8');
  const stamp = path.join(venv, '.stagelight-requirements');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) {
    return { ok: true, path: python };
  }
  mkdirSync(CACHE, { recursive: true });
  execFileSync('python3', ['-m', 'venv', '--clear', venv], { stdio: 'inherit' });
  execFileSync(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements],
    { stdio: 'inherit', timeout: 600_000 },
  );
  writeFileSync(stamp, wanted);
  return { ok: true, path: python };
}

/** The venv's python with the OpenTelemetry Python SDK and both OTLP exporters. */
export function pythonWithOtel(): Toolchain {
  return pythonVenv('py-otel', path.join(INTEROP, 'python', 'requirements.txt'));
}

/**
 * The venv's python with zero-code instrumentation: opentelemetry-distro, the OTLP exporters
 * and the urllib instrumentation (test/interop/python/requirements-distro.txt).
 */
export function pythonWithOtelDistro(): Toolchain {
  return pythonVenv('py-otel-distro', path.join(INTEROP, 'python', 'requirements-distro.txt'));
}

/** A hash of the files below `dir` (names and contents), for naming what is built from them. */
function sourceHash(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string): void => {
    for (const f of readdirSync(d, { withFileTypes: true }).sort((x, y) =>
      x.name.localeCompare(y.name),
    )) {
      const p = path.join(d, f.name);
      if (f.isDirectory()) walk(p);
      else hash.update(path.relative(dir, p)).update(readFileSync(p));
    }
  };
  walk(dir);
  return hash.digest('hex').slice(0, 16);
}

/** test/interop/python/export_all.py with the venv's python. */
export function pythonInteropProgram(): Program {
  const tool = pythonWithOtel();
  if (!tool.ok) return tool;
  return {
    ok: true,
    command: tool.path,
    args: [path.join(INTEROP, 'python', 'export_all.py')],
  };
}

/**
 * Builds the Go module in `dir` into `out` (nothing when it is there already): the binary of
 * its root package, or with `packages` (`./...`) every main package's binary in the folder
 * `out`, by one `go build`.
 */
function goBuild(dir: string, out: string, packages = '.'): void {
  if (existsSync(out)) return;
  mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  execFileSync('go', ['build', '-o', packages === '.' ? tmp : `${tmp}${path.sep}`, packages], {
    cwd: dir,
    stdio: 'inherit',
    timeout: 900_000,
    // The module names its Go version; never fetch another toolchain for it.
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' },
  });
  // Renamed once complete, so that a build cut short is never taken for a finished one.
  renameSync(tmp, out);
}

/** The Go exporter program of test/interop/go, built once per version of its sources. */
export function goInteropProgram(): Program {
  if (!onPath('go', ['version'])) return { ok: false, reason: 'go is not installed' };
  const dir = path.join(INTEROP, 'go');
  const out = path.join(CACHE, 'interop', `go-export-${sourceHash(dir)}`);
  goBuild(dir, out);
  return { ok: true, command: out, args: [] };
}

/**
 * The main package `main` (a folder) of a Go module made of `files` (path -> source) and the
 * go.mod and go.sum of `moduleDir`. Every main package of the module is built by one
 * `go build ./...` under .cache/scaffold-run, named by a hash of all the files, so that the
 * programs of one test file cost one build, and a rerun with the same sources none.
 */
export function goProgram(
  moduleDir: string,
  files: Readonly<Record<string, string>>,
  main: string,
): Program {
  if (!onPath('go', ['version'])) return { ok: false, reason: 'go is not installed' };
  const hash = createHash('sha256').update(sourceHash(moduleDir));
  for (const name of Object.keys(files).sort()) hash.update(name).update(files[name]!);
  const dir = path.join(CACHE, 'scaffold-run', `go-${hash.digest('hex').slice(0, 16)}`);
  const bin = path.join(dir, 'bin');
  if (!existsSync(bin)) {
    const src = path.join(dir, 'src');
    mkdirSync(src, { recursive: true });
    for (const f of ['go.mod', 'go.sum']) copyFileSync(path.join(moduleDir, f), path.join(src, f));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(src, name)), { recursive: true });
      writeFileSync(path.join(src, name), text);
    }
    goBuild(src, bin, './...');
  }
  return { ok: true, command: path.join(bin, main), args: [] };
}

/**
 * Resolves the dependencies of the Maven project in `pomDir` (Maven Central, into ~/.m2) and
 * compiles `sources` (file name -> text) against them into `out`/classes, once per `out`: the
 * classpath to run them with.
 */
function javaBuild(
  pomDir: string,
  sources: Readonly<Record<string, string>>,
  out: string,
): string | { reason: string } {
  if (!onPath('mvn', ['-v'])) return { reason: 'mvn is not installed' };
  if (!onPath('javac', ['-version'])) return { reason: 'javac is not installed' };
  const classes = path.join(out, 'classes');
  const cpFile = path.join(out, 'classpath.txt');
  if (!existsSync(path.join(out, 'done'))) {
    mkdirSync(classes, { recursive: true });
    execFileSync('mvn', ['-q', '-B', 'dependency:build-classpath', `-Dmdep.outputFile=${cpFile}`], {
      cwd: pomDir,
      stdio: 'inherit',
      timeout: 900_000,
    });
    const files = Object.entries(sources).map(([name, text]) => {
      const f = path.join(out, 'src', name);
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(f, text);
      return f;
    });
    const cp = readFileSync(cpFile, 'utf8').trim();
    execFileSync('javac', ['-d', classes, '-cp', cp, ...files], {
      stdio: 'inherit',
      timeout: 600_000,
    });
    writeFileSync(path.join(out, 'done'), '');
  }
  return `${readFileSync(cpFile, 'utf8').trim()}${path.delimiter}${classes}`;
}

/** The Java exporter program of test/interop/java, compiled once per version of its sources. */
export function javaInteropProgram(): Program {
  const dir = path.join(INTEROP, 'java');
  const file = 'src/main/java/dev/stagelight/interop/ExportAll.java';
  const cp = javaBuild(
    dir,
    { [path.basename(file)]: readFileSync(path.join(dir, file), 'utf8') },
    path.join(CACHE, 'interop', `java-export-${sourceHash(dir)}`),
  );
  if (typeof cp !== 'string') return { ok: false, ...cp };
  return { ok: true, command: 'java', args: ['-cp', cp, 'dev.stagelight.interop.ExportAll'] };
}

/**
 * Java sources (file name -> text) compiled with javac against the dependencies of the Maven
 * project in `pomDir`, under .cache/scaffold-run named by a hash of the pom and the sources; the
 * program runs `mainClass`.
 */
export function javaProgram(
  pomDir: string,
  sources: Readonly<Record<string, string>>,
  mainClass: string,
): Program {
  const hash = createHash('sha256').update(sourceHash(pomDir));
  for (const name of Object.keys(sources).sort()) hash.update(name).update(sources[name]!);
  const out = path.join(CACHE, 'scaffold-run', `java-${hash.digest('hex').slice(0, 16)}`);
  const cp = javaBuild(pomDir, sources, out);
  if (typeof cp !== 'string') return { ok: false, ...cp };
  return { ok: true, command: 'java', args: ['-cp', cp, mainClass] };
}

/**
 * Runs a program to its end (killed after `timeoutMs`): its exit code, and its stdout and
 * stderr together.
 */
export function runToEnd(
  command: string,
  args: readonly string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number },
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: opts.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
