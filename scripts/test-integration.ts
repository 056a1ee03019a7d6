/**
 * `npm run test:integration [-- options] [spec ...]`: the extension-host suite.
 *
 * By default it runs inside code-server 4.100.3 (VS Code 1.100.3): code-server is installed into
 * `.cache/code-server` when missing, Stagelight's VSIX and the test-runner extension are
 * installed into a fresh extensions folder, the workbench is opened in headless Chromium (the
 * extension host starts only then), the runner extension runs mocha there and streams results
 * to a file that this script prints. Everything started is stopped at the end, also on failure.
 *
 * Options:
 *   spec ...          spec names to run (`activation`, `codelens`; pending ones included)
 *   --grep <text>     mocha grep over full test titles
 *   --pending         also run the specs still waiting for their feature
 *   --electron        run under @vscode/test-electron (downloads desktop VS Code) instead
 *   --timeout <s>     give up after this many seconds (default 300)
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultEvent } from '../test/integration/index.js';
import { launchChromium, openWorkbench } from './lib/browser.js';
import {
  quietWorkbenchSettings,
  startCodeServer,
  tail,
  type RunningCodeServer,
} from './lib/code-server.js';
import { buildIntegrationSuite } from './lib/integration-build.js';
import { repoRoot, runsDir } from './lib/paths.js';
import { pendingIntegrationSpecs, printPending } from './lib/pending.js';
import {
  browserPrerequisites,
  MissingPrerequisiteError,
  requirePrerequisites,
} from './lib/prerequisites.js';
import { sleep } from './lib/processes.js';
import { ensureStagelightVsix } from './lib/vsix.js';
import { copyFixtureWorkspace } from './lib/workspace.js';

/** Any free ports: the machine may run other receivers (or other test runs) on 4317/4318. */
const SUITE_SETTINGS = { 'stagelight.receiver.grpcPort': 0, 'stagelight.receiver.httpPort': 0 };

interface Options {
  specs: string[];
  grep?: string;
  pending: boolean;
  electron: boolean;
  timeoutS: number;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { specs: [], pending: false, electron: false, timeoutS: 300 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--grep') o.grep = argv[++i];
    else if (a === '--pending') o.pending = true;
    else if (a === '--electron') o.electron = true;
    else if (a === '--timeout') o.timeoutS = Number(argv[++i]);
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else o.specs.push(a.replace(/^.*\//, '').replace(/(\.test)?\.(ts|js)$/, ''));
  }
  return o;
}

/** The spec names to run: those named, else all but the pending ones (unless `--pending`). */
function selectSpecs(o: Options): string[] {
  const all = readdirSync(join(repoRoot, 'test', 'integration', 'suite'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -'.test.ts'.length));
  if (o.specs.length > 0) {
    const unknown = o.specs.filter((s) => !all.includes(s));
    if (unknown.length > 0) {
      throw new Error(`no integration spec named ${unknown.join(', ')} (have ${all.join(', ')})`);
    }
    return o.specs;
  }
  if (o.pending) return all;
  printPending(pendingIntegrationSpecs, 'integration');
  return all.filter((s) => !(s in pendingIntegrationSpecs));
}

function suiteEnv(o: Options, specs: string[], results?: string): Record<string, string> {
  const env: Record<string, string> = { STAGELIGHT_TEST_FILES: specs.join(',') };
  if (o.grep) env.STAGELIGHT_TEST_GREP = o.grep;
  if (results) env.STAGELIGHT_TEST_RESULTS = results;
  return env;
}

async function runUnderElectron(o: Options, specs: string[], entry: string): Promise<number> {
  const { runTests } = await import('@vscode/test-electron');
  mkdirSync(runsDir, { recursive: true });
  const scratch = mkdtempSync(join(runsDir, 'electron-'));
  const workspace = copyFixtureWorkspace(scratch);
  // The same user settings as under code-server, in a user-data folder of this run's own.
  const userData = join(scratch, 'user-data');
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({ ...quietWorkbenchSettings, ...SUITE_SETTINGS }, null, 2),
  );
  try {
    await runTests({
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: entry,
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--disable-workspace-trust',
        `--user-data-dir=${userData}`,
      ],
      extensionTestsEnv: suiteEnv(o, specs),
    });
    return 0;
  } catch (err) {
    console.error(
      'the suite under @vscode/test-electron did not pass; when the error above is about ' +
        'downloading VS Code, this machine cannot reach update.code.visualstudio.com: run ' +
        'without --electron to use code-server instead.',
    );
    console.error(err);
    return 1;
  }
}

/** Prints one result line; returns it for the failure summary. */
function report(e: ResultEvent): void {
  switch (e.event) {
    case 'start':
      console.log(`running ${e.total} test(s) from ${e.files.length} spec file(s)`);
      break;
    case 'pass':
      console.log(`  ok    ${e.title} (${e.durationMs ?? 0} ms)`);
      break;
    case 'pending':
      console.log(`  skip  ${e.title}`);
      break;
    case 'fail':
      console.log(`  FAIL  ${e.title}\n${indent(e.error ?? '')}`);
      break;
    case 'end':
      console.log(
        `${e.passes} passed, ${e.failures} failed, ${e.pending} skipped in ${(e.durationMs / 1000).toFixed(1)} s (inside the extension host)`,
      );
      break;
    case 'crash':
      console.log(`the suite could not run:\n${indent(e.message)}`);
      break;
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .slice(0, 25)
    .map((l) => `        ${l}`)
    .join('\n');
}

async function runUnderCodeServer(
  o: Options,
  specs: string[],
  entry: string,
  runnerVsix: string,
): Promise<number> {
  requirePrerequisites(browserPrerequisites, 'The extension-host suite (run in code-server)');
  const vsix = ensureStagelightVsix();
  mkdirSync(runsDir, { recursive: true });
  const scratch = mkdtempSync(join(runsDir, 'integration-'));
  const results = join(scratch, 'results.jsonl');
  const workspace = copyFixtureWorkspace(scratch);
  let server: RunningCodeServer | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    const t0 = Date.now();
    server = await startCodeServer({
      folder: workspace,
      vsix: [vsix, runnerVsix],
      label: 'integration',
      settings: SUITE_SETTINGS,
      env: { ...suiteEnv(o, specs, results), STAGELIGHT_TEST_ENTRY: entry },
    });
    browser = await launchChromium();
    await openWorkbench(browser, server.url);
    console.log(`code-server and workbench up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const deadline = Date.now() + o.timeoutS * 1000;
    let shown = 0;
    while (true) {
      let lines: string[] = [];
      try {
        lines = readFileSync(results, 'utf8')
          .split('\n')
          .filter((l) => l !== '');
      } catch {
        // not written yet
      }
      for (const line of lines.slice(shown)) {
        const e = JSON.parse(line) as ResultEvent;
        report(e);
        if (e.event === 'end') return e.failures > 0 || e.passes === 0 ? 1 : 0;
        if (e.event === 'crash') return 1;
      }
      shown = lines.length;
      if (Date.now() > deadline) {
        console.error(
          `no end of the suite after ${o.timeoutS} s; code-server log:\n${tail(server.logFile)}`,
        );
        return 1;
      }
      await sleep(200);
    }
  } finally {
    await browser?.close().catch(() => {});
    await server?.stop();
  }
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const specs = selectSpecs(o);
  if (specs.length === 0) {
    console.log('no integration spec to run');
    return 0;
  }
  const started = Date.now();
  const { entry, runnerVsix } = await buildIntegrationSuite();
  const rc = o.electron
    ? await runUnderElectron(o, specs, entry)
    : await runUnderCodeServer(o, specs, entry, runnerVsix);
  console.log(`integration layer: ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  return rc;
}

main().then(
  (rc) => (process.exitCode = rc),
  (err: unknown) => {
    console.error(err instanceof MissingPrerequisiteError ? err.message : err);
    process.exitCode = 1;
  },
);
