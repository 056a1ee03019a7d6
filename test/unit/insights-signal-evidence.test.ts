/**
 * The findings that use the other signals (`core/analysis/insights/signal-evidence.ts`): the
 * errors finding quotes the log line the failing span wrote, the queueing finding shows the
 * waiting stage's queue-depth metric rising. Records and points are made by the OpenTelemetry
 * JS SDKs and decoded by the receiver (test/unit/helpers/signals.ts) into real stores.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { TraceEngine } from '../../src/core/engine.js';
import { computeInsights, type Finding } from '../../src/core/analysis/insights/index.js';
import {
  failingSpanLog,
  isQueueDepthMetric,
  queueMetricTrend,
  titleQuote,
  type LogQuote,
  type QueueMetricTrend,
} from '../../src/core/analysis/insights/signal-evidence.js';
import type { TraceFacts } from '../../src/core/analysis/trace-facts.js';
import { LogStore } from '../../src/core/store/log-store.js';
import { MetricStore } from '../../src/core/store/metric-store.js';
import { stageKey } from '../../src/shared/stage-key.js';
import { traces } from './helpers/pipeline.js';
import { sdkGaugePoints, sdkLogRecords, type Emit } from './helpers/signals.js';

const REPLICAS = ['generation-a', 'generation-b', 'generation-c'];
const OVERFLOW = 'IndexError: position 161 out of range';

/** 30 requests, 9 failing in generation (max_tokens=80), as in insights.test.ts. */
function failingRun(): TraceFacts[] {
  return traces(30, (i) => {
    const overflow = i % 10 === 3 || i % 10 === 6 || i % 10 === 8;
    return {
      replica: REPLICAS[i % 3]!,
      maxTokens: overflow ? 80 : 64,
      generationError: overflow ? OVERFLOW : undefined,
    };
  });
}

const spanOf = (t: TraceFacts, name: string) => t.spans.find((s) => s.name === name)!;

function stores() {
  return { logStore: new LogStore(), metricStore: new MetricStore() };
}

const errorsOf = (findings: Finding[]) => findings.find((f) => f.kind === 'errors')!;
const queueingOf = (findings: Finding[]) => findings.find((f) => f.kind === 'queueing')!;

describe('errors finding: the log line the failing span wrote', () => {
  it('quotes the highest-severity record of the failing span of the first trace listed', async () => {
    const all = failingRun();
    const signals = stores();
    const emits: Emit[] = [];
    for (const t of all) {
      const server = spanOf(t, 'text_completion');
      const at = server.startMs + 1;
      emits.push({
        traceId: t.traceId,
        spanId: server.spanId,
        severityNumber: SeverityNumber.INFO,
        severityText: 'INFO',
        body: 'generating',
        timeMs: at,
      });
      if (t.hasError) {
        emits.push({
          traceId: t.traceId,
          spanId: server.spanId,
          severityNumber: SeverityNumber.ERROR,
          severityText: 'ERROR',
          body: `context of 160 tokens exceeded by request ${t.traceId.slice(-4)}`,
          timeMs: at + 2,
        });
        emits.push({
          traceId: t.traceId,
          spanId: server.spanId,
          severityNumber: SeverityNumber.WARN,
          body: 'retrying with a shorter prompt',
          timeMs: at + 1,
        });
      }
    }
    // A line without a span context, and one of another trace's span: neither is quoted.
    emits.push({ severityNumber: SeverityNumber.FATAL, body: 'decoder restarted' });
    signals.logStore.add(await sdkLogRecords('decoder', emits));

    const plain = errorsOf(computeInsights(all).findings);
    const r = computeInsights(all, { signals });
    const f = errorsOf(r.findings);
    const log = f.evidence?.log as LogQuote;
    assert.ok(log, f.title);
    assert.equal(log.traceId, f.traceIds[0], 'the quote is of the trace opened first');
    assert.equal(log.spanName, 'text_completion');
    assert.equal(log.severity, 'ERROR');
    assert.equal(log.service, 'decoder');
    assert.equal(log.body, `context of 160 tokens exceeded by request ${f.traceIds[0]!.slice(-4)}`);
    assert.equal(f.numbers.loggedFailures, 9);
    assert.equal(f.title, `${plain.title}; decoder logged ERROR "${log.body}"`);
    // The rest of the finding is the same with or without logs.
    assert.deepEqual(f.traceIds, plain.traceIds);
    assert.equal(f.score, plain.score);
  });

  it("takes an ancestor's line within the stage when the failing span wrote none", async () => {
    const all = failingRun();
    const signals = stores();
    const emits: Emit[] = [];
    for (const t of all.filter((x) => x.hasError)) {
      // The gateway's generation call logs what its callee raised; the root logs too, but
      // the root is outside the stage and is not read.
      const call = spanOf(t, 'generation');
      const root = spanOf(t, 'inference_request');
      emits.push({
        traceId: t.traceId,
        spanId: call.spanId,
        severityNumber: SeverityNumber.WARN,
        body: 'decoder call failed',
      });
      emits.push({
        traceId: t.traceId,
        spanId: root.spanId,
        severityNumber: SeverityNumber.FATAL,
        body: 'request failed',
      });
    }
    signals.logStore.add(await sdkLogRecords('gateway', emits));
    const f = errorsOf(computeInsights(all, { signals }).findings);
    const log = f.evidence?.log as LogQuote;
    assert.equal(log.spanName, 'generation');
    // No severity text: the level of the number.
    assert.equal(log.severity, 'WARN');
    assert.match(f.title, /; gateway logged WARN "decoder call failed"$/);
  });

  it('quotes a hostile body on one short line and keeps it, bounded, as data', async () => {
    const all = failingRun();
    const t = all.find((x) => x.hasError)!;
    const server = spanOf(t, 'text_completion');
    const hostile = `line one\r\n\u001b[31mred\u001b[0m\u2028"quoted" ${'x'.repeat(10_000)}`;
    const [record] = await sdkLogRecords('decoder', [
      {
        traceId: t.traceId,
        spanId: server.spanId,
        severityNumber: SeverityNumber.ERROR,
        body: hostile,
      },
    ]);
    const signals = stores();
    signals.logStore.add([record!]);
    const q = failingSpanLog(
      signals,
      t,
      t.spans.indexOf(server),
      stageKey('gateway', 'generation'),
    )!;
    assert.equal(q.body.length, 2000);
    assert.ok(hostile.startsWith(q.body.slice(0, -1)));
    const line = titleQuote(q);
    assert.ok(line.length <= 110, line);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(line, /[\u0000-\u001f\u2028]/);
    assert.ok(line.startsWith('ERROR "line one [31mred [0m "quoted" xxx'), line);
    // A structured body is quoted as its text.
    const [kv] = await sdkLogRecords('decoder', [
      { traceId: t.traceId, spanId: server.spanId, body: { error: 'oom', gpu: 1 } },
    ]);
    const only = stores();
    only.logStore.add([kv!]);
    const q2 = failingSpanLog(only, t, t.spans.indexOf(server), stageKey('gateway', 'generation'))!;
    assert.equal(titleQuote(q2), '"{error: oom, gpu: 1}"');
  });

  it('adds nothing when no failing span logged', async () => {
    const all = failingRun();
    const signals = stores();
    const ok = all.find((x) => !x.hasError)!;
    signals.logStore.add(
      await sdkLogRecords('decoder', [
        {
          traceId: ok.traceId,
          spanId: spanOf(ok, 'text_completion').spanId,
          severityNumber: SeverityNumber.ERROR,
          body: 'not this one',
        },
      ]),
    );
    const f = errorsOf(computeInsights(all, { signals }).findings);
    assert.equal(f.evidence?.log, undefined);
    assert.equal(f.numbers.loggedFailures, undefined);
    assert.equal(f.title, errorsOf(computeInsights(all).findings).title);
  });
});

describe('queueing finding: the queue-depth metric of the waiting stage', () => {
  /** 20 requests waiting longer and longer in retrieval-requests (consumed by `retrieval`). */
  const run = () => traces(20, (i) => ({ queueWaitMs: 5000 + i * 300 }));
  /** One sample per request start, from `first`, by `step`. */
  const samples = (list: TraceFacts[], first: number, step: number) =>
    list.map((t, k) => [t.startMs, first + step * k] as const);

  it('shows the depth rising from the first to the last value over the waiting requests', async () => {
    const list = run();
    const signals = stores();
    signals.metricStore.add(
      await sdkGaugePoints('retrieval', 'retrieval.queue.depth', samples(list, 2, 2)),
    );
    // Look-alikes that are not evidence: another service's queue, a name without a depth.
    signals.metricStore.add(
      await sdkGaugePoints('gateway', 'queue.depth', samples(list, 900, -40)),
    );
    signals.metricStore.add(await sdkGaugePoints('retrieval', 'queue.errors', samples(list, 0, 9)));
    // A point long before the requests: not their first value.
    signals.metricStore.add(
      await sdkGaugePoints('retrieval', 'retrieval.queue.depth', [[list[0]!.startMs - 600_000, 0]]),
    );
    const plain = queueingOf(computeInsights(list).findings);
    const f = queueingOf(computeInsights(list, { signals }).findings);
    assert.equal(f.title, `${plain.title}; retrieval.queue.depth on retrieval rose from 2 to 40`);
    assert.equal(f.numbers.queueMetric, 'retrieval.queue.depth');
    assert.equal(f.numbers.queueMetricFirst, 2);
    assert.equal(f.numbers.queueMetricLast, 40);
    assert.equal(f.numbers.queueMetricTrend, 'rising');
    const trend = f.evidence?.queueMetric as QueueMetricTrend;
    assert.equal(trend.points.length, 20);
    assert.deepEqual(trend.points[0], [list[0]!.startMs, 2]);
  });

  it('reports a steady depth in the numbers, not in the title', async () => {
    const list = run();
    const signals = stores();
    signals.metricStore.add(
      await sdkGaugePoints('retrieval', 'consumer_queue_lag', samples(list, 30, 0)),
    );
    const f = queueingOf(computeInsights(list, { signals }).findings);
    assert.equal(f.numbers.queueMetricTrend, 'steady');
    assert.doesNotMatch(f.title, /rose/);
  });

  it('reads the value at the start from the point before it, and picks the series that rose most', async () => {
    const signals = stores();
    signals.metricStore.add(
      await sdkGaugePoints(
        'w',
        'queue.size',
        [
          [950, 5],
          [1500, 7],
          [2100, 99],
        ],
        { partition: '0' },
      ),
    );
    signals.metricStore.add(
      await sdkGaugePoints(
        'w',
        'queue.size',
        [
          [1000, 1],
          [2000, 50],
        ],
        { partition: '1' },
      ),
    );
    const t = queueMetricTrend(signals, new Set(['w']), 1000, 2000)!;
    assert.deepEqual(t.attributes, ['partition=1']);
    assert.equal(t.firstValue, 1);
    assert.equal(t.lastValue, 50);
    const p0 = queueMetricTrend(signals, new Set(['w']), 1200, 1800)!;
    // Partition 0 from 5 (its value at 1200) to 7; partition 1 has one point up to 1800 (its
    // value at 1200), which is no trend.
    assert.deepEqual([p0.attributes, p0.firstValue, p0.lastValue], [['partition=0'], 5, 7]);
    assert.equal(queueMetricTrend(signals, new Set(['other']), 1000, 2000), undefined);
    assert.equal(queueMetricTrend(signals, new Set(['w']), 2000, 1000), undefined);
    assert.equal(queueMetricTrend(undefined, new Set(['w']), 1000, 2000), undefined);
  });

  it('knows a queue-depth metric by its name', () => {
    for (const n of ['queue.depth', 'Kafka_Consumer_Queue_Lag', 'batch.queue.size', 'queue_depth'])
      assert.ok(isQueueDepthMetric(n), n);
    for (const n of ['queue.errors', 'depth', 'batch.size', 'gpu.memory'])
      assert.ok(!isQueueDepthMetric(n), n);
  });
});

describe('the engine gives the diagnoses its logs', () => {
  it('quotes the line a failing span logged through the SDK, as received over OTLP', async () => {
    const resource = resourceFromAttributes({ 'service.name': 'llm-gateway' });
    const spans = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({
      resource,
      spanProcessors: [new SimpleSpanProcessor(spans)],
    }).getTracer('stagelight.test');
    const records = new InMemoryLogRecordExporter();
    const loggers = new LoggerProvider({
      resource,
      processors: [new SimpleLogRecordProcessor({ exporter: records })],
    });
    const logger = loggers.getLogger('stagelight.test');
    for (let i = 0; i < 8; i++) {
      const root = tracer.startSpan('handle');
      const inRoot = trace.setSpan(context.active(), root);
      const gen = tracer.startSpan('generate', {}, inRoot);
      const inGen = trace.setSpan(context.active(), gen);
      logger.emit({ context: inGen, severityNumber: SeverityNumber.INFO, body: `request ${i}` });
      if (i % 2 === 1) {
        logger.emit({
          context: inGen,
          severityNumber: SeverityNumber.ERROR,
          severityText: 'ERROR',
          body: `CUDA out of memory (request ${i})`,
        });
        gen.setStatus({ code: SpanStatusCode.ERROR, message: 'OutOfMemoryError' });
      }
      gen.end();
      root.end();
    }
    const engine = await TraceEngine.open({ settleMs: 0, reportIntervalMs: 20 });
    try {
      const traceBytes = ProtobufTraceSerializer.serializeRequest(spans.getFinishedSpans())!;
      assert.equal(engine.ingestProtobuf(traceBytes, 'http').accepted, 16);
      const before = engine.analysis.reportNow().findings.find((x) => x.kind === 'errors');
      assert.equal(before?.evidence?.log, undefined, 'no logs yet');
      // The logs arrive after the traces were analysed: they bring a new report by themselves.
      const logBytes = ProtobufLogsSerializer.serializeRequest(records.getFinishedLogRecords())!;
      assert.equal(engine.logs.ingestProtobuf(logBytes, 'grpc').accepted, 12);
      let f = engine.analysis.report?.findings.find((x) => x.kind === 'errors');
      for (let waited = 0; f?.evidence?.log === undefined && waited < 5000; waited += 20) {
        await new Promise((r) => setTimeout(r, 20));
        f = engine.analysis.report?.findings.find((x) => x.kind === 'errors');
      }
      assert.ok(f, 'an errors finding');
      const log = f.evidence?.log as LogQuote;
      assert.ok(log, 'a report with the log line came without asking');
      assert.equal(log.traceId, f.traceIds[0]);
      assert.match(log.body, /^CUDA out of memory \(request \d\)$/);
      assert.match(f.title, /; llm-gateway logged ERROR "CUDA out of memory \(request \d\)"$/);
      assert.equal(f.numbers.loggedFailures, 4);
    } finally {
      await engine.close();
      await loggers.shutdown();
    }
  });
});
