/**
 * Entry of the extension-host integration suite: runs mocha over the compiled spec files inside
 * a VS Code extension host. Two hosts call it:
 *  - code-server (the default here and in CI): the test-runner extension calls `run()` on
 *    activation; results stream to `STAGELIGHT_TEST_RESULTS` as JSON lines that
 *    `scripts/test-integration.ts` reads and prints;
 *  - desktop VS Code under @vscode/test-electron (`npm run test:integration -- --electron`): this
 *    module is the `extensionTestsPath`; a failed test rejects `run()`, which fails the run.
 *
 * Environment (all optional): `STAGELIGHT_TEST_FILES` comma-separated spec names to run (e.g.
 * `commands,codelens`), `STAGELIGHT_TEST_GREP` a mocha grep over full titles,
 * `STAGELIGHT_TEST_RESULTS` the JSON-lines results file.
 */
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

/** One line of the results file. */
export type ResultEvent =
  | { event: 'start'; total: number; files: string[] }
  | { event: 'pass' | 'fail' | 'pending'; title: string; durationMs?: number; error?: string }
  | { event: 'end'; passes: number; failures: number; pending: number; durationMs: number }
  | { event: 'crash'; message: string };

/** The spec files next to this module (`suite/<name>.test.js`), filtered by `STAGELIGHT_TEST_FILES`. */
export function specFiles(dir: string, only: string | undefined): string[] {
  const wanted = only
    ?.split(',')
    .map((s) => s.trim().replace(/(\.test)?\.(ts|js)$/, ''))
    .filter((s) => s !== '');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.test.js'))
    .filter((f) => !wanted || wanted.includes(f.slice(0, -'.test.js'.length)))
    .sort();
  if (wanted) {
    const missing = wanted.filter((w) => !files.includes(`${w}.test.js`));
    if (missing.length > 0) throw new Error(`no spec file named ${missing.join(', ')} in ${dir}`);
  }
  return files.map((f) => join(dir, f));
}

export function run(): Promise<void> {
  const resultsFile = process.env.STAGELIGHT_TEST_RESULTS;
  const emit = (e: ResultEvent): void => {
    if (resultsFile) appendFileSync(resultsFile, JSON.stringify(e) + '\n');
  };
  const mocha = new Mocha({
    ui: 'bdd',
    color: false,
    // The extension host is shared with the extension under test; generous but finite.
    timeout: 30_000,
    reporter: 'spec',
  });
  if (process.env.STAGELIGHT_TEST_GREP) mocha.grep(process.env.STAGELIGHT_TEST_GREP);
  const files = specFiles(join(__dirname, 'suite'), process.env.STAGELIGHT_TEST_FILES);
  for (const f of files) mocha.addFile(f);

  return new Promise((resolve, reject) => {
    const started = Date.now();
    let runner: Mocha.Runner;
    try {
      runner = mocha.run((failures) => {
        emit({
          event: 'end',
          passes: runner.stats?.passes ?? 0,
          failures,
          pending: runner.stats?.pending ?? 0,
          durationMs: Date.now() - started,
        });
        if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
        else resolve();
      });
    } catch (err) {
      emit({
        event: 'crash',
        message: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
      reject(err);
      return;
    }
    runner.on('start', () => emit({ event: 'start', total: runner.total, files }));
    runner.on('pass', (t) => emit({ event: 'pass', title: t.fullTitle(), durationMs: t.duration }));
    runner.on('pending', (t) => emit({ event: 'pending', title: t.fullTitle() }));
    runner.on('fail', (t, err: unknown) =>
      emit({
        event: 'fail',
        title: t.fullTitle(),
        durationMs: t.duration,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      }),
    );
  });
}
