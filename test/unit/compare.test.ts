/**
 * Compare (src/core/analysis/compare.ts): two traces, a trace against the typical one, the
 * latest run against the baseline, on hand-built traces whose differences are known.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeBaseline } from '../../src/core/analysis/baseline.js';
import {
  compareToBaseline,
  compareToTypical,
  compareTraces,
} from '../../src/core/analysis/compare.js';
import { trace, traces } from './helpers/pipeline.js';

const near = (a: number | undefined, b: number, eps = 1e-6) =>
  assert.ok(a !== undefined && Math.abs(a - b) < eps, `${a} vs ${b}`);

describe('compare', () => {
  it('two traces: each stage before and after, the biggest change first', () => {
    const a = trace(1);
    const b = trace(2, { rerankMs: 3000 });
    const c = compareTraces(a, b);
    const top = c.rows[0]!;
    assert.equal(top.name, 'reranking');
    near(top.beforeMs, 1202);
    near(top.afterMs, 3002);
    near(top.deltaMs, 1800);
    assert.equal(top.status, 'both');
    near(c.deltaMs, 1800);
    // The root is the comparison itself, not a row of it.
    assert.ok(!c.rows.some((r) => r.name === 'inference_request'));
  });

  it('says which stages appeared and vanished', () => {
    const c = compareTraces(trace(1), trace(2, { modelLoadMs: 500 }));
    const load = c.rows.find((r) => r.name === 'model_load')!;
    assert.equal(load.status, 'appeared');
    assert.equal(load.beforeMs, undefined);
    const back = compareTraces(trace(2, { modelLoadMs: 500 }), trace(1));
    assert.equal(back.rows.find((r) => r.name === 'model_load')!.status, 'vanished');
  });

  it('a trace against the typical trace of its operation', () => {
    const peers = traces(9, (i) => ({ rerankMs: 1000 + i * 50 }));
    const slow = trace(50, { rerankMs: 4000 });
    const c = compareToTypical(slow, [...peers, slow]);
    assert.equal(c.before.traces, 9);
    const rr = c.rows[0]!;
    assert.equal(rr.name, 'reranking');
    near(rr.beforeMs, 1202); // the median of 1,000..1,400 ms, plus the call's 2 ms
    near(rr.afterMs, 4002);
  });

  it('the latest run against the baseline', () => {
    const baseline = makeBaseline(traces(10), 'warm-up', 'warm-up', 0);
    const c = compareToBaseline(
      traces(6, () => ({ generationMs: 1600 }), 100),
      baseline,
    );
    assert.equal(c.before.label, 'baseline warm-up');
    assert.equal(c.after.traces, 6);
    const gen = c.rows[0]!;
    assert.equal(gen.name, 'generation');
    near(gen.deltaMs, 800);
  });
});
