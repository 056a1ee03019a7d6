/**
 * A model runner process: one replica of one model's worker pool. It receives requests over IPC
 * with trace context in their headers, batches them dynamically, runs the model with
 * onnxruntime-node on its device and replies. Every request gets a span in its own trace (kind
 * SERVER, parented to the gateway's stage span) with the wait for its batch as a child span.
 */
import * as ort from 'onnxruntime-node';
import {
  context,
  trace,
  SpanKind,
  type Context,
  type Histogram,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { DynamicBatcher, type BatchItem } from './batcher.js';
import { createSessionOnDevice } from './devices.js';
import { loadOrBuildModel } from '../models/model-cache.js';
import {
  modelSpecs,
  PROMPT_TOKENS,
  seededRandom,
  WARMUP_ANSWER_TOKENS,
  type ModelSpec,
} from '../models/transformer.js';
import { extractHeaders, recordFailure, startTracing, type Tracing } from '../telemetry/tracing.js';
import { sourceLocator } from '../telemetry/source-location.js';
import type {
  Device,
  DeviceAttempt,
  FromWorker,
  InferRequest,
  ResultMessage,
  RunnerConfig,
  ToWorker,
} from '../protocol.js';

const here = sourceLocator('demo/runner/model-runner.ts');

/** `service.name` of a model's runner pool. */
export function runnerServiceName(model: RunnerConfig['model']): string {
  return model === 'encoder'
    ? 'demo-embedding-runner'
    : model === 'cross-encoder'
      ? 'demo-reranking-runner'
      : 'demo-generation-runner';
}

type Infer = InferRequest & { id: number; deadline: number };

interface Pending {
  readonly msg: Infer;
  readonly span: Span;
  readonly ctx: Context;
  readonly wait: Span;
}

/** Raised when a request's deadline passes before its result is ready. */
class DeadlineExceeded extends Error {
  override name = 'DeadlineExceededError';
}

interface Loaded {
  readonly session: ort.InferenceSession;
  readonly device: Device;
  readonly attempts: DeviceAttempt[];
}

/** Slowdowns from this factor up are stalls (see `step`). */
const STALL_FACTOR = 10;

/** Epoch ms with sub-millisecond precision, on the same clock as the SDK's span times. */
const wallNow = () => performance.timeOrigin + performance.now();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function send(msg: FromWorker): void {
  process.send?.(msg);
}

function argmaxRows(logits: Float32Array, rows: number, vocab: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestValue = -Infinity;
    const base = r * vocab;
    for (let v = 0; v < vocab; v++) {
      const x = logits[base + v]!;
      if (x > bestValue) {
        bestValue = x;
        best = v;
      }
    }
    out.push(best);
  }
  return out;
}

function int64(values: number[], dims: number[]): ort.Tensor {
  return new ort.Tensor(
    'int64',
    BigInt64Array.from(values, (v) => BigInt(v)),
    dims,
  );
}

function positions(from: number, n: number): ort.Tensor {
  return int64(
    Array.from({ length: n }, (_, i) => from + i),
    [n],
  );
}

/** Pads with 0 or truncates to exactly `n` tokens. */
function fit(tokens: readonly number[], n: number): number[] {
  const out = tokens.slice(0, n);
  while (out.length < n) out.push(0);
  return out;
}

export class ModelRunner {
  private loaded: Promise<Loaded> | undefined;
  /** Throttling in effect; a configure message can change it between requests. */
  private throttle: RunnerConfig['throttle'];
  /** The model version served (a configure message rolls out another). */
  private version: string;
  private readonly spec: ModelSpec;
  private readonly batcher: DynamicBatcher<Pending>;
  private readonly rand: () => number;
  private readonly tracer: Tracer;
  private readonly log: Tracing['log'];
  private readonly batchSize: Histogram;
  /** Time spent computing batches since utilisation was last observed, ms. */
  private busyMs = 0;
  private observedAt = wallNow();

  constructor(
    private readonly cfg: RunnerConfig,
    telemetry: Pick<Tracing, 'tracer' | 'log' | 'meter'>,
  ) {
    const spec = modelSpecs(cfg.modelScale).find((s) => s.kind === cfg.model);
    if (spec === undefined) throw new Error(`unknown model ${cfg.model}`);
    this.spec = spec;
    this.tracer = telemetry.tracer;
    this.log = telemetry.log;
    const meter = telemetry.meter;
    this.batchSize = meter.createHistogram('batch.size', {
      description: 'Requests per batch the model runner computed',
      unit: '{request}',
      advice: { explicitBucketBoundaries: [1, 2, 3, 4, 8, 16] },
    });
    // The share of wall time spent computing since the last reading: what a GPU's
    // utilisation gauge shows, measured here from the batches themselves.
    meter
      .createObservableGauge('model_runner.utilization', {
        description: 'Fraction of time the model runner spent computing batches',
        unit: '1',
      })
      .addCallback((result) => {
        const now = wallNow();
        const span = now - this.observedAt;
        if (span > 0) result.observe(Math.min(1, this.busyMs / span), this.metricAttributes());
        this.busyMs = 0;
        this.observedAt = now;
      });
    this.rand = seededRandom(cfg.seed);
    this.throttle = cfg.throttle;
    this.version = spec.version;
    this.batcher = new DynamicBatcher(cfg.maxBatch, cfg.maxWaitMs, (b, reason) =>
      this.runBatch(b, reason),
    );
  }

  /** Loads the model (building and caching it on first use) on the configured device. */
  load(parent?: Context): Promise<Loaded> {
    if (this.loaded !== undefined) return this.loaded;
    const span =
      parent === undefined
        ? undefined
        : this.tracer.startSpan(
            'model_load',
            { attributes: { ...here('model_load'), ...this.modelAttributes() } },
            parent,
          );
    this.loaded = (async () => {
      const { bytes, built } = loadOrBuildModel(this.cfg.cacheDir, this.spec);
      const s = await createSessionOnDevice(bytes, this.cfg.device);
      span?.setAttributes({
        'model.device': s.device,
        'model.built': built,
        'model.bytes': bytes.length,
      });
      return s;
    })();
    this.loaded.then(
      () => span?.end(),
      (e: unknown) => {
        if (span !== undefined) {
          recordFailure(span, e);
          span.end();
        }
      },
    );
    return this.loaded;
  }

  private modelAttributes(): Record<string, string | number> {
    return {
      'model.name': this.spec.name,
      'model.version': this.version,
      'model.layers': this.spec.layers,
      'model.width': this.spec.width,
      'gen_ai.system': 'onnxruntime',
      'gen_ai.request.model': this.spec.name,
      replica: this.cfg.replica,
    };
  }

  /** Runs one request alone to measure the warm latency (the gateway derives timeouts from it). */
  async warmUp(): Promise<number> {
    const { session } = await this.load();
    const t = performance.now();
    // The size of a real request, so that timeouts derived from this are meaningful.
    const tokens = Array.from({ length: PROMPT_TOKENS }, (_, i) => 4 + i);
    const req: InferRequest =
      this.cfg.model === 'encoder'
        ? { type: 'infer', model: 'encoder', tokens: tokens.slice(0, 16) }
        : this.cfg.model === 'cross-encoder'
          ? {
              type: 'infer',
              model: 'cross-encoder',
              query: tokens.slice(0, 16),
              docs: Array.from({ length: 8 }, () => tokens),
            }
          : { type: 'infer', model: 'decoder', prompt: tokens, maxNewTokens: WARMUP_ANSWER_TOKENS };
    await this.compute(session, [req], Infinity);
    return performance.now() - t;
  }

  /** Accepts a request from the gateway: its span starts now, when the message arrives. */
  accept(msg: Infer, headers: Record<string, string>): void {
    const parent = extractHeaders(headers);
    const name =
      this.cfg.model === 'encoder'
        ? `embeddings ${this.spec.name}`
        : this.cfg.model === 'cross-encoder'
          ? `rerank ${this.spec.name}`
          : `text_completion ${this.spec.name}`;
    const op =
      this.cfg.model === 'encoder'
        ? 'embeddings'
        : this.cfg.model === 'decoder'
          ? 'text_completion'
          : 'rerank';
    const span = this.tracer.startSpan(
      name,
      {
        kind: SpanKind.SERVER,
        attributes: {
          ...this.modelAttributes(),
          'gen_ai.operation.name': op,
          'input.size': inputSize(msg),
        },
      },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    void (async () => {
      if (this.cfg.lazyLoad) {
        try {
          await this.load(ctx);
        } catch (e) {
          this.fail({ msg, span, ctx, wait: span }, e, 'INTERNAL', false);
          return;
        }
      }
      const wait = this.tracer.startSpan(
        'wait_for_batch',
        {
          attributes: {
            ...here('wait_for_batch'),
            'batch.max_size': this.cfg.maxBatch,
            'batch.max_wait_ms': this.cfg.maxWaitMs,
            'batch.queued_before': this.batcher.pending,
          },
        },
        ctx,
      );
      const pending = { msg, span, ctx, wait };
      this.batcher.push(pending);
      // The request's deadline bounds its wait too: a busy replica does not keep it queued
      // past it (the gateway has given up by then).
      if (!Number.isFinite(msg.deadline)) return;
      const timer = setTimeout(
        () => {
          if (this.batcher.remove(pending)) {
            this.fail(
              pending,
              new DeadlineExceeded('deadline exceeded while waiting for a batch'),
              'DEADLINE_EXCEEDED',
              true,
            );
          }
        },
        Math.max(0, msg.deadline - wallNow()),
      );
      timer.unref();
    })();
  }

  /** The attributes of this runner's metrics. */
  private metricAttributes() {
    return { 'model.name': this.spec.name, replica: this.cfg.replica };
  }

  private fail(p: Pending, error: unknown, code: ResultMessage['code'], waitOpen: boolean): void {
    if (waitOpen) p.wait.end();
    context.with(p.ctx, () =>
      this.log.error(`${this.spec.name} request failed: ${(error as Error).message}`, error, {
        'error.type': code ?? 'INTERNAL',
      }),
    );
    recordFailure(p.span, error);
    p.span.setAttribute(
      'error.type',
      code === 'DEADLINE_EXCEEDED' ? 'timeout' : ((error as Error).name ?? 'Error'),
    );
    p.span.end();
    send({ type: 'result', id: p.msg.id, ok: false, error: (error as Error).message, code });
  }

  private async runBatch(items: BatchItem<Pending>[], reason: 'full' | 'timeout'): Promise<void> {
    const loaded = await this.load().catch((e: unknown) => e as Error);
    if (loaded instanceof Error) {
      for (const { value } of items) this.fail(value, loaded, 'INTERNAL', true);
      return;
    }
    for (const { value } of items) {
      value.wait.setAttributes({ batch_size: items.length, 'batch.trigger': reason });
      value.wait.end();
    }
    const live: Pending[] = [];
    for (const { value } of items) {
      if (wallNow() > value.msg.deadline) {
        this.fail(
          value,
          new DeadlineExceeded('deadline exceeded while waiting for a batch'),
          'DEADLINE_EXCEEDED',
          false,
        );
      } else live.push(value);
    }
    if (live.length === 0) return;
    try {
      await this.runTraced(loaded, live);
    } catch (e) {
      if (live.length > 1 && !(e instanceof DeadlineExceeded)) {
        // One bad request fails the whole batch; run each alone so only it fails.
        for (const p of live)
          p.span.addEvent('batch failed; retrying the request alone', {
            'exception.message': (e as Error).message,
          });
        for (const p of live) {
          try {
            await this.runTraced(loaded, [p]);
          } catch (e2) {
            this.fail(
              p,
              e2,
              e2 instanceof DeadlineExceeded ? 'DEADLINE_EXCEEDED' : 'INTERNAL',
              false,
            );
          }
        }
      } else {
        for (const p of live)
          this.fail(p, e, e instanceof DeadlineExceeded ? 'DEADLINE_EXCEEDED' : 'INTERNAL', false);
      }
    }
  }

  /** Runs a batch with each request's compute spans in its own trace, and replies. */
  private async runTraced(loaded: Loaded, batch: Pending[]): Promise<void> {
    const deadline = Math.min(...batch.map((p) => p.msg.deadline));
    const phases: { name: string; start: number; end: number }[] = [];
    const computeStart = wallNow();
    let results: Awaited<ReturnType<typeof this.compute>>;
    try {
      results = await this.compute(
        loaded.session,
        batch.map((p) => p.msg),
        deadline,
        phases,
      );
    } finally {
      this.busyMs += wallNow() - computeStart;
    }
    this.batchSize.record(batch.length, this.metricAttributes());
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      for (const ph of phases) {
        const s = this.tracer.startSpan(
          ph.name,
          {
            startTime: ph.start,
            attributes: { batch_size: batch.length, 'model.device': loaded.device },
          },
          p.ctx,
        );
        s.end(ph.end);
      }
      const r = results[i]!;
      context.with(p.ctx, () =>
        this.log.info(`${this.spec.name} ran a batch of ${batch.length} on ${loaded.device}`, {
          batch_size: batch.length,
          'model.device': loaded.device,
        }),
      );
      p.span.setAttributes({
        'model.device': loaded.device,
        batch_size: batch.length,
        'output.size': r.tokens?.length ?? r.scores?.length ?? r.embedding?.length ?? 0,
        ...(r.tokens === undefined ? {} : { 'gen_ai.usage.output_tokens': r.tokens.length }),
      });
      p.span.end();
      send({
        type: 'result',
        id: p.msg.id,
        ok: true,
        device: loaded.device,
        modelVersion: this.version,
        batchSize: batch.length,
        ...r,
      });
    }
  }

  /** Serves another model version from the next batch on. */
  setVersion(version: string): void {
    this.version = version;
  }

  /** Sets (or, with null, lifts) the throttling for the batches that start from now. */
  setThrottle(t: RunnerConfig['throttle'] | null): void {
    this.throttle = t ?? undefined;
  }

  /** A throttled replica pauses after each step for a share of the step's duration. */
  private throttleFactor(): number {
    const t = this.throttle;
    if (t === undefined) return 1;
    return this.rand() < t.stallProbability ? Math.max(STALL_FACTOR, t.stallSlowdown) : t.slowdown;
  }

  private async step(
    session: ort.InferenceSession,
    feeds: Record<string, ort.Tensor>,
    factor: number,
    deadline: number,
  ): Promise<ort.InferenceSession.ReturnType> {
    const t = performance.now();
    const out = await session.run(feeds);
    if (factor > 1) {
      let pause = (factor - 1) * (performance.now() - t);
      if (Number.isFinite(deadline)) {
        const untilDeadline = Math.max(0, deadline - wallNow()) + 50;
        // A stalled replica is frozen like a container that ran out of CPU quota for a long
        // period: until just past the request's deadline, however fast the step itself was.
        // No pause outlasts the deadline: on a loaded machine a step can take seconds, and a
        // pause in proportion would keep the batch (and every request queued behind it) for
        // minutes.
        pause = factor >= STALL_FACTOR ? untilDeadline : Math.min(pause, untilDeadline);
      }
      await sleep(pause);
    }
    if (wallNow() > deadline) throw new DeadlineExceeded('deadline exceeded during inference');
    return out;
  }

  /**
   * The model computation for a batch. `phases` receives the wall-clock intervals of the
   * batch's phases (forward; or prefill and decode), which become spans in each request's trace.
   */
  async compute(
    session: ort.InferenceSession,
    batch: InferRequest[],
    deadline: number,
    phases: { name: string; start: number; end: number }[] = [],
  ): Promise<Pick<ResultMessage, 'embedding' | 'scores' | 'tokens'>[]> {
    const factor = this.throttleFactor();
    const first = batch[0]!;
    if (first.model === 'encoder') {
      const seq = this.spec.maxPositions;
      const ids = batch.flatMap((r) => fit(r.model === 'encoder' ? r.tokens : [], seq));
      const start = wallNow();
      const out = await this.step(
        session,
        { input_ids: int64(ids, [batch.length, seq]), position_ids: positions(0, seq) },
        factor,
        deadline,
      );
      phases.push({ name: 'forward', start, end: wallNow() });
      const emb = out.embedding!.data as Float32Array;
      const d = this.spec.width;
      return batch.map((_, i) => ({ embedding: Array.from(emb.subarray(i * d, (i + 1) * d)) }));
    }
    if (first.model === 'cross-encoder') {
      const seq = this.spec.maxPositions;
      const rows: number[] = [];
      const counts: number[] = [];
      for (const r of batch) {
        if (r.model !== 'cross-encoder') continue;
        counts.push(r.docs.length);
        for (const doc of r.docs) rows.push(...fit([...r.query, 2, ...doc], seq));
      }
      const n = rows.length / seq;
      const start = wallNow();
      // Version 1.1 averages three passes (test-time augmentation): three times the work.
      const passes = this.version === '1.1' ? 3 : 1;
      let out = await this.step(
        session,
        { input_ids: int64(rows, [n, seq]), position_ids: positions(0, seq) },
        factor,
        deadline,
      );
      for (let k = 1; k < passes; k++) {
        out = await this.step(
          session,
          { input_ids: int64(rows, [n, seq]), position_ids: positions(0, seq) },
          factor,
          deadline,
        );
      }
      phases.push({ name: 'forward', start, end: wallNow() });
      const scores = Array.from(out.score!.data as Float32Array);
      let at = 0;
      return counts.map((c) => {
        const s = scores.slice(at, at + c);
        at += c;
        return { scores: s };
      });
    }
    return this.generate(session, batch, deadline, factor, phases);
  }

  /** Greedy decoding with a KV cache: one prefill over the prompts, then one step per token. */
  private async generate(
    session: ort.InferenceSession,
    batch: InferRequest[],
    deadline: number,
    factor: number,
    phases: { name: string; start: number; end: number }[],
  ): Promise<Pick<ResultMessage, 'tokens'>[]> {
    const { heads, width, layers, vocab } = this.spec;
    const dh = width / heads;
    const b = batch.length;
    const prompts = batch.map((r) => (r.model === 'decoder' ? r.prompt : []));
    const p = Math.max(1, ...prompts.map((x) => x.length));
    const maxNew = Math.max(...batch.map((r) => (r.model === 'decoder' ? r.maxNewTokens : 0)));
    const mask = new Float32Array(p * p);
    for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) mask[i * p + j] = -1e9;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(
        prompts.flatMap((x) => fit(x, p)),
        [b, p],
      ),
      position_ids: positions(0, p),
      attn_mask: new ort.Tensor('float32', mask, [p, p]),
    };
    for (let l = 0; l < layers; l++) {
      feeds[`past_key_${l}`] = new ort.Tensor('float32', new Float32Array(0), [b, heads, 0, dh]);
      feeds[`past_value_${l}`] = new ort.Tensor('float32', new Float32Array(0), [b, heads, 0, dh]);
    }
    const prefillStart = wallNow();
    let out = await this.step(session, feeds, factor, deadline);
    const decodeStart = wallNow();
    phases.push({ name: 'prefill', start: prefillStart, end: decodeStart });
    let last = argmaxRows(out.logits!.data as Float32Array, b, vocab);
    const tokens: number[][] = last.map((t) => [t]);
    let total = p;
    try {
      for (let n = 1; n < maxNew; n++) {
        const step: Record<string, ort.Tensor> = {
          input_ids: int64(last, [b, 1]),
          // Past the context window this index is out of the position table's range: the
          // runtime's Gather fails, exactly as a real model does when asked for too long an answer.
          position_ids: positions(total, 1),
          attn_mask: new ort.Tensor('float32', new Float32Array(total + 1), [1, total + 1]),
        };
        for (let l = 0; l < layers; l++) {
          step[`past_key_${l}`] = out[`present_key_${l}`]!;
          step[`past_value_${l}`] = out[`present_value_${l}`]!;
        }
        out = await this.step(session, step, factor, deadline);
        total++;
        last = argmaxRows(out.logits!.data as Float32Array, b, vocab);
        last.forEach((t, i) => tokens[i]!.push(t));
      }
    } finally {
      phases.push({ name: 'decode', start: decodeStart, end: wallNow() });
    }
    return batch.map((r, i) => ({
      tokens: tokens[i]!.slice(0, r.model === 'decoder' ? r.maxNewTokens : 0),
    }));
  }
}

function inputSize(msg: InferRequest): number {
  if (msg.model === 'encoder') return msg.tokens.length;
  if (msg.model === 'cross-encoder') return msg.docs.length;
  return msg.prompt.length;
}

/** The process's main: set up tracing, load (unless lazy), then serve requests until told to stop. */
export async function runModelRunnerProcess(cfg: RunnerConfig): Promise<void> {
  const tracing = startTracing({
    serviceName: runnerServiceName(cfg.model),
    instanceId: cfg.replica,
    clockOffsetMs: cfg.clockOffsetMs,
    endpoint: cfg.endpoint,
    enabled: cfg.tracing,
  });
  const runner = new ModelRunner(cfg, tracing);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await tracing.shutdown().catch(() => {});
    process.exit(0);
  };
  process.on('message', (m: ToWorker) => {
    if (m.type === 'shutdown') void stop();
    else if (m.type === 'configure') {
      if (m.throttle !== undefined) runner.setThrottle(m.throttle);
      if (m.modelVersion !== undefined) runner.setVersion(m.modelVersion);
    } else if (m.type === 'infer') runner.accept(m, m.headers);
  });
  // The gateway went away (crash, kill): nothing else will stop us.
  process.on('disconnect', () => void stop());
  // Ctrl-C in a terminal reaches the whole process group: the gateway decides when we stop
  // (after a flush), so that the spans of the requests in flight are not lost.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => void stop());
  try {
    if (cfg.lazyLoad) {
      send({ type: 'ready' });
    } else {
      const loaded = await runner.load();
      const warmupMs = await runner.warmUp();
      send({ type: 'ready', device: loaded.device, attempts: loaded.attempts, warmupMs });
    }
  } catch (e) {
    send({ type: 'fatal', error: (e as Error).message });
    await stop();
  }
}
