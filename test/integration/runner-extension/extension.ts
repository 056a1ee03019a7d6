/**
 * A harness-only extension, installed next to Stagelight in code-server: on activation it loads
 * the compiled integration suite named by `STAGELIGHT_TEST_ENTRY` and runs it inside this
 * extension host. It does nothing when that variable is not set, so installing it elsewhere is
 * harmless. The suite writes its own results (see `test/integration/index.ts`).
 */
import { appendFileSync } from 'node:fs';
import type { ExtensionContext } from 'vscode';

interface SuiteEntry {
  run(): Promise<void>;
}

function isSuiteEntry(value: unknown): value is SuiteEntry {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { run?: unknown }).run === 'function'
  );
}

export function activate(_context: ExtensionContext): void {
  const entry = process.env.STAGELIGHT_TEST_ENTRY;
  if (!entry) return;
  // Not awaited: activation must return; the suite reports through its results file.
  setTimeout(() => {
    try {
      // The suite lives outside this extension's folder and is loaded from disk at run time.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const loaded: unknown = require(entry);
      if (!isSuiteEntry(loaded)) throw new Error(`${entry} does not export run()`);
      loaded.run().catch(reportCrash);
    } catch (err) {
      reportCrash(err);
    }
  }, 0);
}

/** Tells the waiting harness at once, instead of letting it run into its timeout. */
function reportCrash(err: unknown): void {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  console.error('[stagelight-test-runner] the suite could not run:', message);
  const results = process.env.STAGELIGHT_TEST_RESULTS;
  if (results) appendFileSync(results, JSON.stringify({ event: 'crash', message }) + '\n');
}

export function deactivate(): void {}
