/** Where the test harness keeps its things. Everything under `.cache/` and `out/` is git-ignored. */
import { join, resolve } from 'node:path';

/** The repository root. */
export const repoRoot = resolve(__dirname, '..', '..');
/** code-server's own npm project (package.json + node_modules), apart from the project's. */
export const codeServerCacheDir = join(repoRoot, '.cache', 'code-server');
/** Per-run scratch folders (extensions dir, user data dir, results). */
export const runsDir = join(repoRoot, '.cache', 'vscode-test-runs');
/** Compiled integration suite and the packaged test-runner extension. */
export const integrationOutDir = join(repoRoot, 'out', 'integration');
/** Screenshots that the docs and README use. */
export const imagesDir = join(repoRoot, 'docs', 'images');
