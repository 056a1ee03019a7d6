/**
 * Tree-sitter (WebAssembly build, no native toolchain) for Python, Go and Java. The runtime and
 * the grammars load once, lazily, on first use.
 *
 * Node positions: web-tree-sitter parses a JavaScript string as UTF-16, so `startIndex` and
 * `endIndex` are UTF-16 code units, the same unit as `TextEdit` offsets.
 */
import path from 'node:path';
import type { Node, Tree } from 'web-tree-sitter';
// `require`, not `import`: bundlers then pick the package's CommonJS build. Its ES module build
// calls `createRequire(import.meta.url)`, which has no value inside a CommonJS bundle such as
// the extension's.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
import TreeSitter = require('web-tree-sitter');

const { Language, Parser } = TreeSitter;
type Language = TreeSitter.Language;

export type TreeSitterLanguage = 'python' | 'go' | 'java';
export type { Node, Tree };

/**
 * Where the `.wasm` files are. By default they resolve from `node_modules` (`web-tree-sitter`,
 * `tree-sitter-python`, ...). A bundled extension copies them next to its bundle and passes that
 * folder here before the first parse: `tree-sitter.wasm`, `tree-sitter-python.wasm`, ...
 */
let wasmDir: string | undefined;

export function setTreeSitterWasmDir(dir: string | undefined): void {
  wasmDir = dir;
}

function wasmPath(pkg: string, file: string): string {
  return wasmDir ? path.join(wasmDir, file) : require.resolve(`${pkg}/${file}`);
}

let ready: Promise<void> | undefined;
const languages = new Map<TreeSitterLanguage, Promise<Language>>();

function init(): Promise<void> {
  ready ??= Parser.init({
    locateFile: (name: string) => wasmPath('web-tree-sitter', name),
  });
  return ready;
}

function language(lang: TreeSitterLanguage): Promise<Language> {
  let l = languages.get(lang);
  if (!l) {
    l = init().then(() =>
      Language.load(wasmPath(`tree-sitter-${lang}`, `tree-sitter-${lang}.wasm`)),
    );
    languages.set(lang, l);
  }
  return l;
}

/** Parses the text; the caller deletes the tree when done (it lives in WebAssembly memory). */
export async function parse(lang: TreeSitterLanguage, text: string): Promise<Tree> {
  const grammar = await language(lang);
  const parser = new Parser();
  try {
    parser.setLanguage(grammar);
    const tree = parser.parse(text);
    if (!tree) throw new Error(`tree-sitter could not parse the ${lang} document`);
    return tree;
  } finally {
    parser.delete();
  }
}

/** Runs `fn` on a parse of the text and frees the tree after. */
export async function withTree<T>(
  lang: TreeSitterLanguage,
  text: string,
  fn: (root: Node) => T,
): Promise<T> {
  const tree = await parse(lang, text);
  try {
    return fn(tree.rootNode);
  } finally {
    tree.delete();
  }
}

/** The innermost node of one of `types` that contains [start, end]. */
export function enclosing(
  root: Node,
  start: number,
  end: number,
  types: readonly string[],
): Node | undefined {
  let n: Node | null = root.descendantForIndex(start, Math.max(start, end));
  while (n) {
    if (types.includes(n.type) && n.startIndex <= start && end <= n.endIndex) return n;
    n = n.parent;
  }
  return undefined;
}

/** Every descendant of `node` (pre-order), not entering nodes for which `stop` is true. */
export function* descendants(node: Node, stop?: (n: Node) => boolean): Generator<Node> {
  for (const c of node.namedChildren) {
    if (!c) continue;
    yield c;
    if (!stop?.(c)) yield* descendants(c, stop);
  }
}

/** Ranges of multi-line string literals (their continuation lines must not be re-indented). */
export function multilineStrings(
  root: Node,
  types: readonly string[],
): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const n of descendants(root)) {
    if (types.includes(n.type) && n.startPosition.row !== n.endPosition.row) {
      out.push({ start: n.startIndex, end: n.endIndex });
    }
  }
  return out;
}

/**
 * The whole statements a selection touches: the innermost block of `blockTypes` that holds the
 * (whitespace-trimmed) selection, and its first and last child statements that overlap it. A
 * cursor gives the one statement it is in. Undefined when the selection crosses blocks.
 */
export function selectedStatements(
  root: Node,
  text: string,
  start: number,
  end: number,
  blockTypes: readonly string[],
): { block: Node; first: Node; last: Node } | undefined {
  let s = start;
  let e = end;
  while (s < e && /\s/.test(text[s] ?? '')) s++;
  while (e > s && /\s/.test(text[e - 1] ?? '')) e--;
  const last = Math.max(s, e - 1);
  for (let blk: Node | null = root.descendantForIndex(s, last); blk; blk = blk.parent) {
    if (!blockTypes.includes(blk.type) || blk.startIndex > s || last >= blk.endIndex) continue;
    const kids = blk.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment');
    const first =
      kids.find((c) => c.startIndex <= s && s < c.endIndex) ?? kids.find((c) => c.startIndex >= s);
    const lastKid =
      [...kids].reverse().find((c) => c.startIndex <= last && last < c.endIndex) ??
      [...kids].reverse().find((c) => c.endIndex <= e);
    if (first && lastKid && first.startIndex <= lastKid.startIndex)
      return { block: blk, first, last: lastKid };
    return undefined;
  }
  return undefined;
}
