/**
 * The critical path (src/core/analysis/critical-path.ts) on hand-built trees with known answers,
 * against the obvious recursive walk on random trees, with the invariants every tree, path and
 * self time must keep, and under millisecond clocks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  buildTraceTree,
  computeCriticalPath,
  selfTimes,
  type CriticalPath,
  type CriticalPathSegment,
  type TraceTree,
} from '../../src/core/analysis/index.js';
import { SpanKind, type SpanRecord } from '../../src/core/model.js';
import { seededRandom } from './helpers/random.js';
import { makeSpan, PIPELINE, type SpanSpec } from './helpers/spans.js';

const EPS = 1e-9;

function seg(spanId: string | null, startMs: number, endMs: number): CriticalPathSegment {
  return { spanId, startMs, endMs };
}

function pathOf(specs: readonly SpanSpec[]): { tree: TraceTree; cp: CriticalPath } {
  const tree = buildTraceTree(specs.map(makeSpan));
  return { tree, cp: computeCriticalPath(tree) };
}

describe('computeCriticalPath', () => {
  it('walks a sequential pipeline with a queue hop', () => {
    const { cp } = pathOf(PIPELINE);
    assert.deepEqual(cp.segments, [
      seg('gw', 0, 2),
      seg('pre', 2, 10),
      seg('emb', 10, 30),
      seg('ret', 30, 32),
      seg(null, 32, 35),
      seg('con', 35, 45),
      seg('gw', 45, 46),
      seg('rr', 46, 60),
      seg('gen', 60, 95),
      seg('post', 95, 99),
      seg('gw', 99, 100),
    ]);
    assert.equal(cp.durationMs, 100);
    assert.equal(cp.gapMs, 3);
    assert.deepEqual(Object.fromEntries(cp.bySpan), {
      gw: 4,
      pre: 8,
      emb: 20,
      ret: 2,
      con: 10,
      rr: 14,
      gen: 35,
      post: 4,
    });
    assert.equal(cp.shareOf('gen'), 0.35);
    assert.equal(cp.shareOf('gw'), 0.04);
    assert.equal(cp.shareOf('unknown'), 0);
  });

  it('puts only the last-finishing of parallel children on the path', () => {
    const { cp } = pathOf([
      { spanId: 'r', start: 0, end: 50 },
      { spanId: 'a', parent: 'r', start: 5, end: 40 },
      { spanId: 'b', parent: 'r', start: 5, end: 30 },
      { spanId: 'c', parent: 'r', start: 10, end: 45 },
    ]);
    assert.deepEqual(cp.segments, [seg('r', 0, 10), seg('c', 10, 45), seg('r', 45, 50)]);
    assert.equal(cp.bySpan.has('a'), false);
    assert.equal(cp.bySpan.has('b'), false);
  });

  it('steps back to the sibling that finished before the chosen one started', () => {
    const { cp } = pathOf([
      { spanId: 'r', start: 0, end: 50 },
      { spanId: 'a', parent: 'r', start: 0, end: 20 },
      { spanId: 'b', parent: 'r', start: 5, end: 15 },
      { spanId: 'c', parent: 'r', start: 20, end: 40 },
    ]);
    assert.deepEqual(cp.segments, [seg('a', 0, 20), seg('c', 20, 40), seg('r', 40, 50)]);
  });

  it('lets an async child that outlives its parent extend the path', () => {
    const { cp } = pathOf([
      { spanId: 'r', start: 0, end: 10 },
      { spanId: 'a', parent: 'r', start: 1, end: 4 },
      { spanId: 'b', parent: 'a', start: 3, end: 20 },
    ]);
    assert.deepEqual(cp.segments, [seg('r', 0, 1), seg('a', 1, 3), seg('b', 3, 20)]);
    assert.equal(cp.durationMs, 20);
    assert.equal(cp.gapMs, 0);
  });

  it('reports time between roots as gaps', () => {
    const { tree, cp } = pathOf([
      { spanId: 'r1', start: 0, end: 10 },
      { spanId: 'r2', parent: 'missing', start: 15, end: 30 },
      { spanId: 'r3', start: 12, end: 20 },
    ]);
    assert.equal(tree.roots.length, 3);
    assert.deepEqual(cp.segments, [seg('r1', 0, 10), seg(null, 10, 15), seg('r2', 15, 30)]);
    assert.equal(cp.gapMs, 5);
    assert.equal(cp.durationMs, 30);
  });

  it('follows a link-adopted consumer, with the queue wait as a gap', () => {
    const { cp } = pathOf([
      { spanId: 'root', start: 0, end: 6 },
      { spanId: 'producer', parent: 'root', start: 1, end: 5, kind: SpanKind.PRODUCER },
      { spanId: 'consumer', start: 10, end: 20, kind: SpanKind.CONSUMER, links: ['producer'] },
    ]);
    assert.deepEqual(cp.segments, [
      seg('root', 0, 1),
      seg('producer', 1, 5),
      seg(null, 5, 10),
      seg('consumer', 10, 20),
    ]);
  });

  it('clamps a child that starts before its parent (clock skew)', () => {
    const { tree, cp } = pathOf([
      { spanId: 'r', start: 10, end: 20 },
      { spanId: 'a', parent: 'r', start: 5, end: 15 },
    ]);
    assert.equal(tree.startMs, 5);
    assert.deepEqual(cp.segments, [seg('a', 10, 15), seg('r', 15, 20)]);
    assert.equal(cp.startMs, 10);
    assert.equal(cp.durationMs, 10);
  });

  it('ignores a child lying wholly before its parent and spans that end before they start', () => {
    const { cp } = pathOf([
      { spanId: 'r', start: 10, end: 20 },
      { spanId: 'early', parent: 'r', start: 0, end: 5 },
      { spanId: 'backwards', parent: 'r', start: 14, end: 12 },
    ]);
    assert.deepEqual(cp.segments, [seg('r', 10, 20)]);
    for (const s of cp.segments) assert.ok(s.endMs > s.startMs);
  });

  it('uses the deduplicated spans', () => {
    const { cp } = pathOf([
      { spanId: 'r', start: 0, end: 10 },
      { spanId: 'a', parent: 'r', start: 2, end: 4 },
      { spanId: 'a', parent: 'r', start: 2, end: 8 },
    ]);
    assert.deepEqual(cp.segments, [seg('r', 0, 2), seg('a', 2, 8), seg('r', 8, 10)]);
  });

  it('handles zero-length spans at the cursor without looping', () => {
    const { cp } = pathOf([
      { spanId: 'r', start: 0, end: 10 },
      { spanId: 'z1', parent: 'r', start: 5, end: 5 },
      { spanId: 'z2', parent: 'r', start: 5, end: 5 },
      { spanId: 'a', parent: 'r', start: 2, end: 4 },
    ]);
    // The empty children split r's own work at 5; the two pieces are merged back.
    assert.deepEqual(cp.segments, [seg('r', 0, 2), seg('a', 2, 4), seg('r', 4, 10)]);
  });

  it('walks a 100,000-deep chain without recursion, quickly', () => {
    const n = 100_000;
    const spans: SpanRecord[] = [];
    for (let i = 0; i < n; i++) {
      spans.push(
        makeSpan({ spanId: `s${i}`, parent: i === 0 ? '' : `s${i - 1}`, start: i, end: 2 * n - i }),
      );
    }
    // Reverse arrival order, as a worst case for parent lookup.
    spans.reverse();
    const t0 = performance.now();
    const tree = buildTraceTree(spans);
    const cp = computeCriticalPath(tree);
    const self = selfTimes(tree);
    const elapsed = performance.now() - t0;
    assert.equal(tree.depthOf(`s${n - 1}`), n - 1);
    assert.equal(cp.durationMs, 2 * n);
    assert.equal(cp.bySpan.size, n);
    for (const ms of cp.bySpan.values()) assert.equal(ms, 2);
    assert.equal(self.get('s0'), 2);
    assert.equal(self.get(`s${n - 1}`), 2);
    assert.ok(elapsed < 5_000, `took ${elapsed.toFixed(0)} ms`);
  });
});

function randomTrace(seed: number): SpanRecord[] {
  const r = seededRandom(seed);
  const n = 1 + Math.floor(r() * 60);
  const fractional = r() < 0.5;
  const time = (x: number): number => (fractional ? x : Math.round(x));
  const specs: SpanSpec[] = [];
  for (let i = 0; i < n; i++) {
    const roll = r();
    const parentIdx = Math.floor(r() * i);
    const parent = i > 0 ? specs[parentIdx] : undefined;
    let start: number;
    let end: number;
    if (parent === undefined || roll < 0.1) {
      start = time(r() * 1000);
      end = time(start + r() * 300);
    } else {
      // Mostly nested, sometimes skewed before the parent, sometimes outliving it.
      const skew = r() < 0.1 ? -r() * 50 : 0;
      start = time(parent.start + skew + r() * Math.max(0, parent.end - parent.start));
      end = time(r() < 0.15 ? start + r() * 400 : start + r() * Math.max(0, parent.end - start));
      if (r() < 0.03) end = start - 5; // backwards span
    }
    const spec: SpanSpec = { spanId: `s${i}`, start, end, name: `n${i % 7}` };
    if (parent !== undefined && roll >= 0.1 && roll < 0.85) spec.parent = parent.spanId;
    else if (roll >= 0.85 && roll < 0.92) spec.parent = `missing${i}`;
    if (i > 0 && r() < 0.15) spec.links = [`s${Math.floor(r() * n)}`];
    if (r() < 0.05 && i > 0) spec.spanId = `s${Math.floor(r() * i)}`; // duplicate id
    specs.push(spec);
  }
  // Shuffle the arrival order.
  for (let i = specs.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [specs[i], specs[j]] = [specs[j] as SpanSpec, specs[i] as SpanSpec];
  }
  return specs.map(makeSpan);
}

/**
 * The walk written the obvious way (recursion, linear scans for the next child), to check the
 * explicit-stack version against on small random trees.
 */
function referencePath(tree: TraceTree): CriticalPathSegment[] {
  const pos = new Map(tree.spans.map((s, i) => [s.spanId, i]));
  const cs = new Map<string, number>();
  const own = new Map<string, number>();
  const ef = new Map<string, number>();
  const down = (s: SpanRecord, parentStart: number): void => {
    const start = Math.max(s.startMs, parentStart);
    cs.set(s.spanId, start);
    own.set(s.spanId, Math.max(start, s.endMs));
    let end = own.get(s.spanId) as number;
    for (const k of tree.children(s.spanId)) {
      down(k, start);
      end = Math.max(end, ef.get(k.spanId) as number);
    }
    ef.set(s.spanId, end);
  };
  for (const r of tree.roots) down(r, -Infinity);
  const out: CriticalPathSegment[] = [];
  const put = (spanId: string | null, a: number, b: number): void => {
    if (b > a) out.push({ spanId, startMs: a, endMs: b });
  };
  const uncovered = (s: SpanRecord | undefined, lo: number, hi: number): void => {
    if (s === undefined) return put(null, lo, hi);
    const e = own.get(s.spanId) as number;
    put(null, Math.max(lo, e), hi);
    put(s.spanId, lo, Math.min(hi, e));
  };
  const walk = (s: SpanRecord | undefined, cursorIn: number, lo: number): void => {
    let cursor = cursorIn;
    const kids = [...(s === undefined ? tree.roots : tree.children(s.spanId))];
    for (;;) {
      let best: SpanRecord | undefined;
      for (const k of kids) {
        const e = ef.get(k.spanId) as number;
        // The same clock tolerance as the implementation: up to 1 ms (or half the child) over.
        if (e - cursor > Math.min(1, 0.5 * (e - (cs.get(k.spanId) as number)))) continue;
        if (best === undefined) {
          best = k;
          continue;
        }
        const be = ef.get(best.spanId) as number;
        const bs = cs.get(best.spanId) as number;
        const ks = cs.get(k.spanId) as number;
        if (
          e > be ||
          (e === be && (ks < bs || (ks === bs && pos.get(k.spanId)! < pos.get(best.spanId)!)))
        ) {
          best = k;
        }
      }
      if (best === undefined) return uncovered(s, lo, cursor);
      kids.splice(kids.indexOf(best), 1);
      const bestEnd = Math.min(ef.get(best.spanId) as number, cursor);
      uncovered(s, bestEnd, cursor);
      walk(best, bestEnd, cs.get(best.spanId) as number);
      cursor = cs.get(best.spanId) as number;
    }
  };
  const first = tree.roots[0];
  if (first !== undefined) walk(undefined, tree.endMs, first.startMs);
  out.reverse();
  const merged: CriticalPathSegment[] = [];
  for (const s of out) {
    const prev = merged[merged.length - 1];
    if (prev !== undefined && prev.spanId === s.spanId && prev.endMs === s.startMs) {
      merged[merged.length - 1] = { spanId: s.spanId, startMs: prev.startMs, endMs: s.endMs };
    } else merged.push(s);
  }
  return merged;
}

describe('invariants on random traces', () => {
  it('matches the obvious recursive walk', () => {
    for (let seed = 10_001; seed <= 11_000; seed++) {
      const tree = buildTraceTree(randomTrace(seed));
      assert.deepEqual(computeCriticalPath(tree).segments, referencePath(tree), `seed ${seed}`);
    }
  });

  it('holds for 2,000 random trees', () => {
    for (let seed = 1; seed <= 2_000; seed++) {
      const spans = randomTrace(seed);
      const tree = buildTraceTree(spans);
      const cp = computeCriticalPath(tree);
      const msg = `seed ${seed}`;

      // Tree: every distinct span exactly once, parents before children, depths consistent.
      assert.equal(tree.spans.length, new Set(spans.map((s) => s.spanId)).size, msg);
      const position = new Map(tree.spans.map((s, i) => [s.spanId, i]));
      for (const s of tree.spans) {
        const p = tree.parentOf(s);
        if (p === undefined) {
          assert.ok(tree.roots.includes(s), msg);
          assert.equal(tree.depthOf(s.spanId), 0, msg);
        } else {
          assert.ok((position.get(p.spanId) as number) < (position.get(s.spanId) as number), msg);
          assert.equal(tree.depthOf(s.spanId), tree.depthOf(p.spanId) + 1, msg);
          assert.ok(tree.children(p.spanId).includes(s), msg);
        }
      }

      // Critical path: tiles [startMs, endMs] exactly, in order, each piece inside its span.
      const scale = Math.max(1, Math.abs(cp.endMs), Math.abs(cp.startMs));
      let sum = 0;
      let cursor = cp.startMs;
      for (const s of cp.segments) {
        assert.ok(s.endMs > s.startMs, msg);
        assert.equal(s.startMs, cursor, msg);
        cursor = s.endMs;
        sum += s.endMs - s.startMs;
        if (s.spanId !== null) {
          const span = tree.byId.get(s.spanId) as SpanRecord;
          assert.ok(s.startMs >= span.startMs, msg);
          assert.ok(s.endMs <= Math.max(span.startMs, span.endMs), msg);
        }
      }
      if (cp.segments.length > 0) assert.equal(cursor, cp.endMs, msg);
      assert.ok(Math.abs(sum - cp.durationMs) <= EPS * scale, `${msg}: ${sum} vs ${cp.durationMs}`);
      let onPath = cp.gapMs;
      for (const ms of cp.bySpan.values()) onPath += ms;
      assert.ok(Math.abs(onPath - cp.durationMs) <= EPS * scale, msg);
      assert.equal(cp.endMs, tree.endMs, msg);

      // Self time: within [0, duration].
      for (const [id, ms] of selfTimes(tree)) {
        const span = tree.byId.get(id) as SpanRecord;
        assert.ok(ms >= 0 && ms <= Math.max(0, span.endMs - span.startMs) + EPS * scale, msg);
      }
    }
  });
});

describe('millisecond clocks', () => {
  it('keeps sequential siblings on the path when a coarse clock makes them overlap by < 1 ms', () => {
    // Two stages in other processes, stamped with a 1 ms clock: b "starts" 0.6 ms before a ends.
    const spans = [
      makeSpan({ spanId: 'root', start: 0, end: 100 }),
      makeSpan({ spanId: 'a', parent: 'root', start: 1, end: 50.6 }),
      makeSpan({ spanId: 'b', parent: 'root', start: 50, end: 99 }),
    ];
    const cp = computeCriticalPath(buildTraceTree(spans));
    assert.equal(cp.bySpan.get('b'), 49);
    // a is clamped at b's start: 49 ms of its work is on the path, not handed to the root.
    assert.equal(cp.bySpan.get('a'), 49);
    assert.equal(cp.bySpan.get('root'), 2);
  });

  it('still skips a sibling that overlaps by more than the tolerance (parallel work)', () => {
    const spans = [
      makeSpan({ spanId: 'root', start: 0, end: 100 }),
      makeSpan({ spanId: 'a', parent: 'root', start: 1, end: 60 }),
      makeSpan({ spanId: 'b', parent: 'root', start: 50, end: 99 }),
    ];
    const cp = computeCriticalPath(buildTraceTree(spans));
    assert.equal(cp.bySpan.get('a'), undefined);
    assert.equal(cp.bySpan.get('root'), 50 + 1);
  });
});
