/**
 * The waterfall's view state (webview/src/state): the reducer over host messages and user
 * actions, and the store, in plain Node. What the App class did by hand, checked as data: held
 * traces, updates that keep the view, the filter, the selection and its details, keys, the time
 * window, the widths, and the effects each action asks for.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  SpanFlag,
  type HostNotification,
  type SpanDetails,
  type TracePayload,
} from '../../src/protocol/messages.js';
import type { KeyAction } from '../../webview/src/model/keyboard.js';
import type { Action } from '../../webview/src/state/actions.js';
import { matchBadgeText } from '../../webview/src/state/filter.js';
import { persistedChanged, persistedOf, readPersisted } from '../../webview/src/state/persisted.js';
import { reduce } from '../../webview/src/state/reduce.js';
import { createStore } from '../../webview/src/state/store.js';
import {
  DETAILS_PROMPT,
  initialViewState,
  type Effect,
  type ViewState,
} from '../../webview/src/state/view-state.js';
import { payloadOf, spanDetailsOf, tinyTrace, type SpanRow } from './helpers/webview-trace.js';

const run = (s: ViewState, ...actions: Action[]): ViewState => actions.reduce(reduce, s);
const host = (message: HostNotification): Action => ({ type: 'host', message });
const open = (trace: TracePayload, extra: { requested?: boolean; selectRow?: number } = {}) =>
  host({ type: 'trace', trace, reason: 'open', ...extra });
const update = (trace: TracePayload) => host({ type: 'trace', trace, reason: 'update' });
const key = (action: KeyAction): Action => ({ type: 'key', action });
const effectsOf = <T extends Effect['type']>(s: ViewState, type: T) =>
  s.effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
const posted = (s: ViewState) => effectsOf(s, 'post').map((e) => e.command);

const ID_A = 'a'.repeat(32);
const ID_B = 'b'.repeat(32);

/** A tiny trace shown, nothing selected. */
function shown(trace = tinyTrace()): ViewState {
  return run(initialViewState(), open(trace));
}

describe('view state: traces from the host', () => {
  it('shows a trace: model, rows, the whole window, scrolled to the top', () => {
    const s = shown();
    assert.equal(s.model?.payload.traceId, 'ab'.repeat(16));
    assert.deepEqual([...s.visible], [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(s.window, { start: 0, end: 100 });
    assert.deepEqual(s.effects, [{ type: 'scroll', to: 'top' }]);
    assert.equal(s.selected, -1);
    assert.deepEqual(s.details, { kind: 'empty', text: DETAILS_PROMPT });
  });

  it('holds a pushed trace while a span is selected, unless the user asked for it', () => {
    const inspecting = run(shown(), { type: 'select', row: 4, details: true });
    const held = run(inspecting, open({ ...tinyTrace(), traceId: ID_A }));
    assert.equal(held.pending?.trace.traceId, ID_A, 'held behind the banner');
    assert.equal(held.model, inspecting.model, 'the inspected trace stays');
    assert.equal(held.selected, 4);

    const asked = run(held, open({ ...tinyTrace(), traceId: ID_B }, { requested: true }));
    assert.equal(asked.model?.payload.traceId, ID_B, 'a requested trace shows at once');
    assert.equal(asked.pending, null);
    assert.equal(asked.selected, -1);

    // A lens click names a row: that is asking too, and the row is selected with its details.
    const lens = run(held, open({ ...tinyTrace(), traceId: ID_B }, { selectRow: 5 }));
    assert.equal(lens.model?.payload.traceId, ID_B);
    assert.equal(lens.selected, 5);
    assert.equal(lens.details.kind, 'loading');
    assert.equal(effectsOf(lens, 'requestDetails')[0]?.row, 5);

    // Without a selection nothing is being inspected: a pushed trace shows.
    const idle = run(shown(), open({ ...tinyTrace(), traceId: ID_A }));
    assert.equal(idle.model?.payload.traceId, ID_A);
    assert.equal(idle.pending, null);
  });

  it('shows the held trace on "Show latest", or when the inspection ends while following', () => {
    const held = run(shown(), { type: 'select', row: 4 }, open({ ...tinyTrace(), traceId: ID_A }));
    const latest = run(held, { type: 'showPending' });
    assert.equal(latest.model?.payload.traceId, ID_A);
    assert.equal(latest.pending, null);
    assert.equal(latest.selected, -1);

    const done = run(held, key({ type: 'escape' }));
    assert.equal(done.model?.payload.traceId, ID_A, 'Escape ends the inspection');

    // Turned off by the user, following forgets the held trace; the host's word does not.
    const off = run(held, { type: 'setFollow', follow: false });
    assert.equal(off.pending, null);
    assert.deepEqual(posted(off), [{ type: 'setFollow', follow: false }]);
    const hostOff = run(held, host({ type: 'follow', follow: false }));
    assert.equal(hostOff.follow, false);
    assert.equal(hostOff.pending?.trace.traceId, ID_A);
    assert.equal(hostOff.effects.length, 0, 'nothing is sent back');
    const notFollowing = run(hostOff, { type: 'clearSelection' });
    assert.equal(notFollowing.model?.payload.traceId, 'ab'.repeat(16), 'not following: stays');
    assert.equal(notFollowing.pending?.trace.traceId, ID_A);
  });

  it('keeps collapsed rows, the selection and a zoomed window across an update, by identity', () => {
    const v1: SpanRow[] = [
      { name: 'root', service: 'gw', parent: -1, start: 0, duration: 100 },
      { name: 'a', service: 'gw', parent: 0, start: 0, duration: 50 },
      { name: 'a1', service: 'db', parent: 1, start: 5, duration: 10 },
      { name: 'b', service: 'gw', parent: 0, start: 50, duration: 40 },
      { name: 'b1', service: 'db', parent: 3, start: 55, duration: 10 },
    ];
    // A span arrived under `a`, before `a1`, and one at the end that makes the trace longer.
    const v2: SpanRow[] = [
      v1[0]!,
      v1[1]!,
      { name: 'x', service: 'db', parent: 1, start: 2, duration: 1 },
      { ...v1[2]!, parent: 1 },
      { ...v1[3]! },
      { ...v1[4]!, parent: 4 },
      { name: 'c', service: 'gw', parent: 0, start: 95, duration: 20 },
    ];
    const before = run(
      initialViewState(),
      open(payloadOf(v1)),
      { type: 'select', row: 2 },
      { type: 'toggle', row: 3 },
    );
    assert.deepEqual([...before.visible], [0, 1, 2, 3]);

    const after = run(before, update(payloadOf(v2, { version: 2 })));
    assert.equal(after.selected, 3, 'a1 moved from row 2 to row 3');
    assert.equal(after.collapsed[4], 1, 'b moved from row 3 to row 4, still collapsed');
    assert.deepEqual([...after.visible], [0, 1, 2, 3, 4, 6]);
    assert.deepEqual(after.window, { start: 0, end: 115 }, 'a whole-trace window grows');
    assert.equal(effectsOf(after, 'scroll').length, 0, 'the scroll position stays');

    const zoomed = run(before, { type: 'setWindow', window: { start: 10, end: 30 } });
    assert.deepEqual(
      run(zoomed, update(payloadOf(v2, { version: 2 }))).window,
      { start: 10, end: 30 },
      'a zoomed window stays where it was',
    );

    // The same trace opened again (not an update) starts afresh.
    const reopened = run(before, open(payloadOf(v2, { version: 2 }), { requested: true }));
    assert.equal(reopened.selected, -1);
    assert.equal(
      reopened.collapsed.every((c) => c === 0),
      true,
    );
  });

  it('refuses a malformed trace with a notice, and keeps what it showed', () => {
    const s = shown();
    const bad = run(s, open({ ...tinyTrace(), depth: new Uint16Array(2) }));
    assert.equal(bad.model, s.model);
    assert.match(bad.notice ?? '', /could not be shown/);
    assert.equal(run(bad, open(tinyTrace(), { requested: true })).notice, null);
  });

  it('lists recent traces, keeps the insights, and forgets everything on cleared', () => {
    const traces = [
      {
        traceId: ID_A,
        rootService: 'gw',
        rootName: 'r',
        startMs: 0,
        durationMs: 1,
        spanCount: 1,
        errorCount: 0,
      },
    ];
    const insights = {
      type: 'insights' as const,
      traceId: null,
      traces: 0,
      findings: [],
      explain: [],
      baseline: { state: 'none' as const, message: 'none' },
    };
    const s = run(
      shown(),
      host({ type: 'traceList', traces }),
      host(insights),
      { type: 'select', row: 1 },
      open({ ...tinyTrace(), traceId: ID_A }),
    );
    assert.equal(s.traces, traces);
    assert.equal(s.insights, insights);
    const cleared = run(s, host({ type: 'cleared' }));
    assert.equal(cleared.model, null);
    assert.equal(cleared.pending, null);
    assert.equal(cleared.selected, -1);
    assert.deepEqual(cleared.traces, []);
    assert.equal(cleared.insights, 'cleared');
    assert.deepEqual(cleared.details, { kind: 'empty', text: DETAILS_PROMPT });
  });

  it('asks the host to open a trace only for a trace id', () => {
    assert.deepEqual(posted(run(shown(), { type: 'openTrace', traceId: ID_A })), [
      { type: 'selectTrace', traceId: ID_A },
    ]);
    assert.deepEqual(posted(run(shown(), { type: 'openTrace', traceId: '' })), []);
  });
});

describe('view state: filter', () => {
  it('filters to matches and their ancestors, or highlights them', () => {
    const s = run(shown(), { type: 'setQuery', query: 'is:error' });
    assert.deepEqual([...s.filter.matchRows], [4, 6]);
    assert.deepEqual([...s.visible], [0, 3, 4, 6]);
    assert.equal(matchBadgeText(s.filter), '2 matches');
    const h = run(s, { type: 'setFilterMode', mode: 'highlight' });
    assert.equal(h.filter.mask, null);
    assert.deepEqual([...h.visible], [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(h.filter.matches?.[4], 1);
    assert.equal(matchBadgeText(run(s, { type: 'setQuery', query: '' }).filter), '');
    assert.equal(
      matchBadgeText(run(s, { type: 'setQuery', query: 'kind:nope' }).filter),
      '? kind:nope',
    );
  });

  it('drops the filter when a row it hides is selected', () => {
    const filtered = run(shown(), { type: 'setQuery', query: 'is:error' });
    const s = run(filtered, { type: 'select', row: 1, scroll: true });
    assert.equal(s.selected, 1);
    assert.equal(s.query, '', 'the search box empties');
    assert.equal(s.filter.mask, null);
    assert.deepEqual([...s.visible], [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(effectsOf(s, 'scroll'), [{ type: 'scroll', to: 'row', row: 1 }]);
    // A row the filter keeps leaves it alone.
    assert.equal(run(filtered, { type: 'select', row: 4 }).query, 'is:error');
  });

  it('asks the host about attribute terms once per trace version and terms', () => {
    const s = run(shown(), { type: 'setQuery', query: 'attr:model.name=bert' });
    const [ask] = effectsOf(s, 'searchAttributes');
    assert.ok(ask);
    assert.deepEqual(ask.terms, [{ key: 'model.name', value: 'bert', negate: false }]);
    assert.equal(s.filter.searching, true);
    assert.equal(matchBadgeText(s.filter), 'searching attributes…');
    assert.deepEqual([...s.visible], [], 'nothing matches until the host answers');

    const stale = run(s, {
      type: 'attributeSearchResult',
      key: 'another question',
      response: { type: 'attributeSearchResponse', requestId: 1, rows: [0] },
    });
    assert.equal(
      stale.attributeSearch,
      s.attributeSearch,
      'an answer to another question: dropped',
    );
    assert.equal(stale.filter, s.filter);

    const answered = run(s, {
      type: 'attributeSearchResult',
      key: ask.key,
      response: { type: 'attributeSearchResponse', requestId: 1, rows: [5] },
    });
    assert.equal(answered.filter.searching, false);
    assert.deepEqual([...answered.filter.matchRows], [5]);
    assert.deepEqual([...answered.visible], [0, 3, 5]);
    assert.equal(effectsOf(answered, 'searchAttributes').length, 0);

    // The same terms again, with a text term added: the answer is reused.
    const more = run(answered, { type: 'setQuery', query: 'attr:model.name=bert b2' });
    assert.equal(effectsOf(more, 'searchAttributes').length, 0);
    assert.deepEqual([...more.filter.matchRows], [5]);
    // A new version of the trace is a new question.
    const grown = run(more, update({ ...tinyTrace(), version: 2 }));
    assert.equal(effectsOf(grown, 'searchAttributes').length, 1);
    assert.equal(grown.filter.searching, true);
  });
});

describe('view state: selection and details', () => {
  it('asks nothing of the host for a placeholder row: it says the span has not arrived', () => {
    const trace = payloadOf([
      {
        name: 'f00d (not received yet)',
        service: '',
        parent: -1,
        start: 0,
        duration: 10,
        flags: SpanFlag.PLACEHOLDER,
      },
      {
        name: 'preprocessing',
        service: 'api',
        parent: 0,
        start: 0,
        duration: 4,
        flags: SpanFlag.ORPHAN,
      },
    ]);
    const s = run(shown(trace), { type: 'select', row: 0, details: true });
    assert.equal(s.selected, 0);
    assert.deepEqual(effectsOf(s, 'requestDetails'), []);
    assert.equal(s.details.kind, 'empty');
    assert.match(s.details.kind === 'empty' ? s.details.text : '', /f00d .*has not arrived/);
    assert.equal(s.model?.placeholderRows, 1);
    // Its orphan is a span like any other.
    assert.equal(
      effectsOf(run(s, { type: 'select', row: 1, details: true }), 'requestDetails').length,
      1,
    );
  });

  it('asks for details and shows the answer to the latest request only', () => {
    const s = run(shown(), { type: 'select', row: 3, details: true });
    assert.deepEqual(s.details, {
      kind: 'loading',
      key: `${'ab'.repeat(16)}/1/3`,
      row: 3,
      name: 'b',
    });
    const [ask] = effectsOf(s, 'requestDetails');
    assert.deepEqual(ask, {
      type: 'requestDetails',
      key: `${'ab'.repeat(16)}/1/3`,
      traceId: 'ab'.repeat(16),
      version: 1,
      row: 3,
    });
    const answer = (k: string, d: SpanDetails | null): Action => ({
      type: 'spanDetailsResult',
      key: k,
      response: {
        type: 'spanDetailsResponse',
        requestId: 1,
        details: d,
        ...(d === null ? { error: 'gone' } : {}),
      },
    });
    const next = run(s, { type: 'select', row: 5, details: true });
    assert.equal(
      run(next, answer(ask!.key, spanDetailsOf(3, 'b'))).details,
      next.details,
      'dropped',
    );
    const five = effectsOf(next, 'requestDetails')[0]!;
    const done = run(next, answer(five.key, spanDetailsOf(5, 'b2')));
    assert.equal(done.details.kind, 'shown');
    assert.equal(done.details.kind === 'shown' ? done.details.details.name : '', 'b2');
    assert.deepEqual(run(next, answer(five.key, null)).details, { kind: 'empty', text: 'gone' });
    // Deselected meanwhile: a late answer does not bring the details back.
    const closed = run(next, { type: 'clearSelection' });
    assert.equal(run(closed, answer(five.key, spanDetailsOf(5, 'b2'))).details, closed.details);
  });

  it('reveals a row under a collapsed ancestor, and zooms to it when asked', () => {
    const s = run(
      shown(),
      { type: 'collapseAll' },
      { type: 'setWindow', window: { start: 0, end: 5 } },
    );
    assert.deepEqual([...s.visible], [0, 7]);
    const sel = run(s, { type: 'select', row: 4, zoom: true });
    assert.deepEqual([...sel.visible], [0, 1, 3, 4, 5, 6, 7], 'its ancestors 0 and 3 opened');
    assert.ok(sel.window.start <= 10 && sel.window.end >= 14, 'the span is in the window');
    assert.equal(s.collapsed[3], 1, 'the earlier state is unchanged');
    // Out of range: nothing happens.
    assert.equal(run(s, { type: 'select', row: 99 }), s);
  });

  it('moves the selection to its nearest visible ancestor when it is collapsed away', () => {
    const s = run(shown(), { type: 'select', row: 4 }, { type: 'expandToDepth', depth: 1 });
    assert.deepEqual([...s.visible], [0, 1, 3, 6, 7]);
    assert.equal(s.selected, 3);
    assert.equal(s.details.kind, 'loading');
    assert.deepEqual(effectsOf(s, 'scroll').at(-1), { type: 'scroll', to: 'row', row: 3 });
  });

  it('goes to the next and previous error, wrapping around', () => {
    const first = run(shown(), { type: 'gotoError', dir: 1 });
    assert.equal(first.selected, 4);
    assert.equal(run(first, { type: 'gotoError', dir: 1 }).selected, 6);
    assert.equal(run(first, { type: 'gotoError', dir: -1 }).selected, 6);
    assert.equal(run(shown(), { type: 'gotoError', dir: -1 }).selected, 6);
  });

  it('opens the source only for a span that has one', () => {
    const trace = tinyTrace();
    trace.flags[2] = (trace.flags[2] as number) | SpanFlag.HAS_SOURCE;
    assert.deepEqual(
      posted(run(shown(trace), { type: 'select', row: 2 }, { type: 'openSource' })),
      [{ type: 'openSource', traceId: 'ab'.repeat(16), version: 1, row: 2 }],
    );
    assert.deepEqual(
      posted(run(shown(trace), { type: 'select', row: 3 }, key({ type: 'source' }))),
      [],
    );
  });
});

describe('view state: keys', () => {
  it('moves, collapses and expands like a tree', () => {
    let s = run(shown(), key({ type: 'move', by: 1 }));
    assert.equal(s.selected, 0, 'down from no selection: the first row');
    s = run(s, key({ type: 'move', by: 3 }));
    assert.equal(s.selected, 3);
    s = run(s, key({ type: 'left' }));
    assert.equal(s.collapsed[3], 1, 'left on an open parent collapses it');
    assert.equal(s.selected, 3);
    s = run(s, key({ type: 'left' }));
    assert.equal(s.selected, 0, 'left again goes to the parent');
    s = run(s, key({ type: 'end' }));
    assert.equal(s.selected, 7);
    s = run(s, key({ type: 'error', dir: 1 }));
    assert.equal(s.selected, 4, 'next error reveals it');
    assert.equal(s.collapsed[3], 0);
  });

  it('Escape clears the search first, then the selection', () => {
    const s = run(shown(), { type: 'select', row: 4 }, { type: 'setQuery', query: 'b' });
    const once = run(s, key({ type: 'escape' }));
    assert.equal(once.query, '');
    assert.equal(once.selected, 4);
    const twice = run(once, key({ type: 'escape' }));
    assert.equal(twice.selected, -1);
    assert.equal(twice.details.kind, 'empty');
  });

  it('Enter asks for the details again and moves the focus to them; / and F', () => {
    const s = run(shown(), { type: 'select', row: 2 }, key({ type: 'details' }));
    assert.equal(s.details.kind, 'loading');
    assert.deepEqual(effectsOf(s, 'focus'), [{ type: 'focus', target: 'details' }]);
    assert.deepEqual(run(shown(), key({ type: 'details' })).effects, [], 'nothing selected');
    assert.deepEqual(run(shown(), key({ type: 'search' })).effects, [
      { type: 'focus', target: 'search' },
    ]);
    const f = run(shown(), key({ type: 'follow' }));
    assert.equal(f.follow, false);
    assert.deepEqual(posted(f), [{ type: 'setFollow', follow: false }]);
  });

  it('zooms, pans and resets the window; Z fits the selected span', () => {
    const z = run(shown(), key({ type: 'zoom', factor: 0.5 }));
    assert.deepEqual(z.window, { start: 25, end: 75 });
    const p = run(z, key({ type: 'pan', by: 0.2 }));
    assert.deepEqual(p.window, { start: 35, end: 85 });
    assert.deepEqual(run(p, key({ type: 'resetZoom' })).window, { start: 0, end: 100 });
    const fit = run(shown(), { type: 'select', row: 6 }, key({ type: 'zoomToSpan' }));
    assert.deepEqual(fit.window, { start: 34, end: 100 }, '5% margins, kept inside the trace');
    // Without a trace, keys that need one do nothing.
    const empty = initialViewState();
    assert.equal(run(empty, key({ type: 'zoom', factor: 0.5 })), empty);
  });
});

describe('view state: time window and widths', () => {
  it('keeps every window inside the trace', () => {
    const s = shown();
    assert.deepEqual(run(s, { type: 'setWindow', window: { start: -50, end: 20 } }).window, {
      start: 0,
      end: 70,
    });
    assert.deepEqual(run(s, { type: 'zoom', factor: 0.5, anchor: 100 }).window, {
      start: 50,
      end: 100,
    });
    assert.deepEqual(run(s, { type: 'pan', byMs: 1000 }).window, { start: 0, end: 100 });
  });

  it('jumps from the minimap: the window centred on the time, the row a few below the top', () => {
    const s = run(shown(), { type: 'setWindow', window: { start: 0, end: 20 } });
    const j = run(s, { type: 'minimapJump', time: 50, row: 6 });
    assert.deepEqual(j.window, { start: 40, end: 60 });
    assert.deepEqual(j.effects, [{ type: 'scroll', to: 'index', index: 3 }]);
  });

  it('clamps the tree column and the side panel', () => {
    const s = shown();
    assert.equal(run(s, { type: 'resizeTree', x: 10, width: 1000 }).treeWidth, 140);
    assert.equal(run(s, { type: 'resizeTree', x: 950, width: 1000 }).treeWidth, 840);
    assert.equal(run(s, { type: 'resized', width: 400 }).treeWidth, 240);
    assert.equal(run(s, { type: 'resized', width: 1000 }).treeWidth, 320, 'wide enough: kept');
    assert.equal(run(s, { type: 'resizeDetails', px: 100, windowWidth: 1400 }).detailsWidth, 220);
    assert.equal(run(s, { type: 'resizeDetails', px: 1300, windowWidth: 1400 }).detailsWidth, 1040);
    assert.equal(run(s, { type: 'resizeDetails', px: 500, windowWidth: 1400 }).detailsWidth, 500);
  });
});

describe('view state: what the webview remembers', () => {
  it('starts with the remembered panel width, read defensively', () => {
    assert.equal(initialViewState(readPersisted({ detailsWidth: 512 })).detailsWidth, 512);
    assert.equal(initialViewState().detailsWidth, 380);
    assert.deepEqual(readPersisted({ detailsWidth: 'wide' }), {});
    assert.deepEqual(readPersisted({ detailsWidth: -3 }), {});
    assert.deepEqual(readPersisted(null), {});
    const wider = run(shown(), { type: 'resizeDetails', px: 500, windowWidth: 1400 });
    assert.deepEqual(persistedOf(wider), {
      detailsWidth: 500,
      follow: true,
      traceId: 'ab'.repeat(16),
    });
  });

  it('remembers the trace shown and whether it followed live, for a window reload', () => {
    const held = run(shown(), { type: 'setFollow', follow: false });
    assert.deepEqual(persistedOf(held), {
      detailsWidth: 380,
      follow: false,
      traceId: 'ab'.repeat(16),
    });
    assert.ok(persistedChanged(held, shown()), 'following stopped: saved again');
    assert.ok(persistedChanged(shown(), initialViewState()), 'a trace shown: saved again');
    assert.ok(!persistedChanged(run(shown(), { type: 'hover', row: 2 }), shown()));
    // What the host reads back when VS Code restores the panel.
    assert.deepEqual(readPersisted({ traceId: ID_A, follow: false, detailsWidth: 400 }), {
      traceId: ID_A,
      follow: false,
      detailsWidth: 400,
    });
    assert.deepEqual(readPersisted({ traceId: 'not an id', follow: 'yes' }), {});
  });
});

describe('view state: where the receiver listens', () => {
  it('keeps the endpoints the host names, for the empty state', () => {
    const endpoints = { grpc: 'http://127.0.0.1:4319', http: 'http://127.0.0.1:4320' };
    const s = run(initialViewState(), host({ type: 'receiver', endpoints }));
    assert.deepEqual(s.receiver, endpoints);
    assert.equal(run(s, host({ type: 'receiver', endpoints: null })).receiver, null);
    // A clear keeps it: the receiver still listens there.
    assert.deepEqual(run(s, host({ type: 'cleared' })).receiver, endpoints);
  });
});

describe('view state: effects and the store', () => {
  it("holds only the latest action's effects", () => {
    const s = run(shown(), { type: 'select', row: 2, details: true, scroll: true });
    assert.equal(s.effects.length, 2);
    const next = run(s, { type: 'hover', row: 1 });
    assert.deepEqual(next.effects, []);
    assert.equal(next.hover, 1);
    const same = run(next, { type: 'hover', row: 1 });
    assert.equal(same, next, 'nothing changed: the same state');
  });

  it('notifies listeners with the state before, in order, queueing what they dispatch', () => {
    const store = createStore(initialViewState());
    const seen: string[] = [];
    store.subscribe((s, previous) => {
      seen.push(`${previous.model === null ? 'none' : 'trace'} -> ${s.selected}`);
      // An action dispatched from a listener runs after every listener saw this state.
      if (s.model !== null && s.selected < 0 && previous.model === null) {
        store.dispatch({ type: 'select', row: 3 });
      }
    });
    store.subscribe((s) => seen.push(`second sees ${s.selected}`));
    store.dispatch(open(tinyTrace()));
    assert.deepEqual(seen, ['none -> -1', 'second sees -1', 'trace -> 3', 'second sees 3']);
    assert.equal(store.getState().selected, 3);
    const before = seen.length;
    store.dispatch({ type: 'hover', row: -1 });
    assert.equal(seen.length, before, 'an action that changes nothing notifies no one');
  });
});
