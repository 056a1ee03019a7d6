/**
 * The decisions around a scaffolding edit (src/core/scaffold/command-choices.ts): notices per
 * status, protocol and endpoint, the default `service.name` and what the input boxes accept.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultServiceName,
  endpointFor,
  protocolFor,
  resultNotices,
  validateServiceName,
  validateSpanName,
} from '../../src/core/scaffold/command-choices.js';

describe('notices per status', () => {
  test('edited shows the core messages, with their severity', () => {
    assert.deepEqual(resultNotices({ status: 'edited', messages: [] }), []);
    assert.deepEqual(
      resultNotices({
        status: 'edited',
        messages: [
          { severity: 'info', text: 'Kafka producer.' },
          { severity: 'warning', text: 'No context in scope: used context.Background().' },
        ],
      }),
      [
        { severity: 'info', text: 'Stagelight: Kafka producer.' },
        {
          severity: 'warning',
          text: 'Stagelight: No context in scope: used context.Background().',
        },
      ],
    );
  });
  test('already-instrumented is information, unsupported and not-found are warnings', () => {
    assert.deepEqual(
      resultNotices({
        status: 'already-instrumented',
        messages: [{ severity: 'info', text: 'rerank already starts a span.' }],
      }),
      [{ severity: 'info', text: 'Stagelight: rerank already starts a span.' }],
    );
    assert.equal(
      resultNotices({
        status: 'unsupported',
        messages: [{ severity: 'error', text: 'A generator cannot be traced.' }],
      })[0]?.severity,
      'warning',
    );
    const [fallback] = resultNotices({ status: 'not-found', messages: [] });
    assert.equal(fallback?.severity, 'warning');
    assert.match(fallback?.text ?? '', /^Stagelight: nothing to instrument/);
  });
});

describe('protocol and endpoint', () => {
  test('auto: HTTP for TS/JS, gRPC elsewhere; a fixed setting wins', () => {
    assert.equal(protocolFor('typescript', 'auto'), 'http');
    assert.equal(protocolFor('javascript', 'auto'), 'http');
    for (const l of ['python', 'go', 'java'] as const) assert.equal(protocolFor(l, 'auto'), 'grpc');
    assert.equal(protocolFor('typescript', 'grpc'), 'grpc');
    assert.equal(protocolFor('python', 'http'), 'http');
  });
  test("the running receiver's actual URLs, else the configured ports", () => {
    const running = { grpc: 'http://127.0.0.1:4327', http: 'http://127.0.0.1:4328' };
    const configured = { grpcPort: 4317, httpPort: 4318 };
    assert.equal(endpointFor('grpc', running, configured), 'http://127.0.0.1:4327');
    assert.equal(endpointFor('http', running, configured), 'http://127.0.0.1:4328');
    assert.equal(endpointFor('grpc', undefined, configured), 'http://127.0.0.1:4317');
    assert.equal(
      endpointFor('http', undefined, { grpcPort: 0, httpPort: 0 }),
      'http://127.0.0.1:4318',
    );
  });
});

describe('names', () => {
  test('service.name defaults and validation', () => {
    assert.equal(defaultServiceName('ranker', '/w/ws', '/w/ws/src/model.py'), 'ranker');
    assert.equal(
      defaultServiceName(undefined, '/w/My Project', '/w/My Project/model.py'),
      'My-Project',
    );
    assert.equal(defaultServiceName(undefined, undefined, '/x/embed_docs.py'), 'embed_docs');
    assert.equal(validateServiceName(' ranker '), undefined);
    assert.ok(validateServiceName('  '));
    assert.ok(validateServiceName('a"b'));
    assert.equal(validateSpanName('Reranker.rerank'), undefined);
    assert.ok(validateSpanName('x\ny'));
  });
});
