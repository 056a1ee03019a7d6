/**
 * The webview's host client (webview/src/host/host-client.ts) in plain Node: commands posted as
 * they are, requests numbered and answered by promise, superseded requests cancelled and their
 * answers dropped, notifications to subscribers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  isWebviewMessage,
  type HostMessage,
  type WebviewMessage,
} from '../../src/protocol/messages.js';
import { HostClient, RequestCancelled } from '../../webview/src/host/host-client.js';

const TRACE = 'ab'.repeat(16);

function client(): { host: HostClient; sent: WebviewMessage[] } {
  const sent: WebviewMessage[] = [];
  return { host: new HostClient((m) => sent.push(m)), sent };
}

function idOf(m: WebviewMessage | undefined): number {
  assert.ok(m !== undefined && 'requestId' in m);
  return m.requestId;
}

describe('host client', () => {
  it('posts commands as they are', () => {
    const { host, sent } = client();
    host.command({ type: 'ready' });
    host.command({ type: 'setFollow', follow: false });
    assert.deepEqual(sent, [{ type: 'ready' }, { type: 'setFollow', follow: false }]);
  });

  it('numbers requests as the host accepts them and resolves each with its answer', async () => {
    const { host, sent } = client();
    const details = host.request('spanDetails', { traceId: TRACE, version: 1, row: 3 });
    const search = host.request('attributeSearch', {
      traceId: TRACE,
      version: 1,
      terms: [{ key: 'model', negate: false }],
    });
    assert.equal(sent.length, 2);
    assert.ok(sent.every(isWebviewMessage), "the host's guard accepts them");
    const [d, a] = [idOf(sent[0]), idOf(sent[1])];
    assert.notEqual(d, a);
    assert.deepEqual(sent[0], {
      type: 'spanDetails',
      requestId: d,
      traceId: TRACE,
      version: 1,
      row: 3,
    });

    // Answers in any order; one of the wrong type, or for no request, is dropped.
    host.receive({ type: 'spanDetailsResponse', requestId: a, details: null, error: 'x' });
    host.receive({ type: 'attributeSearchResponse', requestId: 999, rows: [] });
    host.receive({ type: 'attributeSearchResponse', requestId: a, rows: [1, 2] });
    host.receive({ type: 'spanDetailsResponse', requestId: d, details: null, error: 'gone' });
    assert.deepEqual(await search, { type: 'attributeSearchResponse', requestId: a, rows: [1, 2] });
    assert.equal((await details).error, 'gone');
    assert.equal(host.inFlight, 0);
    // A second answer to a settled request changes nothing.
    host.receive({ type: 'spanDetailsResponse', requestId: d, details: null });
    assert.equal(host.inFlight, 0);
  });

  it('cancels the request a newer one on its channel supersedes, and drops its answer', async () => {
    const { host, sent } = client();
    const first = host.request(
      'spanDetails',
      { traceId: TRACE, version: 1, row: 1 },
      { channel: 'd' },
    );
    const second = host.request(
      'spanDetails',
      { traceId: TRACE, version: 1, row: 2 },
      { channel: 'd' },
    );
    // Another channel is not affected.
    const other = host.request(
      'spanDetails',
      { traceId: TRACE, version: 1, row: 7 },
      { channel: 'e' },
    );
    await assert.rejects(
      first,
      (e: unknown) => e instanceof RequestCancelled && e.request === 'spanDetails',
    );
    let firstAnswered = false;
    first.then(
      () => (firstAnswered = true),
      () => {},
    );
    host.receive({
      type: 'spanDetailsResponse',
      requestId: idOf(sent[0]),
      details: null,
      error: 'late',
    });
    host.receive({
      type: 'spanDetailsResponse',
      requestId: idOf(sent[1]),
      details: null,
      error: 'two',
    });
    host.receive({
      type: 'spanDetailsResponse',
      requestId: idOf(sent[2]),
      details: null,
      error: 'seven',
    });
    assert.equal((await second).error, 'two');
    assert.equal((await other).error, 'seven');
    assert.equal(firstAnswered, false);

    // Cancelled outright: rejects; cancelling an idle channel is a no-op.
    const third = host.request(
      'spanDetails',
      { traceId: TRACE, version: 1, row: 3 },
      { channel: 'd' },
    );
    host.cancel('d');
    host.cancel('d');
    await assert.rejects(third, RequestCancelled);
    assert.equal(host.inFlight, 0);
  });

  it('hands notifications to every subscriber, and answers to none', () => {
    const { host } = client();
    const a: HostMessage[] = [];
    const b: HostMessage[] = [];
    host.onNotification((n) => a.push(n));
    const off = host.onNotification((n) => b.push(n));
    host.receive({ type: 'follow', follow: false });
    off();
    host.receive({ type: 'cleared' });
    host.receive({ type: 'spanDetailsResponse', requestId: 1, details: null });
    assert.deepEqual(a, [{ type: 'follow', follow: false }, { type: 'cleared' }]);
    assert.deepEqual(b, [{ type: 'follow', follow: false }]);
  });
});
