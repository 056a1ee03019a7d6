/**
 * The Traces view's filter text and sort orders (src/core/api/trace-list-filter.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  matchesTraceListFilter,
  parseTraceListFilter,
  slowestTrace,
  sortTraceList,
} from '../../src/core/api/trace-list-filter.js';
import type { TraceSummary } from '../../src/core/store/trace-store.js';

function summary(traceId: string, over: Partial<TraceSummary> = {}): TraceSummary {
  return {
    traceId,
    rootName: 'POST /rag',
    rootService: 'rag-gateway',
    services: ['rag-gateway', 'reranker'],
    startMs: 1_000,
    durationMs: 100,
    spanCount: 4,
    errorCount: 0,
    hasError: false,
    hasRoot: true,
    ...over,
  };
}

describe('trace list filter', () => {
  it('reads words, an error flag and a minimum duration', () => {
    assert.deepEqual(parseTraceListFilter('  Reranker error >1.5s '), {
      text: 'Reranker error >1.5s',
      words: ['reranker'],
      errorsOnly: true,
      minDurationMs: 1500,
    });
    assert.equal(parseTraceListFilter('>=250ms').minDurationMs, 250);
    assert.equal(parseTraceListFilter('>40').minDurationMs, 40);
    assert.equal(parseTraceListFilter('is:error').errorsOnly, true);
  });

  it('every word must be in the root name, a service or the trace id', () => {
    const t = summary('4bf92f3577b34da6a3ce929d0e0e4736');
    assert.ok(matchesTraceListFilter(t, parseTraceListFilter('')));
    assert.ok(matchesTraceListFilter(t, parseTraceListFilter('rerank post')));
    assert.ok(matchesTraceListFilter(t, parseTraceListFilter('4bf92f')));
    assert.equal(matchesTraceListFilter(t, parseTraceListFilter('rerank embedder')), false);
    assert.equal(matchesTraceListFilter(t, parseTraceListFilter('error')), false);
    assert.equal(matchesTraceListFilter(t, parseTraceListFilter('>101ms')), false);
    assert.ok(matchesTraceListFilter(t, parseTraceListFilter('>100ms')));
  });

  it('sorts by recency, duration, spans, or errors first', () => {
    const list = [
      summary('a', { startMs: 1, durationMs: 30, spanCount: 9 }),
      summary('b', { startMs: 3, durationMs: 10, spanCount: 2, hasError: true, errorCount: 1 }),
      summary('c', { startMs: 2, durationMs: 20, spanCount: 5 }),
    ];
    const ids = (l: TraceSummary[]) => l.map((t) => t.traceId).join('');
    assert.equal(ids(sortTraceList([...list], 'recent')), 'bca');
    assert.equal(ids(sortTraceList([...list], 'duration')), 'acb');
    assert.equal(ids(sortTraceList([...list], 'spans')), 'acb');
    assert.equal(ids(sortTraceList([...list], 'errors')), 'bca');
  });
});

describe('slowestTrace', () => {
  const t = (traceId: string, durationMs: number, hasRoot = true) =>
    ({ traceId, durationMs, hasRoot }) as TraceSummary;

  it('picks the slowest complete trace over a longer partial one; none for no traces', () => {
    assert.equal(slowestTrace([t('a', 10), t('b', 30), t('c', 20)])?.traceId, 'b');
    assert.equal(slowestTrace([t('p', 99, false), t('a', 10), t('b', 30)])?.traceId, 'b');
    assert.equal(slowestTrace([t('p', 5, false), t('q', 9, false)])?.traceId, 'q');
    assert.equal(slowestTrace([]), undefined);
  });
});
