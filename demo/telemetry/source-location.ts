/**
 * `code.file.path` / `code.line.number` for the demo's stage spans. The demo runs bundled, so
 * stack traces do not name the TypeScript source; instead the source file (which ships next to
 * the bundle) is read once and the line of the `startActiveSpan('<name>'` call is found in it.
 * When the source is not there, no attributes are added: saying nothing beats a wrong line.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

type CodeAttributes = Record<string, string | number>;

const roots = new Map<string, string | undefined>();
const files = new Map<string, string | undefined>();

/** The folder above `__dirname` that holds `relFile` (the repository or the installed VSIX). */
function findRoot(relFile: string): string | undefined {
  if (roots.has(relFile)) return roots.get(relFile);
  let dir = __dirname;
  let found: string | undefined;
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, relFile))) {
      found = dir;
      break;
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  roots.set(relFile, found);
  return found;
}

function readSource(file: string): string | undefined {
  if (!files.has(file)) {
    try {
      files.set(file, readFileSync(file, 'utf8'));
    } catch {
      files.set(file, undefined);
    }
  }
  return files.get(file);
}

/**
 * Returns a function giving the code attributes of the span started as
 * `startActiveSpan('<name>'` (or `startSpan('<name>'`) in `relFile` (a path from the package
 * root, e.g. "demo/pipeline/gateway.ts"). Results are cached.
 */
export function sourceLocator(relFile: string): (spanName: string) => CodeAttributes {
  const cache = new Map<string, CodeAttributes>();
  return (spanName) => {
    let attrs = cache.get(spanName);
    if (attrs !== undefined) return attrs;
    attrs = {};
    const root = findRoot(relFile);
    const file = root === undefined ? undefined : path.join(root, relFile);
    const text = file === undefined ? undefined : readSource(file);
    if (file !== undefined && text !== undefined) {
      const quoted = spanName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const m = new RegExp(`(startActiveSpan|startSpan)\\(\\s*['"\`]${quoted}['"\`]`).exec(text);
      if (m !== null) {
        const line = text.slice(0, m.index).split('\n').length;
        attrs = { 'code.file.path': file, 'code.line.number': line };
      }
    }
    cache.set(spanName, attrs);
    return attrs;
  };
}
