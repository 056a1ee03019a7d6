import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  buildTraceTree,
  computeCriticalPath,
  selfTimes,
  type TraceTree,
} from '../../src/core/analysis/index.js';
import { processKeyOf } from '../../src/core/analysis/clock-skew.js';
import { SpanKind } from '../../src/core/model.js';
import { makeSpan, type SpanSpec } from './helpers/spans.js';

/**
 * The demo's shape: the gateway's `reranking` span calls a runner process whose SERVER span
 * (and its `forward` child) fill the call; `generation` follows at once. The runner's clock is
 * `skew` ms off the gateway's.
 */
function rerankTrace(skew: number): SpanSpec[] {
  return [
    { spanId: 'root', name: 'inference_request', service: 'gateway', start: 0, end: 1600 },
    {
      spanId: 'pre',
      parent: 'root',
      name: 'preprocessing',
      service: 'gateway',
      start: 0,
      end: 100,
    },
    { spanId: 'rr', parent: 'root', name: 'reranking', service: 'gateway', start: 100, end: 1100 },
    {
      spanId: 'srv',
      parent: 'rr',
      name: 'rerank cross-encoder',
      service: 'runner',
      kind: SpanKind.SERVER,
      start: 101 + skew,
      end: 1099 + skew,
    },
    {
      spanId: 'fwd',
      parent: 'srv',
      name: 'forward',
      service: 'runner',
      start: 102 + skew,
      end: 1098 + skew,
    },
    {
      spanId: 'gen',
      parent: 'root',
      name: 'generation',
      service: 'gateway',
      start: 1100,
      end: 1500,
    },
  ];
}

function tree(specs: SpanSpec[]): TraceTree {
  return buildTraceTree(specs.map(makeSpan));
}

/** Critical-path time of a span and its subtree. */
function inclusivePath(t: TraceTree, spanId: string): number {
  const cp = computeCriticalPath(t);
  let ms = 0;
  for (const s of t.spans) {
    for (let cur: string | undefined = s.spanId; cur !== undefined; cur = t.parentOf(cur)?.spanId) {
      if (cur === spanId) {
        ms += cp.bySpan.get(s.spanId) ?? 0;
        break;
      }
    }
  }
  return ms;
}

const SKEWS = [1, 1.2, 2.4, 5, 20, 100, 500];

describe('clock-skew adjustment', () => {
  for (const magnitude of SKEWS) {
    for (const sign of [1, -1]) {
      const skew = sign * magnitude;
      it(`keeps a remote child inside its caller with the runner's clock ${skew} ms off`, () => {
        const t = tree(rerankTrace(skew));
        const cp = computeCriticalPath(t);
        // The whole call is on the critical path, under reranking, not on the root.
        assert.ok(Math.abs(inclusivePath(t, 'rr') - 1000) < 1e-6, `rr ${inclusivePath(t, 'rr')}`);
        assert.ok(Math.abs((cp.bySpan.get('root') ?? 0) - 100) < 1e-6, 'root: only its own 100 ms');
        assert.ok(Math.abs(cp.durationMs - 1600) < 1e-6);
        const srv = t.byId.get('srv')!;
        const rr = t.byId.get('rr')!;
        assert.ok(srv.startMs >= rr.startMs && srv.endMs <= rr.endMs, 'child inside its parent');
        // Shifted by the least that fits; its same-process child moves with it.
        const shift = t.clockShiftOf('srv');
        if (Math.abs(skew) <= 1) assert.equal(shift, 0, 'a fitting child is left alone');
        else
          assert.ok(Math.abs(shift - (skew > 0 ? 1 - skew : -1 - skew)) < 1e-9, `shift ${shift}`);
        assert.equal(t.clockShiftOf('fwd'), shift);
        assert.equal(t.clockShiftOf('rr'), 0);
        assert.ok(
          Math.abs(t.byId.get('fwd')!.endMs - t.byId.get('fwd')!.startMs - 996) < 1e-9,
          'durations kept',
        );
        // Self time of the caller is what the child does not cover.
        assert.ok(Math.abs((selfTimes(t).get('rr') ?? 0) - 2) < 1e-6);
      });
    }
  }

  it('reports the raw times through the shift, and only shifted spans', () => {
    const t = tree(rerankTrace(2.4));
    assert.deepEqual([...t.clockShifts.keys()].sort(), ['fwd', 'srv']);
    const srv = t.byId.get('srv')!;
    assert.ok(Math.abs(srv.startMs - t.clockShiftOf('srv') - (101 + 2.4)) < 1e-9);
  });

  it('leaves a child in the same process alone, even when it outlives its parent', () => {
    const t = tree([
      { spanId: 'a', service: 'gateway', start: 0, end: 10 },
      { spanId: 'b', parent: 'a', service: 'gateway', start: 5, end: 30 },
    ]);
    assert.equal(t.clockShifts.size, 0);
    assert.equal(computeCriticalPath(t).durationMs, 30);
  });

  it('leaves queue consumers and link-adopted followers alone', () => {
    const t = tree([
      { spanId: 'a', service: 'gateway', start: 0, end: 10 },
      { spanId: 'p', parent: 'a', service: 'gateway', start: 1, end: 2, kind: SpanKind.PRODUCER },
      { spanId: 'c', parent: 'p', service: 'worker', start: 50, end: 80, kind: SpanKind.CONSUMER },
      { spanId: 'f', service: 'worker2', start: 60, end: 90, links: ['a'] },
    ]);
    assert.equal(t.clockShifts.size, 0);
    assert.equal(t.parentOf('f')?.spanId, 'a', 'adopted');
  });

  it('moves a child longer than its parent only to start with it', () => {
    const t = tree([
      { spanId: 'a', service: 'gateway', start: 100, end: 200 },
      { spanId: 'b', parent: 'a', service: 'runner', start: 90, end: 250 },
    ]);
    assert.equal(t.clockShiftOf('b'), 10);
    assert.equal(t.byId.get('b')!.startMs, 100);
  });

  it('keeps one shift per process when it fits every call into that process', () => {
    const t = tree([
      { spanId: 'a', service: 'gateway', start: 0, end: 100 },
      { spanId: 'c1', parent: 'a', service: 'gateway', start: 0, end: 40 },
      { spanId: 'r1', parent: 'c1', service: 'runner', start: 5, end: 43 },
      { spanId: 'c2', parent: 'a', service: 'gateway', start: 50, end: 90 },
      { spanId: 'r2', parent: 'c2', service: 'runner', start: 55, end: 80 },
    ]);
    assert.equal(t.clockShiftOf('r1'), -3);
    // 0 would fit r2 too; the process's clock is the one found on the first call.
    assert.equal(t.clockShiftOf('r2'), -3);
  });

  it('follows a chain of processes: a grandchild inherits nothing from another process', () => {
    const t = tree([
      { spanId: 'a', service: 'gw', start: 0, end: 100 },
      { spanId: 'b', parent: 'a', service: 'mid', start: 10, end: 105 },
      { spanId: 'c', parent: 'b', service: 'leaf', start: 20, end: 95 },
    ]);
    // mid is 5 ms late; leaf is on its own clock and already fits inside the shifted mid.
    assert.equal(t.clockShiftOf('b'), -5);
    assert.equal(t.clockShiftOf('c'), 0);
    const b = t.byId.get('b')!;
    const c = t.byId.get('c')!;
    assert.ok(c.startMs >= b.startMs && c.endMs <= b.endMs);
  });

  it('keeps the tree in start order after a shift reorders siblings', () => {
    const t = tree([
      { spanId: 'a', service: 'gw', start: 0, end: 100 },
      { spanId: 'x', parent: 'a', service: 'gw', start: 10, end: 20 },
      { spanId: 'y', parent: 'a', service: 'gw', start: 30, end: 50 },
      { spanId: 'z', parent: 'y', service: 'runner', start: 5, end: 15 }, // 25 ms early
    ]);
    assert.equal(t.clockShiftOf('z'), 25);
    assert.deepEqual(
      t.spans.map((s) => s.spanId),
      ['a', 'x', 'y', 'z'],
    );
  });
});

describe('processKeyOf', () => {
  it('tells processes apart by service.instance.id, else by the whole resource', () => {
    const res = (attrs: Record<string, string>) => ({
      raw: new Uint8Array(0),
      serviceName: attrs['service.name'] ?? 'unknown_service',
      attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } })),
      droppedAttributesCount: 0,
      schemaUrl: '',
    });
    const a = res({
      'service.name': 'gen',
      'service.instance.id': 'generation-a',
      'host.name': 'x',
    });
    const a2 = res({
      'host.name': 'y',
      'service.instance.id': 'generation-a',
      'service.name': 'gen',
    });
    const b = res({ 'service.name': 'gen', 'service.instance.id': 'generation-b' });
    const c1 = res({ 'service.name': 'gen', 'process.pid': '1' });
    const c2 = res({ 'process.pid': '1', 'service.name': 'gen' });
    assert.equal(processKeyOf(a), processKeyOf(a2));
    assert.notEqual(processKeyOf(a), processKeyOf(b));
    assert.equal(processKeyOf(c1), processKeyOf(c2), 'attribute order does not matter');
    assert.notEqual(processKeyOf(c1), processKeyOf(b));
  });
});
