/**
 * The demo's three models, built as ONNX graphs with deterministic seeded weights: an encoder
 * (embeddings), a cross-encoder (reranking scores) and a decoder with a KV cache (generation).
 * They are transformer-shaped (embeddings, multi-head attention, layer norms, SiLU feed-forward)
 * so that their latency behaves like real models of that size; the weights are random, so their
 * outputs mean nothing.
 *
 * Every op used here runs on onnxruntime's CPU execution provider at opset 17.
 */
import { DataType, GraphBuilder } from './onnx-graph.js';

/** Names of the models the demo serves. */
export type ModelKind = 'encoder' | 'cross-encoder' | 'decoder';
export const MODEL_KINDS: readonly ModelKind[] = ['encoder', 'cross-encoder', 'decoder'];

/** The shape of one model. Everything latency depends on is here. */
export interface ModelSpec {
  readonly kind: ModelKind;
  /** `model.name` on spans. */
  readonly name: string;
  readonly version: string;
  readonly layers: number;
  readonly width: number;
  readonly heads: number;
  readonly ffn: number;
  readonly vocab: number;
  /** Longest sequence (position table size). */
  readonly maxPositions: number;
  readonly seed: number;
}

/** Bumped whenever the graphs change, so cached models built by an older demo are not reused. */
export const MODEL_FORMAT_VERSION = 1;

export const VOCAB = 4096;
/** Sequence lengths the gateway pads or truncates to (fixed shapes batch well). */
export const ENCODER_TOKENS = 64;
export const RERANK_TOKENS = 128;
export const PROMPT_TOKENS = 96;
/** The decoder's context window: prompt plus generated tokens must fit in it. */
export const DECODER_CONTEXT = 160;
/** New tokens of a normal answer (the gateway asks for this many). */
export const ANSWER_TOKENS = 48;
export const WARMUP_ANSWER_TOKENS = ANSWER_TOKENS;

/**
 * The model specs at a scale: 1 is the default (a request takes about 1-3 s on one core);
 * smaller scales narrow every model by the same factor, so compute shrinks roughly in
 * proportion and the ratios between stages (and so the scenarios' effects) stay the same.
 */
export function modelSpecs(scale: number): ModelSpec[] {
  if (!(scale > 0 && scale <= 4))
    throw new RangeError(`model scale must be in (0, 4], got ${scale}`);
  // Compute is about quadratic in width: width ~ sqrt(scale).
  const width = Math.max(32, 32 * Math.round(16 * Math.sqrt(scale)));
  const heads = 4;
  const base = { width, heads, ffn: 4 * width, vocab: VOCAB };
  return [
    {
      kind: 'encoder',
      name: 'demo-encoder',
      version: '1.0',
      layers: 4,
      maxPositions: 64,
      seed: 11,
      ...base,
    },
    {
      kind: 'cross-encoder',
      name: 'demo-cross-encoder',
      version: '1.0',
      layers: 4,
      maxPositions: 128,
      seed: 22,
      ...base,
    },
    {
      kind: 'decoder',
      name: 'demo-decoder',
      version: '1.0',
      layers: 6,
      maxPositions: DECODER_CONTEXT,
      seed: 33,
      ...base,
    },
  ];
}

/** Mulberry32: a tiny seeded PRNG, so every build of a model has the same weights. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomMatrix(rand: () => number, rows: number, cols: number): Float32Array {
  // Uniform with the variance of Xavier initialisation keeps activations finite across layers.
  const bound = Math.sqrt(3 / rows);
  const m = new Float32Array(rows * cols);
  for (let i = 0; i < m.length; i++) m[i] = (rand() * 2 - 1) * bound;
  return m;
}

function filled(n: number, v: number): Float32Array {
  return new Float32Array(n).fill(v);
}

interface Ctx {
  readonly g: GraphBuilder;
  readonly spec: ModelSpec;
  readonly rand: () => number;
}

function layerNorm(c: Ctx, x: string, prefix: string): string {
  const d = c.spec.width;
  const scale = c.g.weight(`${prefix}.ln.scale`, [d], filled(d, 1));
  const bias = c.g.weight(`${prefix}.ln.bias`, [d], filled(d, 0));
  return c.g.node('LayerNormalization', [x, scale, bias], { axis: { int: -1 }, epsilon: 1e-5 });
}

function linear(c: Ctx, x: string, name: string, rows: number, cols: number): string {
  return c.g.node('MatMul', [x, c.g.weight(name, [rows, cols], randomMatrix(c.rand, rows, cols))]);
}

/** [B, S, D] -> [B, H, S, dh] */
function splitHeads(c: Ctx, x: string): string {
  const { heads, width } = c.spec;
  const shape = c.g.ints(`shape.split.${c.g.nodes.length}`, [0, 0, heads, width / heads]);
  return c.g.node('Transpose', [c.g.node('Reshape', [x, shape])], { perm: [0, 2, 1, 3] });
}

interface Cache {
  /** Graph inputs holding the past keys/values, [B, H, P, dh]. */
  readonly pastKey: string;
  readonly pastValue: string;
  /** Graph outputs for the present keys/values, [B, H, P + S, dh]. */
  readonly presentKey: string;
  readonly presentValue: string;
}

/**
 * One pre-norm transformer block. `mask` (additive, [S, T]) and `cache` are for the decoder:
 * with a cache, keys and values are the past ones concatenated with this step's.
 */
function block(c: Ctx, x: string, i: number, mask?: string, cache?: Cache): string {
  const { width, heads, ffn } = c.spec;
  const p = `layer${i}`;
  const h = layerNorm(c, x, `${p}.attn`);
  const q = splitHeads(c, linear(c, h, `${p}.wq`, width, width));
  let k = splitHeads(c, linear(c, h, `${p}.wk`, width, width));
  let v = splitHeads(c, linear(c, h, `${p}.wv`, width, width));
  if (cache !== undefined) {
    k = c.g.node('Concat', [cache.pastKey, k], { axis: { int: 2 } }, cache.presentKey);
    v = c.g.node('Concat', [cache.pastValue, v], { axis: { int: 2 } }, cache.presentValue);
  }
  const kT = c.g.node('Transpose', [k], { perm: [0, 1, 3, 2] });
  const scale = c.g.weight(`${p}.scale`, [], filled(1, 1 / Math.sqrt(width / heads)));
  let scores = c.g.node('Mul', [c.g.node('MatMul', [q, kT]), scale]);
  if (mask !== undefined) scores = c.g.node('Add', [scores, mask]);
  const probs = c.g.node('Softmax', [scores], { axis: { int: -1 } });
  const ctx = c.g.node('Transpose', [c.g.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] });
  const merged = c.g.node('Reshape', [ctx, c.g.ints(`${p}.merge`, [0, 0, width])]);
  const attended = c.g.node('Add', [x, linear(c, merged, `${p}.wo`, width, width)]);
  const h2 = layerNorm(c, attended, `${p}.ffn`);
  const up = linear(c, h2, `${p}.w1`, width, ffn);
  const act = c.g.node('Mul', [up, c.g.node('Sigmoid', [up])]); // SiLU
  return c.g.node('Add', [attended, linear(c, act, `${p}.w2`, ffn, width)]);
}

/** Token embeddings plus learned positions: ids [B, S], positions [S] -> [B, S, D]. */
function embed(c: Ctx, ids: string, positions: string): string {
  const { vocab, width, maxPositions } = c.spec;
  const tokens = c.g.weight('tok_emb', [vocab, width], randomMatrix(c.rand, width, vocab));
  const pos = c.g.weight(
    'pos_emb',
    [maxPositions, width],
    randomMatrix(c.rand, width, maxPositions),
  );
  return c.g.node('Add', [
    c.g.node('Gather', [tokens, ids], { axis: { int: 0 } }),
    c.g.node('Gather', [pos, positions], { axis: { int: 0 } }),
  ]);
}

/**
 * Encoder and cross-encoder: `input_ids` [B, S], `position_ids` [S] -> `embedding` [B, D]
 * (mean-pooled) or, for the cross-encoder, `score` [B, 1].
 */
function buildEncoder(spec: ModelSpec): GraphBuilder {
  const c: Ctx = { g: new GraphBuilder(spec.name), spec, rand: seededRandom(spec.seed) };
  const ids = c.g.input('input_ids', DataType.INT64, ['batch', 'seq']);
  const positions = c.g.input('position_ids', DataType.INT64, ['seq']);
  let x = embed(c, ids, positions);
  for (let i = 0; i < spec.layers; i++) x = block(c, x, i);
  const pooled = c.g.node('ReduceMean', [layerNorm(c, x, 'final')], {
    axes: [1],
    keepdims: { int: 0 },
  });
  if (spec.kind === 'encoder') {
    c.g.node('Identity', [pooled], undefined, 'embedding');
    c.g.output('embedding', DataType.FLOAT, ['batch', spec.width]);
  } else {
    c.g.node(
      'MatMul',
      [pooled, c.g.weight('score.w', [spec.width, 1], randomMatrix(c.rand, spec.width, 1))],
      undefined,
      'score',
    );
    c.g.output('score', DataType.FLOAT, ['batch', 1]);
  }
  return c.g;
}

/**
 * Decoder with a KV cache: `input_ids` [B, S], `position_ids` [S], `attn_mask` [S, P + S]
 * (additive: 0 or -1e9, causal), `past_key_<i>`/`past_value_<i>` [B, H, P, dh] ->
 * `logits` [B, 1, V] for the last position, `present_key_<i>`/`present_value_<i>`.
 * Prefill passes the prompt with P = 0; each decode step passes one token and the cache.
 */
function buildDecoder(spec: ModelSpec): GraphBuilder {
  const c: Ctx = { g: new GraphBuilder(spec.name), spec, rand: seededRandom(spec.seed) };
  const dh = spec.width / spec.heads;
  const ids = c.g.input('input_ids', DataType.INT64, ['batch', 'seq']);
  const positions = c.g.input('position_ids', DataType.INT64, ['seq']);
  const mask = c.g.input('attn_mask', DataType.FLOAT, ['seq', 'total']);
  let x = embed(c, ids, positions);
  for (let i = 0; i < spec.layers; i++) {
    const cache: Cache = {
      pastKey: c.g.input(`past_key_${i}`, DataType.FLOAT, ['batch', spec.heads, 'past', dh]),
      pastValue: c.g.input(`past_value_${i}`, DataType.FLOAT, ['batch', spec.heads, 'past', dh]),
      presentKey: `present_key_${i}`,
      presentValue: `present_value_${i}`,
    };
    c.g.output(cache.presentKey, DataType.FLOAT, ['batch', spec.heads, 'total', dh]);
    c.g.output(cache.presentValue, DataType.FLOAT, ['batch', spec.heads, 'total', dh]);
    x = block(c, x, i, mask, cache);
  }
  const last = c.g.node('Slice', [
    x,
    c.g.ints('last.start', [-1]),
    c.g.ints('last.end', [2 ** 31 - 1]),
    c.g.ints('last.axes', [1]),
  ]);
  const head = c.g.weight(
    'lm_head',
    [spec.width, spec.vocab],
    randomMatrix(c.rand, spec.width, spec.vocab),
  );
  c.g.node('MatMul', [layerNorm(c, last, 'final'), head], undefined, 'logits');
  c.g.output('logits', DataType.FLOAT, ['batch', 1, spec.vocab]);
  return c.g;
}

/** Builds a model's ONNX ModelProto bytes. Deterministic: the same spec gives the same bytes. */
export function buildModel(spec: ModelSpec): Buffer {
  const g = spec.kind === 'decoder' ? buildDecoder(spec) : buildEncoder(spec);
  return g.toModelProto('stagelight-demo', {
    'stagelight.synthetic_weights': 'true',
    'stagelight.model_format': String(MODEL_FORMAT_VERSION),
  });
}
