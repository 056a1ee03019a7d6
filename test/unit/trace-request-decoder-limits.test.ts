/**
 * Attribute limits of resources and instrumentation scopes in the ingest decoder
 * (src/core/otlp/trace-request-decoder.ts): the same limit as a span's attributes; over it,
 * the spans under that resource or scope are rejected with a clear reason, and the rest of the
 * request is accepted. (The decoder's other rules: trace-request-decoder.test.ts.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WireType } from '../../src/core/otlp/proto-reader.js';
import { ProtoWriter } from '../../src/core/otlp/proto-writer.js';
import {
  DEFAULT_DECODE_LIMITS,
  DecodeCache,
  decodeTraceRequest,
} from '../../src/core/otlp/trace-request-decoder.js';

interface Part {
  resourceAttributes: number;
  scopeAttributes: number;
  spans: number[];
}

function attributes(w: ProtoWriter, field: number, n: number): void {
  for (let i = 0; i < n; i++) {
    w.message(field, (kv) => kv.stringField(1, `k${i}`).message(2, (v) => v.stringField(1, 'v')));
  }
}

function request(parts: Part[]): Uint8Array {
  const w = new ProtoWriter();
  for (const p of parts) {
    w.openMessage(1);
    w.message(1, (res) => attributes(res, 1, p.resourceAttributes));
    w.openMessage(2);
    w.message(1, (scope) => {
      scope.stringField(1, 'scope');
      attributes(scope, 3, p.scopeAttributes);
    });
    for (const n of p.spans) {
      w.message(2, (s) => {
        s.bytesField(1, Buffer.alloc(16, 7)).bytesField(2, Buffer.alloc(8, n));
        s.stringField(5, `span-${n}`);
        s.tag(7, WireType.I64).fixed64(1_700_000_000_000_000_000n);
        s.tag(8, WireType.I64).fixed64(1_700_000_000_000_001_000n);
      });
    }
    w.closeMessage();
    w.closeMessage();
  }
  return w.finish();
}

const MAX = DEFAULT_DECODE_LIMITS.maxAttributesPerSpan;

describe('resource and scope attribute limits', () => {
  it(`a resource with more than ${MAX} attributes rejects its spans; the others are kept`, () => {
    const batch = decodeTraceRequest(
      request([
        { resourceAttributes: MAX + 1, scopeAttributes: 0, spans: [1, 2] },
        { resourceAttributes: MAX, scopeAttributes: 0, spans: [3] },
      ]),
    );
    assert.deepEqual(
      batch.spans.map((s) => s.name),
      ['span-3'],
    );
    assert.equal(batch.rejected, 2);
    assert.deepEqual(batch.rejectReasons, [`resource has more than ${MAX} attributes`]);
  });

  it(`a scope with more than ${MAX} attributes rejects its spans`, () => {
    const batch = decodeTraceRequest(
      request([
        { resourceAttributes: 1, scopeAttributes: MAX + 1, spans: [1] },
        { resourceAttributes: 1, scopeAttributes: MAX, spans: [2] },
      ]),
    );
    assert.deepEqual(
      batch.spans.map((s) => s.name),
      ['span-2'],
    );
    assert.deepEqual(batch.rejectReasons, [
      `instrumentation scope has more than ${MAX} attributes`,
    ]);
  });

  it('follows a configured limit, also for a resource already seen (cached) before', () => {
    const limits = { ...DEFAULT_DECODE_LIMITS, maxAttributesPerSpan: 3 };
    const cache = new DecodeCache();
    const ok = request([{ resourceAttributes: 3, scopeAttributes: 3, spans: [1] }]);
    assert.equal(decodeTraceRequest(ok, cache, limits).spans.length, 1);
    const over = request([{ resourceAttributes: 4, scopeAttributes: 0, spans: [1] }]);
    assert.equal(decodeTraceRequest(over, cache, DEFAULT_DECODE_LIMITS).spans.length, 1);
    const rejected = decodeTraceRequest(over, cache, limits);
    assert.equal(rejected.rejected, 1);
    assert.deepEqual(rejected.rejectReasons, ['resource has more than 3 attributes']);
  });
});
