/**
 * Each diagnosis on hand-built pipeline traces whose answer is known.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, StatusCode, type KeyValueJson, type SpanRecord } from '../../src/core/model.js';
import { analyzeTrace } from '../../src/core/analysis/analyze-trace.js';
import {
  compareToBaseline,
  computeInsights,
  explainTrace,
  makeBaseline,
  mannWhitneyZ,
  samplingWhatIf,
  speedupWhatIf,
  type InsightTrace,
} from '../../src/core/analysis/insights.js';
import { makeSpan } from './helpers/spans.js';

interface Shape {
  rerankMs?: number;
  queueWaitMs?: number;
  replica?: string;
  generationError?: string;
  /** Time the gateway works itself before calling the stages (untraced work). */
  gatewaySelfMs?: number;
  jitter?: number;
  /** Everything this many times slower (a busy machine). */
  load?: number;
}

const attrTable = new Map<SpanRecord, KeyValueJson[]>();
const errorTable = new Map<SpanRecord, string>();

function hex(n: number, len: number): string {
  return n.toString(16).padStart(len, '0');
}

/**
 * gateway inference_request > preprocessing 50, embedding 150, retrieve (producer 5 -> queue
 * wait -> consumer 200), reranking, generation 800, postprocessing 30; sequential.
 */
function pipeline(i: number, shape: Shape = {}): InsightTrace {
  const j = (1 + (shape.jitter ?? 0) * Math.sin(i * 12.9898)) * (shape.load ?? 1);
  const traceId = hex(i + 1, 32);
  const spans: SpanRecord[] = [];
  let t = 1_000_000 + i * 100_000;
  const start = t;
  const id = (n: number) => hex(i * 100 + n + 1, 16);
  const add = (
    n: number,
    name: string,
    service: string,
    ms: number,
    extra: Partial<Parameters<typeof makeSpan>[0]> = {},
  ) => {
    const s = makeSpan({
      traceId,
      spanId: id(n),
      parent: id(0),
      name,
      service,
      start: t,
      end: t + ms,
      ...extra,
    });
    spans.push(s);
    t += ms;
    return s;
  };
  t += shape.gatewaySelfMs ?? 0;
  add(1, 'preprocessing', 'gateway', 50 * j);
  add(2, 'embedding', 'encoder', 150 * j);
  const producer = add(3, 'retrieve_documents', 'gateway', 5, { kind: SpanKind.PRODUCER });
  t += shape.queueWaitMs ?? 3;
  add(4, 'search', 'retrieval', 200 * j, { kind: SpanKind.CONSUMER, parent: producer.spanId });
  const rerank = add(5, 'reranking', 'reranker', (shape.rerankMs ?? 1200) * j);
  attrTable.set(rerank, [
    { key: 'replica', value: { stringValue: shape.replica ?? 'replica-a' } },
    { key: 'request.id', value: { stringValue: `r${i}` } },
  ]);
  const gen = add(6, 'generation', 'decoder', 800 * j, {
    status: shape.generationError ? StatusCode.ERROR : StatusCode.UNSET,
  });
  if (shape.generationError) errorTable.set(gen, shape.generationError);
  add(7, 'postprocessing', 'gateway', 30 * j);
  spans.unshift(
    makeSpan({
      traceId,
      spanId: id(0),
      name: 'inference_request',
      service: 'gateway',
      start,
      end: t,
      kind: SpanKind.SERVER,
    }),
  );
  const analysis = analyzeTrace(spans, (span, key) =>
    key === 'messaging.destination.name' && span.name === 'retrieve_documents'
      ? 'retrieval-requests'
      : undefined,
  );
  return {
    traceId,
    operation: 'gateway inference_request',
    startMs: start,
    durationMs: t - start,
    spans,
    analysis,
  };
}

const opts = {
  attributes: (s: SpanRecord) => attrTable.get(s) ?? [],
  errorMessage: (s: SpanRecord) => errorTable.get(s),
};

function traces(n: number, shape: (i: number) => Shape, from = 0): InsightTrace[] {
  return Array.from({ length: n }, (_, k) => pipeline(from + k, shape(from + k)));
}

describe('insights', () => {
  it('raises nothing above info for a steady pipeline (no false alarm)', () => {
    const report = computeInsights(
      traces(60, (i) => ({ jitter: 0.1, replica: ['replica-a', 'replica-b', 'replica-c'][i % 3] })),
      opts,
    );
    const alarms = report.findings.filter((f) => f.severity !== 'info');
    assert.deepEqual(
      alarms.map((f) => f.title),
      [],
    );
  });

  it('names the stage that regressed, with its share of the excess', () => {
    const all = [...traces(30, () => ({})), ...traces(10, () => ({ rerankMs: 7000 }), 30)];
    const report = computeInsights(all, opts);
    const top = report.findings[0]!;
    assert.equal(top.kind, 'stage-regression');
    assert.equal(top.severity, 'critical');
    assert.deepEqual(top.stage, { service: 'reranker', name: 'reranking' });
    assert.equal(top.title, 'reranking 7.00 s vs 1.20 s typical (+5.80 s, 100% of the excess)');
    assert.equal(top.numbers.deltaMs, 5800);
    assert.ok(top.traceIds.every((id) => parseInt(id, 16) > 30));
    // No other stage is blamed.
    assert.equal(report.findings.filter((f) => f.kind === 'stage-regression').length, 1);
  });

  it('does not blame one stage when the whole machine slowed down', () => {
    const all = [...traces(30, () => ({})), ...traces(10, () => ({ load: 3 }), 30)];
    const report = computeInsights(all, opts);
    assert.deepEqual(
      report.findings.filter((f) => f.kind === 'stage-regression').map((f) => f.title),
      [],
    );
  });

  it('does not call a few slow requests at the end a regression', () => {
    // Stage times drawn from one distribution; the last quarter happens to hold two slow ones.
    const all = traces(40, (i) => ({
      rerankMs: i === 33 || i === 38 ? 4000 : 1000 + (i % 5) * 100,
    }));
    const report = computeInsights(all, opts);
    assert.equal(report.findings.filter((f) => f.kind === 'stage-regression').length, 0);
  });

  it('Mann-Whitney z: separated samples score high, shuffled ones near zero', () => {
    assert.ok(mannWhitneyZ([10, 11, 12, 13, 14], [1, 2, 3, 4, 5, 6, 7, 8]) > 2.58);
    assert.ok(Math.abs(mannWhitneyZ([1, 4, 6, 7], [2, 3, 5, 8])) < 1);
    assert.ok(mannWhitneyZ([1, 2, 3], [10, 11, 12]) < -1.5);
    assert.equal(mannWhitneyZ([], [1]), 0);
  });

  it('explains one slow trace against the typical trace of its operation', () => {
    const peers = traces(20, () => ({}));
    const slow = pipeline(99, { rerankMs: 7000 });
    const rows = explainTrace(slow, [...peers, slow]);
    assert.deepEqual(rows[0]!.stage, { service: 'reranker', name: 'reranking' });
    assert.equal(rows[0]!.ms, 7000);
    assert.equal(rows[0]!.typicalMs, 1200);
    assert.equal(rows[0]!.share, 1);
  });

  it('finds time spent waiting in a queue, naming the queue and the trend', () => {
    const all = traces(20, (i) => ({ queueWaitMs: 5000 + i * 300 }));
    const report = computeInsights(all, opts);
    const top = report.findings[0]!;
    assert.equal(top.kind, 'queueing');
    assert.equal(top.numbers.queue, 'retrieval-requests');
    assert.equal(top.numbers.trend, 'rising');
    // The verdict is on the latest 10 traces (10..19, waits 8000..10700): median (9200 + 9500) / 2.
    assert.equal(top.numbers.medianWaitMs, 9350);
    assert.match(
      top.title,
      /^9\.35 s of 11\.\d s spent waiting in retrieval-requests \(\d+% of the request, rising\)$/,
    );
  });

  it('names the replica whose spans are slow and failing, with both distributions', () => {
    const all = traces(60, (i) => {
      const replica = ['replica-a', 'replica-b', 'replica-c'][i % 3]!;
      return replica === 'replica-b' ? { replica, rerankMs: 15_000 } : { replica, rerankMs: 200 };
    });
    // 30% of replica-b's reranking spans fail.
    let n = 0;
    for (const t of all) {
      const r = t.spans.find((s) => s.name === 'reranking')!;
      if (
        (attrTable.get(r)![0]!.value as { stringValue: string }).stringValue === 'replica-b' &&
        n++ % 10 < 3
      ) {
        Object.defineProperty(r, 'statusCode', { value: StatusCode.ERROR });
      }
    }
    const report = computeInsights(all, opts);
    const bad = report.findings.find((f) => f.kind === 'bad-instance')!;
    assert.ok(bad, report.findings.map((f) => f.title).join('\n'));
    assert.equal(bad.numbers.attribute, 'replica');
    assert.equal(bad.numbers.value, 'replica-b');
    assert.equal(
      bad.title,
      'reranking on replica=replica-b: p95 15.0 s, 30% errors vs 200 ms, 0% elsewhere',
    );
    assert.equal(report.findings[0], bad);
  });

  it('names the stage where requests fail, with the exception', () => {
    const all = traces(20, (i) =>
      i % 4 === 0 ? { generationError: 'RuntimeError: KV cache overflow' } : {},
    );
    const report = computeInsights(all, opts);
    const top = report.findings[0]!;
    assert.equal(top.kind, 'errors');
    assert.equal(
      top.title,
      'generation failed in 25% of requests (5 of 20): RuntimeError: KV cache overflow',
    );
  });

  it('points at untraced work inside a span', () => {
    const report = computeInsights(
      traces(10, () => ({ gatewaySelfMs: 3000 })),
      opts,
    );
    const untraced = report.findings.find((f) => f.kind === 'untraced-time')!;
    assert.ok(untraced);
    assert.deepEqual(untraced.stage, { service: 'gateway', name: 'inference_request' });
    assert.equal(untraced.numbers.untracedMs, 3000);
    assert.match(
      untraced.title,
      /^3\.00 s \(5\d% of the critical path\) is inside inference_request/,
    );
  });

  it('projects end-to-end p95 with a stage twice as fast', () => {
    const all = traces(20, () => ({}));
    const whatIf = speedupWhatIf(all, 2);
    const gen = whatIf.find((w) => w.stage.name === 'generation')!;
    const before = all[0]!.durationMs;
    assert.equal(gen.p95BeforeMs, before);
    assert.equal(gen.p95AfterMs, before - 400);
    // Halving reranking (1200 ms on the path) saves 600 ms, more than generation's 400 ms.
    assert.equal(whatIf[0]!.stage.name, 'reranking');
    assert.equal(whatIf[0]!.p95AfterMs, before - 600);
  });

  it('compares against a pinned baseline, stage by stage', () => {
    // Pinned at time 0: every trace below counts as received after it.
    const baseline = makeBaseline(
      traces(20, () => ({})),
      'abc123',
      0,
    );
    const after = traces(20, () => ({ rerankMs: 1500 }), 100);
    const rows = compareToBaseline(after, baseline);
    const rerank = rows.find((r) => r.name === 'reranking')!;
    assert.equal(rerank.baselineP95Ms, 1200);
    assert.equal(rerank.p95Ms, 1500);
    assert.equal(rerank.change, 0.25);
    const report = computeInsights(after, { ...opts, baseline });
    const change = report.findings.find((f) => f.kind === 'baseline-change')!;
    assert.equal(change.title, 'reranking p95 1.50 s, +25% vs baseline abc123');
    assert.equal(rows.find((r) => r.name === 'generation')!.change, 0);
  });

  it('tells what head and tail sampling would have kept', () => {
    const all = traces(100, (i) =>
      i % 10 === 0 ? { generationError: 'boom' } : i % 7 === 0 ? { rerankMs: 5000 } : {},
    );
    const none = samplingWhatIf(all, { headRatio: 0, keepErrors: true, latencyThresholdMs: 4000 });
    assert.equal(none.head.kept, 0);
    assert.equal(none.head.lostErrors, 10);
    // Tail keeps the 10 error traces and the slow ones (i % 7 === 0 and not i % 10 === 0).
    const slow = all.filter((_, i) => i % 7 === 0 && i % 10 !== 0).length;
    assert.equal(none.tail.kept, 10 + slow);
    assert.equal(none.tail.lostErrors, 0);
    assert.equal(none.tail.lostSlow, 0);
    const every = samplingWhatIf(all, { headRatio: 1, keepErrors: false });
    assert.equal(every.head.kept, 100);
    // Trace ids here count up from 1: the low 56 bits are tiny, so a 1% ratio keeps them all.
    const tiny = samplingWhatIf(all, { headRatio: 0.01, keepErrors: false });
    assert.equal(tiny.head.kept, 100);
  });
});
