/**
 * Records the unit tier's incident fixtures (test/unit/fixtures/incidents/*.json.gz): real
 * traces of incidents beyond the demo's own, exported as OTLP JSON, so that the diagnoses are
 * checked on recordings they were not tuned on. Re-run it after changing the demo:
 *
 *   node --import tsx scripts/record-incident-fixtures.ts
 *
 * - `model-rollout`: the reranker's model version 1.1 rolls out (three passes per pair).
 * - `skewed-clocks`: the slow reranker, with every worker's clock a few ms off (2 ms one way,
 *   2 the other, 4, 1): the overruns that once hid the reranker from the critical path.
 * - `skewed-normal`: a healthy run whose worker clocks are 40 ms off: nothing to report.
 * - `cache-outage`: a small service instrumented with the OpenTelemetry JS SDK, whose answer
 *   cache stops hitting: every request now pays for retrieval and generation.
 *
 * Each file holds the baseline's traces (the run's normal start) and the incident's.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { context, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { startServer, type RunningServer } from '../src/core/server.js';
import { spansToOtlpJson } from '../src/core/otlp/export.js';
import { runDemo } from '../demo/run-demo.js';
import type { ScenarioName } from '../demo/scenarios.js';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'test', 'unit', 'fixtures', 'incidents');
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/** The fixture file's shape (test/unit/insights-fixtures.test.ts reads it). */
export interface IncidentFixture {
  name: string;
  description: string;
  baselineTraceIds: string[];
  incidentTraceIds: string[];
  /** Trace id -> the trace as the read API exports it (OTLP JSON). */
  traces: Record<string, unknown>;
}

function save(server: RunningServer, f: Omit<IncidentFixture, 'traces'>): void {
  const traces: Record<string, unknown> = {};
  for (const id of [...f.baselineTraceIds, ...f.incidentTraceIds]) {
    const t = server.engine.store.get(id);
    if (t !== undefined) traces[id] = spansToOtlpJson(t.spans);
  }
  mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `${f.name}.json.gz`);
  writeFileSync(file, gzipSync(JSON.stringify({ ...f, traces }), { level: 9 }));
  console.log(`${path.relative(ROOT, file)}: ${Object.keys(traces).length} traces`);
}

async function demoFixture(
  name: string,
  description: string,
  scenario: ScenarioName,
  clockSkewMs: number,
): Promise<void> {
  const server = await startServer({ grpcPort: 0, httpPort: 0, log: quiet });
  try {
    const r = await runDemo({
      scenario,
      modelScale: 0.25,
      device: 'cpu',
      requests: 10,
      warmup: 10,
      clockSkewMs,
      endpoint: server.endpoints.grpc,
      apiUrl: server.endpoints.api,
      cacheDir: path.join(os.homedir(), '.cache', 'stagelight', 'models'),
    });
    await server.engine.insightsFresh();
    save(server, {
      name,
      description,
      baselineTraceIds: r.warmupTraceIds,
      incidentTraceIds: r.outcomes.map((o) => o.traceId),
    });
  } finally {
    await server.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A question-answering service with an answer cache: a hit answers at once, a miss retrieves
 * and generates. `hitRate` of the requests hit.
 */
async function answer(tracer: Tracer, i: number, hitRate: number): Promise<string> {
  return tracer.startActiveSpan('answer_question', async (root) => {
    const hit = (i * 7919) % 100 < hitRate * 100;
    root.setAttributes({ 'cache.hit': hit, 'question.id': `q${i % 17}` });
    try {
      await tracer.startActiveSpan('cache.lookup', async (s) => {
        s.setAttributes({ 'cache.hit': hit, 'db.system': 'redis' });
        await sleep(2);
        s.end();
      });
      if (hit) return root.spanContext().traceId;
      await tracer.startActiveSpan('retrieve', async (s) => {
        await sleep(60 + (i % 5) * 4);
        s.end();
      });
      await tracer.startActiveSpan('generate', async (s) => {
        s.setAttribute('gen_ai.request.model', 'small-llm');
        await sleep(240 + (i % 7) * 10);
        s.end();
      });
      return root.spanContext().traceId;
    } finally {
      root.end();
    }
  });
}

async function cacheFixture(): Promise<void> {
  const server = await startServer({ grpcPort: 0, httpPort: 0, log: quiet });
  // The demo runs above registered one already (the API keeps the first); this is for a run
  // of this fixture alone.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'qa-service',
      'service.instance.id': 'qa-1',
    }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: server.endpoints.grpc }))],
  });
  const tracer = provider.getTracer('fixture');
  try {
    const baseline: string[] = [];
    const incident: string[] = [];
    for (let i = 0; i < 24; i++) baseline.push(await answer(tracer, i, 0.7));
    // The cache's store is gone: every lookup misses.
    for (let i = 24; i < 36; i++) incident.push(await answer(tracer, i, 0));
    await provider.forceFlush();
    await sleep(300);
    save(server, {
      name: 'cache-outage',
      description:
        'the answer cache stops hitting: every request pays for retrieval and generation',
      baselineTraceIds: baseline,
      incidentTraceIds: incident,
    });
  } finally {
    await provider.shutdown();
    trace.disable();
    context.disable();
    await server.close();
  }
}

async function main(): Promise<void> {
  execFileSync(process.execPath, ['esbuild.config.mjs'], { cwd: ROOT, stdio: 'inherit' });
  await demoFixture(
    'model-rollout',
    'reranker v1.1 rolls out: three passes per pair',
    'model-rollout',
    0,
  );
  await demoFixture(
    'skewed-clocks',
    'the slow reranker, with worker clocks a few ms off',
    'slow-reranker',
    2,
  );
  await demoFixture('skewed-normal', 'a healthy run with worker clocks 40 ms off', 'normal', 40);
  await cacheFixture();
}

void main().catch((e: unknown) => {
  console.error((e as Error).stack ?? e);
  process.exit(1);
});
