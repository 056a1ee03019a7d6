/**
 * Loads the receiver bundle on first use. The receiver (grpc-js, protobuf for channelz, the
 * statistics) is most of the extension's code; keeping it out of dist/extension.js keeps
 * activation to the small adapters.
 */
import * as path from 'node:path';
import type * as CoreBundle from './core-bundle.js';

let core: typeof CoreBundle | undefined;

export function loadCore(): typeof CoreBundle {
  // A computed path: esbuild leaves this require alone, so the bundle is loaded at run time.
  const file = path.join(__dirname, 'extension-core.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  core ??= require(file) as typeof CoreBundle;
  return core;
}
