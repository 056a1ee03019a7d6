/**
 * The demo pipeline, end to end: every scenario runs briefly (small models, a few requests)
 * through real worker processes, real onnxruntime sessions and the official OTLP/gRPC exporter
 * into a real Stagelight receiver, and each test asserts what its scenario must show in the
 * traces. Worker bundles are built once (`node esbuild.config.mjs`); models go to a temp dir.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer } from './helpers/server.js';
import type { RunningServer } from '../../src/core/server.js';
import type { SpanRecord } from '../../src/core/model.js';
import { attributeValue, decodeSpanJson } from '../../src/core/otlp/span-details.js';
import { SpanKind } from '../../src/core/model.js';
import { logValueText } from '../../src/core/store/log-store.js';
import { runDemo, type DemoOptions, type DemoResult } from '../../demo/run-demo.js';
import type { ScenarioName } from '../../demo/scenarios.js';

const ROOT = path.resolve(__dirname, '..', '..');
/** Small enough that a request takes ~0.1-0.3 s here, large enough that compute dominates. */
const SCALE = 0.05;

let server: RunningServer;
let cacheDir: string;
const runs = new Map<ScenarioName, DemoResult>();

before(async () => {
  execFileSync(process.execPath, ['esbuild.config.mjs'], { cwd: ROOT, stdio: 'inherit' });
  cacheDir = mkdtempSync(path.join(os.tmpdir(), 'stagelight-demo-models-'));
  server = await startTestServer({}, false);
});

after(async () => {
  await server?.close();
  if (cacheDir !== undefined) rmSync(cacheDir, { recursive: true, force: true });
});

async function run(scenario: ScenarioName, opts: DemoOptions = {}): Promise<DemoResult> {
  const result = await runDemo({
    scenario,
    modelScale: SCALE,
    cacheDir,
    device: 'cpu',
    endpoint: server.endpoints.grpc,
    apiUrl: server.endpoints.api,
    ...opts,
  });
  runs.set(scenario, result);
  return result;
}

function spansOf(result: DemoResult): SpanRecord[][] {
  return result.outcomes.map((o) => {
    const t = server.engine.store.get(o.traceId);
    assert.ok(t, `trace ${o.traceId} reached the receiver`);
    return [...t.spans];
  });
}

function named(traces: SpanRecord[][], service: string, name: string): SpanRecord[] {
  return traces.flat().filter((s) => s.serviceName === service && s.name === name);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function instanceOf(span: SpanRecord): string | undefined {
  const kv = span.resource.attributes.find((a) => a.key === 'service.instance.id');
  return kv !== undefined && 'stringValue' in kv.value ? String(kv.value.stringValue) : undefined;
}

describe('demo pipeline scenarios', { timeout: 170_000 }, () => {
  test('normal: one trace per request across five processes, stage spans with attributes and real source lines', async () => {
    const result = await run('normal', { requests: 6 });
    assert.equal(result.outcomes.length, 6);
    assert.ok(
      result.outcomes.every((o) => o.ok),
      JSON.stringify(result.outcomes),
    );
    const traces = spansOf(result);
    for (const spans of traces) {
      const services = new Set(spans.map((s) => s.serviceName));
      for (const s of [
        'demo-gateway',
        'demo-embedding-runner',
        'demo-retrieval',
        'demo-reranking-runner',
        'demo-generation-runner',
      ]) {
        assert.ok(services.has(s), `trace has spans of ${s}: ${[...services]}`);
      }
      const roots = spans.filter((s) => s.parentSpanId === '');
      assert.deepEqual(
        roots.map((s) => s.name),
        ['inference_request'],
      );
    }
    // Stage spans point at the line that starts them in the demo's source.
    const source = path.join(ROOT, 'demo', 'pipeline', 'gateway.ts');
    const lines = readFileSync(source, 'utf8').split('\n');
    for (const stage of [
      'inference_request',
      'preprocessing',
      'embedding',
      'retrieve_documents',
      'reranking',
      'generation',
      'postprocessing',
    ]) {
      const span = named(traces, 'demo-gateway', stage)[0];
      assert.ok(span, stage);
      assert.equal(attributeValue(span, 'code.file.path'), source, stage);
      const line = attributeValue(span, 'code.line.number');
      assert.equal(typeof line, 'number');
      assert.match(lines[(line as number) - 1] ?? '', /startActiveSpan\(/, `${stage} line ${line}`);
      assert.ok((lines[(line as number) - 1] ?? '') + (lines[line as number] ?? ''), stage);
      assert.ok(
        `${lines[(line as number) - 1]}\n${lines[line as number]}`.includes(`'${stage}'`),
        `${stage} at ${line}`,
      );
    }
    // Model spans carry the model and the device; batches are visible.
    for (const [service, name] of [
      ['demo-gateway', 'reranking'],
      ['demo-reranking-runner', 'rerank demo-cross-encoder'],
      ['demo-generation-runner', 'text_completion demo-decoder'],
    ] as const) {
      for (const s of named(traces, service, name)) {
        assert.equal(attributeValue(s, 'model.device'), 'cpu', name);
        assert.ok(typeof attributeValue(s, 'model.name') === 'string', name);
        assert.ok(typeof attributeValue(s, 'batch_size') === 'number', name);
      }
    }
    const waits = named(traces, 'demo-generation-runner', 'wait_for_batch');
    assert.equal(waits.length, 6);
    assert.ok(waits.every((s) => typeof attributeValue(s, 'batch_size') === 'number'));
    // The queue consumer is the producer's child, through the message headers.
    for (const spans of traces) {
      const producer = spans.find((s) => s.kind === SpanKind.PRODUCER);
      const consumer = spans.find((s) => s.kind === SpanKind.CONSUMER);
      assert.ok(producer && consumer);
      assert.equal(consumer.parentSpanId, producer.spanId);
    }
    assert.ok(result.table !== undefined && result.table.length >= 15);
    const rerankRow = result.table.find(
      (r) => r.service === 'demo-gateway' && r.name === 'reranking',
    );
    assert.ok(rerankRow && rerankRow.count === 6 && rerankRow.devices.includes('cpu'));
  });

  test('normal: stage log records inside their spans, and the pipeline metrics', async () => {
    const result = runs.get('normal') ?? (await run('normal', { requests: 6 }));
    const { logStore, metricStore } = server.engine.signals;
    for (const o of result.outcomes) {
      const spans = new Map(server.engine.store.get(o.traceId)!.spans.map((s) => [s.spanId, s]));
      const records = logStore.forTrace(o.traceId);
      const bySpan = (service: string, name: string) =>
        records
          .filter((r) => {
            const s = spans.get(r.spanId);
            return s?.serviceName === service && s.name === name;
          })
          .map((r) => logValueText(r.body));
      for (const r of records) {
        const span = spans.get(r.spanId);
        assert.ok(span, `record "${logValueText(r.body)}" belongs to a span of its trace`);
        assert.equal(r.resource.serviceName, span.serviceName);
        // Stamped from the spans' clock: within the bar (a millisecond either way for rounding).
        assert.ok(
          r.timeMs >= span.startMs - 1 && r.timeMs <= span.endMs + 1,
          `"${logValueText(r.body)}" at ${r.timeMs} in ${span.name} ${span.startMs}-${span.endMs}`,
        );
      }
      assert.deepEqual(bySpan('demo-gateway', 'reranking'), ['reranking 8 candidates']);
      assert.match(
        bySpan('demo-gateway', 'inference_request')[0] ?? '',
        /^answered request \d+ in \d+ ms$/,
      );
      assert.match(
        bySpan('demo-retrieval', 'vector_search')[0] ?? '',
        /^searching \d+ documents for the top 8$/,
      );
      assert.match(
        bySpan('demo-generation-runner', 'text_completion demo-decoder')[0] ?? '',
        /^demo-decoder ran a batch of \d+ on cpu$/,
      );
    }
    const metrics = metricStore.list().map((m) => `${m.service} ${m.name} ${m.kind}`);
    for (const m of [
      'demo-retrieval queue.depth gauge',
      'demo-gateway gateway.requests sum',
      'demo-reranking-runner batch.size histogram',
      'demo-generation-runner model_runner.utilization gauge',
    ]) {
      assert.ok(metrics.includes(m), `${m} in ${metrics.join(', ')}`);
    }
    const utilisation = metricStore
      .query({ name: 'model_runner.utilization', service: 'demo-generation-runner' })
      .flatMap((s) => s.points.map((p) => p.value ?? NaN));
    assert.ok(
      utilisation.every((v) => v >= 0 && v <= 1) && utilisation.some((v) => v > 0),
      `utilisation ${utilisation}`,
    );
  });

  test('slow-reranker: reranking several times slower than normal', async () => {
    const normal = runs.get('normal') ?? (await run('normal', { requests: 6 }));
    const slow = await run('slow-reranker', { requests: 6 });
    // The fastest run of each is its compute with the least interference from other load on
    // the machine (other tests run alongside): the ratio of the minima is the stable one.
    const p50 = (r: DemoResult) =>
      Math.min(...named(spansOf(r), 'demo-reranking-runner', 'forward').map((s) => s.durationMs));
    const ratio = p50(slow) / p50(normal);
    assert.ok(
      ratio > 2,
      `reranking forward ${p50(slow)} ms vs ${p50(normal)} ms (x${ratio.toFixed(1)})`,
    );
    const gen = (r: DemoResult) =>
      Math.min(...named(spansOf(r), 'demo-generation-runner', 'decode').map((s) => s.durationMs));
    // Generation may slow a little beside a reranker that now takes more of the two cores (the
    // requests overlap): what must hold is that reranking is what got slower, by far.
    const genRatio = gen(slow) / gen(normal);
    assert.ok(
      genRatio < 2 || genRatio < ratio / 3,
      `generation is not what got slower: decode ${gen(slow)} ms vs ${gen(normal)} ms ` +
        `(x${genRatio.toFixed(1)}), reranking x${ratio.toFixed(1)}`,
    );
  });

  test('queue-backlog: requests wait in the retrieval queue, and the wait dominates', async () => {
    const result = await run('queue-backlog', { requests: 9 });
    assert.ok(
      result.outcomes.every((o) => o.ok),
      JSON.stringify(result.outcomes),
    );
    const waits: number[] = [];
    for (const o of result.outcomes) {
      const a = server.engine.analyze(o.traceId);
      assert.ok(a);
      const w = a.queueWaits.find((q) => q.queue === 'retrieval-requests');
      assert.ok(w, 'queue wait found by the analysis');
      waits.push(w.waitMs);
    }
    const traces = spansOf(result);
    const stage = (name: string) =>
      median(named(traces, 'demo-gateway', name).map((s) => s.durationMs));
    const wait = median(waits);
    for (const s of ['embedding', 'reranking', 'generation']) {
      assert.ok(
        wait > stage(s),
        `median queue wait ${wait.toFixed(0)} ms > ${s} ${stage(s).toFixed(0)} ms`,
      );
    }
  });

  test('degraded-replica: the throttled replica is slower and fails with timeouts, the others do not', async () => {
    const result = await run('degraded-replica', { requests: 15, seed: 3 });
    const spans = named(spansOf(result), 'demo-generation-runner', 'text_completion demo-decoder');
    const by = new Map<string, SpanRecord[]>();
    for (const s of spans) {
      const id = instanceOf(s) ?? '?';
      by.set(id, [...(by.get(id) ?? []), s]);
    }
    const bad = by.get('generation-b') ?? [];
    const good = [...(by.get('generation-a') ?? []), ...(by.get('generation-c') ?? [])];
    assert.ok(bad.length >= 3 && good.length >= 6, `${bad.length} / ${good.length}`);
    const badErrors = bad.filter((s) => s.isError);
    assert.ok(badErrors.length >= 1, 'the throttled replica fails some requests');
    assert.ok(badErrors.every((s) => attributeValue(s, 'error.type') === 'timeout'));
    assert.equal(good.filter((s) => s.isError).length, 0);
    const ok = (xs: SpanRecord[]) =>
      Math.min(...xs.filter((s) => !s.isError).map((s) => s.durationMs));
    assert.ok(ok(bad) > 1.5 * ok(good), `${ok(bad)} ms vs ${ok(good)} ms`);
    assert.ok(result.outcomes.some((o) => !o.ok && /deadline|timeout/i.test(o.error ?? '')));
  });

  test('errors: generation failures recorded as exceptions with error status', async () => {
    const result = await run('errors', { requests: 10, seed: 2 });
    const failed = result.outcomes.filter((o) => !o.ok);
    assert.ok(
      failed.length >= 1 && failed.length < result.outcomes.length,
      `${failed.length} failed`,
    );
    for (const o of failed) {
      const spans = server.engine.store.get(o.traceId)!.spans;
      const gen = spans.find(
        (s) => s.serviceName === 'demo-generation-runner' && s.name.startsWith('text_completion'),
      );
      assert.ok(gen?.isError, 'runner generation span failed');
      const events = decodeSpanJson(gen.raw).events;
      const exception = events.find((e) => e.name === 'exception');
      assert.ok(exception, 'exception event recorded');
      assert.ok(
        exception.attributes.some(
          (a) => a.key === 'exception.message' && JSON.stringify(a.value).includes('Gather'),
        ),
      );
      assert.ok(
        spans.find((s) => s.serviceName === 'demo-gateway' && s.name === 'generation')?.isError,
      );
      assert.ok(spans.find((s) => s.parentSpanId === '')?.isError, 'the request failed');
      // The failing runner span wrote the error as a log record, with the exception.
      const logged = server.engine.signals.logStore
        .forTrace(o.traceId, gen.spanId)
        .filter((r) => r.severityText === 'ERROR');
      assert.equal(logged.length, 1);
      assert.match(logValueText(logged[0]!.body), /^demo-decoder request failed: .*Gather/);
      assert.ok(logged[0]!.attributes.some((a) => a.key === 'exception.stacktrace'));
    }
    const row = result.table?.find((r) => r.service === 'demo-gateway' && r.name === 'generation');
    assert.equal(row?.errors, failed.length);
  });

  test('cold-start: models load on the first request, which is the slow one', async () => {
    const result = await run('cold-start', { requests: 5 });
    assert.ok(
      result.outcomes.every((o) => o.ok),
      JSON.stringify(result.outcomes),
    );
    const traces = spansOf(result);
    const loads = traces.map((spans) => spans.filter((s) => s.name === 'model_load').length);
    assert.ok(loads[0]! >= 3, `first request loads the models: ${loads}`);
    assert.equal(
      loads.slice(1).reduce((a, b) => a + b, 0),
      2,
      `the other two generation replicas load on their first request: ${loads}`,
    );
    const e2e = result.outcomes.map((o) => o.durationMs);
    assert.ok(e2e[0]! > Math.min(...e2e.slice(3)), `${e2e}`);
    // The loads hang under the runner spans of the requests that triggered them.
    for (const load of traces[0]!.filter((s) => s.name === 'model_load')) {
      const parent = traces[0]!.find((s) => s.spanId === load.parentSpanId);
      assert.equal(parent?.kind, SpanKind.SERVER);
    }
  });
});
