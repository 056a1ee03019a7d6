import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { findSpanStarts, languageOf, lex, scanDocument } from '../../src/core/source/index.js';

/** [line, name, via] of each site, for compact assertions. */
function sites(text: string, lang: Parameters<typeof findSpanStarts>[1]) {
  return findSpanStarts(text, lang).map((s) => [s.line, s.name, s.via]);
}

describe('languageOf', () => {
  it('maps VS Code language ids and falls back to the extension', () => {
    assert.equal(languageOf('python'), 'python');
    assert.equal(languageOf('typescriptreact'), 'typescript');
    assert.equal(languageOf('plaintext', '/x/main.go'), 'go');
    assert.equal(languageOf('plaintext', '/x/Main.JAVA'), 'java');
    assert.equal(languageOf('markdown', '/x/readme.md'), undefined);
  });
});

describe('lexer', () => {
  it('keeps offsets and line breaks, blanks comments and string contents', () => {
    const text = 'a = "x(y)"  # c(\nb = 1\n';
    const { masked, strings } = lex(text, 'python');
    assert.equal(masked.length, text.length);
    assert.equal(masked, 'a = "    "      \nb = 1\n');
    assert.deepEqual(
      strings.map((s) => s.value),
      ['x(y)'],
    );
  });

  it('does not take a quote inside a JS regex for a string', () => {
    const text = 'const re = /"/g;\ntracer.startSpan("after-regex");\n';
    assert.deepEqual(sites(text, 'typescript'), [[1, 'after-regex', 'literal']]);
  });
});

describe('findSpanStarts: Python', () => {
  const py = [
    'from opentelemetry import trace',
    'RERANK = "reranking"',
    'tracer = trace.get_tracer(__name__)',
    '',
    '@tracer.start_as_current_span("embedding")',
    'def embed(x):',
    '    with tracer.start_as_current_span(RERANK) as span:',
    '        pass',
    '    span = tracer.start_span(name="generation", kind=SpanKind.INTERNAL)',
    '    with tracer.start_as_current_span(f"stage-{i}"):',
    '        pass',
    '    # tracer.start_as_current_span("commented")',
    '    """tracer.start_as_current_span("docstring")"""',
    '    with tracer.start_as_current_span("a" + suffix):',
    '        pass',
    '    with self.tracer.start_as_current_span(',
    "        'postprocessing',",
    '    ):',
    '        pass',
  ].join('\n');

  it('finds literals, decorators, keyword names and same-file constants, nothing else', () => {
    assert.deepEqual(sites(py, 'python'), [
      [4, 'embedding', 'literal'],
      [6, 'reranking', 'constant'],
      [8, 'generation', 'literal'],
      [15, 'postprocessing', 'literal'],
    ]);
  });

  it('gives nothing for a constant assigned two different values', () => {
    const text = 'NAME = "a"\nNAME = "b"\nwith tracer.start_as_current_span(NAME):\n  pass\n';
    assert.deepEqual(sites(text, 'python'), []);
  });

  it('reports the string literals of the document', () => {
    const scan = scanDocument('resource = Resource({"service.name": "gateway"})\n', 'python');
    assert.ok(scan.literals.has('gateway'));
  });
});

describe('findSpanStarts: TypeScript and JavaScript', () => {
  const ts = [
    "import { trace } from '@opentelemetry/api';",
    "export const STAGE_EMBED = 'embedding';",
    'class Stages {',
    "  static readonly RERANK = 'reranking' as const;",
    '}',
    "tracer.startActiveSpan('preprocessing', async (span) => {});",
    'tracer.startActiveSpan(STAGE_EMBED, { kind: SpanKind.INTERNAL }, (span) => {});',
    'const s = tracer.startSpan(Stages.RERANK);',
    'tracer.startSpan(`generation-${model}`);',
    'tracer.startSpan(`postprocessing`);',
    "/* tracer.startSpan('in-a-comment') */",
    'function startSpan(name: string) {}',
    'tracer.startSpan(name);',
  ].join('\n');

  it('finds literals, templates without interpolation and constants', () => {
    assert.deepEqual(sites(ts, 'typescript'), [
      [5, 'preprocessing', 'literal'],
      [6, 'embedding', 'constant'],
      [7, 'reranking', 'constant'],
      [9, 'postprocessing', 'literal'],
    ]);
  });

  it('works for plain JavaScript', () => {
    const js = "const N = 'x';\ntracer.startActiveSpan(N, (s) => s.end());\n";
    assert.deepEqual(sites(js, 'javascript'), [[1, 'x', 'constant']]);
  });
});

describe('findSpanStarts: Go', () => {
  const go = [
    'package main',
    'const spanRerank = "reranking"',
    'const (',
    '\tspanEmbed string = "embedding"',
    ')',
    'func run(ctx context.Context) {',
    '\tctx, span := tracer.Start(ctx, "preprocessing")',
    '\tctx, span = otel.Tracer("svc").Start(ctx, spanRerank, trace.WithSpanKind(trace.SpanKindInternal))',
    '\tctx, span = tracer.Start(ctx, spanEmbed)',
    '\tctx, span = tracer.Start(ctx, `generation`)',
    '\tserver.Start()',
    '\t// tracer.Start(ctx, "commented")',
    '}',
  ].join('\n');

  it('reads the second argument, literal, raw string or constant', () => {
    assert.deepEqual(sites(go, 'go'), [
      [6, 'preprocessing', 'literal'],
      [7, 'reranking', 'constant'],
      [8, 'embedding', 'constant'],
      [9, 'generation', 'literal'],
    ]);
  });
});

describe('findSpanStarts: Java', () => {
  const java = [
    'class Pipeline {',
    '  private static final String RERANK = "reranking";',
    '  void run() {',
    '    Span span = tracer.spanBuilder("embedding").startSpan();',
    '    Span r = tracer',
    '        .spanBuilder(RERANK)',
    '        .setSpanKind(SpanKind.INTERNAL)',
    '        .startSpan();',
    '    tracer.spanBuilder("gen-" + i).startSpan();',
    '  }',
    '}',
  ].join('\n');

  it('finds spanBuilder names, also on a continuation line', () => {
    assert.deepEqual(sites(java, 'java'), [
      [3, 'embedding', 'literal'],
      [5, 'reranking', 'constant'],
    ]);
  });
});
