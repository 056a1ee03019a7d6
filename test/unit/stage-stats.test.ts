import { quantile } from '../../src/core/analysis/statistics.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  analyzeTrace,
  parseStageKey,
  stageKey,
  StageStatsWindow,
  type StageContribution,
  type StageStats,
} from '../../src/core/analysis/index.js';
import { StatusCode } from '../../src/core/model.js';
import { makeSpan, noAttributes } from './helpers/spans.js';

/** A clock the test moves by hand. */
function manualClock(start = 0): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => (t = v) };
}

let nextId = 0;
function span(service: string, name: string, durationMs: number, error = false) {
  return makeSpan({
    spanId: `x${nextId++}`,
    service,
    name,
    start: 1_000,
    end: 1_000 + durationMs,
    status: error ? StatusCode.ERROR : StatusCode.UNSET,
  });
}

function find(stats: StageStats[], service: string, name: string): StageStats {
  const s = stats.find((x) => x.service === service && x.name === name);
  assert.ok(s, `no stats for ${service}/${name}`);
  return s;
}

function contributions(entries: [string, number, number][]): Map<string, StageContribution> {
  return new Map(entries.map(([key, onPathMs, share]) => [key, { onPathMs, share }]));
}

const A = stageKey('svc', 'a');
const B = stageKey('svc', 'b');

describe('stageKey', () => {
  it('round-trips any service and name', () => {
    for (const [service, name] of [
      ['gateway', 'POST /generate'],
      ['a"b', 'c\\d'],
      ['x\u0000y', '\u001f'],
      ['', ''],
    ] as const) {
      assert.deepEqual(parseStageKey(stageKey(service, name)), { service, name });
    }
    assert.notEqual(stageKey('a b', 'c'), stageKey('a', 'b c'));
    assert.equal(parseStageKey('not a key'), undefined);
    assert.equal(parseStageKey('[1,2]'), undefined);
  });

  it('gives the same key from its cache, also past the cache bound', () => {
    const first = stageKey('svc', 'rerank');
    // More pairs than the cache holds: it is emptied and keeps answering the same.
    for (let i = 0; i < 50_000; i++) {
      const k = stageKey(`svc${i % 7}`, `op${i}`);
      if (i % 9973 === 0) assert.equal(k, JSON.stringify([`svc${i % 7}`, `op${i}`]));
    }
    assert.equal(stageKey('svc', 'rerank'), first);
    assert.equal(first, JSON.stringify(['svc', 'rerank']));
    // A name that is a service elsewhere is not confused with it.
    assert.notEqual(stageKey('rerank', 'svc'), first);
  });
});

describe('StageStatsWindow', () => {
  it('gives quantiles within 1% of the exact ones, and exact mean and max', () => {
    const clock = manualClock();
    const w = new StageStatsWindow({ now: clock.now });
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    // Arrival order must not matter.
    for (let i = values.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [values[i], values[j]] = [values[j] as number, values[i] as number];
    }
    for (const v of values) w.addSpan(span('svc', 'embed', v));
    const s = find(w.snapshot(), 'svc', 'embed');
    const sorted = [...values].sort((x, y) => x - y);
    const exact = (q: number): number => {
      // Linear interpolation between closest ranks.
      const rank = q * (sorted.length - 1);
      const lo = sorted[Math.floor(rank)] as number;
      const hi = sorted[Math.ceil(rank)] as number;
      return lo + (hi - lo) * (rank - Math.floor(rank));
    };
    for (const [q, got] of [
      [0.5, s.p50Ms],
      [0.95, s.p95Ms],
      [0.99, s.p99Ms],
    ] as const) {
      const want = exact(q);
      assert.ok(Math.abs(got - want) / want <= 0.01, `p${q * 100}: ${got} vs ${want}`);
    }
    assert.equal(s.count, 1000);
    assert.equal(s.meanMs, 500.5);
    assert.equal(s.maxMs, 1000);
    assert.equal(s.errorRate, 0);
  });

  it('interpolates between ranks as the exact quantiles do, so p95 of a few spans is not p50', () => {
    const w = new StageStatsWindow({ now: () => 0 });
    for (const v of [100, 200, 1000]) w.addSpan(span('svc', 'rerank', v));
    const s = find(w.snapshot(), 'svc', 'rerank');
    const near = (got: number, want: number) =>
      assert.ok(Math.abs(got - want) / want <= 0.01, `${got} vs ${want}`);
    near(s.p50Ms, quantile([100, 200, 1000], 0.5));
    near(s.p95Ms, quantile([100, 200, 1000], 0.95));
    assert.ok(s.p95Ms > 900, `p95 ${s.p95Ms}`);
    assert.ok(s.p99Ms > s.p95Ms && s.p99Ms <= 1000);
    // Two spans: the median lies between them.
    w.addSpan(span('svc', 'pair', 10));
    w.addSpan(span('svc', 'pair', 30));
    near(find(w.snapshot(), 'svc', 'pair').p50Ms, 20);
  });

  it('clamps quantiles to the observed range and counts negative durations as 0', () => {
    const w = new StageStatsWindow({ now: () => 0 });
    w.addSpan(span('svc', 'one', 123.5));
    const s = find(w.snapshot(), 'svc', 'one');
    assert.equal(s.p50Ms, 123.5);
    assert.equal(s.p99Ms, 123.5);
    w.addSpan(span('svc', 'neg', -5));
    const n = find(w.snapshot(), 'svc', 'neg');
    assert.equal(n.p50Ms, 0);
    assert.equal(n.maxMs, 0);
  });

  it('counts errors per stage', () => {
    const w = new StageStatsWindow({ now: () => 0 });
    for (let i = 0; i < 10; i++) w.addSpan(span('llm', 'generate', 10, i < 3));
    w.addSpan(span('llm', 'tokenize', 1));
    const stats = w.snapshot();
    const g = find(stats, 'llm', 'generate');
    assert.equal(g.count, 10);
    assert.equal(g.errorCount, 3);
    assert.equal(g.errorRate, 0.3);
    assert.equal(find(stats, 'llm', 'tokenize').errorRate, 0);
    // Sorted by service, then name.
    assert.deepEqual(
      stats.map((x) => x.name),
      ['generate', 'tokenize'],
    );
  });

  it('expires whole buckets as the clock moves on', () => {
    const clock = manualClock();
    // 10 buckets of 100 ms.
    const w = new StageStatsWindow({ windowMs: 1_000, buckets: 10, now: clock.now });
    w.addSpan(span('svc', 'a', 1));
    clock.set(500);
    w.addSpan(span('svc', 'a', 2));
    w.addSpan(span('svc', 'b', 2));
    clock.set(999);
    assert.equal(find(w.snapshot(), 'svc', 'a').count, 2);
    clock.set(1_000); // bucket [0, 100) falls out
    assert.equal(find(w.snapshot(), 'svc', 'a').count, 1);
    assert.equal(find(w.snapshot(), 'svc', 'a').maxMs, 2);
    // Live buckets are the current one and the nine before it: [500, 600) goes at 1,500.
    clock.set(1_499);
    assert.equal(w.snapshot().length, 2);
    clock.set(1_500);
    assert.deepEqual(w.snapshot(), []);
    assert.equal(w.stageCount, 0);
  });

  it('does not resurrect expired data when the clock steps back', () => {
    const clock = manualClock(10_000);
    const w = new StageStatsWindow({ windowMs: 1_000, buckets: 10, now: clock.now });
    w.addSpan(span('svc', 'a', 1));
    clock.set(20_000);
    assert.deepEqual(w.snapshot(), []);
    clock.set(10_000);
    w.addSpan(span('svc', 'a', 5));
    assert.equal(find(w.snapshot(), 'svc', 'a').count, 1);
  });

  it('records critical-path presence and share per trace', () => {
    const w = new StageStatsWindow({ now: () => 0 });
    w.addSpan(span('svc', 'a', 1));
    w.addSpan(span('svc', 'b', 1));
    w.addTrace(contributions([[A, 40, 0.4]]), new Set([A, B]));
    w.addTrace(contributions([[B, 90, 0.9]]), new Set([A, B]));
    const stats = w.snapshot();
    const a = find(stats, 'svc', 'a');
    assert.equal(a.traceCount, 2);
    assert.equal(a.criticalTraceCount, 1);
    assert.equal(a.criticalInPct, 50);
    assert.equal(a.criticalPathShare, 0.2);
    const b = find(stats, 'svc', 'b');
    assert.equal(b.criticalInPct, 50);
    assert.equal(b.criticalPathShare, 0.45);
  });

  it('counts a stage as critical only from 1% of the critical path', () => {
    const w = new StageStatsWindow({ now: () => 0 });
    w.addSpan(span('svc', 'a', 1));
    // A 51 µs stage of a 500 ms request is on the path, but it does not gate anything.
    w.addTrace(contributions([[A, 0.051, 0.051 / 500]]), new Set([A]));
    w.addTrace(contributions([[A, 10, 0.02]]), new Set([A]));
    const a = find(w.snapshot(), 'svc', 'a');
    assert.equal(a.criticalTraceCount, 1);
    assert.equal(a.criticalInPct, 50);
  });

  it('takes a trace’s earlier contribution out with its ticket, so it counts once', () => {
    const clock = manualClock();
    const w = new StageStatsWindow({ windowMs: 1_000, buckets: 10, now: clock.now });
    w.addSpan(span('svc', 'a', 1));
    w.addSpan(span('svc', 'b', 1));
    let ticket = w.addTrace(contributions([[A, 50, 0.5]]), new Set([A]));
    // A late span of t1 arrives; the path is recomputed in a later bucket.
    clock.set(300);
    w.removeTrace(ticket);
    ticket = w.addTrace(contributions([[B, 80, 0.8]]), new Set([A, B]));
    let stats = w.snapshot();
    assert.deepEqual(
      [find(stats, 'svc', 'a'), find(stats, 'svc', 'b')].map((s) => [
        s.traceCount,
        s.criticalTraceCount,
        s.criticalPathShare,
      ]),
      [
        [1, 0, 0],
        [1, 1, 0.8],
      ],
    );
    // Same trace again in the same bucket.
    w.removeTrace(ticket);
    ticket = w.addTrace(contributions([[B, 80, 0.8]]), new Set([A, B]));
    stats = w.snapshot();
    assert.equal(find(stats, 'svc', 'b').traceCount, 1);
    assert.equal(find(stats, 'svc', 'b').criticalPathShare, 0.8);

    // The spans' bucket expires; the trace record (made at 300) lives on until 1,300.
    clock.set(1_000);
    w.addSpan(span('svc', 'b', 1));
    assert.equal(find(w.snapshot(), 'svc', 'b').traceCount, 1);
    clock.set(1_300);
    assert.equal(find(w.snapshot(), 'svc', 'b').traceCount, 0);
    assert.equal(find(w.snapshot(), 'svc', 'b').criticalInPct, 0);
    // Taking out an expired contribution is a no-op; adding it again counts it afresh.
    w.removeTrace(ticket);
    w.addTrace(contributions([[B, 10, 0.1]]), new Set([B]));
    assert.equal(find(w.snapshot(), 'svc', 'b').traceCount, 1);
  });

  it('counts stages named only in contributions as contained', () => {
    const w = new StageStatsWindow({ now: () => 0 });
    w.addSpan(span('svc', 'a', 1));
    w.addTrace(contributions([[A, 1, 1]]), new Set());
    assert.equal(find(w.snapshot(), 'svc', 'a').criticalInPct, 100);
  });

  it('bounds the number of stages and counts what it drops', () => {
    const clock = manualClock();
    const w = new StageStatsWindow({ windowMs: 1_000, maxStages: 2, now: clock.now });
    w.addSpan(span('svc', 'a', 1));
    w.addSpan(span('svc', 'b', 1));
    w.addSpan(span('svc', 'c', 1));
    w.addSpan(span('svc', 'a', 1));
    assert.equal(w.stageCount, 2);
    assert.equal(w.droppedSpans, 1);
    w.addTrace(contributions([[stageKey('svc', 'c'), 1, 1]]), new Set([A]));
    assert.equal(w.droppedContributions, 1);
    assert.equal(find(w.snapshot(), 'svc', 'a').traceCount, 1);
    w.addTrace(new Map(), new Set(['not a stage key']));
    assert.equal(w.droppedContributions, 2);
    // Once the old stages expire there is room again.
    clock.set(5_000);
    w.addSpan(span('svc', 'c', 1));
    assert.deepEqual(
      w.snapshot().map((s) => s.name),
      ['c'],
    );
  });

  it('keeps no state per trace: a million traces cost no more than one', () => {
    const w = new StageStatsWindow({ now: () => 0 });
    w.addSpan(span('svc', 'a', 1));
    for (let i = 0; i < 100_000; i++) w.addTrace(contributions([[A, 1, 0.5]]), new Set([A]));
    const a = find(w.snapshot(), 'svc', 'a');
    assert.equal(a.traceCount, 100_000);
    assert.equal(w.stageCount, 1);
  });

  it('clears everything', () => {
    const w = new StageStatsWindow({ maxStages: 1, now: () => 0 });
    w.addSpan(span('svc', 'a', 1));
    w.addSpan(span('svc', 'b', 1));
    w.addTrace(new Map(), new Set([A]));
    w.clear();
    assert.deepEqual(w.snapshot(), []);
    assert.equal(w.droppedSpans, 0);
    w.addSpan(span('svc', 'b', 1));
    w.addTrace(new Map(), new Set([B]));
    assert.equal(find(w.snapshot(), 'svc', 'b').traceCount, 1);
  });

  it('rejects a degenerate window', () => {
    assert.throws(() => new StageStatsWindow({ windowMs: 0 }), RangeError);
    assert.throws(() => new StageStatsWindow({ buckets: 0 }), RangeError);
  });

  it('takes analyzeTrace output as is', () => {
    const w = new StageStatsWindow({ now: () => 0 });
    const spans = [
      makeSpan({ traceId: 'tr', spanId: 'r', service: 'api', name: 'request', start: 0, end: 10 }),
      makeSpan({
        traceId: 'tr',
        spanId: 'm',
        parent: 'r',
        service: 'llm',
        name: 'gen',
        start: 2,
        end: 8,
      }),
    ];
    for (const s of spans) w.addSpan(s);
    const a = analyzeTrace(spans, noAttributes);
    w.addTrace(a.stageContributions, a.stages);
    const stats = w.snapshot();
    // Shares include the stage's subtree: the root is the whole request.
    assert.equal(find(stats, 'llm', 'gen').criticalPathShare, 0.6);
    assert.equal(find(stats, 'api', 'request').criticalPathShare, 1);
    assert.equal(find(stats, 'api', 'request').rootTraceCount, 1);
    assert.equal(find(stats, 'llm', 'gen').rootTraceCount, 0);
  });
});
