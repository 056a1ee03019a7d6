/**
 * Each diagnosis of `core/analysis/insights/` on hand-built pipeline traces whose answer is
 * known by construction (test/unit/helpers/pipeline.ts), and the ranking between them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeBaseline } from '../../src/core/analysis/baseline.js';
import {
  changePoint,
  computeInsights,
  explainTrace,
  samplingWhatIf,
  speedupWhatIf,
  type Finding,
  type InsightsReport,
} from '../../src/core/analysis/insights/index.js';
import { fisherGreaterP, mannWhitneyZ } from '../../src/core/analysis/statistics.js';
import { factsOf, indexOf, pipelineSpans, trace, traces } from './helpers/pipeline.js';
import { makeSpan } from './helpers/spans.js';

const REPLICAS = ['generation-a', 'generation-b', 'generation-c'];
const titles = (r: InsightsReport) =>
  r.findings.map((f) => `${f.severity} ${f.kind}: ${f.title}`).join('\n');
const alarms = (r: InsightsReport): Finding[] => r.findings.filter((f) => f.severity !== 'info');

describe('insights: no false alarms', () => {
  it('raises nothing above info for a steady pipeline, with or without a baseline', () => {
    const steady = (i: number) => ({ jitter: 0.1, replica: REPLICAS[i % 3] });
    const alone = computeInsights(traces(60, steady));
    assert.deepEqual(
      alarms(alone).map((f) => f.title),
      [],
    );
    const baseline = makeBaseline(traces(30, steady), 'warm-up', 'warm-up', 0);
    const against = computeInsights(traces(30, steady, 100), { baseline });
    assert.deepEqual(
      alarms(against).map((f) => f.title),
      [],
    );
  });

  it('does not call the long answers of normal traffic a shift of the critical path', () => {
    // One request in four asks for a long answer: the slowest traces are those, where
    // generation holds more of the path (about two thirds) than over all requests (about a
    // third). Against the same mix in the baseline that is no change.
    const mix = (i: number) => ({ generationMs: i % 4 === 0 ? 3000 : 100 });
    const baseline = makeBaseline(traces(80, mix), 'warm-up', 'warm-up', 0);
    const r = computeInsights(traces(80, mix, 100), { baseline });
    assert.deepEqual(
      alarms(r).map((f) => f.title),
      [],
    );
    const dom = r.findings.find((f) => f.kind === 'dominant-stage');
    assert.ok(dom?.stage?.name === 'generation', titles(r));
  });

  it('does not blame one stage when the whole machine slowed down', () => {
    const baseline = makeBaseline(traces(20), 'b', 'pinned', 0);
    const r = computeInsights(
      traces(10, () => ({ load: 3 }), 30),
      { baseline },
    );
    assert.deepEqual(
      r.findings.filter((f) => f.kind === 'stage-regression').map((f) => f.title),
      [],
    );
    const within = computeInsights([...traces(30), ...traces(10, () => ({ load: 3 }), 30)]);
    assert.deepEqual(
      within.findings.filter((f) => f.kind === 'stage-regression').map((f) => f.title),
      [],
    );
  });

  it('does not call a few slow requests at the end a regression', () => {
    const all = traces(40, (i) => ({
      rerankMs: i === 33 || i === 38 ? 4000 : 1000 + (i % 5) * 100,
    }));
    assert.equal(
      computeInsights(all).findings.filter((f) => f.kind === 'stage-regression').length,
      0,
    );
  });
});

describe('insights: regressions', () => {
  it('names the stage that regressed against the baseline, and the attribute that moved', () => {
    const baseline = makeBaseline(traces(12), 'demo warm-up', 'warm-up', 0);
    const r = computeInsights(
      traces(6, () => ({ rerankMs: 7000, candidates: 40 }), 100),
      { baseline },
    );
    const top = r.findings[0]!;
    assert.equal(top.kind, 'stage-regression', titles(r));
    assert.equal(top.severity, 'critical');
    assert.deepEqual(top.stage, { service: 'gateway', name: 'reranking' });
    // The gateway's reranking span (7.00 s of work + 2 ms) vs 1.20 s; the nested rerank span and
    // its forward pass regress with it and are not named again.
    assert.match(
      top.title,
      /^reranking 7\.00 s vs 1\.20 s in baseline demo warm-up \(\+5\.80 s, 100% of the request's increase\); input\.size 8 → 40$/,
    );
    assert.equal(r.findings.filter((f) => f.kind === 'stage-regression').length, 1, titles(r));
  });

  it('finds the onset inside a run without a baseline', () => {
    const all = [...traces(30), ...traces(10, () => ({ rerankMs: 7000 }), 30)];
    const r = computeInsights(all);
    const top = r.findings[0]!;
    assert.equal(top.kind, 'stage-regression', titles(r));
    assert.match(top.title, /^reranking 7\.00 s vs 1\.20 s earlier in this run \(\+5\.80 s/);
    assert.ok(top.traceIds.every((id) => indexOf(id) >= 30));
  });

  it('change point: the split where a series steps up, none in noise', () => {
    const step = [...Array(20).fill(10), ...Array(10).fill(50)].map((v, i) => v + (i % 3));
    assert.equal(changePoint(step), 20);
    assert.equal(changePoint(Array.from({ length: 30 }, (_, i) => 10 + (i % 4))), undefined);
  });

  it('names the culprit when the runner clock is skewed (2 ms overrun, no baseline)', () => {
    // The very first slow requests, in a fresh window: the reranker's span ends 2 ms after
    // the gateway's reranking span. Without the skew adjustment the critical path gave the
    // whole call to the root and nothing named reranking.
    const r = computeInsights(traces(8, () => ({ rerankMs: 3400, rerankSkewMs: 3 })));
    const top = r.findings[0]!;
    assert.equal(top.kind, 'dominant-stage', titles(r));
    assert.deepEqual(top.stage, { service: 'gateway', name: 'reranking' });
    assert.match(
      top.title,
      /^reranking: 3\.40 s, 7\d% of the critical path of the slowest 8 traces; mostly matmul in reranker \(/,
    );
  });
});

describe('insights: where the time goes without history', () => {
  it('names the dominant stage of the slowest traces, down to the work inside it', () => {
    const r = computeInsights(
      traces(20, (i) => ({ rerankMs: 3000 + (i % 4) * 100, rerankWaitMs: 1200 })),
    );
    const dom = r.findings.find((f) => f.kind === 'dominant-stage')!;
    assert.ok(dom, titles(r));
    assert.deepEqual(dom.stage, { service: 'gateway', name: 'reranking' });
    assert.match(
      dom.title,
      /of the critical path of the slowest 20 traces; mostly matmul in reranker \(3\.\d\d s\); 1\.20 s waiting for a worker$/,
    );
    assert.equal(dom.severity, 'info');
  });
});

describe('insights: waits', () => {
  it('calls the gap before a remote child a wait for the worker, not untraced time', () => {
    const r = computeInsights(traces(10, () => ({ rerankWaitMs: 1190 })));
    assert.equal(r.findings.filter((f) => f.kind === 'untraced-time').length, 0, titles(r));
    const w = r.findings.find((f) => f.kind === 'remote-wait')!;
    assert.ok(w, titles(r));
    assert.deepEqual(w.stage, { service: 'gateway', name: 'reranking' });
    assert.equal(w.numbers.callee, 'reranker');
    // 1,191 ms before the worker's span starts and 1 ms after it ends.
    assert.ok(Math.abs(Number(w.numbers.waitMs) - 1192) < 1e-6, String(w.numbers.waitMs));
    assert.match(w.title, /^reranking waits 1\.19 s for reranker \(1 worker: reranker-a\)/);
  });

  it('finds time spent waiting in a queue, naming the queue and the trend', () => {
    const r = computeInsights(traces(20, (i) => ({ queueWaitMs: 5000 + i * 300 })));
    const top = r.findings[0]!;
    assert.equal(top.kind, 'queueing', titles(r));
    assert.equal(top.numbers.queue, 'retrieval-requests');
    assert.equal(top.numbers.trend, 'rising');
    assert.equal(top.numbers.medianWaitMs, 5000 + 9.5 * 300);
  });

  it('names a queue backing up from the latest traces, before most requests have waited', () => {
    // A consumer fell behind: the first requests did not wait, each later one waits longer
    // (0, 0, ..., then 600 ms more per request). Over all 12 the median wait is still small;
    // the latest five wait 1.8-4.2 s.
    const r = computeInsights(traces(12, (i) => ({ queueWaitMs: i < 5 ? 0.4 : (i - 4) * 600 })));
    const top = r.findings[0]!;
    assert.equal(top.kind, 'queueing', titles(r));
    assert.equal(top.numbers.latestTraces, 5);
    assert.equal(top.numbers.medianWaitMs, 5 * 600);
    assert.match(top.title, /spent waiting in retrieval-requests in the latest 5 traces \(/);
    // Steady small waits in normal traffic stay below the bar however they are read.
    const steady = computeInsights(traces(12, (i) => ({ queueWaitMs: 0.3 + (i % 3) * 0.1 })));
    assert.equal(steady.findings.filter((f) => f.kind === 'queueing').length, 0, titles(steady));
  });

  it('waits for requests still arriving: an in-flight request is not a trace that waited nowhere', () => {
    // Six requests waited 3 s in the queue; eight more are in flight (their root and their
    // consumer not received yet: preprocessing, embedding and the publish so far), the latest
    // to arrive. Counted as they stand they would be eight traces without any wait.
    const done = traces(6, () => ({ queueWaitMs: 3000 }));
    const inFlight = Array.from({ length: 8 }, (_, k) => {
      const i = 6 + k;
      const spans = pipelineSpans(i, { queueWaitMs: 3000 }).filter(
        (s) =>
          s.parentSpanId !== '' && !/process|retrieve|rerank|generation|postprocess/.test(s.name),
      );
      return factsOf(spans, 10_000_000 + i * 1000);
    });
    const arrivedAt = 10_000_000 + 13 * 1000;
    const now = computeInsights([...done, ...inFlight], { now: arrivedAt + 2000 });
    assert.equal(now.findings[0]?.kind, 'queueing', titles(now));
    assert.equal(now.traces, 6, 'the in-flight requests are left out');
    // A root that never comes: after 30 s the traces count as they are.
    const later = computeInsights([...done, ...inFlight], { now: arrivedAt + 60_000 });
    assert.equal(later.traces, 14);
  });

  it('points at untraced work inside a span', () => {
    const r = computeInsights(traces(10, () => ({ gatewaySelfMs: 3000 })));
    const u = r.findings.find((f) => f.kind === 'untraced-time')!;
    assert.ok(u, titles(r));
    assert.deepEqual(u.stage, { service: 'gateway', name: 'inference_request' });
    assert.equal(u.numbers.untracedMs, 3000);
  });
});

describe('insights: instances and errors', () => {
  it('names the replica whose spans are slow and failing', () => {
    const all = traces(60, (i) => {
      const replica = REPLICAS[i % 3]!;
      if (replica !== 'generation-b') return { replica, generationMs: 200 };
      return {
        replica,
        generationMs: 3000,
        generationError: i % 9 === 1 ? 'TimeoutError: deadline exceeded' : undefined,
      };
    });
    const r = computeInsights(all);
    const top = r.findings[0]!;
    assert.equal(top.kind, 'bad-instance', titles(r));
    // One replica, seen by the caller (`replica` on its call) and by itself (its own
    // service.instance.id on the server span): one finding, the caller's, naming the other.
    assert.equal(`${top.numbers.attribute}=${top.numbers.value}`, 'replica=generation-b');
    assert.deepEqual(top.evidence?.alsoStages, [
      'decoder/text_completion',
      'decoder/prefill',
      'decoder/decode',
    ]);
    assert.equal(
      r.findings.filter((f) => f.kind === 'bad-instance' && f.numbers.value === 'generation-b')
        .length,
      1,
      titles(r),
    );
  });

  it('does not blame a replica from a handful of spans', () => {
    // 30% of all requests fail, spread over the replicas; generation-c happens to have served
    // only 5 spans, 3 of them failing.
    const all = traces(40, (i) => ({
      replica: i < 5 ? 'generation-c' : REPLICAS[i % 2]!,
      maxTokens: i < 3 || (i >= 5 && i % 4 === 0) ? 80 : 64,
      generationError:
        i < 3 || (i >= 5 && i % 4 === 0) ? 'IndexError: position out of range' : undefined,
    }));
    const r = computeInsights(all);
    assert.equal(
      r.findings.filter((f) => f.kind === 'bad-instance' && f.severity !== 'info').length,
      0,
      titles(r),
    );
  });

  it('ranks a cause that explains every failure first: max_tokens, not a replica', () => {
    const all = traces(30, (i) => {
      const overflow = i % 10 === 3 || i % 10 === 6 || i % 10 === 8;
      return {
        replica: REPLICAS[i % 3]!,
        maxTokens: overflow ? 80 : 64,
        generationError: overflow ? 'IndexError: position 161 out of range' : undefined,
      };
    });
    const r = computeInsights(all);
    const top = r.findings[0]!;
    assert.equal(top.kind, 'errors', titles(r));
    assert.deepEqual(top.stage, { service: 'gateway', name: 'generation' });
    assert.equal(top.numbers.cause, 'gen_ai.request.max_tokens=80');
    assert.match(
      top.title,
      /^generation failed in 30% of requests \(9 of 30\); every failing request had gen_ai\.request\.max_tokens=80 \(0 of 21 successful ones did\): IndexError: position 161 out of range$/,
    );
  });

  it('puts a degraded replica on top when every failure is on it, though it also succeeds', () => {
    // generation-b is slow and fails 4 of its 10 requests; the others never fail.
    const all = traces(30, (i) => {
      const replica = REPLICAS[i % 3]!;
      if (replica !== 'generation-b') return { replica, generationMs: 800 };
      return {
        replica,
        generationMs: 2600,
        generationError: i % 6 === 1 ? 'DeadlineExceededError: deadline exceeded' : undefined,
      };
    });
    const r = computeInsights(all);
    const top = r.findings[0]!;
    assert.equal(top.kind, 'bad-instance', titles(r));
    assert.equal(top.numbers.value, 'generation-b');
    const errs = r.findings.find((f) => f.kind === 'errors')!;
    assert.match(String(errs.numbers.cause), /=generation-b$/, titles(r));
  });

  it('puts a slow replica above the regression, and above the timeouts under it', () => {
    // Generation is 2x slower everywhere than in the baseline (a busy machine) and generation-b
    // 2x slower again; two of its 8 requests ran into their deadline, too few to name a cause
    // for the errors. The timeouts go under the regression, the regression under the replica.
    const baseline = makeBaseline(
      traces(12, (i) => ({ replica: REPLICAS[i % 3], generationMs: 800 })),
      'b',
      'pinned',
      0,
    );
    const all = traces(
      24,
      (i) => {
        const replica = REPLICAS[i % 3]!;
        if (replica !== 'generation-b') return { replica, generationMs: 1600 + (i % 4) * 20 };
        return {
          replica,
          generationMs: 3400 + (i % 4) * 20,
          generationError: i % 12 === 1 ? 'DeadlineExceededError: deadline exceeded' : undefined,
        };
      },
      100,
    );
    const r = computeInsights(all, { baseline });
    for (const kind of ['stage-regression', 'errors'])
      assert.ok(
        r.findings.some((f) => f.kind === kind),
        `${kind} is found too: ${titles(r)}`,
      );
    const top = r.findings[0]!;
    assert.equal(top.kind, 'bad-instance', titles(r));
    assert.equal(top.numbers.value, 'generation-b');
  });

  it('puts a slow replica above errors too few to name a cause, when every one is on it', () => {
    // generation-b is 3x slower; two of its 10 requests ran into their deadline, too few for
    // the errors to name a cause or for the replica to count as failing by the test.
    const all = traces(30, (i) => {
      const replica = REPLICAS[i % 3]!;
      if (replica !== 'generation-b') return { replica, generationMs: 250 + (i % 4) * 10 };
      return {
        replica,
        generationMs: 750 + (i % 4) * 10,
        generationError:
          i === 4 || i === 16 ? 'DeadlineExceededError: deadline exceeded' : undefined,
      };
    });
    const r = computeInsights(all);
    const errs = r.findings.find((f) => f.kind === 'errors');
    assert.ok(errs !== undefined && errs.numbers.cause === undefined, titles(r));
    const top = r.findings[0]!;
    assert.equal(top.kind, 'bad-instance', titles(r));
    assert.equal(top.numbers.value, 'generation-b');
  });

  it('puts a slowdown above the timeouts it causes', () => {
    // Generation got 4x slower everywhere; some requests now hit their deadline, on every
    // replica alike: the regression is the diagnosis, the timeouts its consequence.
    const baseline = makeBaseline(
      traces(12, (i) => ({ replica: REPLICAS[i % 3] })),
      'b',
      'pinned',
      0,
    );
    const r = computeInsights(
      traces(
        20,
        (i) => ({
          replica: REPLICAS[i % 3],
          generationMs: 3200,
          generationError: i % 5 === 2 ? 'DeadlineExceededError: deadline exceeded' : undefined,
        }),
        100,
      ),
      { baseline },
    );
    assert.equal(r.findings[0]!.kind, 'stage-regression', titles(r));
    assert.ok(
      r.findings.some((f) => f.kind === 'errors'),
      titles(r),
    );
  });

  it('reports a cold start: the first request to each process waits for model_load', () => {
    const first = new Set<string>();
    const all = traces(12, (i) => {
      const replica = REPLICAS[i % 3]!;
      const cold = !first.has(replica);
      first.add(replica);
      return { replica, modelLoadMs: cold ? 2000 : 0 };
    });
    const r = computeInsights(all);
    const top = r.findings[0]!;
    assert.equal(top.kind, 'cold-start', titles(r));
    assert.equal(top.numbers.processes, 3);
    assert.match(
      top.title,
      /^Cold start: the first request to each of 3 processes waits for model_load \(2\.00 s on the critical path\)/,
    );
  });
});

describe('insights: LLM stages, caching, compute against latency', () => {
  it('gives an LLM stage its time to first token, decode speed and share', () => {
    const r = computeInsights(traces(10, () => ({ generationMs: 1000, outputTokens: 49 })));
    const f = r.findings.find((x) => x.kind === 'llm')!;
    assert.ok(f, titles(r));
    assert.deepEqual(f.stage, { service: 'gateway', name: 'generation' });
    // prefill is a tenth of the 997 ms of work after 1.5 ms; decode the rest: 48 tokens after
    // the first in 897.3 ms.
    assert.ok(Math.abs(Number(f.numbers.ttftMs) - (1.5 + 99.7)) < 0.5, String(f.numbers.ttftMs));
    assert.ok(
      Math.abs(Number(f.numbers.tokensPerSec) - 53.5) < 0.5,
      String(f.numbers.tokensPerSec),
    );
    assert.match(
      f.title,
      /^generation: time to first token 101 ms, decode 53 tokens\/s, 49 tokens out, 96 in, decode \d+% of the critical path$/,
    );
    assert.equal(f.severity, 'info');
  });

  it('names a caching opportunity: the same input computed again', () => {
    // 12 requests over 4 distinct questions: 8 of the 12 generations repeat an earlier one.
    const r = computeInsights(traces(12, (i) => ({ inputHash: `q${i % 4}` })));
    const f = r.findings.find((x) => x.kind === 'caching')!;
    assert.ok(f, titles(r));
    assert.deepEqual(f.stage, { service: 'gateway', name: 'generation' });
    assert.equal(f.numbers.repeats, 8);
    assert.equal(f.numbers.attribute, 'input.hash');
    // No identity, no opportunity: input sizes repeat without being one input.
    assert.equal(
      computeInsights(traces(12)).findings.filter((x) => x.kind === 'caching').length,
      0,
    );
  });

  it('compares a stage’s share of device time with its share of the latency', () => {
    // The reranker computes 1,200 ms and the decoder 300 ms per request on the CPU, so the
    // reranker has about 80% of the device time; on the critical path it is about half.
    const r = computeInsights(traces(10, () => ({ rerankMs: 1200, generationMs: 300 })));
    const f = r.findings.find((x) => x.kind === 'compute-share');
    assert.ok(f, titles(r));
    assert.equal(f.numbers.device, 'cpu');
    assert.ok(Number(f.numbers.computeShare) > Number(f.numbers.latencyShare) + 0.1);
  });
});

describe('insights: parallelization', () => {
  /** A root calling `fetch_profile` and `search` one after the other, in the given order. */
  function siblings(i: number, profileFirst: boolean) {
    const tId = (i + 1).toString(16).padStart(32, '0');
    const a = profileFirst ? 0 : 80;
    const b = profileFirst ? 60 : 0;
    return factsOf(
      [
        makeSpan({
          traceId: tId,
          spanId: `r${i}`,
          name: 'handle',
          service: 'api',
          start: 0,
          end: 150,
        }),
        makeSpan({
          traceId: tId,
          spanId: `p${i}`,
          parent: `r${i}`,
          name: 'fetch_profile',
          service: 'users',
          start: a + 1,
          end: a + 59,
        }),
        makeSpan({
          traceId: tId,
          spanId: `s${i}`,
          parent: `r${i}`,
          name: 'search',
          service: 'index',
          start: b + 1,
          end: b + 79,
        }),
      ],
      i * 1000,
    );
  }

  it('finds siblings that run in either order and never overlap', () => {
    const r = computeInsights(Array.from({ length: 10 }, (_, i) => siblings(i, i % 3 !== 0)));
    const f = r.findings.find((x) => x.kind === 'parallelism')!;
    assert.ok(f, titles(r));
    assert.equal(f.severity, 'info');
    assert.ok(Math.abs(Number(f.numbers.savedMs) - 58) < 1e-6);
    assert.match(f.title, /^fetch_profile and search never overlap, and run in either order/);
  });

  it('offers a fixed order only as a what-if: the trace cannot show independence', () => {
    const r = computeInsights(Array.from({ length: 10 }, (_, i) => siblings(i, true)));
    assert.equal(r.findings.filter((x) => x.kind === 'parallelism').length, 0);
    assert.equal(r.parallel[0]?.orderVaries, false);
    assert.equal(r.parallel[0]?.first.name, 'fetch_profile');
  });
});

describe('insights: explain, what-ifs, statistics', () => {
  it('explains one slow trace; a share of the excess never passes 100%', () => {
    const peers = traces(20);
    const slow = trace(99, { rerankMs: 7000 });
    const e = explainTrace(slow, [...peers, slow]);
    assert.deepEqual(e.rows[0]!.stage, { service: 'gateway', name: 'reranking' });
    assert.ok(Math.abs(e.rows[0]!.ms - 7002) < 1e-6);
    assert.ok(Math.abs(e.rows[0]!.typicalMs - 1202) < 1e-6);
    assert.equal(e.rows[0]!.share, 1);
    // Slower in one stage, faster in another: the excess is small, the shares stay in [0, 1].
    const mixed = trace(98, { rerankMs: 2000, generationMs: 100 });
    const m = explainTrace(mixed, [...peers, mixed]);
    for (const row of m.rows)
      assert.ok(row.share >= 0 && row.share <= 1, `${row.stage.name} ${row.share}`);
    // A trace a hair above typical: jitter explains nothing, however small the excess.
    const typical = trace(97, { load: 1.002 });
    const j = explainTrace(typical, [...peers, typical]);
    assert.deepEqual(
      j.rows.filter((r) => r.share > 0).map((r) => r.stage.name),
      [],
      JSON.stringify(j.rows.map((r) => [r.stage.name, r.deltaMs])),
    );
  });

  it('projects end-to-end p95 with a stage twice as fast', () => {
    const all = traces(20);
    const whatIf = speedupWhatIf(all, 2);
    assert.equal(whatIf[0]!.stage.name, 'reranking');
    assert.ok(Math.abs(whatIf[0]!.p95BeforeMs - whatIf[0]!.p95AfterMs - 601) < 1);
  });

  it('tells what head and tail sampling would have kept, slowest first', () => {
    const all = Array.from({ length: 100 }, (_, i) => ({
      traceId: (i + 1).toString(16).padStart(32, '0'),
      durationMs: i % 7 === 0 ? 5000 : 1000,
      hasError: i % 10 === 0,
    }));
    const none = samplingWhatIf(all, { headRatio: 0, keepErrors: true, latencyThresholdMs: 4000 });
    assert.equal(none.head.kept, 0);
    assert.equal(none.head.lostErrors, 10);
    assert.equal(none.tail.lostErrors, 0);
    assert.equal(none.tail.lostSlow, 0);
    assert.equal(none.head.lostSlowTraces[0]!.durationMs, 5000);
    assert.equal(samplingWhatIf(all, { headRatio: 1, keepErrors: false }).head.kept, 100);
  });

  it('Mann-Whitney z and Fisher exact p', () => {
    assert.ok(mannWhitneyZ([10, 11, 12, 13, 14], [1, 2, 3, 4, 5, 6, 7, 8]) > 2.58);
    assert.ok(Math.abs(mannWhitneyZ([1, 4, 6, 7], [2, 3, 5, 8])) < 1);
    assert.equal(mannWhitneyZ([], [1]), 0);
    // With ties, U counts a tie as half a win: check the merged ranks against counting pairs.
    const a = [3, 3, 5, 7, 7, 7, 9];
    const b = [1, 3, 5, 5, 7, 8];
    let u = 0;
    for (const x of a) for (const y of b) u += x > y ? 1 : x === y ? 0.5 : 0;
    const n = a.length + b.length;
    // Tied groups: 1 (x1), 3 (x3), 5 (x3), 7 (x4), 8 (x1), 9 (x1).
    const ties = [1, 3, 3, 4, 1, 1].reduce((t, k) => t + k ** 3 - k, 0);
    const sd = Math.sqrt(((a.length * b.length) / 12) * (n + 1 - ties / (n * (n - 1))));
    const z = (u - (a.length * b.length) / 2 - 0.5) / sd;
    assert.ok(Math.abs(mannWhitneyZ(a, b) - z) < 1e-12, `${mannWhitneyZ(a, b)} vs ${z}`);
    // 6 of 6 against 0 of 14: p = 1 / C(20, 6).
    assert.ok(Math.abs(fisherGreaterP(6, 6, 0, 14) - 1 / 38760) < 1e-12);
    // 3 of 6 against 2 of 50 is suggestive, not proof.
    assert.ok(fisherGreaterP(3, 6, 2, 50) > 0.001);
    assert.equal(fisherGreaterP(0, 5, 0, 5), 1);
  });

  it('compares stage p95 against the baseline', () => {
    const baseline = makeBaseline(traces(20), 'abc123', 'commit', 0);
    const r = computeInsights(
      traces(20, () => ({ rerankMs: 1500 }), 100),
      { baseline },
    );
    const d = r.stageDeltas.find((x) => x.name === 'reranking')!;
    assert.ok(Math.abs(d.baselineP95Ms - 1202) < 1e-6);
    assert.ok(Math.abs(d.p95Ms - 1502) < 1e-6);
    assert.equal(r.baseline.state, 'set');
  });
});
