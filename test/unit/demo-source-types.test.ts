/**
 * The demo source that "Stagelight: Open Demo Source" opens lives in the installed extension,
 * which ships no node_modules: demo/tsconfig.json and the declarations the build copies to
 * dist/demo-types (scripts/lib/demo-types.mjs) let the editor type-check it without a false
 * "Cannot find module '@opentelemetry/api'". Checked here with the TypeScript compiler API on
 * a copy laid out as the VSIX installs it, and against .vscodeignore the way vsce reads it.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import ts from 'typescript';
import { copyDemoTypes } from '../../scripts/lib/demo-types.mjs';

const ROOT = path.resolve(__dirname, '..', '..');
/** The demo's stage sources: the one Open Demo Source picks, and where Go to source leads. */
const OPENED = [
  'demo/pipeline/gateway.ts',
  'demo/retrieval/retrieval-worker.ts',
  'demo/telemetry/source-location.ts',
];

describe('the demo source as the installed extension opens it', () => {
  const ext = mkdtempSync(path.join(os.tmpdir(), 'stagelight-ext-'));
  after(() => rmSync(ext, { recursive: true, force: true }));

  it('type-checks without errors: no red file for a new user', () => {
    // The installed layout: demo/ (sources and tsconfig, no models, no tests), dist/demo-types.
    assert.ok(!existsSync(path.join(os.tmpdir(), 'node_modules')), 'no node_modules above');
    cpSync(path.join(ROOT, 'demo'), path.join(ext, 'demo'), {
      recursive: true,
      filter: (f) => !f.endsWith('.onnx') && !f.endsWith('.test.ts'),
    });
    copyDemoTypes(path.join(ROOT, 'node_modules'), path.join(ext, 'dist', 'demo-types'));

    const configFile = path.join(ext, 'demo', 'tsconfig.json');
    const read = ts.readConfigFile(configFile, (f) => ts.sys.readFile(f));
    assert.equal(read.error, undefined);
    const config = ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(configFile));
    assert.deepEqual(config.errors, []);
    const program = ts.createProgram({
      rootNames: OPENED.map((f) => path.join(ext, f)),
      options: config.options,
    });
    for (const f of OPENED) {
      const source = program.getSourceFile(path.join(ext, f));
      assert.ok(source, f);
      const diagnostics = [
        ...program.getSyntacticDiagnostics(source),
        ...program.getSemanticDiagnostics(source),
      ].map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      assert.deepEqual(diagnostics, [], f);
    }
  });

  it('ships what the check needs: .vscodeignore keeps the tsconfig and the declarations', () => {
    // vsce's reading: comments dropped, a name without a glob also matches as a folder, a file is
    // left out when an ignore pattern matches it and no negated one does.
    const vsce = createRequire(require.resolve('@vscode/vsce/package.json'));
    const { minimatch } = vsce('minimatch') as {
      minimatch(file: string, pattern: string, o: { dot: boolean }): boolean;
    };
    const lines = readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8')
      .split(/[\n\r]/)
      .map((s) => s.trim())
      .filter((s) => s !== '' && !s.startsWith('#'));
    const all = [
      ...lines,
      ...lines.filter((i) => !/(^|\/)[^/]*\*[^/]*$/.test(i)).map((i) => `${i}/**`),
    ];
    const ignore = all.filter((p) => !p.startsWith('!'));
    const negate = all.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
    const shipped = (f: string): boolean =>
      !ignore.some((p) => minimatch(f, p, { dot: true })) ||
      negate.some((p) => minimatch(f, p, { dot: true }));
    for (const f of [
      'demo/tsconfig.json',
      'demo/pipeline/gateway.ts',
      'dist/demo-types/node_modules/@opentelemetry/api/package.json',
      'dist/demo-types/node_modules/@opentelemetry/api/build/src/index.d.ts',
      'dist/demo-types/node_modules/@types/node/package.json',
      'dist/demo-types/node_modules/@types/node/index.d.ts',
      'dist/demo-types/node_modules/undici-types/index.d.ts',
    ]) {
      assert.ok(shipped(f), `${f} is shipped`);
    }
    for (const f of [
      'tsconfig.json',
      'src/extension/extension.ts',
      'demo/models/x.onnx',
      'scripts/lib/demo-types.mjs',
    ]) {
      assert.ok(!shipped(f), `${f} is not shipped`);
    }
  });
});
