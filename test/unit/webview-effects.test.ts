/**
 * The effect runner (webview/src/effects.ts) between the store and a host client, in plain
 * Node with a stand-in host and DOM: the details of the latest selection only, attribute
 * answers back into the filter, commands, scrolls and focus.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { WebviewMessage } from '../../src/protocol/messages.js';
import { createEffectRunner, type EffectTarget } from '../../webview/src/effects.js';
import { HostClient } from '../../webview/src/host/host-client.js';
import { createStore } from '../../webview/src/state/store.js';
import { initialViewState } from '../../webview/src/state/view-state.js';
import { spanDetailsOf, tinyTrace } from './helpers/webview-trace.js';

function setup() {
  const sent: WebviewMessage[] = [];
  const host = new HostClient((m) => sent.push(m));
  const dom: string[] = [];
  const target: EffectTarget = {
    scroll: (e) => dom.push(`scroll ${e.to}${'row' in e ? ` ${e.row}` : ''}`),
    focus: (t) => dom.push(`focus ${t}`),
  };
  const store = createStore(initialViewState());
  store.subscribe(createEffectRunner(host, store.dispatch, target));
  host.onNotification((message) => store.dispatch({ type: 'host', message }));
  host.receive({ type: 'trace', trace: tinyTrace(), reason: 'open' });
  return { sent, host, dom, store };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('effect runner', () => {
  it('shows the details of the latest selection, whatever order the answers come in', async () => {
    const { sent, host, store, dom } = setup();
    assert.deepEqual(dom, ['scroll top']);
    store.dispatch({ type: 'select', row: 1, details: true });
    store.dispatch({ type: 'select', row: 3, details: true, scroll: true });
    const asks = sent.filter((m) => m.type === 'spanDetails');
    assert.deepEqual(
      asks.map((m) => m.row),
      [1, 3],
    );
    assert.deepEqual(dom, ['scroll top', 'scroll row 3']);
    // The newer answer first, then the superseded one: the latter must not replace it.
    host.receive({
      type: 'spanDetailsResponse',
      requestId: asks[1]!.requestId,
      details: spanDetailsOf(3, 'b'),
    });
    host.receive({
      type: 'spanDetailsResponse',
      requestId: asks[0]!.requestId,
      details: spanDetailsOf(1, 'a'),
    });
    await tick();
    const d = store.getState().details;
    assert.equal(d.kind === 'shown' ? d.details.name : d.kind, 'b');
  });

  it('feeds attribute answers back into the filter, and posts commands', async () => {
    const { sent, host, store, dom } = setup();
    store.dispatch({ type: 'setQuery', query: 'attr:model=bert' });
    const ask = sent.find((m) => m.type === 'attributeSearch');
    assert.ok(ask?.type === 'attributeSearch');
    assert.deepEqual(ask.terms, [{ key: 'model', value: 'bert', negate: false }]);
    host.receive({ type: 'attributeSearchResponse', requestId: ask.requestId, rows: [2] });
    await tick();
    assert.deepEqual([...store.getState().visible], [0, 1, 2]);

    store.dispatch({ type: 'openTrace', traceId: 'c'.repeat(32) });
    store.dispatch({ type: 'key', action: { type: 'search' } });
    assert.deepEqual(sent.at(-1), { type: 'selectTrace', traceId: 'c'.repeat(32) });
    assert.equal(dom.at(-1), 'focus search');
  });
});
