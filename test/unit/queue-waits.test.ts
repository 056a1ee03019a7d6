import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { buildTraceTree, findQueueWaits, type QueueWait } from '../../src/core/analysis/index.js';
import { SpanKind, type SpanRecord } from '../../src/core/model.js';
import { attributesFrom, makeSpan, noAttributes, type SpanSpec } from './helpers/spans.js';

function waitsOf(
  specs: SpanSpec[],
  attributes: Parameters<typeof attributesFrom>[0] = {},
): { waits: QueueWait[]; calls: string[] } {
  const calls: string[] = [];
  const get = attributesFrom(attributes);
  const waits = findQueueWaits(buildTraceTree(specs.map(makeSpan)), (span: SpanRecord, key) => {
    calls.push(`${span.spanId}:${key}`);
    return get(span, key);
  });
  return { waits, calls };
}

function summary(w: QueueWait): Record<string, unknown> {
  return {
    queue: w.queue,
    producer: w.producer.spanId,
    consumer: w.consumer.spanId,
    relation: w.relation,
    waitMs: w.waitMs,
    maxWaitMs: w.maxWaitMs,
    overlapped: w.overlapped,
  };
}

describe('findQueueWaits', () => {
  it('measures producer end to consumer start for a child consumer', () => {
    const { waits } = waitsOf(
      [
        { spanId: 'r', start: 0, end: 20 },
        { spanId: 'p', parent: 'r', name: 'send', start: 1, end: 5, kind: SpanKind.PRODUCER },
        { spanId: 'c', parent: 'p', start: 8, end: 12, kind: SpanKind.CONSUMER },
      ],
      { p: { 'messaging.destination.name': 'embeddings' } },
    );
    assert.deepEqual(waits.map(summary), [
      {
        queue: 'embeddings',
        producer: 'p',
        consumer: 'c',
        relation: 'child',
        waitMs: 3,
        maxWaitMs: 7,
        overlapped: false,
      },
    ]);
  });

  it('follows links, one wait per linked producer, in consumer start order', () => {
    const { waits } = waitsOf(
      [
        { spanId: 'p1', start: 0, end: 2, kind: SpanKind.PRODUCER },
        { spanId: 'p2', start: 1, end: 4, kind: SpanKind.PRODUCER },
        { spanId: 'late', start: 40, end: 41, kind: SpanKind.CONSUMER, links: ['p1'] },
        {
          spanId: 'batch',
          start: 10,
          end: 30,
          kind: SpanKind.CONSUMER,
          links: ['p1', 'p2', { traceId: 'other-trace', spanId: 'p2' }],
        },
      ],
      {
        p1: { 'messaging.destination': 'legacy-queue' },
        batch: { 'messaging.destination.name': 'b' },
      },
    );
    assert.deepEqual(
      waits.map((w) => [w.producer.spanId, w.consumer.spanId, w.relation, w.waitMs, w.queue]),
      [
        ['p1', 'batch', 'link', 8, 'legacy-queue'],
        ['p2', 'batch', 'link', 6, 'b'],
        ['p1', 'late', 'link', 38, 'legacy-queue'],
      ],
    );
  });

  it('reports 0 (and the upper bound) when the consumer starts before the producer ends', () => {
    const { waits } = waitsOf([
      { spanId: 'p', name: 'publish tokens', start: 0, end: 10, kind: SpanKind.PRODUCER },
      { spanId: 'c', parent: 'p', start: 4, end: 9, kind: SpanKind.CONSUMER },
    ]);
    assert.deepEqual(waits.map(summary), [
      {
        queue: 'publish tokens',
        producer: 'p',
        consumer: 'c',
        relation: 'child',
        waitMs: 0,
        maxWaitMs: 4,
        overlapped: true,
      },
    ]);
  });

  it('counts a pair once when the producer is both parent and link target', () => {
    const { waits } = waitsOf([
      { spanId: 'p', start: 0, end: 1, kind: SpanKind.PRODUCER },
      { spanId: 'c', parent: 'p', start: 2, end: 3, kind: SpanKind.CONSUMER, links: ['p'] },
    ]);
    assert.equal(waits.length, 1);
    assert.equal(waits[0]?.relation, 'child');
  });

  it('recognises roles from messaging attributes when the kind does not say', () => {
    const { waits } = waitsOf(
      [
        { spanId: 'p', start: 0, end: 2, kind: SpanKind.INTERNAL },
        { spanId: 'c', parent: 'p', start: 5, end: 6, kind: SpanKind.UNSPECIFIED },
        { spanId: 'p2', start: 0, end: 2, kind: SpanKind.UNSPECIFIED },
        // Pull-based receive: CLIENT kind in current messaging conventions.
        { spanId: 'c2', parent: 'p2', start: 3, end: 4, kind: SpanKind.CLIENT },
      ],
      {
        p: { 'messaging.operation': 'publish', 'messaging.destination.name': 'q' },
        c: { 'messaging.operation.type': 'process' },
        p2: { 'messaging.operation.type': 'send' },
        c2: { 'messaging.operation.type': 'receive' },
      },
    );
    assert.deepEqual(
      waits.map((w) => [w.producer.spanId, w.consumer.spanId, w.waitMs, w.queue]),
      [
        ['p2', 'c2', 1, 'p2'],
        ['p', 'c', 3, 'q'],
      ],
    );
  });

  it('ignores RPC pairs and consumers whose parent is no producer', () => {
    const { waits } = waitsOf(
      [
        { spanId: 'client', start: 0, end: 10, kind: SpanKind.CLIENT },
        { spanId: 'server', parent: 'client', start: 3, end: 8, kind: SpanKind.SERVER },
        { spanId: 'c', parent: 'server', start: 4, end: 5, kind: SpanKind.CONSUMER },
        { spanId: 'i', parent: 'server', start: 5, end: 6, kind: SpanKind.INTERNAL },
        // A SERVER span never plays a messaging role, whatever its attributes say.
        { spanId: 's2', parent: 'client', start: 6, end: 9, kind: SpanKind.SERVER },
        { spanId: 'c3', parent: 's2', start: 7, end: 8, kind: SpanKind.CONSUMER },
      ],
      {
        s2: { 'messaging.operation.type': 'send' },
        i: { 'messaging.operation.type': 'settle' },
      },
    );
    assert.deepEqual(waits, []);
  });

  it('decodes attributes only for spans whose kind leaves the role open', () => {
    const { calls } = waitsOf([
      { spanId: 'p', start: 0, end: 2, kind: SpanKind.PRODUCER },
      { spanId: 'c', parent: 'p', start: 5, end: 6, kind: SpanKind.CONSUMER },
      { spanId: 'srv', start: 0, end: 9, kind: SpanKind.SERVER },
      { spanId: 'x', parent: 'srv', start: 1, end: 2, kind: SpanKind.SERVER },
    ]);
    // Only the queue name is looked up: two keys on the producer, then two on the consumer.
    assert.deepEqual(calls, [
      'p:messaging.destination.name',
      'p:messaging.destination',
      'c:messaging.destination.name',
      'c:messaging.destination',
    ]);
  });

  it('treats a getter that throws (malformed span bytes) as no attribute', () => {
    const spans = [
      { spanId: 'p', start: 0, end: 2, kind: SpanKind.PRODUCER },
      { spanId: 'c', parent: 'p', start: 5, end: 6, kind: SpanKind.CONSUMER },
      { spanId: 'i', parent: 'p', start: 3, end: 4, kind: SpanKind.INTERNAL },
    ].map(makeSpan);
    const waits = findQueueWaits(buildTraceTree(spans), () => {
      throw new Error('malformed');
    });
    assert.deepEqual(
      waits.map((w) => [w.consumer.spanId, w.queue, w.waitMs]),
      [['c', 'p', 3]],
    );
  });

  it('finds nothing in a trace without messaging', () => {
    const { waits } = waitsOf([{ spanId: 'r', start: 0, end: 1 }]);
    assert.deepEqual(waits, []);
    assert.deepEqual(findQueueWaits(buildTraceTree([]), noAttributes), []);
  });
});
