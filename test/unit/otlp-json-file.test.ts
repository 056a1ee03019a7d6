/**
 * OTLP/JSON files (src/core/otlp/otlp-json-file.ts): one request per file or one per line, and
 * the trace a file opens on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bodySignal, firstTraceId, requestBodies } from '../../src/core/otlp/otlp-json-file.js';

const TRACE_ID = '4BF92F3577B34DA6A3CE929D0E0E4736';
const request = (traceId: unknown) => ({
  resourceSpans: [{ scopeSpans: [{ spans: [{ traceId, spanId: '00f067aa0ba902b7' }] }] }],
});

describe('OTLP/JSON files', () => {
  it('a whole-file request is one body, even pretty-printed', () => {
    const text = JSON.stringify(request(TRACE_ID), null, 2);
    assert.deepEqual(requestBodies(`\n${text}\n`), [text]);
  });

  it('JSON lines are one body per non-empty line', () => {
    const line = JSON.stringify(request(TRACE_ID));
    assert.deepEqual(requestBodies(`${line}\n\n  ${line}  \n`), [line, line]);
  });

  it('the first span names the trace to open, when its id is hex', () => {
    assert.equal(firstTraceId(request(TRACE_ID)), TRACE_ID.toLowerCase());
    assert.equal(firstTraceId(request('S/kvNXezTaajzpKdDg5HNg==')), undefined);
    assert.equal(firstTraceId({}), undefined);
    assert.equal(firstTraceId(null), undefined);
  });

  it('a body’s first key names its signal; anything else reads as traces', () => {
    assert.equal(bodySignal(JSON.stringify(request(TRACE_ID))), 'traces');
    assert.equal(bodySignal('{"resourceLogs":[]}'), 'logs');
    assert.equal(bodySignal('{\n  "resourceLogs": [\n]}'), 'logs');
    assert.equal(bodySignal(' { "resourceMetrics" : [] }'), 'metrics');
    // Not a key, or not first: traces (the decoder then refuses what is not a trace request).
    assert.equal(bodySignal('{"x":"resourceLogs"}'), 'traces');
    assert.equal(bodySignal('["resourceLogs"]'), 'traces');
    assert.equal(bodySignal('{"resourceSpans":[],"resourceLogs":[]}'), 'traces');
    assert.equal(bodySignal(''), 'traces');
  });
});
