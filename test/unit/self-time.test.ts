/**
 * Self time (src/core/analysis/self-time.ts): a span's duration less the union of its children.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { buildTraceTree, selfTimes } from '../../src/core/analysis/index.js';
import { SpanKind } from '../../src/core/model.js';
import { makeSpan } from './helpers/spans.js';

describe('selfTimes', () => {
  it('subtracts the union of children clipped to the span', () => {
    const tree = buildTraceTree(
      [
        { spanId: 'r', start: 0, end: 100 },
        { spanId: 'a', parent: 'r', start: 10, end: 30 },
        { spanId: 'b', parent: 'r', start: 20, end: 50 },
        { spanId: 'b1', parent: 'b', start: 25, end: 26 },
        { spanId: 'c', parent: 'r', start: 60, end: 70 },
        { spanId: 'd', parent: 'r', start: 90, end: 120 },
        { spanId: 'e', parent: 'r', start: -5, end: 5 },
      ].map(makeSpan),
    );
    const self = selfTimes(tree);
    // Covered: [0,5] + [10,50] + [60,70] + [90,100] = 65.
    assert.equal(self.get('r'), 35);
    assert.equal(self.get('b'), 29);
    assert.equal(self.get('d'), 30);
  });

  it('does not subtract link-adopted followers, and gives backwards spans 0', () => {
    const tree = buildTraceTree(
      [
        { spanId: 'p', start: 0, end: 10, kind: SpanKind.PRODUCER },
        { spanId: 'c', start: 5, end: 15, kind: SpanKind.CONSUMER, links: ['p'] },
        { spanId: 'x', start: 30, end: 20 },
      ].map(makeSpan),
    );
    const self = selfTimes(tree);
    assert.equal(tree.parentOf('c')?.spanId, 'p');
    assert.equal(self.get('p'), 10);
    assert.equal(self.get('x'), 0);
  });
});
