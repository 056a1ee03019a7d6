/**
 * The gateway: the demo pipeline's stages, one span each. This is the file to read (and the one
 * `Stagelight: Open Demo Source` opens): every stage starts its span with
 * `tracer.startActiveSpan('<stage>'`, so the latency lenses show on these lines.
 *
 *   inference_request -> preprocessing -> embedding -> retrieve_documents -> reranking
 *     -> generation -> postprocessing
 *
 * Model stages call runner processes and retrieval goes over a queue to the retrieval worker;
 * the trace context travels in each message's headers, so one request is one trace across all
 * the processes.
 */
import { SpanKind, type Counter, type Meter, type Span, type Tracer } from '@opentelemetry/api';
import { injectHeaders, recordFailure, type StageLog } from '../telemetry/tracing.js';
import { sourceLocator } from '../telemetry/source-location.js';
import { detokenize, documentTokens, questionFor, tokenize } from './text.js';
import type { WorkerProcess } from './worker-process.js';
import type { Scenario } from '../scenarios.js';
import type { Device, InferRequest, ResultMessage } from '../protocol.js';
import {
  ANSWER_TOKENS,
  DECODER_CONTEXT,
  PROMPT_TOKENS,
  seededRandom,
} from '../models/transformer.js';
import { RETRIEVAL_QUEUE } from '../retrieval/retrieval-worker.js';

const here = sourceLocator('demo/pipeline/gateway.ts');

export const GATEWAY_SERVICE = 'demo-gateway';

/** Documents put in the prompt after reranking. */
const CONTEXT_DOCS = 3;

/** A pool of replicas of one model, used round-robin. */
export class ReplicaPool {
  private next = 0;
  /** Latencies of the calls that succeeded since the last `calibrate`, ms. */
  private samples: number[] = [];
  constructor(
    readonly stage: string,
    readonly replicas: readonly WorkerProcess[],
    /** Per-call timeout in ms (generous until `calibrate` sets it from real calls). */
    public timeoutMs: number,
  ) {}

  pick(): WorkerProcess {
    const r = this.replicas[this.next % this.replicas.length]!;
    this.next++;
    return r;
  }

  observe(ms: number): void {
    if (this.samples.length < 1000) this.samples.push(ms);
  }

  /**
   * Sets the timeout to `multiple` times the median call seen (at least `floorMs`), as a
   * service sets its deadline from what a healthy call takes: measured on this machine, under
   * its load, by the warm-up's normal requests. Keeps the timeout when nothing was seen.
   */
  calibrate(multiple: number, floorMs: number): number {
    const s = [...this.samples].sort((a, b) => a - b);
    this.samples = [];
    if (s.length > 0) this.timeoutMs = Math.max(floorMs, multiple * s[Math.floor(s.length / 2)]!);
    return this.timeoutMs;
  }
}

export interface GatewayParts {
  readonly tracer: Tracer;
  /** Log records of the stages, each written inside the stage's span. */
  readonly log: StageLog;
  readonly meter: Meter;
  readonly scenario: Scenario;
  readonly embedding: ReplicaPool;
  readonly reranking: ReplicaPool;
  readonly generation: ReplicaPool;
  readonly retrieval: WorkerProcess;
  /** Seeds which requests of the errors scenario overflow the context. */
  readonly seed: number;
}

/** What happened to one request. */
export interface RequestOutcome {
  readonly index: number;
  readonly traceId: string;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly error?: string;
}

function modelAttributes(span: Span, r: ResultMessage, device?: Device): void {
  span.setAttributes({
    'model.device': r.device ?? device ?? 'cpu',
    batch_size: r.batchSize ?? 1,
    // The version that answered (a rollout changes it under the same name).
    ...(r.modelVersion !== undefined ? { 'model.version': r.modelVersion } : {}),
  });
}

export class Gateway {
  private readonly rand: () => number;
  /** The scenario in effect (the demo warms up as `normal`, then switches to the incident). */
  private scenario: Scenario;
  /** Embeddings of recent questions (users repeat themselves). */
  private readonly embeddingCache = new Map<string, number[]>();
  /** Requests served, by outcome: the request rate. */
  private readonly requests: Counter;

  constructor(private readonly p: GatewayParts) {
    this.rand = seededRandom(p.seed);
    this.scenario = p.scenario;
    this.requests = p.meter.createCounter('gateway.requests', {
      description: 'Requests the gateway served',
      unit: '{request}',
    });
  }

  /**
   * Forgets what earlier requests cached, so that what follows (the scenario after its warm-up)
   * runs as it would have without them.
   */
  clearCaches(): void {
    this.embeddingCache.clear();
  }

  /** Switches the scenario for the requests that start from now. */
  setScenario(s: Scenario): void {
    this.scenario = s;
  }

  /** Serves request `index` end to end. Never throws: failures are in the outcome and the trace. */
  handle(index: number): Promise<RequestOutcome> {
    const overflow = this.rand() < this.scenario.overflowFraction;
    const started = performance.now();
    return this.p.tracer.startActiveSpan(
      'inference_request',
      {
        kind: SpanKind.SERVER,
        attributes: {
          ...here('inference_request'),
          'demo.scenario': this.scenario.name,
          'request.index': index,
        },
      },
      async (root) => {
        const traceId = root.spanContext().traceId;
        try {
          const question = questionFor(index);
          const tokens = await this.preprocess(question);
          const embedding = await this.embed(question, tokens);
          const candidates = await this.retrieve(embedding);
          const context = await this.rerank(tokens, candidates);
          const answer = await this.generate(tokens, context, overflow);
          const text = await this.postprocess(answer);
          root.setAttributes({ 'input.size': question.length, 'output.size': text.length });
          const durationMs = performance.now() - started;
          this.p.log.info(`answered request ${index} in ${Math.round(durationMs)} ms`);
          this.requests.add(1, { outcome: 'ok' });
          return { index, traceId, ok: true, durationMs };
        } catch (e) {
          this.p.log.error(`request ${index} failed: ${(e as Error).message}`, e);
          this.requests.add(1, { outcome: 'error' });
          recordFailure(root, e);
          return {
            index,
            traceId,
            ok: false,
            durationMs: performance.now() - started,
            error: (e as Error).message,
          };
        } finally {
          root.end();
        }
      },
    );
  }

  private preprocess(question: string): Promise<number[]> {
    return this.p.tracer.startActiveSpan(
      'preprocessing',
      { attributes: { ...here('preprocessing'), 'input.size': question.length } },
      async (span) => {
        try {
          const tokens = tokenize(question);
          span.setAttribute('output.size', tokens.length);
          this.p.log.info(`tokenized the question into ${tokens.length} tokens`);
          return tokens;
        } finally {
          span.end();
        }
      },
    );
  }

  /** Runs a model stage on a replica of `pool`; the stage span is the client side of the call. */
  private async callModel(
    span: Span,
    pool: ReplicaPool,
    body: InferRequest,
  ): Promise<ResultMessage> {
    const replica = pool.pick();
    span.setAttributes({ replica: replica.name, 'model.device': replica.ready?.device ?? 'cpu' });
    try {
      const sent = Date.now();
      const r = await replica.request({ ...body, headers: injectHeaders() }, sent + pool.timeoutMs);
      pool.observe(Date.now() - sent);
      modelAttributes(span, r, replica.ready?.device);
      return r;
    } catch (e) {
      if ((e as Error).name === 'TimeoutError') span.setAttribute('error.type', 'timeout');
      throw e;
    }
  }

  private embed(question: string, tokens: number[]): Promise<number[]> {
    return this.p.tracer.startActiveSpan(
      'embedding',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          ...here('embedding'),
          'model.name': 'demo-encoder',
          'model.version': '1.0',
          'gen_ai.operation.name': 'embeddings',
          'gen_ai.request.model': 'demo-encoder',
          'input.size': tokens.length,
        },
      },
      async (span) => {
        try {
          const cached = this.embeddingCache.get(question);
          span.setAttribute('cache.hit', cached !== undefined);
          if (cached !== undefined) {
            this.p.log.info('embedding taken from the cache');
            return cached;
          }
          this.p.log.info(`embedding ${tokens.length} tokens`);
          const r = await this.callModel(span, this.p.embedding, {
            type: 'infer',
            model: 'encoder',
            tokens,
          });
          const embedding = r.embedding ?? [];
          span.setAttribute('output.size', embedding.length);
          if (this.embeddingCache.size >= 256) this.embeddingCache.clear();
          this.embeddingCache.set(question, embedding);
          return embedding;
        } catch (e) {
          this.p.log.error(`embedding failed: ${(e as Error).message}`, e);
          recordFailure(span, e);
          throw e;
        } finally {
          span.end();
        }
      },
    );
  }

  private retrieve(embedding: number[]): Promise<number[]> {
    const topK = this.scenario.rerankCandidates;
    return this.p.tracer.startActiveSpan(
      'retrieve_documents',
      {
        attributes: {
          ...here('retrieve_documents'),
          'retrieval.top_k': topK,
          'input.size': embedding.length,
        },
      },
      async (span) => {
        try {
          this.p.log.info(`retrieving the top ${topK} documents`, { 'retrieval.top_k': topK });
          // The producer span covers the send only: the consumer's start minus its end is the
          // time the message waited in the queue.
          const reply = this.p.tracer.startActiveSpan(
            'publish retrieval-requests',
            {
              kind: SpanKind.PRODUCER,
              attributes: {
                ...here('publish retrieval-requests'),
                'messaging.system': 'node-ipc',
                'messaging.operation.type': 'send',
                'messaging.operation.name': 'publish',
                'messaging.destination.name': RETRIEVAL_QUEUE,
              },
            },
            (producer) => {
              try {
                return this.p.retrieval.request(
                  { type: 'search', vector: embedding, topK, headers: injectHeaders() },
                  Date.now() + 120_000,
                );
              } finally {
                producer.end();
              }
            },
          );
          const r = await reply;
          span.setAttribute('output.size', r.docIds?.length ?? 0);
          return r.docIds ?? [];
        } catch (e) {
          this.p.log.error(`retrieval failed: ${(e as Error).message}`, e);
          recordFailure(span, e);
          throw e;
        } finally {
          span.end();
        }
      },
    );
  }

  private rerank(query: number[], candidates: number[]): Promise<number[]> {
    return this.p.tracer.startActiveSpan(
      'reranking',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          ...here('reranking'),
          'model.name': 'demo-cross-encoder',
          'model.version': '1.0',
          'gen_ai.request.model': 'demo-cross-encoder',
          'input.size': candidates.length,
        },
      },
      async (span) => {
        try {
          this.p.log.info(`reranking ${candidates.length} candidates`);
          const docs = candidates.map((id) => documentTokens(id));
          const r = await this.callModel(span, this.p.reranking, {
            type: 'infer',
            model: 'cross-encoder',
            query: query.slice(0, 24),
            docs,
          });
          const scores = r.scores ?? [];
          const order = candidates
            .map((id, i) => ({ id, s: scores[i] ?? -Infinity }))
            .sort((a, b) => b.s - a.s)
            .slice(0, CONTEXT_DOCS)
            .map((x) => x.id);
          span.setAttribute('output.size', order.length);
          return order;
        } catch (e) {
          this.p.log.error(`reranking failed: ${(e as Error).message}`, e);
          recordFailure(span, e);
          throw e;
        } finally {
          span.end();
        }
      },
    );
  }

  private generate(query: number[], context: number[], overflow: boolean): Promise<number[]> {
    // An overflowing request asks for more tokens than the context window has room for after
    // the prompt: the decoder fails when the position passes the end of its window.
    const maxNewTokens = overflow ? DECODER_CONTEXT - PROMPT_TOKENS + 16 : ANSWER_TOKENS;
    return this.p.tracer.startActiveSpan(
      'generation',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          ...here('generation'),
          'model.name': 'demo-decoder',
          'model.version': '1.0',
          'gen_ai.operation.name': 'text_completion',
          'gen_ai.request.model': 'demo-decoder',
          'gen_ai.request.max_tokens': maxNewTokens,
        },
      },
      async (span) => {
        try {
          const prompt = [...query, 1, ...context.flatMap((id) => documentTokens(id, 40))].slice(
            0,
            PROMPT_TOKENS,
          );
          while (prompt.length < PROMPT_TOKENS) prompt.push(0);
          span.setAttributes({
            'input.size': prompt.length,
            'gen_ai.usage.input_tokens': prompt.length,
          });
          this.p.log.info(
            `generating up to ${maxNewTokens} tokens from a prompt of ${prompt.length} tokens`,
          );
          const r = await this.callModel(span, this.p.generation, {
            type: 'infer',
            model: 'decoder',
            prompt,
            maxNewTokens,
          });
          const tokens = r.tokens ?? [];
          span.setAttributes({
            'output.size': tokens.length,
            'gen_ai.usage.output_tokens': tokens.length,
          });
          return tokens;
        } catch (e) {
          this.p.log.error(`generation failed: ${(e as Error).message}`, e);
          recordFailure(span, e);
          throw e;
        } finally {
          span.end();
        }
      },
    );
  }

  private postprocess(tokens: number[]): Promise<string> {
    return this.p.tracer.startActiveSpan(
      'postprocessing',
      { attributes: { ...here('postprocessing'), 'input.size': tokens.length } },
      async (span) => {
        try {
          const text = detokenize(tokens).replace(/\s+/g, ' ').trim();
          span.setAttribute('output.size', text.length);
          return text;
        } finally {
          span.end();
        }
      },
    );
  }
}
