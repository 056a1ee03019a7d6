/**
 * The VSIX files the test layers install: Stagelight's own (`npm run package`, rebuilt only when
 * something it contains changed) and the harness-only test-runner extension.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/** Newest modification time of any file under `path` (a file or a folder). */
function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules') continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** Inputs of the VSIX: if any is newer than the VSIX, it is packaged again. */
const VSIX_INPUTS = [
  'package.json',
  '.vscodeignore',
  'src',
  'webview',
  'demo',
  'media',
  'dist',
  'README.md',
];

/** Path of `stagelight-<version>.vsix` for the current package.json version. */
export function stagelightVsixPath(): string {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  return join(repoRoot, `stagelight-${pkg.version}.vsix`);
}

/**
 * Returns the Stagelight VSIX to install: `STAGELIGHT_VSIX` when set, else the project's own,
 * running `npm run package` first when it is missing or older than what goes into it.
 */
export function ensureStagelightVsix(log: (line: string) => void = console.log): string {
  if (process.env.STAGELIGHT_VSIX) return process.env.STAGELIGHT_VSIX;
  const vsix = stagelightVsixPath();
  const inputs = Math.max(...VSIX_INPUTS.map((p) => newestMtime(join(repoRoot, p))));
  if (existsSync(vsix) && statSync(vsix).mtimeMs >= inputs) return vsix;
  log('packaging the extension (npm run package)');
  const started = Date.now();
  const r = spawnSync('npm', ['run', 'package'], {
    cwd: repoRoot,
    encoding: 'utf8',
    // vsce asks y/N questions on some warnings; an answer of "no" fails fast instead of hanging.
    input: 'n\n',
  });
  if (r.status !== 0 || !existsSync(vsix)) {
    throw new Error(`npm run package failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  log(`packaged ${vsix} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return vsix;
}

/** Packages the extension folder `dir` (with a package.json and its code) into `out`. */
export function packageFolder(dir: string, out: string): void {
  const vsce = join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = spawnSync(
    process.execPath,
    [
      vsce,
      'package',
      '--no-dependencies',
      '--skip-license',
      '--allow-missing-repository',
      '--out',
      out,
    ],
    { cwd: dir, encoding: 'utf8', input: 'n\n' },
  );
  if (r.status !== 0 || !existsSync(out)) {
    throw new Error(`vsce package in ${dir} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
}
