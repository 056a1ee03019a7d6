/**
 * A real Jaeger for the backend tests, seeded with a small pipeline through the official JS SDK
 * and its OTLP/HTTP (JSON) exporter. Without Go on the machine the tests skip, saying why.
 */
import { after, before } from 'node:test';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  JaegerUnavailableError,
  startJaeger,
  type RunningJaeger,
} from '../../../scripts/lib/jaeger.js';

export interface SeededTrace {
  readonly traceId: string;
  readonly service: string;
  readonly root: string;
  readonly startMs: number;
  readonly durationMs: number;
  /** Child span name -> duration ms. */
  readonly children: Readonly<Record<string, number>>;
  readonly error?: boolean;
}

/** A span: name, start offset from the trace start and duration, both ms. */
interface Plan {
  service: string;
  root: string;
  agoMs: number;
  durationMs: number;
  children: Array<[string, number, number]>;
  error?: boolean;
}

const NOW = Date.now();

/** The seeded traces: three recent of rag-api, one of rag-api three hours ago, one of another service. */
const PLANS: Plan[] = [
  {
    service: 'rag-api',
    root: 'POST /answer',
    agoMs: 60_000,
    durationMs: 3000,
    children: [
      ['embed', 10, 100],
      ['rerank', 200, 2400],
    ],
    error: true,
  },
  {
    service: 'rag-api',
    root: 'POST /answer',
    agoMs: 50_000,
    durationMs: 500,
    children: [
      ['embed', 10, 80],
      ['rerank', 100, 300],
    ],
  },
  { service: 'rag-api', root: 'GET /health', agoMs: 40_000, durationMs: 10, children: [] },
  {
    service: 'rag-api',
    root: 'POST /answer',
    agoMs: 3 * 3_600_000,
    durationMs: 1000,
    children: [['rerank', 10, 900]],
  },
  { service: 'billing', root: 'charge', agoMs: 30_000, durationMs: 40, children: [] },
];

async function seed(j: RunningJaeger): Promise<SeededTrace[]> {
  const out: SeededTrace[] = [];
  const byService = new Map<string, Plan[]>();
  for (const p of PLANS) byService.set(p.service, [...(byService.get(p.service) ?? []), p]);
  for (const [service, plans] of byService) {
    const exporter = new OTLPTraceExporter({ url: `${j.otlpHttpUrl}/v1/traces` });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        'service.name': service,
        'deployment.environment': 'prod',
      }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('stagelight-test');
    for (const p of plans) {
      const start = NOW - p.agoMs;
      const root = tracer.startSpan(p.root, {
        kind: SpanKind.SERVER,
        startTime: start,
        attributes: { 'http.route': p.root, 'request.size': 42 },
      });
      const ctx = trace.setSpan(context.active(), root);
      const children: Record<string, number> = {};
      for (const [name, offset, ms] of p.children) {
        const child = tracer.startSpan(name, { startTime: start + offset }, ctx);
        child.setAttribute('model.name', `${name}-mini`);
        child.end(start + offset + ms);
        children[name] = ms;
      }
      if (p.error) root.setStatus({ code: SpanStatusCode.ERROR, message: 'reranker timed out' });
      root.end(start + p.durationMs);
      out.push({
        traceId: root.spanContext().traceId,
        service,
        root: p.root,
        startMs: start,
        durationMs: p.durationMs,
        children,
        error: p.error,
      });
    }
    await provider.forceFlush();
    await provider.shutdown();
  }
  return out;
}

export interface JaegerFixture {
  /** Undefined when Jaeger cannot be had here; `skipReason` says why. */
  jaeger: RunningJaeger | undefined;
  skipReason: string | undefined;
  seeded: SeededTrace[];
  /** Seeded traces picked by a predicate. */
  ids(pick: (t: SeededTrace) => boolean): string[];
}

/** Starts and seeds Jaeger before the file's tests, stops it after. */
export function jaegerFixture(): JaegerFixture {
  const f: JaegerFixture = {
    jaeger: undefined,
    skipReason: undefined,
    seeded: [],
    ids: (pick) =>
      f.seeded
        .filter(pick)
        .map((t) => t.traceId)
        .sort(),
  };
  before(async () => {
    try {
      f.jaeger = await startJaeger({ maxTraces: 10_000 });
    } catch (e) {
      if (!(e instanceof JaegerUnavailableError)) throw e;
      f.skipReason = `Jaeger unavailable: ${e.message}`;
      return;
    }
    f.seeded = await seed(f.jaeger);
  });
  after(async () => {
    await f.jaeger?.stop();
  });
  return f;
}
