import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { analyzeTrace } from '../../src/core/analysis/index.js';
import { buildSpanDetails } from '../../src/core/api/span-details-view.js';
import {
  buildTracePayload,
  rowOfSpan,
  spanAtRow,
  traceSummaryPayload,
} from '../../src/core/api/trace-payload.js';
import { SpanKind, StatusCode } from '../../src/core/model.js';
import { otlpJsonToProtobuf } from '../../src/core/otlp/otlp-json-request.js';
import { attributeValue } from '../../src/core/otlp/span-details.js';
import { decodeTraceRequest } from '../../src/core/otlp/trace-request-decoder.js';
import { summarize, TraceStore } from '../../src/core/store/trace-store.js';
import { SpanFlag } from '../../src/protocol/messages.js';
import { makeSpan, noAttributes, PIPELINE } from './helpers/spans.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const T0 = 1_700_000_000_000; // epoch ms
const ns = (ms: number): string =>
  (BigInt(T0 + Math.floor(ms)) * 1_000_000n + BigInt(Math.round((ms % 1) * 1e6))).toString();
/** Epoch-ms doubles carry ~0.2 µs of rounding; compare at µs precision. */
const us = (xs: Iterable<number>): number[] => [...xs].map((x) => Math.round(x * 1000) / 1000);
const id = (n: number): string => n.toString(16).padStart(16, '0');

interface Spec {
  id: number;
  parent?: number;
  name: string;
  start: number;
  end: number;
  kind?: number;
  error?: string;
  attributes?: unknown[];
  events?: unknown[];
  links?: unknown[];
}

function span(s: Spec): unknown {
  return {
    traceId: TRACE,
    spanId: id(s.id),
    ...(s.parent === undefined ? {} : { parentSpanId: id(s.parent) }),
    name: s.name,
    kind: s.kind ?? SpanKind.INTERNAL,
    startTimeUnixNano: ns(s.start),
    endTimeUnixNano: ns(s.end),
    attributes: s.attributes ?? [],
    events: s.events ?? [],
    links: s.links ?? [],
    status: s.error === undefined ? {} : { code: StatusCode.ERROR, message: s.error },
  };
}

/** A RAG-like trace through the real decoder, so spans carry real attribute bytes. */
function ragTrace() {
  const doc = {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'rag-api' } },
            { key: 'host.name', value: { stringValue: 'box-1' } },
          ],
        },
        scopeSpans: [
          {
            scope: { name: 'stagelight-demo', version: '1.2.3' },
            spans: [
              span({ id: 1, name: 'inference_request', start: 0, end: 100, kind: SpanKind.SERVER }),
              span({
                id: 2,
                parent: 1,
                name: 'embedding',
                start: 5,
                end: 25,
                attributes: [
                  { key: 'model.name', value: { stringValue: 'minilm' } },
                  { key: 'gen_ai.request.model', value: { stringValue: 'gpt' } },
                  { key: 'code.file.path', value: { stringValue: '/src/rag.py' } },
                  { key: 'code.line.number', value: { intValue: '42' } },
                  { key: 'batch', value: { intValue: '8' } },
                  {
                    key: 'dims',
                    value: { arrayValue: { values: [{ intValue: '1' }, { stringValue: '<b>' }] } },
                  },
                  { key: 'model.fp16', value: { boolValue: true } },
                ],
              }),
              span({
                id: 3,
                parent: 1,
                name: 'enqueue',
                start: 26,
                end: 28,
                kind: SpanKind.PRODUCER,
                attributes: [
                  { key: 'messaging.destination.name', value: { stringValue: 'rerank-q' } },
                  { key: 'code.filepath', value: { stringValue: 'old.py' } },
                  { key: 'code.lineno', value: { intValue: '7' } },
                ],
              }),
              span({
                id: 4,
                name: 'reranking',
                start: 40,
                end: 90,
                kind: SpanKind.CONSUMER,
                error: 'boom',
                links: [
                  {
                    traceId: TRACE,
                    spanId: id(3),
                    attributes: [{ key: 'why', value: { stringValue: 'queue' } }],
                  },
                ],
                events: [
                  {
                    timeUnixNano: ns(42.5),
                    name: 'exception',
                    attributes: [
                      { key: 'exception.type', value: { stringValue: 'ValueError' } },
                      {
                        key: 'exception.stacktrace',
                        value: { stringValue: 'Traceback\n  line 1' },
                      },
                    ],
                  },
                ],
              }),
              span({ id: 5, parent: 99, name: 'lost-child', start: 30, end: 35 }),
            ],
          },
        ],
      },
    ],
  };
  const batch = decodeTraceRequest(otlpJsonToProtobuf(JSON.stringify(doc)));
  assert.equal(batch.rejected, 0);
  const store = new TraceStore();
  store.add(batch.spans);
  const entry = store.get(TRACE)!;
  const analysis = analyzeTrace(entry.spans, attributeValue);
  return { entry, analysis };
}

describe('buildTracePayload', () => {
  it('lays rows out in pre-order with parents, depths, times and flags', () => {
    const { entry, analysis } = ragTrace();
    const p = buildTracePayload(entry, analysis);
    assert.equal(p.traceId, TRACE);
    assert.equal(p.version, entry.version);
    // Five spans and a placeholder row for the orphan's parent, which never arrived.
    assert.equal(p.spanCount, 6);
    assert.equal(p.startMs, T0);
    assert.equal(p.durationMs, 100);
    const names = [...p.name].map((i) => p.names[i]);
    // Roots by start: the request (0), then the orphan (30) under the placeholder of its missing
    // parent; the consumer is adopted under its producer through its link.
    assert.deepEqual(names, [
      'inference_request',
      'embedding',
      'enqueue',
      'reranking',
      `${id(99)} (not received yet)`,
      'lost-child',
    ]);
    assert.deepEqual([...p.parent], [-1, 0, 0, 2, -1, 4]);
    assert.deepEqual([...p.depth], [0, 1, 1, 2, 0, 1]);
    assert.deepEqual(us(p.start), [0, 5, 26, 40, 30, 30]);
    assert.deepEqual(us(p.duration), [100, 20, 2, 50, 5, 5]);
    assert.deepEqual(p.services, ['rag-api', '']);
    assert.equal(p.kind[0], SpanKind.SERVER);

    const f = (row: number): number => p.flags[row]!;
    assert.ok(f(1) & SpanFlag.HAS_SOURCE, 'code.file.path');
    assert.ok(f(2) & SpanFlag.HAS_SOURCE, 'code.filepath');
    assert.equal(f(0) & SpanFlag.HAS_SOURCE, 0);
    assert.ok(f(3) & SpanFlag.ERROR);
    assert.ok(f(3) & SpanFlag.ADOPTED);
    assert.equal(f(4), SpanFlag.PLACEHOLDER);
    assert.ok(f(5) & SpanFlag.ORPHAN);
    assert.equal(f(0) & (SpanFlag.ERROR | SpanFlag.ORPHAN | SpanFlag.ADOPTED), 0);
    assert.ok(f(0) & SpanFlag.CRITICAL);
    assert.ok(f(1) & SpanFlag.CRITICAL, 'embedding gates the producer');
    assert.equal(f(5) & SpanFlag.CRITICAL, 0, 'the orphan runs beside the path');
  });

  it('carries the critical path as (row, start, end) triples and queue waits', () => {
    const { entry, analysis } = ragTrace();
    const p = buildTracePayload(entry, analysis);
    const triples: number[][] = [];
    for (let k = 0; k < p.criticalPath.length; k += 3)
      triples.push(us(p.criticalPath.subarray(k, k + 3)));
    // Walk back from 100: request until 90, reranking 40-90, then a gap back to the producer's
    // end (the queue wait), the producer, the request, embedding, and the request's start.
    assert.deepEqual(triples, [
      [0, 0, 5],
      [1, 5, 25],
      [0, 25, 26],
      [2, 26, 28],
      [-1, 28, 40],
      [3, 40, 90],
      [0, 90, 100],
    ]);
    let sum = 0;
    for (const c of p.criticalMs) sum += c;
    assert.ok(Math.abs(sum + p.gapMs - p.durationMs) < 1e-6);
    assert.deepEqual(us([p.criticalMs[3]!, p.gapMs]), [50, 12]);
    assert.deepEqual(us(p.queueWaits), [2, 3, 28, 40]);
    assert.deepEqual(p.queueNames, ['rerank-q']);
    assert.deepEqual(us([p.selfMs[0]!]), [100 - 20 - 2], 'adopted followers are not subtracted');
  });

  it('maps rows to spans and back; honours hasSource and version options', () => {
    const { entry, analysis } = ragTrace();
    const p = buildTracePayload(entry, analysis, {
      hasSource: (s) => s.name === 'inference_request',
      version: 7,
    });
    assert.equal(p.version, 7);
    assert.ok(p.flags[0]! & SpanFlag.HAS_SOURCE);
    assert.equal(spanAtRow(analysis, 3)?.name, 'reranking');
    assert.equal(spanAtRow(analysis, 4), undefined, 'a placeholder is no span');
    assert.equal(spanAtRow(analysis, 5)?.name, 'lost-child');
    assert.equal(spanAtRow(analysis, 6), undefined);
    assert.equal(spanAtRow(analysis, -1), undefined);
    assert.equal(rowOfSpan(analysis, id(4)), 3);
    assert.equal(rowOfSpan(analysis, 'nope'), -1);
  });

  it('handles spans without bytes (hand-built records) and an empty trace', () => {
    const spans = [
      makeSpan({ spanId: 'a', start: 10, end: 20 }),
      makeSpan({ spanId: 'b', parent: 'a', start: 12, end: 15, status: StatusCode.ERROR }),
    ];
    const store = new TraceStore();
    store.add(spans);
    const entry = store.get('trace-1')!;
    const p = buildTracePayload(
      entry,
      analyzeTrace(entry.spans, () => undefined),
    );
    assert.deepEqual([...p.start], [0, 2]);
    assert.equal(p.flags[1]! & SpanFlag.ERROR, SpanFlag.ERROR);
    assert.equal(p.flags[1]! & SpanFlag.HAS_SOURCE, 0);

    const empty = analyzeTrace([], () => undefined);
    const q = buildTracePayload(entry, empty);
    assert.equal(q.spanCount, 0);
    assert.equal(q.traceId, 'trace-1');
    assert.equal(q.criticalPath.length, 0);
  });

  it('summarises a trace for the list', () => {
    const { entry } = ragTrace();
    const s = traceSummaryPayload(summarize(entry));
    assert.deepEqual(s, {
      traceId: TRACE,
      rootService: 'rag-api',
      rootName: 'inference_request',
      startMs: T0,
      durationMs: 100,
      spanCount: 5,
      errorCount: 1,
    });
  });
});

describe('buildSpanDetails', () => {
  it('groups attributes, renders values as text and finds the source', () => {
    const { entry, analysis } = ragTrace();
    const p = buildTracePayload(entry, analysis);
    const d = buildSpanDetails(spanAtRow(analysis, 1)!, 1, analysis, p.durationMs);
    assert.equal(d.name, 'embedding');
    assert.equal(d.service, 'rag-api');
    assert.equal(d.spanId, id(2));
    assert.equal(d.parentSpanId, id(1));
    assert.deepEqual(us([d.startMs - T0, d.durationMs]), [5, 20]);
    assert.deepEqual(
      d.attributes.map((a) => [a.group, a.key, a.value]),
      [
        ['model', 'model.fp16', 'true'],
        ['model', 'model.name', 'minilm'],
        ['gen_ai', 'gen_ai.request.model', 'gpt'],
        ['code', 'code.file.path', '/src/rag.py'],
        ['code', 'code.line.number', '42'],
        ['other', 'batch', '8'],
        ['other', 'dims', '[1,"<b>"]'],
      ],
    );
    assert.deepEqual(d.source, { file: '/src/rag.py', line: 42 });
    assert.deepEqual(d.resource, [
      { key: 'service.name', value: 'rag-api' },
      { key: 'host.name', value: 'box-1' },
    ]);
    assert.deepEqual(d.scope, { name: 'stagelight-demo', version: '1.2.3' });
    assert.deepEqual(us([d.criticalMs, d.criticalShare, d.selfMs]), [20, 0.2, 20]);

    const old = buildSpanDetails(spanAtRow(analysis, 2)!, 2, analysis, p.durationMs);
    assert.deepEqual(old.source, { file: 'old.py', line: 7 });
  });

  it('gives events with offsets, exceptions with stacks, in-trace links, status and shares', () => {
    const { entry, analysis } = ragTrace();
    const p = buildTracePayload(entry, analysis);
    const d = buildSpanDetails(spanAtRow(analysis, 3)!, 3, analysis, p.durationMs);
    assert.deepEqual(d.status, { code: StatusCode.ERROR, message: 'boom' });
    assert.equal(d.events.length, 1);
    assert.equal(d.events[0]!.name, 'exception');
    assert.ok(Math.abs(d.events[0]!.offsetMs - 2.5) < 1e-9);
    assert.deepEqual(d.events[0]!.attributes, [
      { key: 'exception.type', value: 'ValueError' },
      { key: 'exception.stacktrace', value: 'Traceback\n  line 1' },
    ]);
    assert.deepEqual(d.links, [
      { traceId: TRACE, spanId: id(3), row: 2, attributes: [{ key: 'why', value: 'queue' }] },
    ]);
    assert.deepEqual(us([d.criticalMs, d.criticalShare]), [50, 0.5]);
    assert.equal(d.source, undefined);
  });

  it('still answers for a span without bytes', () => {
    const spans = [makeSpan({ spanId: 'a', start: 0, end: 4, links: ['zz'] })];
    const analysis = analyzeTrace(spans, () => undefined);
    const d = buildSpanDetails(spans[0]!, 0, analysis, 4);
    assert.deepEqual(d.attributes, []);
    assert.deepEqual(d.links, [{ traceId: 'trace-1', spanId: 'zz', row: -1, attributes: [] }]);
    assert.equal(d.criticalShare, 1);
  });
});

describe('a trace still arriving (its root not received yet)', () => {
  /** The pipeline as it stands before its gateway span arrives: every stage an orphan. */
  const live = () => {
    const spans = PIPELINE.filter((s) => s.spanId !== 'gw').map(makeSpan);
    const store = new TraceStore();
    store.add(spans);
    const entry = store.get('trace-1')!;
    return { entry, analysis: analyzeTrace(entry.spans, noAttributes) };
  };

  it('is one tree under a placeholder for the missing parent, not a forest of stages', () => {
    const { entry, analysis } = live();
    // The tree keeps what arrived: each orphan a root, so the analyses see only real spans.
    assert.equal(analysis.tree.roots.length, 6);
    const p = buildTracePayload(entry, analysis);
    assert.equal(p.spanCount, 8, 'seven spans and one placeholder');
    const names = [...p.name].map((i) => p.names[i]);
    assert.deepEqual(names, [
      'gw (not received yet)',
      'preprocessing',
      'embedding',
      'retrieve',
      'retrieval-worker',
      'reranking',
      'generation',
      'postprocessing',
    ]);
    assert.deepEqual([...p.parent], [-1, 0, 0, 0, 3, 0, 0, 0]);
    assert.deepEqual([...p.depth], [0, 1, 1, 1, 2, 1, 1, 1]);
    assert.equal(p.flags[0], SpanFlag.PLACEHOLDER);
    for (let r = 1; r < 8; r++) assert.equal(p.flags[r]! & SpanFlag.PLACEHOLDER, 0);
    assert.ok(p.flags[1]! & SpanFlag.ORPHAN);
    // The placeholder covers its orphans' extent and does no work of its own.
    assert.deepEqual(us([p.start[0]!, p.duration[0]!]), [0, p.durationMs]);
    assert.equal(p.criticalMs[0], 0);
    assert.equal(p.selfMs[0], 0);
    assert.equal(p.services[p.service[0]!], '');
    // The rows map to spans and back; the placeholder maps to none.
    assert.equal(spanAtRow(analysis, 0), undefined);
    for (let r = 1; r < 8; r++)
      assert.equal(rowOfSpan(analysis, spanAtRow(analysis, r)!.spanId), r);
  });

  it('keeps the analysis sane: the path tiles the trace and no time goes to the placeholder', () => {
    const { entry, analysis } = live();
    const p = buildTracePayload(entry, analysis);
    let sum = 0;
    for (const c of p.criticalMs) sum += c;
    assert.ok(Math.abs(sum + p.gapMs - p.durationMs) < 1e-6);
    let at = 0;
    for (let k = 0; k < p.criticalPath.length; k += 3) {
      assert.notEqual(p.criticalPath[k], 0, 'no segment on the placeholder row');
      assert.ok(Math.abs(p.criticalPath[k + 1]! - at) < 1e-9, 'segments tile the trace');
      at = p.criticalPath[k + 2]!;
    }
    assert.ok(Math.abs(at - p.durationMs) < 1e-9);
    // The queue wait still names the producer and consumer rows.
    assert.deepEqual([p.queueWaits[0], p.queueWaits[1]], [3, 4]);
    assert.ok(Number.isFinite(analysis.criticalPath.durationMs));
  });

  it('keeps groups contiguous when two missing parents interleave in time with a real root', () => {
    const spans = [
      makeSpan({ spanId: 'a1', parent: 'A', start: 0, end: 5 }),
      makeSpan({ spanId: 'b1', parent: 'B', start: 1, end: 3 }),
      makeSpan({ spanId: 'r', start: 2, end: 4 }),
      makeSpan({ spanId: 'r1', parent: 'r', start: 2.5, end: 3.5 }),
      makeSpan({ spanId: 'a2', parent: 'A', start: 6, end: 8 }),
      makeSpan({ spanId: 'a2c', parent: 'a2', start: 6.5, end: 7 }),
      makeSpan({ spanId: 'b2', parent: 'B', start: 9, end: 12 }),
    ];
    const store = new TraceStore();
    store.add(spans);
    const entry = store.get('trace-1')!;
    const analysis = analyzeTrace(entry.spans, noAttributes);
    const p = buildTracePayload(entry, analysis);
    const names = [...p.name].map((i) => p.names[i]);
    assert.deepEqual(names, [
      'A (not received yet)',
      'a1',
      'a2',
      'a2c',
      'B (not received yet)',
      'b1',
      'b2',
      'r',
      'r1',
    ]);
    assert.deepEqual([...p.parent], [-1, 0, 0, 2, -1, 4, 4, -1, 7]);
    assert.deepEqual([...p.depth], [0, 1, 1, 2, 0, 1, 1, 0, 1]);
    assert.deepEqual(us([p.start[4]!, p.start[4]! + p.duration[4]!]), [1, 12]);
    // Each row maps back to its span; a placeholder to none.
    assert.deepEqual(
      [...Array(9).keys()].map((r) => spanAtRow(analysis, r)?.spanId ?? null),
      [null, 'a1', 'a2', 'a2c', null, 'b1', 'b2', 'r', 'r1'],
    );
  });

  it('names the trace as partial in the list and the picker until its root arrives', () => {
    const { entry } = live();
    const s = traceSummaryPayload(summarize(entry));
    assert.equal(s.rootName, 'partial trace, from preprocessing');
    const store = new TraceStore();
    store.add(PIPELINE.map(makeSpan));
    assert.equal(traceSummaryPayload(summarize(store.get('trace-1')!)).rootName, 'POST /generate');
  });
});
