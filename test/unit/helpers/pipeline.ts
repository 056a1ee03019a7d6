/**
 * Hand-built traces of the demo's shape, with knobs for each incident, analysed into the facts
 * the diagnoses read. The answers are known by construction.
 *
 *   gateway inference_request (SERVER)
 *     preprocessing 50
 *     embedding 150 (CLIENT) -> encoder embed (SERVER, other process)
 *     retrieve_documents (PRODUCER 5) ~queue wait~> retrieval search (CONSUMER 200)
 *     reranking (CLIENT) -> [wait] reranker rerank (SERVER) -> forward
 *     generation 800 (CLIENT) -> decoder text_completion (SERVER, replica) [model_load]
 *     postprocessing 30
 */

import {
  SpanKind,
  StatusCode,
  type KeyValueJson,
  type ResourceInfo,
  type SpanRecord,
} from '../../../src/core/model.js';
import { SpanRecord as Span } from '../../../src/core/model.js';
import { analyzeTrace } from '../../../src/core/analysis/analyze-trace.js';
import { buildTraceFacts, type TraceFacts } from '../../../src/core/analysis/trace-facts.js';
import { TEST_SCOPE } from './spans.js';

export interface Shape {
  rerankMs?: number;
  /** Time the reranking call waits before the reranker's span starts (a busy worker). */
  rerankWaitMs?: number;
  /** The reranker process's clock, this many ms off the gateway's. */
  rerankSkewMs?: number;
  /** Candidates reranked (`input.size` of reranking). */
  candidates?: number;
  queueWaitMs?: number;
  /** Generation replica (service.instance.id of the decoder, `replica` on the call). */
  replica?: string;
  generationMs?: number;
  generationError?: string;
  /** `gen_ai.request.max_tokens` of the generation call. */
  maxTokens?: number;
  /** A model_load span of this many ms inside the decoder's span. */
  modelLoadMs?: number;
  /** Time the gateway works itself before calling the stages (untraced work). */
  gatewaySelfMs?: number;
  jitter?: number;
  /** Everything this many times slower (a busy machine). */
  load?: number;
  /** Root process instance (a new one = a new run of the pipeline). */
  gatewayInstance?: string;
  /** `input.hash` of the request (the question's identity), on the generation call. */
  inputHash?: string;
  /** Output tokens of the generation (default 48). */
  outputTokens?: number;
}

const EMPTY = new Uint8Array(0);
const resources = new Map<string, ResourceInfo>();

/** One resource per (service, instance), as a process would send it. */
export function resource(service: string, instance?: string): ResourceInfo {
  const key = `${service}/${instance ?? ''}`;
  let r = resources.get(key);
  if (r === undefined) {
    r = {
      raw: EMPTY,
      serviceName: service,
      attributes: [
        { key: 'service.name', value: { stringValue: service } },
        ...(instance === undefined
          ? []
          : [{ key: 'service.instance.id', value: { stringValue: instance } }]),
      ],
      droppedAttributesCount: 0,
      schemaUrl: '',
    };
    resources.set(key, r);
  }
  return r;
}

const attrTable = new Map<SpanRecord, KeyValueJson[]>();
const errorTable = new Map<SpanRecord, string>();

/** Reads the tables the builder fills (what the span bytes would say). */
export const readers = {
  scalarAttributes: (s: SpanRecord, cb: (key: string, value: string) => void): void => {
    for (const kv of attrTable.get(s) ?? []) {
      const v = kv.value;
      const text =
        'stringValue' in v
          ? v.stringValue
          : 'intValue' in v
            ? v.intValue
            : 'boolValue' in v
              ? String(v.boolValue)
              : undefined;
      if (text !== undefined) cb(kv.key, text);
    }
  },
  errorMessage: (s: SpanRecord): string | undefined => errorTable.get(s),
};

const str = (key: string, v: string): KeyValueJson => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): KeyValueJson => ({ key, value: { intValue: String(v) } });

function hex(n: number, len: number): string {
  return n.toString(16).padStart(len, '0');
}

/** The request index of a trace id made by {@link pipelineSpans}. */
export function indexOf(traceId: string): number {
  return parseInt(traceId.slice(8), 16) - 1;
}

/** The spans of request `i`. */
export function pipelineSpans(i: number, shape: Shape = {}): SpanRecord[] {
  const j = (1 + (shape.jitter ?? 0) * Math.sin(i * 12.9898)) * (shape.load ?? 1);
  // A varied prefix (as real ids have) and the request index at the end.
  const traceId = hex(Math.imul(i + 1, 2654435761) >>> 0, 8) + hex(i + 1, 24);
  const spans: SpanRecord[] = [];
  const gw = resource('gateway', shape.gatewayInstance ?? 'gw-1');
  let t = 1_000_000 + i * 100_000;
  const start = t;
  const id = (n: number) => hex(i * 100 + n + 1, 16);
  const span = (
    n: number,
    parent: number,
    name: string,
    res: ResourceInfo,
    s: number,
    e: number,
    kind: number = SpanKind.INTERNAL,
    attrs: KeyValueJson[] = [],
    status: number = StatusCode.UNSET,
  ): SpanRecord => {
    const rec = new Span(
      traceId,
      id(n),
      parent < 0 ? '' : id(parent),
      name,
      kind,
      s,
      e,
      status,
      [],
      res,
      TEST_SCOPE,
      EMPTY,
    );
    if (attrs.length > 0) attrTable.set(rec, attrs);
    spans.push(rec);
    return rec;
  };
  t += shape.gatewaySelfMs ?? 0;
  span(1, 0, 'preprocessing', gw, t, (t += 50 * j));
  const embStart = t;
  t += 150 * j;
  span(2, 0, 'embedding', gw, embStart, t, SpanKind.CLIENT);
  span(3, 2, 'embed', resource('encoder', 'encoder-a'), embStart + 1, t - 1, SpanKind.SERVER);
  const prod = span(4, 0, 'retrieve_documents', gw, t, (t += 5), SpanKind.PRODUCER, [
    str('messaging.destination.name', 'retrieval-requests'),
  ]);
  t += shape.queueWaitMs ?? 3;
  span(5, 4, 'search', resource('retrieval', 'retrieval-a'), t, (t += 200 * j), SpanKind.CONSUMER);
  void prod;
  // Reranking: the call, a wait for the worker, the worker's span and its forward pass.
  const rrStart = t;
  const wait = shape.rerankWaitMs ?? 0;
  const work = (shape.rerankMs ?? 1200) * j;
  const rrEnd = rrStart + wait + work + 2;
  const skew = shape.rerankSkewMs ?? 0;
  const reranker = resource('reranker', 'reranker-a');
  span(6, 0, 'reranking', gw, rrStart, rrEnd, SpanKind.CLIENT, [
    int('input.size', shape.candidates ?? 8),
    str('model.name', 'cross-encoder'),
    str('request.id', `r${i}`),
  ]);
  span(7, 6, 'rerank', reranker, rrStart + wait + 1 + skew, rrEnd - 1 + skew, SpanKind.SERVER);
  span(8, 7, 'forward', reranker, rrStart + wait + 1.5 + skew, rrEnd - 1.5 + skew);
  t = rrEnd;
  // Generation on a replica, maybe failing, maybe loading its model first.
  const replica = shape.replica ?? 'generation-a';
  const decoder = resource('decoder', replica);
  const genStart = t;
  const load = shape.modelLoadMs ?? 0;
  const genEnd = genStart + load + (shape.generationMs ?? 800) * j;
  const failed = shape.generationError !== undefined;
  const call = span(
    9,
    0,
    'generation',
    gw,
    genStart,
    genEnd,
    SpanKind.CLIENT,
    [
      str('replica', replica),
      int('gen_ai.request.max_tokens', shape.maxTokens ?? 64),
      str('gen_ai.request.model', 'decoder'),
      ...(failed
        ? []
        : [
            int('gen_ai.usage.output_tokens', shape.outputTokens ?? 48),
            int('gen_ai.usage.input_tokens', 96),
          ]),
      ...(shape.inputHash === undefined ? [] : [str('input.hash', shape.inputHash)]),
    ],
    failed ? StatusCode.ERROR : StatusCode.UNSET,
  );
  const server = span(
    10,
    9,
    'text_completion',
    decoder,
    genStart + 1,
    genEnd - 1,
    SpanKind.SERVER,
    [str('gen_ai.request.model', 'decoder'), ...(failed ? [str('error.type', 'IndexError')] : [])],
    failed ? StatusCode.ERROR : StatusCode.UNSET,
  );
  if (failed) {
    errorTable.set(server, shape.generationError!);
    errorTable.set(call, shape.generationError!);
  }
  if (load > 0) span(11, 10, 'model_load', decoder, genStart + 1.5, genStart + 1.5 + load);
  // The model server's passes: prefill a tenth, decode the rest (compute spans on the CPU).
  const work0 = genStart + 1.5 + load;
  const work1 = genEnd - 1.5;
  const split = work0 + 0.1 * (work1 - work0);
  const device = [str('model.device', 'cpu'), int('batch_size', 1)];
  if (!failed) {
    span(13, 10, 'prefill', decoder, work0, split, SpanKind.INTERNAL, device);
    span(14, 10, 'decode', decoder, split, work1, SpanKind.INTERNAL, device);
  }
  span(
    15,
    8,
    'matmul',
    reranker,
    rrStart + wait + 2 + skew,
    rrEnd - 2 + skew,
    SpanKind.INTERNAL,
    device,
  );
  t = genEnd;
  span(12, 0, 'postprocessing', gw, t, (t += 30 * j));
  spans.unshift(
    new Span(
      traceId,
      id(0),
      '',
      'inference_request',
      SpanKind.SERVER,
      start,
      t,
      failed ? StatusCode.ERROR : StatusCode.UNSET,
      [],
      gw,
      TEST_SCOPE,
      EMPTY,
    ),
  );
  return spans;
}

/** The attribute getter queue waits need (the destination name). */
const attributeValue = (span: SpanRecord, key: string): string | undefined => {
  const v = attrTable.get(span)?.find((kv) => kv.key === key)?.value;
  return v !== undefined && 'stringValue' in v ? v.stringValue : undefined;
};

/** Analyses spans into facts, as the analysis service would; `receivedAt` orders arrival. */
export function factsOf(spans: readonly SpanRecord[], receivedAt: number, version = 1): TraceFacts {
  const analysis = analyzeTrace(spans, attributeValue);
  return buildTraceFacts(
    { traceId: spans[0]!.traceId, createdAt: receivedAt, updatedAt: receivedAt + 10, version },
    analysis,
    readers,
  );
}

/** Request `i` analysed. Arrival follows the request index (one a second). */
export function trace(i: number, shape: Shape = {}): TraceFacts {
  return factsOf(pipelineSpans(i, shape), 10_000_000 + i * 1000);
}

/** `n` requests from index `from`, shaped per index. */
export function traces(
  n: number,
  shape: (i: number) => Shape = () => ({}),
  from = 0,
): TraceFacts[] {
  return Array.from({ length: n }, (_, k) => trace(from + k, shape(from + k)));
}
