/**
 * The aggregate critical path (src/core/analysis/path-tree.ts) on hand-built pipelines whose
 * critical paths are known: boxes by where a stage is called from, sizes that add up, the
 * slowest trace per box, small boxes left out, and malformed parents.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pathTree } from '../../src/core/analysis/path-tree.js';
import type { TraceFacts } from '../../src/core/analysis/trace-facts.js';
import { trace, traces } from './helpers/pipeline.js';

const near = (a: number | undefined, b: number, eps = 1e-6) =>
  assert.ok(a !== undefined && Math.abs(a - b) < eps, `${a} vs ${b}`);

describe('aggregate critical path', () => {
  it('a tree of stages whose boxes add up to the mean critical path', () => {
    const set = traces(10, (i) => ({ rerankMs: i === 7 ? 5000 : 1200 }));
    const t = pathTree(set);
    assert.equal(t.traces, 10);
    const root = t.nodes[0]!;
    assert.equal(root.name, 'inference_request');
    assert.equal(root.parent, -1);
    // The critical path's time, queue waits (time in no span) aside: a little under the duration.
    const pathOf = (x: TraceFacts) => x.pathMs[x.parent.indexOf(-1)]!;
    near(t.meanMs, set.reduce((s, x) => s + pathOf(x), 0) / 10, 1e-6);
    assert.ok(t.meanMs <= set.reduce((s, x) => s + x.durationMs, 0) / 10);
    near(root.ms, t.meanMs);
    // Every box is its own time plus its children's: never smaller than the children.
    t.nodes.forEach((n, i) => {
      const kids = t.nodes.filter((c) => c.parent === i);
      const sum = kids.reduce((s, c) => s + c.ms, 0);
      assert.ok(sum <= n.ms + 1e-6, `${n.name}: children ${sum} > ${n.ms}`);
      near(n.selfMs + sum, n.ms, 1e-6);
    });
    // Children come largest first: reranking leads under the root.
    const kids = t.nodes.filter((c) => c.parent === 0);
    assert.equal(kids[0]!.name, 'reranking');
    assert.deepEqual(
      kids.map((k) => k.ms),
      [...kids.map((k) => k.ms)].sort((a, b) => b - a),
    );
    // A stage reached through another is its child: reranking > rerank > forward.
    const rerank = t.nodes.find((n) => n.name === 'rerank')!;
    assert.equal(t.nodes[rerank.parent]!.name, 'reranking');
    assert.equal(rerank.service, 'reranker');
  });

  it("names each box's slowest trace, and counts the traces it is in", () => {
    const set = traces(10, (i) => ({
      rerankMs: i === 7 ? 5000 : 1200,
      modelLoadMs: i === 3 ? 900 : 0,
    }));
    const t = pathTree(set);
    const reranking = t.nodes.find((n) => n.name === 'reranking')!;
    assert.equal(reranking.slowestTraceId, set[7]!.traceId);
    assert.ok(reranking.slowestMs > 4900);
    assert.equal(reranking.traces, 10);
    const load = t.nodes.find((n) => n.name === 'model_load')!;
    assert.equal(load.traces, 1);
    assert.equal(load.slowestTraceId, set[3]!.traceId);
    near(load.ms, 900 / 10, 1);
  });

  it('keeps the latest traces only, and leaves out boxes too small to see', () => {
    const set = traces(30);
    assert.equal(pathTree(set, 5).traces, 5);
    const t = pathTree(set);
    for (const n of t.nodes) assert.ok(n.ms >= 0.002 * t.meanMs, `${n.name} ${n.ms}`);
    assert.deepEqual(pathTree([]), { traces: 0, meanMs: 0, nodes: [] });
  });

  it('survives a parent cycle in malformed facts', () => {
    const t = trace(1);
    const parent = Int32Array.from(t.parent);
    // preprocessing and embedding each other's parent: not a tree.
    parent[1] = 2;
    parent[2] = 1;
    const broken: TraceFacts = { ...t, parent };
    const tree = pathTree([broken]);
    assert.ok(tree.nodes.length > 0);
    assert.ok(!tree.nodes.some((n) => n.name === 'preprocessing'));
  });
});
