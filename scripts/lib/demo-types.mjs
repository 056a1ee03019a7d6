// The type declarations the demo's sources need, copied next to the bundles so that a demo
// source the editor opens from the installed extension (which ships no node_modules) type-checks
// without false errors: demo/tsconfig.json points `paths` and `typeRoots` at this copy.
// Declarations only, with each package's manifest and licence (~450 KB compressed, mostly
// Node's own types).
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

/**
 * The packages whose declarations are copied: the tracing API the stages call and Node's types
 * (`process`, `performance`, `node:fs`), with what those import.
 */
export const DEMO_TYPE_PACKAGES = ['@opentelemetry/api', '@types/node', 'undici-types'];

/**
 * Copies each package's `package.json`, `LICENSE` and the `*.d.ts` files under the folder of its
 * `types` entry from `nodeModules` to `out/node_modules/<package>/`, replacing what was there.
 * @param {string} nodeModules
 * @param {string} out
 */
export function copyDemoTypes(nodeModules, out) {
  rmSync(out, { recursive: true, force: true });
  for (const pkg of DEMO_TYPE_PACKAGES) {
    const from = path.join(nodeModules, pkg);
    const to = path.join(out, 'node_modules', pkg);
    const manifest = JSON.parse(readFileSync(path.join(from, 'package.json'), 'utf8'));
    const types = path.dirname(manifest.types ?? manifest.typings ?? 'index.d.ts');
    mkdirSync(to, { recursive: true });
    for (const f of ['package.json', 'LICENSE']) {
      if (existsSync(path.join(from, f))) cpSync(path.join(from, f), path.join(to, f));
    }
    for (const rel of declarations(from, types === '.' ? '' : types)) {
      mkdirSync(path.dirname(path.join(to, rel)), { recursive: true });
      cpSync(path.join(from, rel), path.join(to, rel));
    }
  }
}

/**
 * @param {string} root
 * @param {string} rel
 * @returns {string[]}
 */
function declarations(root, rel) {
  const out = [];
  for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const p = path.join(rel, e.name);
    if (e.isDirectory() && e.name !== 'node_modules') out.push(...declarations(root, p));
    else if (e.isFile() && e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}
