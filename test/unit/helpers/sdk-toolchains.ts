/**
 * The other languages' OpenTelemetry SDKs, installed the way their users install them, for the
 * tests that run real programs against a real receiver:
 * - Python: a virtual environment under .cache/py-otel with test/interop/python/requirements.txt
 *   (pip from PyPI; never the system Python's site-packages), rebuilt when the file changes;
 * - Go: test/interop/go built with the machine's Go (modules from the Go module proxy), the
 *   binary cached under .cache/interop, named by a hash of its sources.
 * Each returns the reason instead when the toolchain itself is missing (`python3`, `go`), so
 * that a machine without it skips with that reason; an install that fails is an error.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CACHE = path.join(ROOT, '.cache');
const INTEROP = path.join(ROOT, 'test', 'interop');

export type Toolchain = { ok: true; path: string } | { ok: false; reason: string };

function onPath(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

/** The venv's python with the OpenTelemetry Python SDK and both OTLP exporters. */
export function pythonWithOtel(): Toolchain {
  if (!onPath('python3', ['--version'])) return { ok: false, reason: 'python3 is not installed' };
  const venv = path.join(CACHE, 'py-otel');
  const python = path.join(venv, 'bin', 'python');
  const file = path.join(INTEROP, 'python', 'requirements.txt');
  const requirements = readFileSync(file, 'utf8');
  const stamp = path.join(venv, '.stagelight-requirements');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8') === requirements) {
    return { ok: true, path: python };
  }
  mkdirSync(CACHE, { recursive: true });
  execFileSync('python3', ['-m', 'venv', '--clear', venv], { stdio: 'inherit' });
  execFileSync(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', file],
    { stdio: 'inherit', timeout: 600_000 },
  );
  writeFileSync(stamp, requirements);
  return { ok: true, path: python };
}

/** The Go exporter program of test/interop/go, built once per version of its sources. */
export function goInteropProgram(): Toolchain {
  if (!onPath('go', ['version'])) return { ok: false, reason: 'go is not installed' };
  const dir = path.join(INTEROP, 'go');
  const hash = createHash('sha256');
  for (const f of readdirSync(dir).sort()) hash.update(f).update(readFileSync(path.join(dir, f)));
  const out = path.join(CACHE, 'interop', `go-export-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(out)) {
    mkdirSync(path.dirname(out), { recursive: true });
    execFileSync('go', ['build', '-o', out, '.'], {
      cwd: dir,
      stdio: 'inherit',
      timeout: 900_000,
      // The module names its Go version; never fetch another toolchain for it.
      env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' },
    });
  }
  return { ok: true, path: out };
}
