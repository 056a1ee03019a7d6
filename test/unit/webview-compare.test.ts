/**
 * Compare in the waterfall's view state (webview/src/state/compare.ts), in plain Node: the
 * request each choice makes, answers matched to their request, the choice kept for the next
 * trace, the per-row marks (once per stage, above the threshold), and `cleared`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type {
  ComparisonPayload,
  CompareResponse,
  HostNotification,
  TracePayload,
} from '../../src/protocol/messages.js';
import { buildTraceModel } from '../../webview/src/model/trace-model.js';
import type { Action } from '../../webview/src/state/actions.js';
import { rowDeltas } from '../../webview/src/state/compare.js';
import { reduce } from '../../webview/src/state/reduce.js';
import {
  initialViewState,
  type Effect,
  type ViewState,
} from '../../webview/src/state/view-state.js';
import { payloadOf } from './helpers/webview-trace.js';

const run = (s: ViewState, ...actions: Action[]): ViewState => actions.reduce(reduce, s);
const host = (message: HostNotification): Action => ({ type: 'host', message });
const open = (trace: TracePayload) =>
  host({ type: 'trace', trace, reason: 'open', requested: true });
const requests = (s: ViewState) =>
  s.effects.filter(
    (e): e is Extract<Effect, { type: 'requestCompare' }> => e.type === 'requestCompare',
  );

const ID_A = 'a'.repeat(32);
const ID_B = 'b'.repeat(32);
const ID_C = 'c'.repeat(32);

/** gateway > [embed, rerank, rerank, generate]: two rerank spans, one stage. */
function pipeline(traceId = ID_A): TracePayload {
  return payloadOf(
    [
      { name: 'request', service: 'gateway', parent: -1, start: 0, duration: 400 },
      { name: 'embedding', service: 'embedder', parent: 0, start: 0, duration: 50 },
      { name: 'reranking', service: 'reranker', parent: 0, start: 50, duration: 100 },
      { name: 'reranking', service: 'reranker', parent: 0, start: 150, duration: 100 },
      { name: 'generation', service: 'generator', parent: 0, start: 250, duration: 150 },
    ],
    { traceId },
  );
}

function comparison(rows: ComparisonPayload['rows'], before = 200, after = 400): ComparisonPayload {
  return {
    before: { label: 'typical of 9', durationMs: before, traces: 9 },
    after: { label: ID_A, durationMs: after, traces: 1 },
    deltaMs: after - before,
    rows,
  };
}

const row = (
  service: string,
  name: string,
  deltaMs: number,
  status: 'both' | 'appeared' | 'vanished' = 'both',
): ComparisonPayload['rows'][number] => ({
  service,
  name,
  depth: 1,
  ...(status !== 'appeared' ? { beforeMs: 100 } : {}),
  ...(status !== 'vanished' ? { afterMs: 100 + deltaMs } : {}),
  deltaMs,
  beforeSpans: 1,
  afterSpans: 1,
  status,
});

const answer = (key: string, r: Omit<CompareResponse, 'type' | 'requestId'>): Action => ({
  type: 'compareResult',
  key,
  response: { type: 'compareResponse', requestId: 1, ...r },
});

describe('view state: compare', () => {
  it('asks the host for the shown trace against what was chosen', () => {
    const s = run(initialViewState(), open(pipeline()), {
      type: 'compareWith',
      against: 'baseline',
    });
    assert.equal(s.compare.kind, 'loading');
    const [req] = requests(s);
    assert.deepEqual(
      { traceId: req?.traceId, against: req?.against, other: req?.otherTraceId },
      { traceId: ID_A, against: 'baseline', other: undefined },
    );
    const t = run(s, { type: 'compareWith', against: 'trace', otherTraceId: ID_B });
    assert.equal(requests(t)[0]?.otherTraceId, ID_B);
    assert.notEqual(requests(t)[0]?.key, req?.key, 'another question, another key');
  });

  it('refuses a malformed other trace, and the shown trace as its own other', () => {
    const s = run(initialViewState(), open(pipeline()));
    const bad = run(s, { type: 'compareWith', against: 'trace', otherTraceId: 'x' });
    assert.equal(bad.compare, s.compare);
    assert.equal(requests(bad).length, 0);
    const self = run(s, { type: 'compareWith', against: 'trace', otherTraceId: ID_A });
    assert.equal(self.compare.kind, 'failed');
    assert.match(self.compare.kind === 'failed' ? (self.compare.error ?? '') : '', /trace shown/);
    assert.equal(requests(self).length, 0);
    const none = run(initialViewState(), { type: 'compareWith', against: 'typical' });
    assert.equal(none.compare.kind, 'failed');
  });

  it('shows the answer to the live request only, with an error as the reason', () => {
    const s = run(initialViewState(), open(pipeline()), {
      type: 'compareWith',
      against: 'typical',
    });
    const key = requests(s)[0]!.key;
    const c = comparison([row('reranker', 'reranking', 150)]);
    assert.equal(
      run(s, answer('other', { comparison: c })).compare,
      s.compare,
      'an old answer is dropped',
    );
    const shown = run(s, answer(key, { comparison: c }));
    assert.equal(shown.compare.kind, 'shown');
    const failed = run(s, answer(key, { comparison: null, error: 'No baseline.' }));
    assert.deepEqual(
      failed.compare.kind === 'failed' ? failed.compare.error : undefined,
      'No baseline.',
    );
    assert.equal(run(shown, { type: 'compareWith', against: 'off' }).compare.kind, 'off');
  });

  it('compares the next trace shown the same way; a grown trace keeps its answer', () => {
    let s = run(initialViewState(), open(pipeline()), { type: 'compareWith', against: 'typical' });
    s = run(
      s,
      answer(requests(s)[0]!.key, { comparison: comparison([row('reranker', 'reranking', 150)]) }),
    );
    const grown = run(
      s,
      host({ type: 'trace', trace: { ...pipeline(), version: 2 }, reason: 'update' }),
    );
    assert.equal(grown.compare.kind, 'shown');
    assert.equal(requests(grown).length, 0);
    const next = run(s, open(pipeline(ID_C)));
    assert.equal(next.compare.kind, 'loading');
    assert.equal(requests(next)[0]?.traceId, ID_C);
    assert.equal(requests(next)[0]?.against, 'typical');
    const cleared = run(next, host({ type: 'cleared' }));
    assert.equal(cleared.compare.kind, 'off');
  });

  it('marks each changed stage once, on its first row, above 2% of the trace', () => {
    const model = buildTraceModel(pipeline());
    const marks = rowDeltas(
      model,
      comparison([
        row('reranker', 'reranking', 150),
        row('embedder', 'embedding', 3), // under 2% of 400 ms: not marked
        row('generator', 'generation', -40),
        row('cache', 'lookup', -20, 'vanished'), // no row to mark
      ]),
    );
    assert.deepEqual(
      [...marks].map((v) => (Number.isNaN(v) ? null : v)),
      [null, null, 150, null, -40],
    );
  });
});
