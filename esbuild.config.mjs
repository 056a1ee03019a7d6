// Bundles every entry point: the CLI, the extension host code, the waterfall webview and the
// demo pipeline's processes. An entry whose source does not exist yet is skipped, so each part
// can land on its own. `node esbuild.config.mjs` builds once; `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { copyDemoTypes } from './scripts/lib/demo-types.mjs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** @type {import('esbuild').BuildOptions} */
const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: production,
  logLevel: 'warning',
  // `vscode` is provided by the editor; onnxruntime-node is native and ships as a package.
  external: ['vscode', 'onnxruntime-node'],
  define: { STAGELIGHT_VERSION: JSON.stringify(pkg.version) },
};

const demoEntries = existsSync('demo/entries')
  ? Object.fromEntries(
      readdirSync('demo/entries')
        .filter((f) => f.endsWith('.ts'))
        .map((f) => [`demo/${f.slice(0, -3)}`, `demo/entries/${f}`]),
    )
  : {};

const builds = [
  {
    ...node,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
  },
  // `stagelight scaffold` (TypeScript compiler, tree-sitter): required on its first use
  // (src/cli/main.ts), so `serve` and `demo` do not parse it at start.
  { ...node, entryPoints: { 'cli-scaffold': 'src/cli/scaffold.ts' }, outdir: 'dist' },
  // The extension is three bundles: the adapters (loaded at activation), the receiver core,
  // required on first start (src/extension/receiver/load-core.ts), and the scaffolding below.
  { ...node, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist' },
  {
    ...node,
    entryPoints: { 'extension-core': 'src/extension/receiver/core-bundle.ts' },
    outdir: 'dist',
  },
  // The scaffolding commands (TypeScript compiler, tree-sitter): required on their first use
  // (src/extension/scaffold/scaffold-load.ts).
  {
    ...node,
    entryPoints: { 'extension-scaffold': 'src/extension/scaffold/scaffold-bundle.ts' },
    outdir: 'dist',
  },
  { ...node, entryPoints: demoEntries, outdir: 'dist' },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: true,
    minify: production,
    logLevel: 'warning',
    entryPoints: { 'webview/waterfall': 'webview/src/main.ts' },
    outdir: 'dist',
    loader: { '.ttf': 'file' },
    // Fonts next to the webview bundle, so the webview's resource root stays dist/webview.
    assetNames: 'webview/[name]-[hash]',
  },
].filter(
  (b) =>
    Object.values(b.entryPoints).length > 0 &&
    Object.values(b.entryPoints).every((e) => existsSync(e)),
);

/**
 * The demo's model runners load onnxruntime-node, a native module kept out of the bundles. The
 * VSIX ships no top-level node_modules, so a production build copies the runtime next to the
 * bundles (dist/node_modules), for this platform only; Node resolves it from dist/demo/.
 */
function copyNativeRuntime() {
  const out = 'dist/node_modules';
  rmSync(out, { recursive: true, force: true });
  const ort = 'node_modules/onnxruntime-node';
  const binary = `bin/napi-v6/${process.platform}/${process.arch}`;
  if (!existsSync(`${ort}/${binary}`)) {
    throw new Error(`onnxruntime-node has no binary for ${process.platform}-${process.arch}`);
  }
  for (const part of ['package.json', 'dist', binary]) {
    cpSync(`${ort}/${part}`, `${out}/onnxruntime-node/${part}`, { recursive: true });
  }
  for (const part of ['package.json', 'dist']) {
    cpSync(`node_modules/onnxruntime-common/${part}`, `${out}/onnxruntime-common/${part}`, {
      recursive: true,
    });
  }
}

/**
 * The scaffolding parses Python, Go and Java with tree-sitter's WebAssembly build: the runtime
 * and the grammars are data files next to the bundles (src/core/scaffold/parsers.ts).
 */
function copyTreeSitterWasm() {
  const files = [
    'node_modules/web-tree-sitter/tree-sitter.wasm',
    'node_modules/tree-sitter-python/tree-sitter-python.wasm',
    'node_modules/tree-sitter-go/tree-sitter-go.wasm',
    'node_modules/tree-sitter-java/tree-sitter-java.wasm',
  ];
  mkdirSync('dist/wasm', { recursive: true });
  for (const f of files) cpSync(f, `dist/wasm/${f.split('/').pop()}`);
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  copyTreeSitterWasm();
  copyDemoTypes('node_modules', 'dist/demo-types');
  if (production) copyNativeRuntime();
}
