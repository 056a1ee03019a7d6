/**
 * A trace as a tree (src/core/analysis/trace-tree.ts): pre-order whatever the arrival order,
 * duplicates, orphans, cycles and follows-from adoption; an empty trace has an empty path.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  buildTraceTree,
  computeCriticalPath,
  missingParents,
} from '../../src/core/analysis/index.js';
import { SpanKind } from '../../src/core/model.js';
import { makeSpan, PIPELINE } from './helpers/spans.js';

describe('buildTraceTree', () => {
  it('orders spans pre-order, children by start, whatever the arrival order', () => {
    const tree = buildTraceTree([...PIPELINE].reverse().map(makeSpan));
    assert.deepEqual(
      tree.spans.map((s) => s.spanId),
      ['gw', 'pre', 'emb', 'ret', 'con', 'rr', 'gen', 'post'],
    );
    assert.deepEqual(
      tree.roots.map((s) => s.spanId),
      ['gw'],
    );
    assert.deepEqual(
      tree.children('gw').map((s) => s.spanId),
      ['pre', 'emb', 'ret', 'rr', 'gen', 'post'],
    );
    assert.equal(tree.parentOf('con')?.spanId, 'ret');
    assert.equal(tree.depthOf('gw'), 0);
    assert.equal(tree.depthOf('con'), 2);
    assert.equal(tree.depthOf('nope'), -1);
    assert.deepEqual(tree.children('nope'), []);
    assert.equal(tree.startMs, 0);
    assert.equal(tree.endMs, 100);
    assert.equal(tree.traceId, 'trace-1');
  });

  it('keeps the last of duplicate span ids and counts the rest', () => {
    const tree = buildTraceTree([
      makeSpan({ spanId: 'r', start: 0, end: 10 }),
      makeSpan({ spanId: 'a', parent: 'r', start: 1, end: 2 }),
      makeSpan({ spanId: 'a', parent: 'r', start: 1, end: 5 }),
      makeSpan({ spanId: 'r', start: 0, end: 20 }),
    ]);
    assert.equal(tree.duplicateCount, 2);
    assert.equal(tree.spans.length, 2);
    assert.equal(tree.byId.get('a')?.endMs, 5);
    assert.equal(tree.endMs, 20);
    assert.equal(tree.parentOf('a')?.endMs, 20);
  });

  it('makes orphans roots and counts them', () => {
    const tree = buildTraceTree([
      makeSpan({ spanId: 'b', parent: 'missing', start: 5, end: 8 }),
      makeSpan({ spanId: 'a', start: 0, end: 4 }),
      makeSpan({ spanId: 'c', parent: 'b', start: 6, end: 7 }),
    ]);
    assert.equal(tree.orphanCount, 1);
    assert.deepEqual(
      tree.roots.map((s) => s.spanId),
      ['a', 'b'],
    );
    assert.equal(tree.parentOf('b'), undefined);
    assert.equal(tree.depthOf('c'), 1);
  });

  it('adopts a parentless span under the span it links to (follows-from)', () => {
    const tree = buildTraceTree([
      makeSpan({
        spanId: 'consumer',
        start: 10,
        end: 20,
        kind: SpanKind.CONSUMER,
        links: ['producer'],
      }),
      makeSpan({ spanId: 'root', start: 0, end: 6 }),
      makeSpan({ spanId: 'producer', parent: 'root', start: 1, end: 5, kind: SpanKind.PRODUCER }),
    ]);
    assert.equal(tree.parentOf('consumer')?.spanId, 'producer');
    assert.equal(tree.isAdopted('consumer'), true);
    assert.equal(tree.isAdopted('producer'), false);
    assert.equal(tree.depthOf('consumer'), 2);
    assert.deepEqual(
      tree.roots.map((s) => s.spanId),
      ['root'],
    );
  });

  it('adopts orphans too, but ignores links to other traces, missing spans and itself', () => {
    const tree = buildTraceTree([
      makeSpan({ spanId: 'p', start: 0, end: 1 }),
      makeSpan({
        spanId: 'o',
        parent: 'gone',
        start: 2,
        end: 3,
        links: [{ traceId: 'other', spanId: 'p' }, 'o', 'absent', 'p'],
      }),
      makeSpan({ spanId: 'x', start: 2, end: 3, links: [{ traceId: 'other', spanId: 'p' }] }),
    ]);
    assert.equal(tree.parentOf('o')?.spanId, 'p');
    assert.equal(tree.parentOf('x'), undefined);
  });

  it('never adopts into a cycle: the later of two mutually linked roots goes under the earlier', () => {
    const tree = buildTraceTree([
      makeSpan({ spanId: 'a', start: 0, end: 5, links: ['b'] }),
      makeSpan({ spanId: 'b', start: 10, end: 15, links: ['a'] }),
      // c links to its own descendant: adopting would make a cycle.
      makeSpan({ spanId: 'c', start: 20, end: 30, links: ['d'] }),
      makeSpan({ spanId: 'd', parent: 'c', start: 21, end: 22 }),
    ]);
    assert.equal(tree.parentOf('b')?.spanId, 'a');
    assert.equal(tree.parentOf('a'), undefined);
    assert.equal(tree.parentOf('c'), undefined);
    assert.deepEqual(
      tree.roots.map((s) => s.spanId),
      ['a', 'c'],
    );
    assert.equal(tree.spans.length, 4);
  });

  it('breaks parent cycles in malformed data at the earliest span', () => {
    const tree = buildTraceTree([
      makeSpan({ spanId: 'a', parent: 'c', start: 1, end: 9 }),
      makeSpan({ spanId: 'b', parent: 'a', start: 2, end: 8 }),
      makeSpan({ spanId: 'c', parent: 'b', start: 3, end: 7 }),
      makeSpan({ spanId: 's', parent: 's', start: 0, end: 1 }),
    ]);
    assert.equal(tree.brokenCycleCount, 2);
    assert.deepEqual(
      tree.spans.map((s) => s.spanId),
      ['s', 'a', 'b', 'c'],
    );
    assert.equal(tree.depthOf('c'), 2);
  });

  it('handles an empty trace', () => {
    const tree = buildTraceTree([]);
    assert.equal(tree.spans.length, 0);
    assert.equal(tree.startMs, 0);
    assert.equal(tree.endMs, 0);
    const cp = computeCriticalPath(tree);
    assert.deepEqual(cp.segments, []);
    assert.equal(cp.durationMs, 0);
    assert.equal(cp.shareOf('x'), 0);
  });
});

describe('missingParents', () => {
  it('groups the orphan roots by the parent they name, in the order of their first orphan', () => {
    const tree = buildTraceTree([
      makeSpan({ spanId: 'b1', parent: 'B', start: 1, end: 3 }),
      makeSpan({ spanId: 'a1', parent: 'A', start: 0, end: 2 }),
      makeSpan({ spanId: 'a2', parent: 'A', start: 5, end: 6 }),
      makeSpan({ spanId: 'a2c', parent: 'a2', start: 5.5, end: 9 }),
      makeSpan({ spanId: 'root', start: 4, end: 5 }),
      // Adopted under a1 through its link: no longer waiting for its parent's place.
      makeSpan({ spanId: 'c', parent: 'C', start: 7, end: 8, links: ['a1'] }),
    ]);
    const missing = missingParents(tree);
    assert.deepEqual(
      missing.map((m) => ({
        spanId: m.spanId,
        roots: [...m.rootRows].map((r) => tree.spans[r]!.spanId),
        startMs: m.startMs,
        endMs: m.endMs,
      })),
      [
        { spanId: 'A', roots: ['a1', 'a2'], startMs: 0, endMs: 9 },
        { spanId: 'B', roots: ['b1'], startMs: 1, endMs: 3 },
      ],
    );
    assert.equal(tree.orphanCount, 4);
    assert.deepEqual(missingParents(buildTraceTree(PIPELINE.map(makeSpan))), []);
  });
});
