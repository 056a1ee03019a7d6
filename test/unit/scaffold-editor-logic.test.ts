/**
 * The editor-side decisions of the scaffolding commands (src/extension/scaffold-logic.ts):
 * notices per status, protocol and endpoint, project roots on a real folder tree, the function
 * header heuristic behind the "Trace" lens and code action (checked against the real core: a
 * traced function stops being offered), the split of a propagation result into edits plus one
 * snippet, and that the latency lens's scanner finds the line the core reports as the new span.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  applyEdits,
  insertPropagation,
  positionAt,
  propagationSnippets,
  traceFunction,
  type ScaffoldLanguage,
} from '../../src/core/scaffold/index.js';
import { expandPlaceholders } from '../../src/core/scaffold/propagation.js';
import { scanDocument } from '../../src/core/source/span-starts.js';
import {
  defaultServiceName,
  endpointFor,
  escapeSnippetText,
  findProjectRoot,
  functionHeaders,
  offersTraceAt,
  protocolFor,
  resultNotices,
  scaffoldLanguageOf,
  snippetInsertion,
  validateServiceName,
  validateSpanName,
} from '../../src/extension/scaffold-logic.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'stagelight-scaffold-editor-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('notices per status', () => {
  test('edited shows the core messages, with their severity', () => {
    assert.deepEqual(resultNotices({ status: 'edited', messages: [] }), []);
    assert.deepEqual(
      resultNotices({
        status: 'edited',
        messages: [
          { severity: 'info', text: 'Kafka producer.' },
          { severity: 'warning', text: 'No context in scope: used context.Background().' },
        ],
      }),
      [
        { severity: 'info', text: 'Stagelight: Kafka producer.' },
        {
          severity: 'warning',
          text: 'Stagelight: No context in scope: used context.Background().',
        },
      ],
    );
  });
  test('already-instrumented is information, unsupported and not-found are warnings', () => {
    assert.deepEqual(
      resultNotices({
        status: 'already-instrumented',
        messages: [{ severity: 'info', text: 'rerank already starts a span.' }],
      }),
      [{ severity: 'info', text: 'Stagelight: rerank already starts a span.' }],
    );
    assert.equal(
      resultNotices({
        status: 'unsupported',
        messages: [{ severity: 'error', text: 'A generator cannot be traced.' }],
      })[0]?.severity,
      'warning',
    );
    const [fallback] = resultNotices({ status: 'not-found', messages: [] });
    assert.equal(fallback?.severity, 'warning');
    assert.match(fallback?.text ?? '', /^Stagelight: nothing to instrument/);
  });
});

describe('protocol and endpoint', () => {
  test('auto: HTTP for TS/JS, gRPC elsewhere; a fixed setting wins', () => {
    assert.equal(protocolFor('typescript', 'auto'), 'http');
    assert.equal(protocolFor('javascript', 'auto'), 'http');
    for (const l of ['python', 'go', 'java'] as const) assert.equal(protocolFor(l, 'auto'), 'grpc');
    assert.equal(protocolFor('typescript', 'grpc'), 'grpc');
    assert.equal(protocolFor('python', 'http'), 'http');
  });
  test("the running receiver's actual URLs, else the configured ports", () => {
    const running = { grpc: 'http://127.0.0.1:4327', http: 'http://127.0.0.1:4328' };
    const configured = { grpcPort: 4317, httpPort: 4318 };
    assert.equal(endpointFor('grpc', running, configured), 'http://127.0.0.1:4327');
    assert.equal(endpointFor('http', running, configured), 'http://127.0.0.1:4328');
    assert.equal(endpointFor('grpc', undefined, configured), 'http://127.0.0.1:4317');
    assert.equal(
      endpointFor('http', undefined, { grpcPort: 0, httpPort: 0 }),
      'http://127.0.0.1:4318',
    );
  });
});

describe('project root', () => {
  const ws = path.join(tmp, 'ws');
  const write = (rel: string, text = ''): string => {
    const f = path.join(ws, rel);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
    return f;
  };
  write('package.json', '{"name":"monorepo"}');
  write('services/ranker/pyproject.toml', '[project]\nname = "ranker"\n');
  const py = write('services/ranker/src/ranker/model.py');
  write('tools/requirements-dev.txt');
  const tool = write('tools/x/run.py');
  const loose = write('scratch/a.go');
  const outside = path.join(tmp, 'elsewhere', 'b.py');
  mkdirSync(path.dirname(outside), { recursive: true });
  writeFileSync(outside, '');

  test('the nearest folder with a marker of the language', () => {
    assert.equal(findProjectRoot('python', py, ws), path.join(ws, 'services', 'ranker'));
    assert.equal(findProjectRoot('python', tool, ws), path.join(ws, 'tools'));
    assert.equal(findProjectRoot('typescript', py, ws), ws);
  });
  test('no marker: the workspace folder; outside any folder: the file folder', () => {
    assert.equal(findProjectRoot('go', loose, ws), ws);
    assert.equal(findProjectRoot('python', outside, ws), path.dirname(outside));
    assert.equal(findProjectRoot('python', outside, undefined), path.dirname(outside));
  });
  test('service.name defaults and validation', () => {
    assert.equal(defaultServiceName('ranker', ws, py), 'ranker');
    assert.equal(defaultServiceName(undefined, '/w/My Project', py), 'My-Project');
    assert.equal(defaultServiceName(undefined, undefined, '/x/embed_docs.py'), 'embed_docs');
    assert.equal(validateServiceName(' ranker '), undefined);
    assert.ok(validateServiceName('  '));
    assert.ok(validateServiceName('a"b'));
    assert.equal(validateSpanName('Reranker.rerank'), undefined);
    assert.ok(validateSpanName('x\ny'));
  });
  test('language ids', () => {
    assert.equal(scaffoldLanguageOf('typescriptreact'), 'typescript');
    assert.equal(scaffoldLanguageOf('javascriptreact'), 'javascript');
    assert.equal(scaffoldLanguageOf('rust'), undefined);
  });
});

/** One sample per language: its functions (names, in order) and one to trace. */
const SAMPLES: Record<
  ScaffoldLanguage,
  { text: string; names: string[]; trace: string; spanName: string }
> = {
  python: {
    text: [
      'import functools',
      '',
      'class Reranker:',
      '    @functools.lru_cache',
      '    def rerank(self, docs):',
      '        return sorted(docs)',
      '',
      '    async def embed(',
      '        self, texts',
      '    ):',
      '        return texts',
      '',
      'def main():',
      '    print(Reranker().rerank([2, 1]))',
      '',
    ].join('\n'),
    names: ['rerank', 'embed', 'main'],
    trace: 'rerank',
    spanName: 'Reranker.rerank',
  },
  typescript: {
    text: [
      "import { readFileSync } from 'node:fs';",
      '',
      'export async function loadModel(path: string): Promise<Buffer> {',
      '  return readFileSync(path);',
      '}',
      '',
      'export const tokenize = (text: string): string[] => text.split(" ");',
      '',
      'class Pipeline {',
      '  private async rerank(docs: string[]): Promise<string[]> {',
      '    if (docs.length > 0) {',
      '      return docs.sort();',
      '    }',
      '    return docs;',
      '  }',
      '}',
      '',
    ].join('\n'),
    names: ['loadModel', 'tokenize', 'rerank'],
    trace: 'rerank',
    spanName: 'Pipeline.rerank',
  },
  javascript: {
    text: [
      'function embed(texts) {',
      '  return texts.map((t) => t.length);',
      '}',
      'const run = async () => {',
      '  for (const x of [1]) {',
      '    embed([x]);',
      '  }',
      '};',
      'module.exports = { embed, run };',
      '',
    ].join('\n'),
    names: ['embed', 'run'],
    trace: 'embed',
    spanName: 'embed',
  },
  go: {
    text: [
      'package main',
      '',
      'import "context"',
      '',
      'type Ranker struct{}',
      '',
      'func (r *Ranker) Rerank(ctx context.Context, docs []string) ([]string, error) {',
      '\treturn docs, nil',
      '}',
      '',
      'func main() {',
      '\t_, _ = (&Ranker{}).Rerank(context.Background(), nil)',
      '}',
      '',
    ].join('\n'),
    names: ['Rerank', 'main'],
    trace: 'Rerank',
    spanName: 'Ranker.Rerank',
  },
  java: {
    text: [
      'package demo;',
      '',
      'import java.util.List;',
      '',
      'public class Ranker {',
      '    public Ranker() {',
      '    }',
      '',
      '    public List<String> rerank(List<String> docs) throws Exception {',
      '        if (docs.isEmpty()) {',
      '            return docs;',
      '        }',
      '        return List.copyOf(docs);',
      '    }',
      '',
      '    static int[] sizes(String... xs) {',
      '        return new int[xs.length];',
      '    }',
      '',
      '    public static void main(String[] args) throws Exception {',
      '        new Ranker().rerank(List.of("a"));',
      '    }',
      '}',
      '',
    ].join('\n'),
    names: ['rerank', 'sizes', 'main'],
    trace: 'rerank',
    spanName: 'Ranker.rerank',
  },
};

describe('function headers: the Trace lens and code action', () => {
  for (const [language, s] of Object.entries(SAMPLES) as [
    ScaffoldLanguage,
    (typeof SAMPLES)[ScaffoldLanguage],
  ][]) {
    test(`${language}: finds the functions, and a traced one is no longer offered`, async () => {
      const headers = functionHeaders(s.text, language);
      assert.deepEqual(
        headers.map((h) => h.name),
        s.names,
      );
      assert.ok(headers.every((h) => !h.instrumented));
      const h = headers.find((x) => x.name === s.trace);
      assert.ok(h);
      const lines = s.text.split('\n');
      assert.equal(lines[h.line]?.slice(h.column, h.column + h.name.length), h.name);
      assert.ok(offersTraceAt(s.text, language, h.line));
      assert.equal(offersTraceAt(s.text, language, h.line + 1), false);

      // The lens's command puts the cursor on the name: the core traces that function.
      const offset = lines.slice(0, h.line).join('\n').length + (h.line > 0 ? 1 : 0) + h.column;
      const r = await traceFunction({ text: s.text, language }, { start: offset, end: offset });
      assert.equal(r.status, 'edited', JSON.stringify(r.messages));
      const after = applyEdits(s.text, r.edits);
      const traced = functionHeaders(after, language).find((x) => x.name === s.trace);
      assert.ok(traced?.instrumented, `${s.trace} still offered after tracing:\n${after}`);
      assert.equal(
        functionHeaders(after, language).filter((x) => !x.instrumented).length,
        s.names.length - 1,
      );

      // The latency lens scans span starts: it finds the line the core reports, with the name.
      assert.ok(r.spanLineOffset !== undefined);
      const spanLine = positionAt(after, r.spanLineOffset).line;
      const sites = scanDocument(after, language).sites;
      assert.ok(
        sites.some((x) => x.line === spanLine && x.name === s.spanName),
        `no span start "${s.spanName}" on line ${spanLine}: ${JSON.stringify(sites)}`,
      );
    });
  }
  test('calls, control flow and constructors are not functions', () => {
    assert.deepEqual(
      functionHeaders('if (x) {\n  foo(1);\n}\nwhile (y) {\n}\nfoo(a, b);\n', 'typescript'),
      [],
    );
    assert.deepEqual(
      functionHeaders(
        'class A {\n  A() {}\n  public A(int x) {\n  }\n  void f() { return g(x); }\n}\n',
        'java',
      ).map((h) => h.name),
      ['f'],
    );
    assert.deepEqual(functionHeaders('x = lambda y: y\n', 'python'), []);
  });
});

describe('propagation: edits plus one snippet', () => {
  const unescape = (t: string) => t.replace(/\\([$}\\])/g, '$1');
  const FILES: Record<ScaffoldLanguage, string> = {
    python: 'x = 1\n\ndef send():\n    pass\n',
    typescript: 'const x = 1;\nexport function send(): void {\n  console.log(x);\n}\n',
    javascript: 'const x = 1;\nfunction send() {\n  console.log(x);\n}\n',
    go: 'package main\n\nfunc send() {\n}\n',
    java: 'package demo;\n\nclass A {\n    void send() {\n    }\n}\n',
  };
  let merged = 0;
  for (const language of Object.keys(FILES) as ScaffoldLanguage[]) {
    test(`${language}: every pattern, at the top line and inside a function`, async () => {
      const text = FILES[language];
      const inside = text.lastIndexOf('\n', text.length - 3) - 1;
      for (const s of propagationSnippets(language)) {
        for (const cursor of [0, Math.max(0, inside)]) {
          const r = await insertPropagation(text, language, undefined, cursor, s.pattern);
          assert.equal(r.status, 'edited', `${s.pattern}: ${JSON.stringify(r.messages)}`);
          assert.ok(r.snippet);
          const lineStart = text.lastIndexOf('\n', cursor - 1) + 1;
          const split = snippetInsertion(r.edits, lineStart, r.snippet.offset, r.snippet.text);
          assert.ok(split, `${s.pattern}: the snippet insertion was not located`);
          assert.ok(split.snippet.text.endsWith(r.snippet.text));
          const prefix = unescape(
            split.snippet.text.slice(0, split.snippet.text.length - r.snippet.text.length),
          );
          if (prefix !== '') merged++;
          const plain = expandPlaceholders(r.snippet.text);
          const got = applyEdits(text, [
            ...split.edits,
            { start: split.snippet.offset, end: split.snippet.offset, newText: prefix + plain },
          ]);
          assert.equal(got, applyEdits(text, r.edits), s.pattern);
        }
      }
    });
  }
  test('an import merged into the insertion stays in front of the snippet', () => {
    assert.ok(merged > 0, 'no case merged an import with the snippet');
    assert.equal(escapeSnippetText('a${b}\\'), 'a\\${b\\}\\\\');
  });
});

test('a function that starts a span by hand (startSpan, start_span) is not offered', () => {
  const ts =
    "function pre(r: string) {\n  const span = tracer.startSpan('pre');\n  span.end();\n}\n";
  assert.equal(functionHeaders(ts, 'typescript')[0]?.instrumented, true);
  const py = 'def rerank(v):\n    span = tracer.start_span("rerank")\n    span.end()\n';
  assert.equal(functionHeaders(py, 'python')[0]?.instrumented, true);
});
