/**
 * How the Traces view names a trace (src/core/api/trace-list-item.ts): its root span, or, while
 * the root has not arrived, that it is partial.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { traceListItemText } from '../../src/core/api/trace-list-item.js';
import { summarize, TraceStore } from '../../src/core/store/trace-store.js';
import { makeSpan, PIPELINE } from './helpers/spans.js';

function summaryOf(specs: typeof PIPELINE) {
  const store = new TraceStore();
  store.add(specs.map(makeSpan));
  return summarize(store.get('trace-1')!);
}

describe('traceListItemText', () => {
  it('names a complete trace after its root span', () => {
    const text = traceListItemText(summaryOf(PIPELINE));
    assert.deepEqual(text, {
      label: 'POST /generate',
      description: 'gateway · 100 ms · 8 spans',
      title: 'POST /generate (gateway)',
      partial: false,
    });
  });

  it('says a trace is partial while its root has not arrived, not that a stage is its root', () => {
    const text = traceListItemText(summaryOf(PIPELINE.filter((s) => s.spanId !== 'gw')));
    assert.equal(text.label, 'partial trace, from preprocessing');
    assert.equal(text.partial, true);
    assert.match(text.title, /root span has not been received yet/);
    assert.match(text.description, /7 spans/);
  });
});
