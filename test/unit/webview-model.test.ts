/** The waterfall's pure row logic (webview/src/model), in plain Node. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SpanFlag } from '../../src/protocol/messages.js';
import { keyAction, moveSelection } from '../../webview/src/model/keyboard.js';
import {
  clampWindow,
  formatDuration,
  formatShare,
  scrollMap,
  ticks,
  timeAt,
  xOf,
  zoomAt,
} from '../../webview/src/model/layout.js';
import {
  matchQuery,
  parseQuery,
  queryErrorMessage,
  type Term,
} from '../../webview/src/model/query.js';
import {
  collapseAll,
  collapseToDepth,
  indexOfRow,
  nextInList,
  reveal,
  visibleRows,
  withAncestors,
} from '../../webview/src/model/rows.js';
import {
  ancestors,
  buildTraceModel,
  hasChildren,
  normalizePayload,
} from '../../webview/src/model/trace-model.js';
import { syntheticTrace } from '../../webview/dev/synthetic-trace.js';
import { tinyTrace as tiny } from './helpers/webview-trace.js';

describe('trace model', () => {
  it('derives subtree ends, errors, critical segments and waits', () => {
    const m = buildTraceModel(tiny());
    assert.deepEqual([...m.subtreeEnd], [7, 3, 3, 6, 5, 6, 7, 8]);
    assert.deepEqual([...m.errorRows], [4, 6]);
    assert.equal(hasChildren(m, 3), true);
    assert.equal(hasChildren(m, 4), false);
    assert.deepEqual(
      [...m.critSegs.subarray(m.critOffsets[6]! * 2, m.critOffsets[7]! * 2)],
      [40, 100],
    );
    assert.deepEqual(m.waitsByConsumer.get(6), [0]);
    assert.deepEqual(ancestors(m, 4), [0, 3]);
    assert.equal(m.maxDepth, 2);
  });
});

describe('normalizePayload', () => {
  it('revives JSON-serialised columns and refuses malformed payloads', () => {
    const json = JSON.parse(JSON.stringify(tiny())) as unknown;
    const p = normalizePayload(json);
    assert.ok(p !== null);
    assert.ok(p.start instanceof Float64Array);
    assert.deepEqual([...p.parent], [...tiny().parent]);
    assert.equal(normalizePayload({ ...tiny(), depth: new Uint16Array(3) }), null);
    assert.equal(
      normalizePayload({ ...tiny(), parent: Int32Array.from([-1, 0, 5, 0, 3, 3, 0, -1]) }),
      null,
    );
    assert.equal(normalizePayload({ ...tiny(), names: ['only-one'] }), null);
    assert.equal(normalizePayload('nope'), null);
  });
});

describe('visible rows', () => {
  it('skips collapsed subtrees and keeps ancestors of filter matches', () => {
    const m = buildTraceModel(tiny());
    const none = new Uint8Array(8);
    assert.deepEqual([...visibleRows(m, none)], [0, 1, 2, 3, 4, 5, 6, 7]);
    const c = new Uint8Array(8);
    c[3] = 1;
    assert.deepEqual([...visibleRows(m, c)], [0, 1, 2, 3, 6, 7]);
    assert.deepEqual([...visibleRows(m, collapseAll(m))], [0, 7]);
    assert.deepEqual([...visibleRows(m, collapseToDepth(m, 1))], [0, 1, 3, 6, 7]);
    reveal(m, c, 5);
    assert.equal(c[3], 0);

    const hits = new Uint8Array(8);
    hits[4] = 1;
    const mask = withAncestors(m, hits);
    assert.deepEqual([...visibleRows(m, none, mask)], [0, 3, 4]);
  });

  it('finds rows and wraps next/previous', () => {
    const list = Int32Array.from([4, 6]);
    assert.equal(nextInList(list, -1, 1), 4);
    assert.equal(nextInList(list, 4, 1), 6);
    assert.equal(nextInList(list, 6, 1), 4);
    assert.equal(nextInList(list, 5, -1), 4);
    assert.equal(nextInList(list, 4, -1), 6);
    assert.equal(nextInList(new Int32Array(0), 1, 1), -1);
    assert.equal(indexOfRow(Int32Array.from([0, 3, 6]), 6), 2);
    assert.equal(indexOfRow(Int32Array.from([0, 3, 6]), 4), -1);
  });
});

describe('search', () => {
  const rows = (q: string): number[] => {
    const m = buildTraceModel(tiny());
    const { mask } = matchQuery(m, parseQuery(q));
    return [...mask].flatMap((v, i) => (v === 1 ? [i] : []));
  };
  it('filters by text, name, service, duration, self, share, flags and kind', () => {
    assert.deepEqual(rows('b'), [3, 4, 5]);
    assert.deepEqual(rows('retriever'), [3, 4, 5], 'service, case-insensitive');
    assert.deepEqual(rows('name:a'), [1, 2, 7]);
    assert.deepEqual(rows('service:llm'), [6]);
    assert.deepEqual(rows('dur>=30ms'), [0, 3, 6]);
    assert.deepEqual(rows('dur<0.005s'), [4, 7]);
    assert.deepEqual(rows('share>50%'), [6]);
    assert.deepEqual(rows('share>0.3'), [0, 6]);
    assert.deepEqual(rows('is:error'), [4, 6]);
    assert.deepEqual(rows('is:error -is:critical'), [4]);
    assert.deepEqual(rows('kind:client'), [3, 6]);
    assert.deepEqual(rows('is:orphan'), [7]);
    assert.deepEqual(rows('"b1"'), [4]);
    assert.deepEqual(rows(''), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(parseQuery('kind:nope dur>3%').errors, ['kind:nope', 'dur>3%']);
  });

  it('reads every valid query as it did before unreadable terms were explained', () => {
    // Recorded from the parser before the change: each query, the terms it reads.
    const valid: [string, Term[]][] = [
      ['reranking', [{ kind: 'text', field: 'any', text: 'reranking', negate: false }]],
      [
        'name:embed service:gen',
        [
          { kind: 'text', field: 'name', text: 'embed', negate: false },
          { kind: 'text', field: 'service', text: 'gen', negate: false },
        ],
      ],
      ['svc:retriever', [{ kind: 'text', field: 'service', text: 'retriever', negate: false }]],
      ['-is:error', [{ kind: 'flag', flag: 1, negate: true }]],
      [
        'is:critical has:source',
        [
          { kind: 'flag', flag: 2, negate: false },
          { kind: 'flag', flag: 4, negate: false },
        ],
      ],
      [
        'is:orphan is:adopted is:skewed',
        [
          { kind: 'flag', flag: 16, negate: false },
          { kind: 'flag', flag: 8, negate: false },
          { kind: 'flag', flag: 32, negate: false },
        ],
      ],
      ['dur>100ms', [{ kind: 'number', field: 'duration', cmp: '>', value: 100, negate: false }]],
      ['dur>=1.5s', [{ kind: 'number', field: 'duration', cmp: '>=', value: 1500, negate: false }]],
      [
        'duration<2m',
        [{ kind: 'number', field: 'duration', cmp: '<', value: 120000, negate: false }],
      ],
      ['self>20ms', [{ kind: 'number', field: 'self', cmp: '>', value: 20, negate: false }]],
      ['dur<=500us', [{ kind: 'number', field: 'duration', cmp: '<=', value: 0.5, negate: false }]],
      ['dur>250µs', [{ kind: 'number', field: 'duration', cmp: '>', value: 0.25, negate: false }]],
      ['dur>3ns', [{ kind: 'number', field: 'duration', cmp: '>', value: 3e-6, negate: false }]],
      ['dur>5', [{ kind: 'number', field: 'duration', cmp: '>', value: 5, negate: false }]],
      ['share>10%', [{ kind: 'number', field: 'share', cmp: '>', value: 0.1, negate: false }]],
      ['share>0.1', [{ kind: 'number', field: 'share', cmp: '>', value: 0.1, negate: false }]],
      ['share>=50', [{ kind: 'number', field: 'share', cmp: '>=', value: 0.5, negate: false }]],
      ['kind:server', [{ kind: 'spanKind', spanKind: 2, negate: false }]],
      ['kind:CLIENT', [{ kind: 'spanKind', spanKind: 3, negate: false }]],
      ['-kind:internal', [{ kind: 'spanKind', spanKind: 1, negate: true }]],
      [
        'attr:model.name=bert',
        [{ kind: 'attribute', key: 'model.name', value: 'bert', negate: false }],
      ],
      ['model.name=bert', [{ kind: 'attribute', key: 'model.name', value: 'bert', negate: false }]],
      [
        'attr:gen_ai.request.model',
        [{ kind: 'attribute', key: 'gen_ai.request.model', negate: false }],
      ],
      ['batch.size=', [{ kind: 'attribute', key: 'batch.size', negate: false }]],
      ['dur=5ms', [{ kind: 'attribute', key: 'dur', value: '5ms', negate: false }]],
      ['"two words"', [{ kind: 'text', field: 'any', text: 'two words', negate: false }]],
      [
        'name:"vector search"',
        [{ kind: 'text', field: 'name', text: 'vector search', negate: false }],
      ],
      ['-"x y"', [{ kind: 'text', field: 'any', text: 'x y', negate: true }]],
      ['DUR>100MS', [{ kind: 'number', field: 'duration', cmp: '>', value: 100, negate: false }]],
      ['a=b=c', [{ kind: 'attribute', key: 'a', value: 'b=c', negate: false }]],
      [
        'http.status_code=500 -is:error',
        [
          { kind: 'attribute', key: 'http.status_code', value: '500', negate: false },
          { kind: 'flag', flag: 1, negate: true },
        ],
      ],
      ['-', [{ kind: 'text', field: 'any', text: '-', negate: false }]],
      ['foo:bar', [{ kind: 'text', field: 'any', text: 'foo:bar', negate: false }]],
      ['dur>.5s', [{ kind: 'number', field: 'duration', cmp: '>', value: 500, negate: false }]],
      ['dur>5.', [{ kind: 'number', field: 'duration', cmp: '>', value: 5, negate: false }]],
    ];
    for (const [q, terms] of valid) assert.deepEqual(parseQuery(q), { terms, errors: [] }, q);
  });

  it('says why a term cannot be read, in one line naming it', () => {
    const why = (q: string): string[] => parseQuery(q).errors.map(queryErrorMessage);
    assert.deepEqual(why('dur>1x'), ['dur>1x: not a duration (try dur>1.5s or dur>200ms)']);
    assert.deepEqual(why('-self>fast'), ['self>fast: not a duration (try self>20ms)']);
    assert.deepEqual(why('duration<1.2.3 dur> dur>=x'), [
      'duration<1.2.3: not a duration (try duration>1.5s or duration>200ms)',
      'dur>: not a duration (try dur>1.5s or dur>200ms)',
      'dur>=x: not a duration (try dur>1.5s or dur>200ms)',
    ]);
    assert.deepEqual(why('dur>3%'), ['dur>3%: not a duration (try dur>1.5s or dur>200ms)']);
    assert.deepEqual(why('share>5ms'), [
      'share>5ms: not a share of the trace (try share>10% or share>0.1)',
    ]);
    assert.deepEqual(why('dur:5ms'), ['dur:5ms: compare with >, >=, < or <= (try dur>5ms)']);
    const flags =
      '(is:error, is:critical, is:orphan, is:adopted, is:skewed, has:source, is:haslog)';
    assert.deepEqual(why('is:slow has:logs is:'), [
      `is:slow: unknown flag ${flags}`,
      `has:logs: unknown flag ${flags}`,
      `is: needs a flag ${flags}`,
    ]);
    const kinds = '(internal, server, client, producer, consumer)';
    assert.deepEqual(why('kind:nope kind:'), [
      `kind:nope: unknown span kind ${kinds}`,
      `kind: needs a span kind ${kinds}`,
    ]);
    const attr = '(try attr:model.name=bert or attr:model.name)';
    assert.deepEqual(why('attr= attr=bert attr: attr:=bert'), [
      `attr=: write attr:key=value ${attr}`,
      `attr=bert: write attr:key=value ${attr}`,
      `attr: needs a key ${attr}`,
      `attr:=bert: needs a key ${attr}`,
    ]);
    // Unreadable terms are left out: the rest of the query still applies.
    assert.deepEqual(parseQuery('dur>1x is:error').terms, [
      { kind: 'flag', flag: SpanFlag.ERROR, negate: false },
    ]);
    assert.equal(queryErrorMessage('dur>100ms'), '', 'a term that reads has no message');
    // Words that name Object.prototype's members are text like any other.
    assert.deepEqual(parseQuery('constructor kind:__proto__'), {
      terms: [{ kind: 'text', field: 'any', text: 'constructor', negate: false }],
      errors: ['kind:__proto__'],
    });
  });
});

describe('time axis', () => {
  it('maps time to pixels and zooms around an anchor', () => {
    const w = { start: 0, end: 100 };
    assert.equal(xOf(50, w, 10, 200), 110);
    assert.equal(timeAt(110, w, 10, 200), 50);
    const z = zoomAt(w, 0.5, 80, 100);
    assert.deepEqual(z, { start: 40, end: 90 });
    assert.equal(xOf(80, z, 0, 100), xOf(80, w, 0, 100), 'the anchor stays put');
    assert.deepEqual(clampWindow({ start: -20, end: 30 }, 100), { start: 0, end: 50 });
    assert.deepEqual(clampWindow({ start: 0, end: 500 }, 100), { start: 0, end: 100 });
    const narrow = zoomAt(w, 1e-9, 50, 100);
    assert.ok(narrow.end - narrow.start > 0.99e-3, 'no narrower than 1 µs');
  });

  it('picks 1-2-5 ticks and formats durations', () => {
    const t = ticks({ start: 0, end: 1000 }, 1000, 80);
    assert.equal(t.step, 100);
    assert.deepEqual(t.times.slice(0, 3), [0, 100, 200]);
    assert.equal(formatDuration(0.8123), '812 µs');
    assert.equal(formatDuration(1210), '1.21 s');
    assert.equal(formatDuration(125_000), '2m 05s');
    assert.equal(formatDuration(12.5), '12.5 ms');
    assert.equal(formatDuration(200, 100), '200 ms');
    assert.equal(formatDuration(2500, 500), '2.5 s');
    assert.equal(formatShare(0.456), '46%');
    assert.equal(formatShare(0.0004), '<0.1%');
  });

  it('scales the scroll range past the browser height limit', () => {
    const small = scrollMap(100, 22, 440);
    assert.equal(small.spacerPx, 2200);
    assert.equal(small.rowAt(220), 10);
    const big = scrollMap(1_000_000, 22, 440, 8_000_000);
    assert.equal(big.spacerPx, 8_000_000);
    assert.equal(big.rowAt(0), 0);
    assert.equal(Math.round(big.rowAt(8_000_000 - 440)), 1_000_000 - 20);
    assert.ok(Math.abs(big.rowAt(big.topOf(500_000)) - 500_000) < 1e-6);
  });
});

describe('keyboard', () => {
  it('maps keys and moves through the tree', () => {
    const m = buildTraceModel(tiny());
    const c = new Uint8Array(8);
    const vis = visibleRows(m, c);
    const move = (sel: number, key: string, shiftKey = false) =>
      moveSelection(m, vis, c, sel, keyAction({ key, shiftKey }, 10)!);
    assert.equal(move(-1, 'ArrowDown').row, 0);
    assert.equal(move(0, 'ArrowDown').row, 1);
    assert.equal(move(0, 'End').row, 7);
    assert.equal(move(5, 'PageUp').row, 0);
    assert.deepEqual(move(3, 'ArrowLeft'), { row: 3, toggleRow: 3, toggleTo: 1 }, 'collapse first');
    assert.equal(move(4, 'ArrowLeft').row, 3, 'then go to the parent');
    assert.equal(move(3, 'ArrowRight').row, 4, 'expanded: first child');
    c[3] = 1;
    assert.deepEqual(move(3, 'ArrowRight'), { row: 3, toggleRow: 3, toggleTo: 0 });
    assert.equal(move(0, 'e').row, 4);
    assert.equal(move(4, 'F8').row, 6);
    assert.equal(move(4, 'E').row, 6, 'previous wraps');
    assert.deepEqual(keyAction({ key: 'f', ctrlKey: true }, 10), { type: 'search' });
    assert.deepEqual(keyAction({ key: '3' }, 10), { type: 'depth', depth: 3 });
    assert.equal(keyAction({ key: 'q' }, 10), undefined);
  });
});

describe('synthetic trace', () => {
  it('is a well-formed pre-order payload of exactly the requested size', () => {
    const p = syntheticTrace(10_000);
    assert.equal(p.spanCount, 10_000);
    for (let i = 1; i < p.spanCount; i++) {
      const par = p.parent[i]!;
      assert.ok(par >= 0 && par < i, `parent precedes row ${i}`);
      assert.equal(p.depth[i], p.depth[par]! + 1);
    }
    const m = buildTraceModel(p);
    assert.ok(m.errorRows.length > 0);
    assert.equal(visibleRows(m, new Uint8Array(p.spanCount)).length, 10_000);
  });
});
