/** `src/core/api/traces-view-message.ts`: the Traces view's line above its list. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tracesViewMessage, WELCOME_PORTS } from '../../src/core/api/traces-view-message.js';

const at = (grpc: number, http: number) => ({
  grpc: `http://127.0.0.1:${grpc}`,
  http: `http://127.0.0.1:${http}`,
});

describe('tracesViewMessage', () => {
  it('names the filter and what is held when the filter matches nothing', () => {
    assert.equal(
      tracesViewMessage({ endpoints: at(4317, 4318), held: 120, shown: 0, filterText: 'rerank' }),
      'No trace matches "rerank" (120 traces held).',
    );
    assert.equal(
      tracesViewMessage({ endpoints: at(4317, 4318), held: 1, shown: 0, filterText: '>5s' }),
      'No trace matches ">5s" (1 trace held).',
    );
  });

  it('says nothing while the list shows traces, or the welcome is right', () => {
    assert.equal(
      tracesViewMessage({ endpoints: at(4317, 4318), held: 120, shown: 3, filterText: 'x' }),
      undefined,
    );
    // Nothing held, the usual ports: the welcome's "Waiting for traces" (filter or not).
    assert.equal(
      tracesViewMessage({ endpoints: at(4317, 4318), held: 0, shown: 0, filterText: 'x' }),
      undefined,
    );
    // Stopped: the welcome's "not running".
    assert.equal(
      tracesViewMessage({ endpoints: undefined, held: 0, shown: 0, filterText: '' }),
      undefined,
    );
  });

  it('gives the ports actually bound when they are not the usual ones', () => {
    const text = tracesViewMessage({
      endpoints: at(4319, 4320),
      held: 0,
      shown: 0,
      filterText: '',
    });
    assert.ok(text !== undefined && text.startsWith('Waiting for traces.'), text);
    assert.match(text, /OTLP\/gRPC on 127\.0\.0\.1:4319, OTLP\/HTTP on 127\.0\.0\.1:4320/);
    assert.doesNotMatch(text, /4317|4318/);
    // One of the two moved is enough.
    assert.match(
      tracesViewMessage({ endpoints: at(4317, 4320), held: 0, shown: 0, filterText: '' }) ?? '',
      /OTLP\/HTTP on 127\.0\.0\.1:4320/,
    );
  });

  it('WELCOME_PORTS are the ports the Traces view welcome text names', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      contributes: { viewsWelcome: Array<{ view: string; contents: string; when?: string }> };
    };
    const waiting = pkg.contributes.viewsWelcome.find(
      (w) => w.view === 'stagelight.traces' && w.when === 'stagelight.receiverRunning',
    );
    assert.ok(waiting !== undefined, 'the welcome shown while the receiver runs');
    const named = [...waiting.contents.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
    // Every port it names is one of the two the message compares with.
    for (const port of named) {
      assert.ok(port === WELCOME_PORTS.grpc || port === WELCOME_PORTS.http, `port ${port}`);
    }
  });
});
