/**
 * Add Stage Attributes writes real values: the names in scope that carry each attribute
 * (`gen_ai.request.max_tokens` <- `max_tokens`), and for the rest a commented-out TODO line,
 * never a placeholder that would be sent as data. And it says there is no span before the user
 * picks anything (`stageAttributesRefusal`).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { attributeValue } from '../../src/core/scaffold/attributes.js';
import {
  addStageAttributes,
  applyEdits,
  stageAttributesRefusal,
  type ScaffoldLanguage,
} from '../../src/core/scaffold/index.js';

async function attrs(
  language: ScaffoldLanguage,
  text: string,
  marker: string,
  keys: string[],
): Promise<string> {
  const i = text.indexOf(marker);
  assert.ok(i >= 0, marker);
  const r = await addStageAttributes({ text, language }, { start: i, end: i }, { keys });
  assert.equal(r.status, 'edited', JSON.stringify(r.messages));
  return applyEdits(text, r.edits);
}

async function refusal(language: ScaffoldLanguage, text: string, marker: string) {
  const i = text.indexOf(marker);
  assert.ok(i >= 0, marker);
  return stageAttributesRefusal({ text, language }, { start: i, end: i });
}

const KEYS = ['gen_ai.request.max_tokens', 'model.name', 'batch_size', 'cache.hit'];

describe('attributeValue', () => {
  test('usual names, in any case style, best first', () => {
    const n = (name: string, type?: string) => ({ expr: name, name, type });
    assert.equal(attributeValue('gen_ai.request.max_tokens', [n('maxTokens')]), 'maxTokens');
    assert.equal(
      attributeValue('gen_ai.request.max_tokens', [n('max_new_tokens')]),
      'max_new_tokens',
    );
    assert.equal(attributeValue('model.name', [n('model'), n('model_name')]), 'model_name');
    assert.equal(
      attributeValue('model.name', [{ expr: 'self.model_name', name: 'model_name' }]),
      'self.model_name',
    );
    assert.equal(
      attributeValue('user.id', [n('user_id')]),
      'user_id',
      'a custom key: its own name',
    );
    assert.equal(attributeValue('cache.hit', [n('prompt')]), undefined);
  });
  test('a declared type of another kind is not the value', () => {
    assert.equal(
      attributeValue('model.name', [{ expr: 'model', name: 'model', type: 'Model' }]),
      'model',
    );
    assert.equal(
      attributeValue('model.name', [{ expr: 'model', name: 'model', type: 'int' }]),
      undefined,
    );
    assert.equal(
      attributeValue('batch_size', [{ expr: 'batchSize', name: 'batchSize', type: 'string' }]),
      undefined,
    );
    assert.equal(
      attributeValue('batch_size', [{ expr: 'batchSize', name: 'batchSize', type: 'int64' }]),
      'batchSize',
    );
  });
});

describe('Python', () => {
  const text = `from opentelemetry import trace
tracer = trace.get_tracer(__name__)


class Generator:
    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    @tracer.start_as_current_span("Generator.generate")
    def generate(self, prompt: str, max_tokens: int = 16, model: object = None):
        batch_size = len(prompt)
        return prompt[:max_tokens]


def untraced(max_tokens):
    return max_tokens
`;
  test('parameters, locals and self fields become the values; the rest a TODO comment', async () => {
    const out = await attrs('python', text, 'return prompt', KEYS);
    assert.ok(
      out.includes(`        batch_size = len(prompt)
        current_span = trace.get_current_span()
        current_span.set_attribute("gen_ai.request.max_tokens", max_tokens)
        current_span.set_attribute("model.name", self.model_name)
        current_span.set_attribute("batch_size", batch_size)
        # TODO(stagelight): current_span.set_attribute("cache.hit", <bool>)
        return prompt[:max_tokens]
`),
      out,
    );
  });
  test('nothing to send: only comments, no current_span line', async () => {
    const out = await attrs('python', text, 'batch_size = len', ['cache.hit']);
    assert.ok(
      out.includes(
        '        # TODO(stagelight): trace.get_current_span().set_attribute("cache.hit", <bool>)\n        batch_size = len(prompt)',
      ),
      out,
    );
  });
  test('no span: refused before any attribute is asked for', async () => {
    const r = await refusal('python', text, 'return max_tokens');
    assert.equal(r?.status, 'not-found');
    assert.match(r?.messages[0]?.text ?? '', /No span encloses the cursor/);
    assert.equal(await refusal('python', text, 'return prompt'), undefined);
  });
});

describe('TypeScript', () => {
  const text = `import { trace } from '@opentelemetry/api';
const tracer = trace.getTracer('gen');

export class Generator {
  constructor(private readonly modelName: string) {}

  generate(prompt: string, maxTokens: number): string {
    return tracer.startActiveSpan('Generator.generate', (span) => {
      try {
        const batchSize = prompt.length;
        return prompt.slice(0, maxTokens);
      } finally {
        span.end();
      }
    });
  }
}

export function untraced(maxTokens: number): number {
  return maxTokens;
}
`;
  test('parameters, locals and this. fields; the rest commented out inside the call', async () => {
    const out = await attrs('typescript', text, 'return prompt.slice', KEYS);
    assert.ok(
      out.includes(`        const batchSize = prompt.length;
        span.setAttributes({
          'gen_ai.request.max_tokens': maxTokens,
          'model.name': this.modelName,
          batch_size: batchSize,
          // TODO(stagelight): 'cache.hit': <boolean>,
        });
        return prompt.slice(0, maxTokens);
`),
      out,
    );
  });
  test('nothing to send: a commented-out call', async () => {
    const out = await attrs('typescript', text, 'const batchSize', ['cache.hit']);
    assert.ok(
      out.includes(`        // TODO(stagelight): span.setAttributes({ 'cache.hit': <boolean> });
        const batchSize`),
      out,
    );
  });
  test('no span: refused first', async () => {
    assert.equal((await refusal('typescript', text, 'return maxTokens'))?.status, 'not-found');
    assert.equal(await refusal('typescript', text, 'const batchSize'), undefined);
  });
});

describe('Go', () => {
  const text = `package gen

import (
	"context"

	"go.opentelemetry.io/otel"
)

var tracer = otel.Tracer("gen")

func Generate(ctx context.Context, prompt string, maxTokens int) string {
	ctx, span := tracer.Start(ctx, "Generate")
	defer span.End()
	modelName := "mini"
	return prompt[:maxTokens] + modelName
}

func Untraced(maxTokens int) int {
	return maxTokens
}
`;
  test('parameters and locals; the rest commented out inside the call', async () => {
    const out = await attrs('go', text, 'return prompt', KEYS);
    assert.ok(out.includes('\t"go.opentelemetry.io/otel/attribute"\n'), out);
    assert.ok(
      out.includes(`	modelName := "mini"
	span.SetAttributes(
		attribute.Int("gen_ai.request.max_tokens", maxTokens),
		attribute.String("model.name", modelName),
		// TODO(stagelight): attribute.Int("batch_size", <int>),
		// TODO(stagelight): attribute.Bool("cache.hit", <bool>),
	)
	return prompt`),
      out,
    );
  });
  test('nothing to send: comments only, and no attribute import', async () => {
    const out = await attrs('go', text, 'modelName :=', ['cache.hit']);
    assert.ok(!out.includes('otel/attribute'), out);
    assert.ok(
      out.includes(
        '\t// TODO(stagelight): span.SetAttributes(attribute.Bool("cache.hit", <bool>))\n\tmodelName :=',
      ),
      out,
    );
  });
  test('no span: refused first', async () => {
    assert.equal((await refusal('go', text, 'return maxTokens'))?.status, 'not-found');
    assert.equal(await refusal('go', text, 'return prompt'), undefined);
  });
});

describe('Java', () => {
  const text = `import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;

public class Generator {
    private final String modelName = "mini";

    String generate(String prompt, int maxTokens) {
        Span span = tracer().spanBuilder("Generator.generate").startSpan();
        try (Scope scope = span.makeCurrent()) {
            int batchSize = prompt.length();
            return prompt.substring(0, maxTokens);
        } finally {
            span.end();
        }
    }

    int untraced(int maxTokens) {
        return maxTokens;
    }
}
`;
  test('parameters, locals and fields; the rest commented out', async () => {
    const out = await attrs('java', text, 'return prompt', KEYS);
    assert.ok(
      out.includes(`            int batchSize = prompt.length();
            span.setAttribute("gen_ai.request.max_tokens", maxTokens);
            span.setAttribute("model.name", modelName);
            span.setAttribute("batch_size", batchSize);
            // TODO(stagelight): span.setAttribute("cache.hit", <boolean>);
            return prompt`),
      out,
    );
  });
  test('no span: refused first', async () => {
    assert.equal((await refusal('java', text, 'return maxTokens'))?.status, 'not-found');
    assert.equal(await refusal('java', text, 'int batchSize'), undefined);
  });
});
