/**
 * Loads the scaffolding bundle (dist/extension-scaffold.js) on first use, and points
 * tree-sitter at the grammars the build copies to dist/wasm/ before anything parses. The same
 * pattern as `loadCore`: a computed path, so esbuild leaves the `require` alone and the
 * TypeScript compiler and tree-sitter stay out of dist/extension.js.
 */
import * as path from 'node:path';
import type * as ScaffoldBundle from './scaffold-bundle.js';

let bundle: typeof ScaffoldBundle | undefined;

export function loadScaffold(extensionPath: string): typeof ScaffoldBundle {
  if (bundle === undefined) {
    const file = path.join(__dirname, 'extension-scaffold.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(file) as typeof ScaffoldBundle;
    // Invariant: set before the first parse; the bundled parsers cannot find node_modules.
    loaded.setTreeSitterWasmDir(path.join(extensionPath, 'dist', 'wasm'));
    bundle = loaded;
  }
  return bundle;
}
