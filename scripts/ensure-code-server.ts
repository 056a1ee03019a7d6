/**
 * `node --import tsx scripts/ensure-code-server.ts`: installs code-server into
 * `.cache/code-server` when it is missing (the test layers call the same function themselves).
 */
import { CODE_SERVER_VERSION, codeServerInstalled, ensureCodeServer } from './lib/code-server.js';
import { MissingPrerequisiteError } from './lib/prerequisites.js';

try {
  const had = codeServerInstalled();
  ensureCodeServer();
  console.log(`code-server ${CODE_SERVER_VERSION} ${had ? 'already installed' : 'installed'}`);
} catch (err) {
  console.error(err instanceof MissingPrerequisiteError ? err.message : err);
  process.exitCode = 1;
}
