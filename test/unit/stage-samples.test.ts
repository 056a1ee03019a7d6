/**
 * A stage's recent spans from the traces held (src/core/source/stage-samples.ts): what the lens
 * hover lists and where a lens click goes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectStageSamples, slowestStageSpan } from '../../src/core/source/stage-samples.js';
import { TraceStore } from '../../src/core/store/trace-store.js';
import { makeSpan } from './helpers/spans.js';

/** A request trace whose `rerank` span takes `rerankMs` of its `totalMs`, received at `at`. */
function add(store: TraceStore, traceId: string, totalMs: number, rerankMs: number, at: number) {
  store.add(
    [
      makeSpan({ traceId, spanId: `${traceId}-r`, name: 'request', start: 0, end: totalMs }),
      makeSpan({
        traceId,
        spanId: `${traceId}-k`,
        parent: `${traceId}-r`,
        name: 'rerank',
        service: 'reranker',
        start: 1,
        end: 1 + rerankMs,
      }),
    ],
    at,
  );
}

describe('stage samples', () => {
  const store = new TraceStore({ coalesceMs: 0 });
  add(store, 'old-slow', 900, 800, 1_000);
  add(store, 'new-fast', 200, 100, 50_000);
  add(store, 'new-slow', 400, 50, 60_000);

  it('the spans of a stage in the window, with the slowest trace', () => {
    const { samples, slowest } = collectStageSamples(store.all(), 'reranker', 'rerank', 10_000);
    assert.deepEqual(samples.map((s) => s.traceId).sort(), ['new-fast', 'new-slow']);
    assert.equal(slowest?.traceId, 'new-slow');
    assert.equal(slowest?.durationMs, 50);
    assert.equal(collectStageSamples(store.all(), 'svc', 'rerank', 0).samples.length, 0);
  });

  it('a lens click opens the slowest recent trace, else the slowest one held', () => {
    const all = () => store.all();
    assert.deepEqual(slowestStageSpan(all, 'reranker', 'rerank', 10_000), {
      traceId: 'new-slow',
      spanId: 'new-slow-k',
    });
    assert.equal(slowestStageSpan(all, 'reranker', 'rerank', 100_000)?.traceId, 'old-slow');
    assert.equal(slowestStageSpan(all, 'reranker', 'embed', 0), undefined);
  });
});
