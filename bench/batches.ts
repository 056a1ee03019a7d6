/**
 * Realistic OTLP batches for the ingest benchmarks: ML-inference pipeline spans made by the real
 * OpenTelemetry JS SDK and encoded once by its protobuf serializer, then handed out as copies
 * with fresh trace ids patched into the bytes, so no span is ever a duplicate.
 */
import { SpanKind, SpanStatusCode, context, trace, type Attributes } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type IdGenerator,
} from '@opentelemetry/sdk-trace-base';
import { seededRandom } from '../test/unit/helpers/random.js';

export const SPANS_PER_BATCH = 512;
export const SPANS_PER_TRACE = 8;
export const TEMPLATE_BATCHES = 8;

// ---------------------------------------------------------------------------------------------
// Batches: realistic ML-inference pipeline spans from the real SDK, encoded once.

export interface Template {
  bytes: Buffer;
  /** Per trace, where its 16-byte id occurs in `bytes`. */
  traceIdOffsets: number[][];
}

interface Stage {
  name: string;
  parent: number;
  kind: SpanKind;
  tracer: 'pipeline' | 'model';
  minMs: number;
  maxMs: number;
  attrs: (rnd: () => number) => Attributes;
}

const MODELS = ['llama-3.1-8b-instruct', 'mistral-7b-instruct', 'qwen2.5-14b'];
const EMBEDDERS = ['bge-small-en-v1.5', 'e5-large-v2'];

/** The spans of one request through a RAG inference pipeline, parents before children. */
const STAGES: readonly Stage[] = [
  {
    name: 'inference_request',
    parent: -1,
    kind: SpanKind.SERVER,
    tracer: 'pipeline',
    minMs: 300,
    maxMs: 1200,
    attrs: (rnd) => ({
      'http.request.method': 'POST',
      'http.route': '/v1/chat/completions',
      'http.response.status_code': 200,
      'url.scheme': 'http',
      'server.port': 8000,
      'user_agent.original': 'python-httpx/0.27.0',
      'gen_ai.request.model': MODELS[Math.floor(rnd() * MODELS.length)]!,
      'gen_ai.request.max_tokens': 512,
      'gen_ai.request.temperature': 0.7,
      'client.address': `10.0.${Math.floor(rnd() * 255)}.${Math.floor(rnd() * 255)}`,
    }),
  },
  {
    name: 'preprocessing',
    parent: 0,
    kind: SpanKind.INTERNAL,
    tracer: 'pipeline',
    minMs: 2,
    maxMs: 12,
    attrs: (rnd) => ({
      'pipeline.stage': 'preprocessing',
      'tokenizer.name': 'llama-3.1',
      'input.chars': Math.floor(200 + rnd() * 4000),
      'input.tokens': Math.floor(50 + rnd() * 1000),
      'input.truncated': rnd() < 0.05,
      'input.language': 'en',
      'template.name': 'rag_chat_v3',
      'template.version': 3,
      'pii.redacted': rnd() < 0.1,
      'cpu.time_ms': rnd() * 5,
    }),
  },
  {
    name: 'embedding',
    parent: 0,
    kind: SpanKind.CLIENT,
    tracer: 'model',
    minMs: 8,
    maxMs: 30,
    attrs: (rnd) => ({
      'pipeline.stage': 'embedding',
      'gen_ai.request.model': EMBEDDERS[Math.floor(rnd() * EMBEDDERS.length)]!,
      'gen_ai.operation.name': 'embeddings',
      'embedding.dimensions': 384,
      'batch.size': 1 + Math.floor(rnd() * 32),
      'queue.wait_ms': rnd() * 4,
      'gpu.id': Math.floor(rnd() * 4),
      'device.type': 'cuda',
      'cache.hit': rnd() < 0.3,
      'input.tokens': Math.floor(20 + rnd() * 200),
    }),
  },
  {
    name: 'retrieve_documents',
    parent: 0,
    kind: SpanKind.CLIENT,
    tracer: 'pipeline',
    minMs: 10,
    maxMs: 45,
    attrs: (rnd) => ({
      'pipeline.stage': 'retrieval',
      'db.system.name': 'qdrant',
      'db.collection.name': 'docs_v7',
      'retrieval.top_k': 20,
      'retrieval.returned': 20,
      'retrieval.min_score': 0.2 + rnd() * 0.3,
      'retrieval.filter': 'tenant_id = 42 AND lang = en',
      'retrieval.hybrid': true,
      'server.address': 'qdrant.internal',
      'document.ids': ['doc-1842', 'doc-2213', 'doc-0091', 'doc-7730', 'doc-1203'],
    }),
  },
  {
    name: 'vector_search',
    parent: 3,
    kind: SpanKind.CLIENT,
    tracer: 'pipeline',
    minMs: 4,
    maxMs: 20,
    attrs: (rnd) => ({
      'pipeline.stage': 'retrieval',
      'db.system.name': 'qdrant',
      'db.operation.name': 'search',
      'db.collection.name': 'docs_v7',
      'search.ef': 128,
      'search.exact': false,
      'search.candidates': Math.floor(100 + rnd() * 400),
      'network.peer.port': 6334,
      'server.address': 'qdrant.internal',
      'search.latency_ms': rnd() * 15,
    }),
  },
  {
    name: 'reranking',
    parent: 0,
    kind: SpanKind.INTERNAL,
    tracer: 'model',
    minMs: 5,
    maxMs: 25,
    attrs: (rnd) => ({
      'pipeline.stage': 'reranking',
      'gen_ai.request.model': 'bge-reranker-v2-m3',
      'rerank.candidates': 20,
      'rerank.kept': 5,
      'rerank.top_score': 0.5 + rnd() * 0.5,
      'batch.size': 20,
      'queue.wait_ms': rnd() * 6,
      'gpu.id': Math.floor(rnd() * 4),
      'device.type': 'cuda',
      'rerank.scores': [0.93, 0.88, 0.71, 0.64, 0.52],
    }),
  },
  {
    name: 'generation',
    parent: 0,
    kind: SpanKind.CLIENT,
    tracer: 'model',
    minMs: 200,
    maxMs: 900,
    attrs: (rnd) => ({
      'pipeline.stage': 'generation',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': MODELS[Math.floor(rnd() * MODELS.length)]!,
      'gen_ai.usage.input_tokens': Math.floor(800 + rnd() * 3000),
      'gen_ai.usage.output_tokens': Math.floor(20 + rnd() * 500),
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.request.temperature': 0.7,
      'batch.size': 1 + Math.floor(rnd() * 16),
      'queue.wait_ms': rnd() * 40,
      'kv_cache.hit_ratio': rnd(),
    }),
  },
  {
    name: 'postprocessing',
    parent: 0,
    kind: SpanKind.INTERNAL,
    tracer: 'pipeline',
    minMs: 1,
    maxMs: 6,
    attrs: (rnd) => ({
      'pipeline.stage': 'postprocessing',
      'output.tokens': Math.floor(20 + rnd() * 500),
      'output.chars': Math.floor(80 + rnd() * 2000),
      'guardrails.passed': rnd() > 0.02,
      'guardrails.checks': ['toxicity', 'pii', 'format'],
      'citations.count': Math.floor(rnd() * 5),
      'response.format': 'markdown',
      stream: true,
      'cpu.time_ms': rnd() * 3,
      'detokenizer.name': 'llama-3.1',
    }),
  },
];

/** Seeded ids: trace ids end in four zero bytes, overwritten per request with a sequence. */
function seededIds(rnd: () => number): IdGenerator {
  const hex = (bytes: number) => {
    let s = '';
    for (let i = 0; i < bytes; i++)
      s += (1 + Math.floor(rnd() * 255)).toString(16).padStart(2, '0');
    return s;
  };
  return { generateTraceId: () => hex(12) + '00000000', generateSpanId: () => hex(8) };
}

export function generateTemplates(): Template[] {
  const rnd = seededRandom(0x5eed);
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    idGenerator: seededIds(rnd),
    resource: resourceFromAttributes({
      'service.name': 'rag-inference',
      'service.version': '1.4.2',
      'service.instance.id': '6f1c2a7e-9a52-4d55-b1f0-3f0d1c2b8e11',
      'deployment.environment.name': 'dev',
      'host.name': 'gpu-node-03',
      'host.arch': 'amd64',
      'process.pid': 48211,
      'process.runtime.name': 'cpython',
      'telemetry.sdk.name': 'opentelemetry',
      'telemetry.sdk.language': 'python',
      'telemetry.sdk.version': '1.27.0',
    }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracers = {
    pipeline: provider.getTracer('rag_pipeline', '0.9.1'),
    model: provider.getTracer('model_runner', '2.3.0'),
  };
  const templates: Template[] = [];
  let t0 = Date.UTC(2025, 0, 15, 9, 0, 0);
  for (let b = 0; b < TEMPLATE_BATCHES; b++) {
    exporter.reset();
    const traceIds: string[] = [];
    for (let tr = 0; tr < SPANS_PER_BATCH / SPANS_PER_TRACE; tr++) {
      t0 += Math.floor(rnd() * 50);
      const spans: ReturnType<typeof tracers.pipeline.startSpan>[] = [];
      const ends: number[] = [];
      let cursor = t0;
      STAGES.forEach((stage, i) => {
        const start = i === 0 ? t0 : cursor;
        const dur = stage.minMs + rnd() * (stage.maxMs - stage.minMs);
        const ctx =
          stage.parent < 0
            ? context.active()
            : trace.setSpan(context.active(), spans[stage.parent]!);
        const span = tracers[stage.tracer].startSpan(
          stage.name,
          { kind: stage.kind, startTime: start, attributes: stage.attrs(rnd) },
          ctx,
        );
        // Two or three events with attributes, as batching servers and model runners emit.
        span.addEvent('enqueued', { 'queue.depth': Math.floor(rnd() * 64) }, start + 0.1);
        span.addEvent(
          'batch_formed',
          { 'batch.id': `b-${Math.floor(rnd() * 1e9).toString(36)}`, 'batch.size': 8 },
          start + dur * 0.2,
        );
        if (stage.name === 'generation') {
          span.addEvent('first_token', { 'gen_ai.ttft_ms': dur * 0.15 }, start + dur * 0.15);
        }
        if (rnd() < 0.02) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: 'CUDA out of memory' });
        }
        spans.push(span);
        ends.push(start + dur);
        if (i > 0 && stage.parent === 0) cursor = start + dur;
      });
      // Children end before their parents.
      for (let i = spans.length - 1; i >= 0; i--) {
        const end = i === 0 ? Math.max(cursor, ends[0]!) + 1 : ends[i]!;
        spans[i]!.end(end);
      }
      traceIds.push(spans[0]!.spanContext().traceId);
    }
    const finished = exporter.getFinishedSpans();
    if (finished.length !== SPANS_PER_BATCH) throw new Error(`made ${finished.length} spans`);
    const encoded = ProtobufTraceSerializer.serializeRequest([...finished]);
    if (encoded === undefined) throw new Error('ProtobufTraceSerializer returned nothing');
    const bytes = Buffer.from(encoded);
    const traceIdOffsets = traceIds.map((id) => {
      const needle = Buffer.from(id, 'hex');
      const at: number[] = [];
      for (let i = bytes.indexOf(needle); i >= 0; i = bytes.indexOf(needle, i + 16)) at.push(i);
      if (at.length !== SPANS_PER_TRACE) throw new Error(`trace ${id} found ${at.length} times`);
      return at;
    });
    templates.push({ bytes, traceIdOffsets });
  }
  return templates;
}

/** Hands out requests: template copies whose trace ids have never been sent before. */
export class BatchSource {
  private next = 0;
  private seq = 1;

  constructor(readonly templates: readonly Template[]) {}

  take(n: number): Buffer[] {
    return this.takeTraced(n).bodies;
  }

  /** `take`, with the (hex) ids of the traces the requests carry. */
  takeTraced(n: number): { bodies: Buffer[]; traceIds: string[] } {
    const bodies: Buffer[] = [];
    const traceIds: string[] = [];
    for (let i = 0; i < n; i++) {
      const t = this.templates[this.next++ % this.templates.length]!;
      const b = Buffer.from(t.bytes);
      for (const offsets of t.traceIdOffsets) {
        const seq = this.seq++;
        for (const o of offsets) b.writeUInt32BE(seq, o + 12);
        traceIds.push(b.toString('hex', offsets[0]!, offsets[0]! + 16));
      }
      bodies.push(b);
    }
    return { bodies, traceIds };
  }
}
