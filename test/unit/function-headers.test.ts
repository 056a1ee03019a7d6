/**
 * The function-header heuristic behind the "Trace" lens and code action
 * (src/core/scaffold/function-headers.ts), checked against the real core: a traced function stops
 * being offered, and the latency lens's scanner finds the line the core reports as the new span.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyEdits,
  positionAt,
  traceFunction,
  type ScaffoldLanguage,
} from '../../src/core/scaffold/index.js';
import { functionHeaders, offersTraceAt } from '../../src/core/scaffold/function-headers.js';
import { scanDocument } from '../../src/core/source/span-starts.js';

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

test('a function that starts a span by hand (startSpan, start_span) is not offered', () => {
  const ts =
    "function pre(r: string) {\n  const span = tracer.startSpan('pre');\n  span.end();\n}\n";
  assert.equal(functionHeaders(ts, 'typescript')[0]?.instrumented, true);
  const py = 'def rerank(v):\n    span = tracer.start_span("rerank")\n    span.end()\n';
  assert.equal(functionHeaders(py, 'python')[0]?.instrumented, true);
});
