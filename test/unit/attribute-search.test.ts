/**
 * Attribute search: the host's half (rows whose decoded attributes match) and the webview's
 * parsing of `key=value` terms.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeTrace } from '../../src/core/analysis/analyze-trace.js';
import { searchAttributes } from '../../src/core/api/attribute-search.js';
import { otlpJsonToProtobuf } from '../../src/core/otlp/otlp-json-request.js';
import { attributeValue } from '../../src/core/otlp/span-details.js';
import { decodeTraceRequest } from '../../src/core/otlp/trace-request-decoder.js';
import { attributeTerms, parseQuery } from '../../webview/src/model/query.js';
import { isWebviewMessage } from '../../src/protocol/messages.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const id = (n: number) => n.toString(16).padStart(16, '0');

function trace() {
  const span = (n: number, name: string, attributes: unknown[], parent?: number) => ({
    traceId: TRACE,
    spanId: id(n),
    ...(parent === undefined ? {} : { parentSpanId: id(parent) }),
    name,
    startTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(n) * 1000n),
    endTimeUnixNano: String(1_700_000_000_000_000_000n + 10_000_000n),
    attributes,
  });
  const bytes = otlpJsonToProtobuf(
    JSON.stringify({
      resourceSpans: [
        {
          resource: {
            attributes: [{ key: 'service.name', value: { stringValue: 'rag' } }],
          },
          scopeSpans: [
            {
              spans: [
                span(1, 'inference_request', []),
                span(2, 'embedding', [{ key: 'model.device', value: { stringValue: 'CPU' } }], 1),
                span(
                  3,
                  'generation',
                  [
                    { key: 'model.device', value: { stringValue: 'cuda' } },
                    { key: 'gen_ai.usage.output_tokens', value: { intValue: '128' } },
                  ],
                  1,
                ),
              ],
            },
          ],
        },
      ],
    }),
  );
  const spans = decodeTraceRequest(bytes).spans;
  return analyzeTrace(spans, attributeValue);
}

describe('attribute search', () => {
  const analysis = trace();
  const names = (rows: number[]) => rows.map((r) => analysis.tree.spans[r]!.name);

  it('matches key and value as case-insensitive substrings, on span and resource attributes', () => {
    assert.deepEqual(
      names(searchAttributes(analysis, [{ key: 'device', value: 'cpu', negate: false }])),
      ['embedding'],
    );
    assert.deepEqual(
      names(searchAttributes(analysis, [{ key: 'model.device', negate: false }])).sort(),
      ['embedding', 'generation'],
    );
    assert.deepEqual(
      names(searchAttributes(analysis, [{ key: 'output_tokens', value: '128', negate: false }])),
      ['generation'],
    );
    // service.name is on the resource: every span has it.
    assert.equal(
      searchAttributes(analysis, [{ key: 'service.name', value: 'rag', negate: false }]).length,
      3,
    );
  });

  it('ANDs terms and honours negation', () => {
    assert.deepEqual(
      names(
        searchAttributes(analysis, [
          { key: 'model.device', negate: false },
          { key: 'model.device', value: 'cuda', negate: true },
        ]),
      ),
      ['embedding'],
    );
  });

  it('the webview parses key=value and attr: terms and leaves dur>= alone', () => {
    const q = parseQuery('model.device=cuda attr:gen_ai -attr:cache.hit=true dur>=10ms reranking');
    assert.deepEqual(attributeTerms(q), [
      { key: 'model.device', value: 'cuda', negate: false },
      { key: 'gen_ai', negate: false },
      { key: 'cache.hit', value: 'true', negate: true },
    ]);
    assert.ok(q.terms.some((t) => t.kind === 'number' && t.cmp === '>='));
    assert.ok(q.terms.some((t) => t.kind === 'text' && t.text === 'reranking'));
  });

  it('the host refuses malformed search requests', () => {
    const ok = {
      type: 'attributeSearch',
      requestId: 1,
      traceId: TRACE,
      version: 1,
      terms: [{ key: 'a', negate: false }],
    };
    assert.equal(isWebviewMessage(ok), true);
    assert.equal(isWebviewMessage({ ...ok, terms: [] }), false);
    assert.equal(isWebviewMessage({ ...ok, terms: [{ key: '', negate: false }] }), false);
    assert.equal(
      isWebviewMessage({ ...ok, terms: [{ key: 'a', value: 5, negate: false }] }),
      false,
    );
    assert.equal(
      isWebviewMessage({ ...ok, terms: Array(17).fill({ key: 'a', negate: false }) }),
      false,
    );
    assert.equal(isWebviewMessage({ ...ok, traceId: 'nope' }), false);
  });
});
