/**
 * `contributes.snippets` content, generated from the same patterns the commands write: a span
 * around code, a traced function, stage attributes, and the context-propagation catalogue. The
 * files under `snippets/` are this module's output (`writeSnippetFiles`); a test keeps them equal.
 */
import { PROPAGATION_SNIPPETS, snippetLines } from './propagation.js';
import type { ScaffoldLanguage } from './types.js';

/** One entry of a VS Code snippets file. */
export interface SnippetEntry {
  prefix: string;
  body: string[];
  description: string;
}

/** VS Code language ids per snippet file. */
export const SNIPPET_FILES: Readonly<
  Record<'python' | 'typescript' | 'javascript' | 'go' | 'java', readonly string[]>
> = {
  python: ['python'],
  typescript: ['typescript', 'typescriptreact'],
  javascript: ['javascript', 'javascriptreact'],
  go: ['go'],
  java: ['java'],
};

const CORE: Record<ScaffoldLanguage, Record<string, SnippetEntry>> = {
  python: {
    'Stagelight: span': {
      prefix: 'otel-span',
      body: ['with tracer.start_as_current_span("${1:stage}"):', '\t${0:pass}'],
      description: 'A span around a block (records exceptions and sets the error status).',
    },
    'Stagelight: traced function': {
      prefix: 'otel-trace',
      body: [
        '@tracer.start_as_current_span("${1:${2:name}}")',
        'def ${2:name}(${3}):',
        '\t${0:pass}',
      ],
      description: 'A function in its own span (works on async def too).',
    },
    'Stagelight: tracer': {
      prefix: 'otel-tracer',
      body: ['from opentelemetry import trace', '', 'tracer = trace.get_tracer(__name__)'],
      description: 'The module tracer.',
    },
    'Stagelight: stage attributes': {
      prefix: 'otel-attrs',
      body: [
        'span = trace.get_current_span()',
        'span.set_attribute("model.name", ${1:""})',
        'span.set_attribute("batch_size", ${2:0})',
      ],
      description: 'ML stage attributes on the current span.',
    },
  },
  typescript: {
    'Stagelight: span': {
      prefix: 'otel-span',
      body: [
        "tracer.startActiveSpan('${1:stage}', (span) => {",
        '\ttry {',
        '\t\t${0}',
        '\t} catch (error) {',
        '\t\tspan.recordException(error as Error);',
        '\t\tspan.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });',
        '\t\tthrow error;',
        '\t} finally {',
        '\t\tspan.end();',
        '\t}',
        '});',
      ],
      description: 'A span around a block; records exceptions, sets the error status, rethrows.',
    },
    'Stagelight: async span': {
      prefix: 'otel-span-async',
      body: [
        "await tracer.startActiveSpan('${1:stage}', async (span) => {",
        '\ttry {',
        '\t\t${0}',
        '\t} catch (error) {',
        '\t\tspan.recordException(error as Error);',
        '\t\tspan.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });',
        '\t\tthrow error;',
        '\t} finally {',
        '\t\tspan.end();',
        '\t}',
        '});',
      ],
      description: 'A span around awaited work; it ends when the work settles.',
    },
    'Stagelight: tracer': {
      prefix: 'otel-tracer',
      body: [
        "import { trace, SpanStatusCode } from '@opentelemetry/api';",
        '',
        "const tracer = trace.getTracer('${1:app}');",
      ],
      description: 'The module tracer.',
    },
    'Stagelight: stage attributes': {
      prefix: 'otel-attrs',
      body: ['span.setAttributes({', "\t'model.name': ${1:''},", '\tbatch_size: ${2:0},', '});'],
      description: 'ML stage attributes on the span.',
    },
  },
  javascript: {},
  go: {
    'Stagelight: span': {
      prefix: 'otel-span',
      body: ['ctx, span := tracer.Start(ctx, "${1:stage}")', 'defer span.End()', '$0'],
      description: 'A span for the rest of the function.',
    },
    'Stagelight: tracer': {
      prefix: 'otel-tracer',
      body: ['var tracer = otel.Tracer("${1:app}")'],
      description: 'The package tracer (import go.opentelemetry.io/otel).',
    },
    'Stagelight: record error': {
      prefix: 'otel-err',
      body: [
        'if err != nil {',
        '\tspan.RecordError(err)',
        '\tspan.SetStatus(codes.Error, err.Error())',
        '\treturn ${1:err}',
        '}',
      ],
      description: 'Record an error on the span and set the error status.',
    },
    'Stagelight: stage attributes': {
      prefix: 'otel-attrs',
      body: [
        'span.SetAttributes(',
        '\tattribute.String("model.name", ${1:""}),',
        '\tattribute.Int("batch_size", ${2:0}),',
        ')',
      ],
      description: 'ML stage attributes on the span.',
    },
  },
  java: {
    'Stagelight: span': {
      prefix: 'otel-span',
      body: [
        'Span span = tracer().spanBuilder("${1:stage}").startSpan();',
        'try (Scope scope = span.makeCurrent()) {',
        '\t${0}',
        '} catch (Throwable error) {',
        '\tspan.recordException(error);',
        '\tspan.setStatus(StatusCode.ERROR, String.valueOf(error.getMessage()));',
        '\tthrow error;',
        '} finally {',
        '\tspan.end();',
        '}',
      ],
      description: 'A span around a block; records exceptions, sets the error status, rethrows.',
    },
    'Stagelight: tracer': {
      prefix: 'otel-tracer',
      body: [
        'private static Tracer tracer() {',
        '\treturn GlobalOpenTelemetry.getTracer("${1:app}");',
        '}',
      ],
      description: 'The class tracer, looked up after the SDK is registered.',
    },
    'Stagelight: stage attributes': {
      prefix: 'otel-attrs',
      body: [
        'span.setAttribute("model.name", ${1:""});',
        'span.setAttribute("batch_size", ${2:0L});',
      ],
      description: 'ML stage attributes on the span.',
    },
  },
};

/** The snippets file content for a language (TS bodies minus type assertions for JS). */
export function buildSnippets(language: keyof typeof SNIPPET_FILES): Record<string, SnippetEntry> {
  const out: Record<string, SnippetEntry> = {};
  const core = language === 'javascript' ? CORE.typescript : CORE[language];
  for (const [k, v] of Object.entries(core)) {
    out[k] =
      language === 'javascript' ? { ...v, body: v.body.map((l) => l.replace(' as Error', '')) } : v;
  }
  for (const s of PROPAGATION_SNIPPETS.filter((x) => x.languages.includes(language))) {
    out[`Stagelight: ${s.title}`] = {
      prefix: `otel-${s.pattern}`,
      body: snippetLines(s, language, '\t'),
      description: `${s.description} Library: ${s.library}.`,
    };
  }
  return out;
}

/** The JSON text of `snippets/<language>.json`. */
export function snippetFileText(language: keyof typeof SNIPPET_FILES): string {
  return `${JSON.stringify(buildSnippets(language), null, 2)}\n`;
}
