/**
 * `analyzeTrace` (src/core/analysis/analyze-trace.ts): every analysis of one trace, and each
 * stage's contribution to its critical path.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { analyzeTrace, stageKey } from '../../src/core/analysis/index.js';
import { makeSpan, noAttributes, PIPELINE } from './helpers/spans.js';

describe('analyzeTrace', () => {
  it('returns every analysis and per-stage contributions', () => {
    const a = analyzeTrace(PIPELINE.map(makeSpan), noAttributes);
    assert.equal(a.tree.spans.length, 8);
    assert.equal(a.criticalPath.durationMs, 100);
    assert.equal(a.selfTimes.get('gw'), 100 - 8 - 20 - 2 - 14 - 35 - 4);
    assert.equal(a.queueWaits.length, 1);
    assert.equal(a.queueWaits[0]?.waitMs, 3);
    assert.equal(a.stages.size, 8);
    assert.deepEqual(a.stageContributions.get(stageKey('llm', 'generation')), {
      onPathMs: 35,
      share: 0.35,
      isRoot: false,
    });
    // A stage owns its subtree's time: the root owns the request but for the 3 ms the message
    // waited in the queue, a gap in which no span ran.
    assert.deepEqual(a.stageContributions.get(stageKey('gateway', 'POST /generate')), {
      onPathMs: 97,
      share: 0.97,
      isRoot: true,
    });
  });

  it('sums the contributions of several spans of one stage', () => {
    const a = analyzeTrace(
      [
        { spanId: 'r', start: 0, end: 10 },
        { spanId: 'x1', parent: 'r', name: 'chunk', start: 0, end: 4 },
        { spanId: 'x2', parent: 'r', name: 'chunk', start: 4, end: 9 },
      ].map(makeSpan),
      noAttributes,
    );
    assert.deepEqual(a.stageContributions.get(stageKey('svc', 'chunk')), {
      onPathMs: 9,
      share: 0.9,
      isRoot: false,
    });
    assert.equal(a.stages.size, 2);
  });
});
