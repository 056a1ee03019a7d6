/**
 * Project detection and dependency commands, the propagation snippets (inserted into real files
 * and checked with each language's tools), the generated snippets files, and text-edit details
 * (non-ASCII text before the edit, edit normalisation).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import {
  SNIPPET_FILES,
  applyEdits,
  detectProject,
  insertPropagation,
  installInstructions,
  propagationSnippets,
  snippetFileText,
  traceFunction,
  type ScaffoldLanguage,
} from '../../src/core/scaffold/index.js';
import { expandPlaceholders as expandPlaceholdersForTest } from '../../src/core/scaffold/propagation.js';
import { parse } from '../../src/core/scaffold/parsers.js';
import { normalizeEdits, offsetAt, positionAt } from '../../src/core/scaffold/text.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'stagelight-scaffold-proj-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function files(map: Record<string, string>) {
  return { files: Object.keys(map), read: (n: string) => map[n] };
}

describe('project detection and install commands', () => {
  const cases: [
    ScaffoldLanguage,
    Record<string, string>,
    string,
    string | undefined,
    'grpc' | 'http',
    string,
  ][] = [
    [
      'python',
      { 'pyproject.toml': '[project]\nname = "ranker"\n', 'uv.lock': '' },
      'uv',
      'ranker',
      'grpc',
      'uv add opentelemetry-api opentelemetry-sdk opentelemetry-exporter-otlp-proto-grpc',
    ],
    [
      'python',
      { 'pyproject.toml': '[tool.poetry]\nname = "rag-app"\n' },
      'poetry',
      'rag-app',
      'http',
      'poetry add opentelemetry-api opentelemetry-sdk opentelemetry-exporter-otlp-proto-http',
    ],
    [
      'python',
      { 'requirements.txt': 'torch\n' },
      'pip',
      undefined,
      'grpc',
      'python -m pip install opentelemetry-api opentelemetry-sdk opentelemetry-exporter-otlp-proto-grpc',
    ],
    [
      'typescript',
      { 'package.json': '{"name":"@acme/search"}', 'pnpm-lock.yaml': '' },
      'pnpm',
      'search',
      'http',
      'pnpm add @opentelemetry/api @opentelemetry/resources @opentelemetry/sdk-trace-base @opentelemetry/sdk-trace-node @opentelemetry/exporter-trace-otlp-http',
    ],
    [
      'javascript',
      { 'package.json': '{"name":"embedder"}', 'yarn.lock': '' },
      'yarn',
      'embedder',
      'grpc',
      'yarn add @opentelemetry/api @opentelemetry/resources @opentelemetry/sdk-trace-base @opentelemetry/sdk-trace-node @opentelemetry/exporter-trace-otlp-grpc',
    ],
    [
      'typescript',
      { 'package.json': '{"name":"plain"}', 'package-lock.json': '' },
      'npm',
      'plain',
      'grpc',
      'npm install @opentelemetry/api @opentelemetry/resources @opentelemetry/sdk-trace-base @opentelemetry/sdk-trace-node @opentelemetry/exporter-trace-otlp-grpc',
    ],
    [
      'go',
      { 'go.mod': 'module github.com/acme/reranker\n\ngo 1.22\n' },
      'go',
      'reranker',
      'grpc',
      'go get go.opentelemetry.io/otel go.opentelemetry.io/otel/sdk go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc',
    ],
  ];
  for (const [lang, map, manager, name, protocol, command] of cases) {
    test(`${lang} with ${Object.keys(map).join(' + ')}`, () => {
      const p = detectProject(lang, files(map));
      assert.equal(p.packageManager, manager);
      assert.equal(p.name, name);
      assert.equal(installInstructions(p, protocol).command, command);
    });
  }
  test('maven and gradle get a manifest snippet, not a command', () => {
    const pom =
      '<project><parent><artifactId>parent</artifactId></parent><artifactId>ranker-svc</artifactId></project>';
    const m = detectProject('java', files({ 'pom.xml': pom }));
    assert.equal(m.packageManager, 'maven');
    assert.equal(m.name, 'ranker-svc');
    const mi = installInstructions(m, 'grpc');
    assert.equal(mi.command, undefined);
    assert.match(
      mi.manifestSnippet?.text ?? '',
      /<artifactId>opentelemetry-exporter-otlp<\/artifactId>/,
    );
    const g = detectProject(
      'java',
      files({ 'build.gradle.kts': '', 'settings.gradle.kts': 'rootProject.name = "ranker"' }),
    );
    assert.equal(g.packageManager, 'gradle');
    assert.equal(g.name, 'ranker');
    assert.match(
      installInstructions(g, 'http').manifestSnippet?.text ?? '',
      /^implementation\("io\.opentelemetry:opentelemetry-sdk:/,
    );
  });
});

const HOSTS: Record<ScaffoldLanguage, { file: string; text: string; cursor: string }> = {
  python: {
    file: 'svc.py',
    text: 'import json\n\n\nasync def main(queue, producer, msg):\n    pass\n',
    cursor: '    pass',
  },
  typescript: {
    file: 'svc.ts',
    text: "import { readFile } from 'node:fs/promises';\n\nexport async function main(): Promise<void> {\n  await readFile('x');\n}\n",
    cursor: "  await readFile('x');",
  },
  javascript: {
    file: 'svc.mjs',
    text: "import { readFile } from 'node:fs/promises';\n\nexport async function main() {\n  await readFile('x');\n}\n",
    cursor: "  await readFile('x');",
  },
  go: {
    file: 'svc.go',
    text: 'package svc\n\nimport "context"\n\nfunc Main(ctx context.Context) error {\n\treturn nil\n}\n',
    cursor: '\treturn nil',
  },
  java: {
    file: 'Svc.java',
    text: 'package svc;\n\nimport java.util.List;\n\nclass Svc {\n    void main() throws Exception {\n        System.out.println(List.of());\n    }\n}\n',
    cursor: '        System.out',
  },
};

async function checkSyntax(lang: ScaffoldLanguage, text: string, file: string): Promise<void> {
  const f = path.join(tmp, file);
  writeFileSync(f, text);
  if (lang === 'python') execFileSync('python3', ['-m', 'py_compile', f], { stdio: 'pipe' });
  else if (lang === 'go' || lang === 'java') {
    const tree = await parse(lang, text);
    assert.equal(tree.rootNode.hasError, false, `${lang} parse errors in:\n${text}`);
    tree.delete();
    if (lang === 'go')
      assert.equal(
        execFileSync('gofmt', ['-l', f], { encoding: 'utf8' }).trim(),
        '',
        execFileSync('gofmt', ['-d', f], { encoding: 'utf8' }),
      );
  } else {
    const out = ts.transpileModule(text, { reportDiagnostics: true, fileName: file });
    assert.deepEqual(
      out.diagnostics?.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
      [],
    );
  }
}

describe('propagation snippets insert valid code with their imports', () => {
  for (const lang of Object.keys(HOSTS) as ScaffoldLanguage[]) {
    for (const s of propagationSnippets(lang)) {
      test(`${lang} ${s.pattern}`, async () => {
        const host = HOSTS[lang];
        const cursor = host.text.indexOf(host.cursor);
        const r = await insertPropagation(host.text, lang, host.file, cursor, s.pattern);
        assert.equal(r.status, 'edited', JSON.stringify(r.messages));
        const out = applyEdits(host.text, r.edits);
        assert.equal(
          expandPlaceholdersForTest(r.snippet!.text),
          out.slice(
            r.snippet!.offset,
            r.snippet!.offset + expandPlaceholdersForTest(r.snippet!.text).length,
          ),
        );
        await checkSyntax(lang, out, host.file);
        const again = await insertPropagation(
          out,
          lang,
          host.file,
          out.indexOf(host.cursor),
          s.pattern,
        );
        assert.equal(again.status, 'already-instrumented');
      });
    }
  }
  test('no Ray snippet outside Python', async () => {
    const r = await insertPropagation(HOSTS.go.text, 'go', 'svc.go', 0, 'ray-remote-call');
    assert.equal(r.status, 'unsupported');
  });
});

test('the snippets files are the generated ones', () => {
  for (const lang of Object.keys(SNIPPET_FILES) as (keyof typeof SNIPPET_FILES)[]) {
    const file = path.resolve(
      __dirname,
      '..',
      '..',
      'src',
      'core',
      'scaffold',
      'snippets',
      `${lang}.json`,
    );
    // Compared as data: Prettier may lay the file out its own way.
    assert.deepEqual(
      JSON.parse(readFileSync(file, 'utf8')),
      JSON.parse(snippetFileText(lang)),
      `${lang}.json is stale: regenerate it`,
    );
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<
      string,
      { prefix: string; body: string[] }
    >;
    assert.ok(Object.keys(parsed).length >= 6);
  }
});

test('offsets are UTF-16 code units, also after non-ASCII text', async () => {
  const text = '# ünïcödé 😀 comment\ndef f(x):\n    return x\n';
  const r = await traceFunction(
    { text, language: 'python' },
    { start: text.indexOf('return'), end: text.indexOf('return') },
  );
  const out = applyEdits(text, r.edits);
  assert.match(out, /\n@tracer\.start_as_current_span\("f"\)\ndef f\(x\):/);
  const pos = positionAt(out, r.spanLineOffset!);
  assert.equal(pos.character, 0);
  assert.equal(offsetAt(out, pos), r.spanLineOffset);
});

test('normalizeEdits merges inserts at one offset in order and rejects overlaps', () => {
  assert.deepEqual(
    normalizeEdits([
      { start: 3, end: 3, newText: 'a' },
      { start: 1, end: 2, newText: 'x' },
      { start: 3, end: 3, newText: 'b' },
    ]),
    [
      { start: 1, end: 2, newText: 'x' },
      { start: 3, end: 3, newText: 'ab' },
    ],
  );
  assert.throws(() =>
    normalizeEdits([
      { start: 0, end: 4, newText: '' },
      { start: 2, end: 3, newText: '' },
    ]),
  );
});

describe('imports next to type-only ones', () => {
  test('a name imported as `type X` that a snippet needs as a value loses the modifier', async () => {
    const text =
      "import { type Metadata, type ServiceError } from '@grpc/grpc-js';\n\nexport function call(): void {\n  void 0;\n}\n";
    const r = await insertPropagation(
      text,
      'typescript',
      'svc.ts',
      text.indexOf('  void 0'),
      'grpc-client',
    );
    const out = applyEdits(text, r.edits);
    assert.match(out, /^import \{ Metadata, type ServiceError \} from '@grpc\/grpc-js';$/m);
    assert.equal(out.match(/\bMetadata\b/g)?.length, 2, 'imported once, used once');
  });
  test('names added after only type-only ones are separated by a comma', async () => {
    const text =
      "import { type Span } from '@opentelemetry/api';\n\nexport function f(s: Span): number {\n  return s ? 1 : 0;\n}\n";
    const r = await traceFunction(
      { text, language: 'typescript', fileName: 'f.ts' },
      { start: text.indexOf('return'), end: text.indexOf('return') },
    );
    const out = applyEdits(text, r.edits);
    assert.match(out, /^import \{ type Span, \w+(, \w+)* \} from '@opentelemetry\/api';$/m);
    const diagnostics = ts.transpileModule(out, { reportDiagnostics: true, fileName: 'f.ts' });
    assert.deepEqual(diagnostics.diagnostics, []);
  });
});
