/**
 * Known-answer and property tests of `TraceStore`: trace assembly across batches, duplicate
 * dropping, the span and byte budgets and their retention rules, filters and indexes (exact
 * against a scan, and walking about `limit` entries), arrival order, change events.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SpanRecord, StatusCode } from '../../src/core/model.js';
import {
  INDEX_ENTRY_BYTES,
  SPAN_ID_SET_BYTES,
  SPAN_RECORD_BYTES,
  TRACE_ENTRY_BYTES,
  TraceStore,
  type StoreChange,
  type TraceEntry,
  type TraceFilter,
  type TraceStoreOptions,
} from '../../src/core/store/trace-store.js';
import { makeSpan, type SpanSpec } from './helpers/spans.js';
import { seededRandom } from './helpers/random.js';

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Splits `items` into consecutive non-empty batches of random sizes. */
function randomBatches<T>(items: readonly T[], random: () => number): T[][] {
  const out: T[][] = [];
  let i = 0;
  while (i < items.length) {
    const n = 1 + Math.floor(random() * Math.min(4, items.length - i));
    out.push(items.slice(i, i + n));
    i += n;
  }
  return out;
}

interface TraceSpec {
  /** Spans in the trace (the first is the root, named `name`, the others its children). */
  spans?: number;
  name?: string;
  service?: string;
  start?: number;
  durationMs?: number;
  error?: boolean;
}

/** A trace of `spans` spans: a root spanning [start, start + durationMs] and short children. */
function trace(traceId: string, spec: TraceSpec = {}): SpanRecord[] {
  const {
    spans = 2,
    name = 'request',
    service = 'svc',
    start = 1_000,
    durationMs = 100,
    error = false,
  } = spec;
  const out = [
    makeSpan({
      traceId,
      spanId: `${traceId}-root`,
      name,
      service,
      start,
      end: start + durationMs,
      status: error ? StatusCode.ERROR : StatusCode.UNSET,
    }),
  ];
  for (let i = 1; i < spans; i++) {
    out.push(
      makeSpan({
        traceId,
        spanId: `${traceId}-c${i}`,
        parent: `${traceId}-root`,
        name: `child-${i}`,
        service,
        start: start + 1,
        end: start + 2,
      }),
    );
  }
  return out;
}

/** A store where nothing is protected unless a test asks for it. */
function plainStore(opts: TraceStoreOptions = {}): TraceStore {
  return new TraceStore({ slowestPerOperation: 0, ...opts });
}

function ids(store: TraceStore): string[] {
  return [...store.all()].map((t) => t.traceId);
}

function sumSpans(store: TraceStore): number {
  let n = 0;
  for (const t of store.all()) n += t.spans.length;
  return n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('TraceStore: assembling traces', () => {
  // root [100, 300]; a child that starts before the root (clock skew) and one that ends after.
  const spans = [
    makeSpan({
      traceId: 't1',
      spanId: 'root',
      name: 'handle',
      service: 'gw',
      start: 100,
      end: 300,
    }),
    makeSpan({ traceId: 't1', spanId: 'a', parent: 'root', service: 'gw', start: 90, end: 150 }),
    makeSpan({
      traceId: 't1',
      spanId: 'b',
      parent: 'root',
      service: 'model',
      start: 200,
      end: 420,
    }),
    makeSpan({
      traceId: 't1',
      spanId: 'c',
      parent: 'b',
      service: 'model',
      start: 210,
      end: 260,
      status: StatusCode.ERROR,
    }),
    makeSpan({ traceId: 't1', spanId: 'd', parent: 'b', service: 'model', start: 300, end: 400 }),
  ];

  it('builds one trace from spans in any order across many batches', () => {
    const random = seededRandom(1);
    for (let round = 0; round < 200; round++) {
      const store = new TraceStore();
      const order = shuffle(spans, random);
      let rootSeen = false;
      for (const batch of randomBatches(order, random)) {
        const result = store.add(batch);
        assert.equal(result.accepted, batch.length);
        assert.equal(result.duplicates, 0);
        rootSeen ||= batch.some((s) => s.spanId === 'root');
        const summary = store.list()[0]!;
        assert.equal(summary.hasRoot, rootSeen);
        assert.equal(store.get('t1')!.root?.spanId, rootSeen ? 'root' : undefined);
        if (rootSeen) {
          assert.equal(summary.rootName, 'handle');
          assert.equal(summary.rootService, 'gw');
        }
      }
      assert.equal(store.traceCount, 1);
      assert.equal(store.spanCount, 5);
      const t = store.get('t1')!;
      assert.equal(t.startMs, 90);
      assert.equal(t.endMs, 420);
      assert.equal(t.durationMs, 330);
      assert.equal(t.errorCount, 1);
      assert.deepEqual([...t.services].sort(), ['gw', 'model']);
      assert.deepEqual(store.list(), [
        {
          traceId: 't1',
          rootService: 'gw',
          rootName: 'handle',
          hasRoot: true,
          startMs: 90,
          durationMs: 330,
          spanCount: 5,
          errorCount: 1,
          hasError: true,
          services: t.services,
        },
      ]);
    }
  });

  it('finds the root when it arrives last, reporting the earliest span until then', () => {
    const store = new TraceStore();
    store.add(spans.slice(1, 3));
    store.add(spans.slice(3));
    const before = store.list()[0]!;
    assert.equal(before.hasRoot, false);
    // The earliest span stands in for the root: 'a' starts at 90.
    assert.equal(before.rootName, 'a');
    assert.equal(before.startMs, 90);
    assert.equal(before.durationMs, 330);
    store.add(spans.slice(0, 1));
    const after = store.list()[0]!;
    assert.equal(after.hasRoot, true);
    assert.equal(after.rootName, 'handle');
    assert.equal(store.get('T1'), store.get('t1'), 'get() is case-insensitive');
  });

  it('keeps the spans of different traces in one batch apart', () => {
    const store = new TraceStore();
    store.add([...trace('x', { spans: 3 }), ...trace('y', { spans: 2 })]);
    assert.equal(store.traceCount, 2);
    assert.equal(store.get('x')!.spans.length, 3);
    assert.equal(store.get('y')!.spans.length, 2);
    assert.equal(store.spanCount, 5);
  });
});

describe('TraceStore: duplicates', () => {
  it('drops and counts spans re-sent in a later batch', () => {
    const store = new TraceStore();
    const [a, b, c] = trace('t', { spans: 3 });
    const first = store.add([a!, b!]);
    assert.equal(first.accepted, 2);
    const second = store.add([b!, c!]);
    assert.equal(second.accepted, 1);
    assert.equal(second.duplicates, 1);
    assert.deepEqual(second.acceptedSpans, [c]);
    assert.equal(store.spanCount, 3);
    assert.equal(store.get('t')!.spans.length, 3);
  });

  it('accepts nothing from a whole batch re-sent (an exporter retry)', () => {
    const store = new TraceStore();
    const batch = [...trace('p', { spans: 3 }), ...trace('q', { spans: 4 })];
    assert.equal(store.add(batch).accepted, 7);
    const versions = [store.get('p')!.version, store.get('q')!.version];
    for (let i = 0; i < 3; i++) {
      const retry = store.add(batch);
      assert.equal(retry.accepted, 0);
      assert.equal(retry.duplicates, 7);
      assert.deepEqual(retry.acceptedSpans, []);
    }
    assert.equal(store.spanCount, 7);
    assert.deepEqual([store.get('p')!.version, store.get('q')!.version], versions);
    // A retry mixed with new spans: only the new ones count, in order.
    const fresh = trace('r', { spans: 2 });
    const mixed = store.add([batch[0]!, fresh[0]!, batch[4]!, fresh[1]!]);
    assert.equal(mixed.accepted, 2);
    assert.equal(mixed.duplicates, 2);
    assert.deepEqual(mixed.acceptedSpans, fresh);
    assert.equal(store.spanCount, 9);
  });
});

describe('TraceStore: span budget', () => {
  it('evicts whole traces, oldest updated first, and counts them', () => {
    const store = plainStore({ maxSpans: 10 });
    store.add(trace('t1', { spans: 3 }));
    store.add(trace('t2', { spans: 3 }));
    store.add(trace('t3', { spans: 3 }));
    assert.equal(store.spanCount, 9);
    const result = store.add(trace('t4', { spans: 3 }));
    assert.deepEqual(ids(store), ['t2', 't3', 't4']);
    assert.equal(store.get('t1'), undefined);
    assert.equal(store.spanCount, 9);
    assert.deepEqual(store.evicted, { traces: 1, spans: 3 });
    assert.deepEqual(
      result.traces.map((t) => t.traceId),
      ['t4'],
    );
    // A batch that needs two evictions.
    store.add(trace('t5', { spans: 5 }));
    assert.deepEqual(ids(store), ['t4', 't5']);
    assert.equal(store.spanCount, 8);
    assert.deepEqual(store.evicted, { traces: 3, spans: 9 });
  });

  it('evicts a trace bigger than the whole budget and reports it in no trace list', () => {
    const store = plainStore({ maxSpans: 4 });
    store.add(trace('small', { spans: 2 }));
    const result = store.add(trace('huge', { spans: 6 }));
    assert.equal(result.accepted, 6);
    assert.deepEqual(result.traces, []);
    assert.equal(store.spanCount, 0);
    assert.deepEqual(store.evicted, { traces: 2, spans: 8 });
  });

  it('moves a trace updated recently to the back of the eviction order', () => {
    const store = plainStore({ maxSpans: 10 });
    store.add(trace('t1', { spans: 3 }));
    store.add(trace('t2', { spans: 3 }));
    store.add(trace('t3', { spans: 3 }));
    store.add([makeSpan({ traceId: 't1', spanId: 'late', parent: 't1-root', start: 1, end: 2 })]);
    assert.deepEqual(ids(store), ['t2', 't3', 't1']);
    store.add(trace('t4', { spans: 3 }));
    assert.deepEqual(ids(store), ['t3', 't1', 't4']);
    assert.equal(store.get('t1')!.spans.length, 4);
  });

  it('never holds more than maxSpans (random batches)', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const random = seededRandom(seed);
      const maxSpans = 1 + Math.floor(random() * 60);
      const store = new TraceStore({
        maxSpans,
        slowestPerOperation: Math.floor(random() * 3),
        protectedShare: random(),
      });
      let accepted = 0;
      let nextSpan = 0;
      for (let step = 0; step < 300; step++) {
        const batch: SpanRecord[] = [];
        const n = 1 + Math.floor(random() * 12);
        for (let i = 0; i < n; i++) {
          const traceId = `t${Math.floor(random() * 40)}`;
          const start = Math.floor(random() * 1000);
          batch.push(
            makeSpan({
              traceId,
              spanId: `s${nextSpan++}`,
              parent: random() < 0.3 ? '' : 'p',
              name: `op${Math.floor(random() * 3)}`,
              start,
              end: start + Math.floor(random() * 500),
              status: random() < 0.1 ? StatusCode.ERROR : StatusCode.UNSET,
            }),
          );
        }
        accepted += store.add(batch).accepted;
        assert.ok(store.spanCount <= maxSpans, `seed ${seed} step ${step}: over budget`);
        assert.equal(store.spanCount, sumSpans(store));
        assert.equal(store.traceCount, [...store.all()].length);
        assert.equal(accepted - store.evicted.spans, store.spanCount);
      }
    }
  });
});

describe('TraceStore: retention of errors and slow traces', () => {
  it('keeps an error trace while plain traces younger than it go', () => {
    const store = plainStore({ maxSpans: 20, protectedShare: 0.5 });
    store.add(trace('err', { spans: 4, error: true }));
    for (let i = 1; i <= 4; i++) store.add(trace(`p${i}`, { spans: 4 }));
    store.add(trace('p5', { spans: 4 }));
    assert.deepEqual(ids(store), ['err', 'p2', 'p3', 'p4', 'p5']);
    for (let i = 6; i <= 12; i++) store.add(trace(`p${i}`, { spans: 4 }));
    assert.ok(store.get('err'), 'the error trace survives many evictions');
    assert.deepEqual(ids(store), ['err', 'p9', 'p10', 'p11', 'p12']);
  });

  it('keeps the slowest traces of each root operation', () => {
    const store = new TraceStore({ maxSpans: 12, slowestPerOperation: 1, protectedShare: 0.5 });
    store.add(trace('slow-a', { spans: 2, name: 'A', durationMs: 900 }));
    store.add(trace('slow-b', { spans: 2, name: 'B', durationMs: 700 }));
    for (let i = 1; i <= 10; i++) {
      store.add(trace(`fast-a${i}`, { spans: 2, name: 'A', durationMs: 10 }));
      store.add(trace(`fast-b${i}`, { spans: 2, name: 'B', durationMs: 20 }));
    }
    assert.ok(store.get('slow-a'));
    assert.ok(store.get('slow-b'));
    assert.equal(store.spanCount, 12);
    // A slower trace of A takes over the protection; the old slowest then goes by age.
    store.add(trace('slower-a', { spans: 2, name: 'A', durationMs: 2000 }));
    for (let i = 11; i <= 20; i++) store.add(trace(`fast-b${i}`, { spans: 2, name: 'B' }));
    assert.equal(store.get('slow-a'), undefined);
    assert.ok(store.get('slower-a'));
    assert.ok(store.get('slow-b'));
  });

  it('ranks a trace under its root operation once the root arrives', () => {
    const store = new TraceStore({ maxSpans: 8, slowestPerOperation: 1, protectedShare: 0.5 });
    // The slow trace's child arrives first: until its root comes it ranks as 'child-1'.
    const slow = trace('slow', { spans: 2, name: 'A', durationMs: 900 });
    store.add([slow[1]!]);
    store.add([slow[0]!]);
    for (let i = 1; i <= 10; i++) store.add(trace(`fast${i}`, { spans: 2, name: 'A' }));
    assert.ok(store.get('slow'), 'the slowest trace of A is protected');
  });

  // Same bug as the next test: with protectedShare <= 1 the second pass of evict() never runs,
  // so the first pass always evicts the protected traces that overflow the share, newest first.
  it('evicts protected traces too once only they are left, oldest first', () => {
    const store = new TraceStore({ maxSpans: 10, protectedShare: 1 });
    for (let i = 1; i <= 3; i++) store.add(trace(`e${i}`, { spans: 3, error: true }));
    store.add(trace('e4', { spans: 3, error: true }));
    assert.deepEqual(ids(store), ['e2', 'e3', 'e4']);
    assert.deepEqual(store.evicted, { traces: 1, spans: 3 });
  });

  it('once protected traces exceed protectedShare, the oldest protected go first', () => {
    const store = plainStore({ maxSpans: 100, protectedShare: 0.3 });
    // 40 protected spans against a share of 30.
    for (let i = 1; i <= 4; i++) store.add(trace(`e${i}`, { spans: 10, error: true }));
    for (let i = 1; i <= 6; i++) store.add(trace(`p${i}`, { spans: 10 }));
    assert.equal(store.spanCount, 100);
    store.add(trace('p7', { spans: 10 }));
    assert.equal(store.get('e1'), undefined, 'the oldest protected trace goes first');
    for (const id of ['e2', 'e3', 'e4', 'p1', 'p7']) assert.ok(store.get(id), id);
    // Now within the share: plain traces go before the protected ones again.
    store.add(trace('p8', { spans: 10 }));
    assert.equal(store.get('p1'), undefined);
    for (const id of ['e2', 'e3', 'e4']) assert.ok(store.get(id), id);
  });
});

describe('TraceStore: list, indexes, services, clear', () => {
  function fixture(): TraceStore {
    const store = new TraceStore();
    const root = (traceId: string, name: string, service: string, start: number, end: number) =>
      makeSpan({ traceId, spanId: `${traceId}-r`, name, service, start, end });
    const child = (
      traceId: string,
      name: string,
      service: string,
      start: number,
      end: number,
      status: number = StatusCode.UNSET,
    ) =>
      makeSpan({
        traceId,
        spanId: `${traceId}-${name}`,
        parent: `${traceId}-r`,
        name,
        service,
        start,
        end,
        status,
      });
    store.add([
      root('a', 'handle', 'gateway', 1000, 1100),
      child('a', 'embed', 'embedder', 1010, 1050),
    ]);
    store.add([
      root('b', 'handle', 'gateway', 2000, 2300),
      child('b', 'rerank', 'reranker', 2010, 2200, StatusCode.ERROR),
    ]);
    store.add([root('c', 'batch', 'worker', 3000, 3050)]);
    store.add([
      root('d', 'handle', 'gateway', 1500, 2000),
      child('d', 'embed', 'embedder', 1600, 1700),
    ]);
    return store;
  }
  const listIds = (store: TraceStore, filter: Parameters<TraceStore['list']>[0]) =>
    store.list(filter).map((s) => s.traceId);

  it('lists the latest arrivals first, or the latest starts with sort: start', () => {
    assert.deepEqual(listIds(fixture(), {}), ['d', 'c', 'b', 'a']);
    assert.deepEqual(listIds(fixture(), { sort: 'start' }), ['c', 'b', 'd', 'a']);
    assert.deepEqual(listIds(fixture(), { sort: 'start', service: 'gateway', limit: 2 }), [
      'b',
      'd',
    ]);
  });

  it('filters by service, name, duration, error and limit', () => {
    const store = fixture();
    assert.deepEqual(listIds(store, { service: 'embedder' }), ['d', 'a']);
    assert.deepEqual(listIds(store, { service: 'gateway' }), ['d', 'b', 'a']);
    assert.deepEqual(listIds(store, { service: 'nope' }), []);
    // Names only a non-root span has.
    assert.deepEqual(listIds(store, { name: 'embed' }), ['d', 'a']);
    assert.deepEqual(listIds(store, { name: 'rerank' }), ['b']);
    assert.deepEqual(listIds(store, { name: 'handle' }), ['d', 'b', 'a']);
    assert.deepEqual(listIds(store, { name: 'nope' }), []);
    assert.deepEqual(listIds(store, { minDurationMs: 300 }), ['d', 'b']);
    assert.deepEqual(listIds(store, { minDurationMs: 301 }), ['d']);
    assert.deepEqual(listIds(store, { error: true }), ['b']);
    assert.deepEqual(listIds(store, { error: false }), ['d', 'c', 'a']);
    assert.deepEqual(listIds(store, { limit: 2 }), ['d', 'c']);
    assert.deepEqual(listIds(store, { limit: 0 }), []);
    assert.deepEqual(
      listIds(store, { name: 'handle', service: 'gateway', minDurationMs: 200, error: false }),
      ['d'],
    );
    assert.deepEqual(listIds(store, { name: 'embed', service: 'reranker' }), []);
    const b = store.list({ error: true })[0]!;
    assert.equal(b.rootName, 'handle');
    assert.equal(b.rootService, 'gateway');
    assert.equal(b.errorCount, 1);
    assert.equal(b.hasError, true);
    assert.deepEqual(b.services, ['gateway', 'reranker']);
  });

  it('limits to 100 by default', () => {
    const store = new TraceStore();
    for (let i = 0; i < 150; i++) store.add(trace(`t${i}`, { start: i }));
    const list = store.list();
    assert.equal(list.length, 100);
    assert.equal(list[0]!.traceId, 't149');
  });

  it('lists services, sorted, and forgets a service whose traces are all evicted', () => {
    const store = plainStore({ maxSpans: 4 });
    store.add(trace('x', { service: 'zeta' }));
    store.add(trace('y', { service: 'alpha' }));
    assert.deepEqual(store.services(), ['alpha', 'zeta']);
    store.add(trace('z', { service: 'mid' }));
    assert.deepEqual(store.services(), ['alpha', 'mid']);
  });

  it('keeps the name and service indexes right through many evictions', () => {
    const names = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];
    const services = ['s0', 's1', 's2', 's3'];
    for (let seed = 1; seed <= 10; seed++) {
      const random = seededRandom(100 + seed);
      const store = new TraceStore({
        maxSpans: 20 + Math.floor(random() * 40),
        slowestPerOperation: Math.floor(random() * 2),
      });
      let nextSpan = 0;
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      const bruteForce = (match: (t: TraceEntry) => boolean) =>
        [...store.all()]
          .filter(match)
          .map((t) => t.traceId)
          .sort();
      for (let step = 0; step < 400; step++) {
        const batch: SpanRecord[] = [];
        const n = 1 + Math.floor(random() * 6);
        for (let i = 0; i < n; i++) {
          const start = Math.floor(random() * 10_000);
          // Trace ids are reused after eviction: a re-created trace is a new entry.
          batch.push(
            makeSpan({
              traceId: `t${Math.floor(random() * 30)}`,
              spanId: `s${nextSpan++}`,
              parent: random() < 0.2 ? '' : 'p',
              name: pick(names),
              service: pick(services),
              start,
              end: start + Math.floor(random() * 100),
            }),
          );
        }
        store.add(batch);
        for (const name of names) {
          const got = store
            .list({ name, limit: Infinity })
            .map((s) => s.traceId)
            .sort();
          assert.deepEqual(
            got,
            bruteForce((t) => t.spans.some((s) => s.name === name)),
            `seed ${seed} step ${step} name ${name}`,
          );
        }
        for (const service of services) {
          const got = store
            .list({ service, limit: Infinity })
            .map((s) => s.traceId)
            .sort();
          assert.deepEqual(
            got,
            bruteForce((t) => t.spans.some((s) => s.serviceName === service)),
            `seed ${seed} step ${step} service ${service}`,
          );
        }
        const live = new Set<string>();
        for (const t of store.all()) for (const s of t.spans) live.add(s.serviceName);
        assert.deepEqual(store.services(), [...live].sort());
      }
      assert.ok(store.evicted.traces > 50, 'the test evicted many traces');
    }
  });

  it('clear() empties everything without counting evictions', () => {
    const store = fixture();
    const changes: StoreChange[] = [];
    store.onChange((c) => changes.push(c));
    store.clear();
    assert.equal(store.spanCount, 0);
    assert.equal(store.traceCount, 0);
    assert.equal(store.rawBytes, 0);
    assert.deepEqual(store.list(), []);
    assert.deepEqual(store.list({ name: 'embed' }), []);
    assert.deepEqual(store.list({ service: 'gateway' }), []);
    assert.deepEqual(store.services(), []);
    assert.equal(store.get('a'), undefined);
    assert.deepEqual(store.evicted, { traces: 0, spans: 0 });
    store.flush();
    assert.deepEqual(changes, [{ added: [], updated: [], evicted: [], cleared: true }]);
    // The same spans are new again after a clear.
    const again = store.add(trace('a', { spans: 3 }));
    assert.equal(again.accepted, 3);
    assert.deepEqual(listIds(store, {}), ['a']);
  });
});

describe('TraceStore: change events', () => {
  it('coalesces many adds within coalesceMs into one event', async () => {
    const store = new TraceStore({ coalesceMs: 30 });
    const changes: StoreChange[] = [];
    store.onChange((c) => changes.push(c));
    for (let i = 0; i < 50; i++) store.add(trace(`t${i}`));
    for (let i = 0; i < 50; i += 2) {
      store.add([
        makeSpan({ traceId: `t${i}`, spanId: `late${i}`, parent: 'x', start: 1, end: 2 }),
      ]);
    }
    assert.equal(changes.length, 0, 'nothing is delivered synchronously');
    await sleep(120);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.added.length, 50);
    // Traces added in the window are reported as added only.
    assert.deepEqual(changes[0]!.updated, []);
    assert.equal(changes[0]!.cleared, false);
    // A later window is a second event.
    store.add([makeSpan({ traceId: 't1', spanId: 'later', parent: 'x', start: 1, end: 2 })]);
    await sleep(120);
    assert.equal(changes.length, 2);
    assert.deepEqual(changes[1], { added: [], updated: ['t1'], evicted: [], cleared: false });
  });

  it('reports added, updated and evicted traces right, leaving out traces gone again', () => {
    const store = plainStore({ maxSpans: 6, coalesceMs: 1000 });
    const changes: StoreChange[] = [];
    store.onChange((c) => changes.push(c));
    store.add(trace('t1', { spans: 2 }));
    store.add(trace('t0', { spans: 2 }));
    store.flush();
    assert.deepEqual(changes, [{ added: ['t1', 't0'], updated: [], evicted: [], cleared: false }]);

    store.add(trace('t2', { spans: 2 })); // 6 spans: t1, t0, t2
    store.add([makeSpan({ traceId: 't0', spanId: 'late', parent: 't0-root', start: 1, end: 2 })]);
    // 7 spans: t1 (oldest) goes; t0 moved behind t2.
    store.add(trace('t3', { spans: 2 })); // 7 spans: t2 goes
    assert.deepEqual(ids(store), ['t0', 't3']);
    store.flush();
    assert.equal(changes.length, 2);
    assert.deepEqual(changes[1], {
      added: ['t3'],
      updated: ['t0'],
      evicted: ['t1', 't2'],
      cleared: false,
    });
    store.flush();
    assert.equal(changes.length, 2, 'nothing pending, no event');
  });

  it('reports a trace evicted and then re-created in one window as present', () => {
    const store = plainStore({ maxSpans: 4, coalesceMs: 1000 });
    const changes: StoreChange[] = [];
    store.onChange((c) => changes.push(c));
    store.add(trace('old', { spans: 2 }));
    store.flush();
    store.add(trace('x', { spans: 2 }));
    store.add(trace('y', { spans: 2 })); // 'old' evicted
    assert.equal(store.get('old'), undefined);
    store.add([makeSpan({ traceId: 'old', spanId: 'new-span', start: 1, end: 2 })]);
    assert.ok(store.get('old'));
    store.flush();
    const c = changes[1]!;
    assert.ok(
      c.added.includes('old') || c.updated.includes('old'),
      `a listener must learn that 'old' exists: ${JSON.stringify(c)}`,
    );
  });
});

/** A span of `rawBytes` raw bytes (the store counts them against its byte budget). */
function bigSpan(traceId: string, spanId: string, rawBytes: number, spec: Partial<SpanSpec> = {}) {
  const s = makeSpan({ traceId, spanId, start: 1_000, end: 1_100, ...spec });
  return new SpanRecord(
    s.traceId,
    s.spanId,
    s.parentSpanId,
    s.name,
    s.kind,
    s.startMs,
    s.endMs,
    s.statusCode,
    s.links,
    s.resource,
    s.scope,
    new Uint8Array(rawBytes),
  );
}

describe('TraceStore: byte budget', () => {
  it('counts raw bytes plus the stated overheads, and gives them back on eviction', () => {
    const store = plainStore();
    store.add([
      bigSpan('a', 'a1', 1000, { name: 'x' }),
      bigSpan('a', 'a2', 500, { name: 'other' }),
    ]);
    assert.equal(store.spanBytes, 1500 + 2 * SPAN_RECORD_BYTES);
    // One trace, one service, two span names.
    assert.equal(store.indexBytes, TRACE_ENTRY_BYTES + 3 * INDEX_ENTRY_BYTES);
    assert.equal(store.bytes, store.get('a')!.bytes);
    // A second batch of the trace builds its dedup set: counted too.
    store.add([bigSpan('a', 'a3', 10, { name: 'other' })]);
    assert.equal(
      store.indexBytes,
      TRACE_ENTRY_BYTES + 3 * INDEX_ENTRY_BYTES + 3 * SPAN_ID_SET_BYTES,
    );
    store.maxBytes = 0;
    store.enforceBudget();
    assert.deepEqual([store.bytes, store.spanBytes, store.traceCount], [0, 0, 0]);
  });

  it('never holds more bytes than maxBytes, whatever the span sizes (random batches)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = seededRandom(500 + seed);
      const maxBytes = 20_000 + Math.floor(random() * 200_000);
      const store = new TraceStore({
        maxBytes,
        maxSpans: 1_000_000,
        slowestPerOperation: Math.floor(random() * 3),
        protectedShare: random(),
      });
      let accepted = 0;
      let next = 0;
      for (let step = 0; step < 200; step++) {
        const batch: SpanRecord[] = [];
        for (let i = 1 + Math.floor(random() * 6); i > 0; i--) {
          const start = Math.floor(random() * 1000);
          batch.push(
            bigSpan(`t${Math.floor(random() * 30)}`, `s${next++}`, Math.floor(random() * 20_000), {
              parent: random() < 0.3 ? '' : 'p',
              name: `op${Math.floor(random() * 3)}`,
              start,
              end: start + Math.floor(random() * 500),
              status: random() < 0.1 ? StatusCode.ERROR : StatusCode.UNSET,
            }),
          );
        }
        accepted += store.add(batch).accepted;
        assert.ok(
          store.bytes <= maxBytes,
          `seed ${seed} step ${step}: ${store.bytes} > ${maxBytes}`,
        );
        let sum = 0;
        for (const t of store.all()) sum += t.bytes;
        assert.equal(store.bytes, sum);
        assert.equal(accepted - store.evicted.spans, store.spanCount);
      }
    }
  });

  it('keeps error traces by bytes while they hold less than the protected share', () => {
    const store = plainStore({ maxBytes: 100_000, protectedShare: 0.5 });
    store.add([bigSpan('err', 'e', 20_000, { status: StatusCode.ERROR })]);
    for (let i = 0; i < 30; i++) store.add([bigSpan(`p${i}`, `p${i}`, 20_000)]);
    assert.ok(store.get('err'), 'the error trace is kept');
    assert.ok(store.bytes <= 100_000);
    // Error traces past the share go oldest first.
    for (let i = 0; i < 6; i++) {
      store.add([bigSpan(`e${i}`, `e${i}`, 20_000, { status: StatusCode.ERROR })]);
    }
    assert.equal(store.get('err'), undefined);
    assert.ok(store.get('e5'));
  });
});

describe('TraceStore: raw bytes of protected traces', () => {
  it('moves them out of shared pool slabs once evicting, so evicted neighbours are freed', () => {
    // Small Buffers from allocUnsafe share Node's 8 KiB pool slabs, as the decoder's do.
    const pooled = (traceId: string, spanId: string, status: number = StatusCode.UNSET) => {
      const s = bigSpan(traceId, spanId, 0, { status });
      const raw = Buffer.allocUnsafe(300).fill(spanId.length);
      return new SpanRecord(
        s.traceId,
        s.spanId,
        s.parentSpanId,
        s.name,
        s.kind,
        s.startMs,
        s.endMs,
        s.statusCode,
        s.links,
        s.resource,
        s.scope,
        raw,
      );
    };
    const store = plainStore({ maxSpans: 6 });
    store.add([pooled('err', 'e1', StatusCode.ERROR), pooled('err', 'e2')]);
    const before = store.get('err')!.spans.map((x) => x.raw);
    assert.ok(before[0]!.buffer.byteLength > 600, 'in a shared slab before any eviction');
    for (let i = 0; i < 10; i++) store.add([pooled(`p${i}`, `p${i}`)]);
    const kept = store.get('err')!.spans;
    assert.equal(kept[0]!.raw.buffer.byteLength, 600, 'one buffer of its own');
    assert.equal(kept[1]!.raw.buffer, kept[0]!.raw.buffer);
    assert.deepEqual(
      kept.map((x) => Buffer.from(x.raw)),
      before.map((r) => Buffer.from(r)),
      'same bytes',
    );
  });
});

describe('TraceStore: cost flat in store size', () => {
  it('evicting a trace looks at a few traces, not all of them', () => {
    // 20,000 traces, half of them protected (errors) and the oldest: the old eviction walked
    // all of them, and recounted the protected ones, on every eviction.
    const store = new TraceStore({ maxSpans: 20_000, protectedShare: 0.6 });
    for (let i = 0; i < 10_000; i++) store.add(trace(`e${i}`, { spans: 1, error: true }));
    for (let i = 0; i < 10_000; i++) store.add(trace(`p${i}`, { spans: 1, durationMs: 1 }));
    const proto = Object.getPrototypeOf(store.get('e1')!) as object;
    const getter = Object.getOwnPropertyDescriptor(proto, 'operation')!.get!;
    let looks = 0;
    Object.defineProperty(proto, 'operation', {
      configurable: true,
      get(this: TraceEntry) {
        looks++;
        return getter.call(this);
      },
    });
    try {
      for (let i = 0; i < 500; i++) store.add(trace(`n${i}`, { spans: 1, durationMs: 1 }));
    } finally {
      Object.defineProperty(proto, 'operation', { configurable: true, get: getter });
    }
    assert.equal(store.evicted.traces, 500);
    assert.ok(store.get('e0'), 'error traces within their share are kept');
    assert.ok(looks <= 500 * 2, `${looks} operation lookups for 500 evictions`);
  });

  it('when a slowest trace goes, the next slowest held takes its protection', () => {
    const store = new TraceStore({ maxSpans: 6, slowestPerOperation: 1, protectedShare: 0 });
    store.add(trace('slow1', { spans: 1, name: 'A', durationMs: 900 }));
    store.add(trace('slow2', { spans: 1, name: 'A', durationMs: 800 }));
    for (let i = 0; i < 4; i++) store.add(trace(`f${i}`, { spans: 1, name: 'A', durationMs: 1 }));
    // Over the share (0): the oldest goes, protected or not; slow2 is then the slowest of A.
    store.add(trace('f4', { spans: 1, name: 'A', durationMs: 1 }));
    assert.equal(store.get('slow1'), undefined);
    assert.ok(store.get('slow2')!.kept, 'slow2 is protected now');
  });

  it('lists the latest traces in about `limit` steps at 100,000 traces', () => {
    const store = new TraceStore({ maxSpans: 1_000_000 });
    const random = seededRandom(7);
    for (let i = 0; i < 100_000; i++) {
      const service = i % 1000 === 0 ? 'rare' : `svc${i % 3}`;
      store.add(
        trace(`t${i}`, {
          spans: 1,
          service,
          name: i % 500 === 0 ? 'rare-op' : 'request',
          durationMs: i % 997 === 0 ? 5000 + i / 100 : Math.floor(random() * 100),
          error: i % 701 === 0,
        }),
      );
    }
    const steps = (filter: TraceFilter) => {
      const got = store.list(filter);
      assert.equal(got.length, filter.limit);
      return store.lastListVisited;
    };
    assert.ok(steps({ limit: 20 }) <= 21);
    assert.ok(steps({ limit: 20, service: 'rare' }) <= 21);
    assert.ok(steps({ limit: 20, name: 'rare-op' }) <= 21);
    assert.ok(steps({ limit: 20, error: true }) <= 21);
    assert.ok(steps({ limit: 20, service: 'svc1' }) <= 21);
    // 101 traces of 5 s or more among 100,000: the duration index holds just those.
    assert.ok(steps({ limit: 20, minDurationMs: 5000 }) <= 200, String(store.lastListVisited));
    assert.equal(store.list({ limit: 1 })[0]!.traceId, 't99999');
  });

  it('orders the latest by arrival: a span dated in 2554 does not pin the latest trace', () => {
    const store = new TraceStore();
    const future = Date.UTC(2554, 0, 1);
    store.add(trace('from-the-future', { start: future }));
    store.add(trace('now', { start: Date.now() }));
    assert.equal(store.list({ limit: 1 })[0]!.traceId, 'now');
    assert.equal(store.list({ limit: 1, sort: 'start' })[0]!.traceId, 'from-the-future');
  });

  it('answers filters exactly like a scan of every trace (random workloads)', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const random = seededRandom(900 + seed);
      const store = new TraceStore({
        maxSpans: 40 + Math.floor(random() * 80),
        slowestPerOperation: Math.floor(random() * 3),
      });
      let next = 0;
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      for (let step = 0; step < 300; step++) {
        const batch: SpanRecord[] = [];
        for (let i = 1 + Math.floor(random() * 5); i > 0; i--) {
          const start = Math.floor(random() * 10_000);
          batch.push(
            makeSpan({
              traceId: `t${Math.floor(random() * 60)}`,
              spanId: `s${next++}`,
              parent: random() < 0.2 ? '' : 'p',
              name: pick(['a', 'b', 'c']),
              service: pick(['x', 'y']),
              start,
              end: start + Math.floor(random() * 3000),
              status: random() < 0.1 ? StatusCode.ERROR : StatusCode.UNSET,
            }),
          );
        }
        store.add(batch);
        const filter: TraceFilter = { limit: 1 + Math.floor(random() * 8) };
        if (random() < 0.4) filter.service = pick(['x', 'y', 'z']);
        if (random() < 0.4) filter.name = pick(['a', 'b', 'c']);
        if (random() < 0.4) filter.minDurationMs = Math.floor(random() * 3000);
        if (random() < 0.3) filter.error = random() < 0.5;
        if (random() < 0.3) filter.sort = 'start';
        const want = [...store.all()]
          .filter(
            (t) =>
              (filter.service === undefined || t.services.includes(filter.service)) &&
              (filter.name === undefined || t.names.includes(filter.name)) &&
              (filter.minDurationMs === undefined || t.durationMs >= filter.minDurationMs) &&
              (filter.error === undefined || t.errorCount > 0 === filter.error),
          )
          .sort((a, b) =>
            filter.sort === 'start'
              ? b.startMs - a.startMs || b.arrival - a.arrival
              : b.arrival - a.arrival,
          )
          .slice(0, filter.limit)
          .map((t) => t.traceId);
        assert.deepEqual(
          store.list(filter).map((s) => s.traceId),
          want,
          `seed ${seed} step ${step} ${JSON.stringify(filter)}`,
        );
      }
    }
  });
});
