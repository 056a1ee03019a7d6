/**
 * `npm run test:e2e [-- options] [spec ...]`: the browser end-to-end layer. Checks the
 * prerequisites, installs code-server when missing, packages the VSIX when stale, then runs the
 * spec files under `test/e2e/` one at a time with Node's test runner. Each spec file starts and
 * stops its own code-server and browser.
 *
 * Options:
 *   spec ...               spec names to run (`palette`, `demo`; pending ones included)
 *   --pending              also run the specs still waiting for their feature
 *   --test-name-pattern p  only tests whose name matches (passed to node --test)
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCodeServer } from './lib/code-server.js';
import { repoRoot } from './lib/paths.js';
import { pendingE2eSpecs, printPending } from './lib/pending.js';
import {
  browserPrerequisites,
  MissingPrerequisiteError,
  requirePrerequisites,
} from './lib/prerequisites.js';
import { ensureStagelightVsix } from './lib/vsix.js';

function main(): number {
  const argv = process.argv.slice(2);
  const named: string[] = [];
  const nodeArgs: string[] = [];
  let pending = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--pending') pending = true;
    else if (a === '--test-name-pattern') nodeArgs.push(`--test-name-pattern=${argv[++i]}`);
    else if (a.startsWith('--test-name-pattern=')) nodeArgs.push(a);
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else named.push(a.replace(/^.*\//, '').replace(/(\.test)?\.ts$/, ''));
  }
  const e2eDir = join(repoRoot, 'test', 'e2e');
  const all = readdirSync(e2eDir)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -'.test.ts'.length));
  let specs: string[];
  if (named.length > 0) {
    const unknown = named.filter((n) => !all.includes(n));
    if (unknown.length > 0)
      throw new Error(`no e2e spec named ${unknown.join(', ')} (have ${all.join(', ')})`);
    specs = named;
  } else if (pending) {
    specs = all;
  } else {
    printPending(pendingE2eSpecs, 'e2e');
    specs = all.filter((s) => !(s in pendingE2eSpecs));
  }
  if (specs.length === 0) {
    console.log('no e2e spec to run');
    return 0;
  }

  const started = Date.now();
  requirePrerequisites(browserPrerequisites, 'The browser end-to-end tests');
  ensureCodeServer();
  const vsix = ensureStagelightVsix();
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=1',
      '--test-reporter=spec',
      ...nodeArgs,
      ...specs.map((s) => join('test', 'e2e', `${s}.test.ts`)),
    ],
    { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, STAGELIGHT_VSIX: vsix } },
  );
  console.log(`e2e layer: ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  return r.status ?? 1;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(err instanceof MissingPrerequisiteError ? err.message : err);
  process.exitCode = 1;
}
