/**
 * Generated traces for the harness page, the benchmark and the webview tests: a RAG inference
 * pipeline repeated until the requested span count, built straight into the columnar
 * `TracePayload` (no span objects, so a 1M-span trace is generated in well under a second).
 *
 * Shape: one root `batch_inference` with sequential `inference_request`s, each with
 * preprocessing, embedding, a queue hop (enqueue -> rerank-worker, adopted), retrieval with
 * parallel vector searches, reranking and generation. Every request's stages run one after
 * another, so the leaves are the critical path; 1 request in 8 fails in reranking.
 */

import { SpanFlag, type SpanDetails, type TracePayload } from '../../src/protocol/messages.js';
import { seededRandom } from '../../test/unit/helpers/random.js';

const NAMES = [
  'batch_inference',
  'inference_request',
  'preprocessing',
  'embedding',
  'enqueue rerank-requests',
  'rerank-worker',
  'retrieve_documents',
  'vector_search',
  'reranking',
  'generation',
  'postprocessing',
];
const SERVICES = ['rag-gateway', 'embedder', 'retriever', 'reranker', 'generator'];
const N = Object.fromEntries(NAMES.map((n, i) => [n, i])) as Record<string, number>;

export interface SyntheticOptions {
  traceId?: string;
  seed?: number;
  startMs?: number;
  version?: number;
}

/** A payload of exactly `spanCount` spans (at least 1). */
export function syntheticTrace(spanCount: number, opts: SyntheticOptions = {}): TracePayload {
  const n = Math.max(1, Math.floor(spanCount));
  const rnd = seededRandom(opts.seed ?? 7);
  const parent = new Int32Array(n);
  const depth = new Uint16Array(n);
  const start = new Float64Array(n);
  const duration = new Float64Array(n);
  const criticalMs = new Float64Array(n);
  const selfMs = new Float64Array(n);
  const name = new Uint32Array(n);
  const service = new Uint32Array(n);
  const kind = new Uint8Array(n);
  const flags = new Uint8Array(n);
  const crit: number[] = [];
  const waits: number[] = [];
  const queueNames: string[] = [];

  let row = 0;
  const add = (
    p: number,
    d: number,
    nm: string,
    svc: number,
    k: number,
    s: number,
    dur: number,
  ): number => {
    if (row >= n) return -1;
    const r = row++;
    parent[r] = p;
    depth[r] = d;
    name[r] = N[nm] as number;
    service[r] = svc;
    kind[r] = k;
    start[r] = s;
    duration[r] = dur;
    selfMs[r] = dur;
    return r;
  };
  /** A leaf on the critical path. */
  const leaf = (r: number): void => {
    if (r < 0) return;
    criticalMs[r] = duration[r] as number;
    flags[r] = (flags[r] as number) | SpanFlag.CRITICAL;
    crit.push(r, start[r] as number, (start[r] as number) + (duration[r] as number));
  };

  add(-1, 0, 'batch_inference', 0, 2, 0, 0);
  let t = 0;
  let request = 0;
  while (row < n) {
    const req = add(0, 1, 'inference_request', 0, 2, t, 0);
    const t0 = t;
    let c = t + 0.2;
    const stage = (nm: string, svc: number, k: number, dur: number, d = 2, p = req): number => {
      const r = add(p, d, nm, svc, k, c, dur);
      c += dur;
      return r;
    };
    const pre = stage('preprocessing', 0, 1, 1 + rnd() * 3);
    leaf(pre);
    if (pre >= 0 && request % 3 === 0) flags[pre] = (flags[pre] as number) | SpanFlag.HAS_SOURCE;
    leaf(stage('embedding', 1, 3, 8 + rnd() * 10));
    const enq = stage('enqueue rerank-requests', 0, 4, 0.3);
    leaf(enq);
    const waitStart = c;
    c += 2 + rnd() * 20; // the message sits in the queue
    const worker = enq < 0 ? -1 : add(enq, 3, 'rerank-worker', 3, 5, c, 0.5);
    if (worker >= 0) {
      c += 0.5;
      flags[worker] = (flags[worker] as number) | SpanFlag.ADOPTED;
      leaf(worker);
      crit.splice(crit.length - 3, 0, -1, waitStart, c - 0.5);
      waits.push(enq, worker, waitStart, c - 0.5);
      queueNames.push('rerank-requests');
    }
    const retrieve = stage('retrieve_documents', 2, 3, 0);
    if (retrieve >= 0) {
      const rs = start[retrieve] as number;
      let longest = 0;
      let longestRow = -1;
      for (let k = 0; k < 3; k++) {
        const dur = 3 + rnd() * 12;
        const vs = add(retrieve, 3, 'vector_search', 2, 3, rs + 0.1 + k * 0.05, dur);
        if (vs >= 0 && dur + k * 0.05 > longest) {
          longest = dur + k * 0.05;
          longestRow = vs;
        }
      }
      duration[retrieve] = longest + 0.3;
      selfMs[retrieve] = 0.3;
      leaf(longestRow);
      c = rs + (duration[retrieve] as number);
    }
    const rerank = stage('reranking', 3, 3, 15 + rnd() * 40);
    leaf(rerank);
    if (rerank >= 0 && request % 8 === 3)
      flags[rerank] = (flags[rerank] as number) | SpanFlag.ERROR;
    leaf(stage('generation', 4, 3, 40 + rnd() * 80));
    leaf(stage('postprocessing', 0, 1, 0.5 + rnd()));
    if (req >= 0) {
      duration[req] = c + 0.2 - t0;
      selfMs[req] = 0.4;
      flags[req] = (flags[req] as number) | SpanFlag.CRITICAL;
      criticalMs[req] = 0.4;
    }
    t = c + 0.2 + rnd() * 2;
    request++;
  }
  duration[0] = t;
  selfMs[0] = 0;
  flags[0] = (flags[0] as number) | SpanFlag.CRITICAL;

  return {
    traceId: opts.traceId ?? '4bf92f3577b34da6a3ce929d0e0e4736',
    version: opts.version ?? 1,
    startMs: opts.startMs ?? 1_764_000_000_000,
    durationMs: t,
    spanCount: n,
    parent,
    depth,
    start,
    duration,
    criticalMs,
    selfMs,
    name,
    names: [...NAMES],
    service,
    services: [...SERVICES],
    kind,
    flags,
    criticalPath: Float64Array.from(crit),
    queueWaits: Float64Array.from(waits),
    queueNames,
    gapMs: 0,
  };
}

/** What a host would answer for a details request on a synthetic trace. */
export function syntheticDetails(p: TracePayload, row: number): SpanDetails {
  const nm = p.names[p.name[row] as number] ?? '';
  const svc = p.services[p.service[row] as number] ?? '';
  const f = p.flags[row] as number;
  const error = (f & SpanFlag.ERROR) !== 0;
  const parentRow = p.parent[row] as number;
  const links: SpanDetails['links'] = [];
  for (let k = 0; k + 3 < p.queueWaits.length; k += 4) {
    if (p.queueWaits[k + 1] === row) {
      links.push({
        traceId: p.traceId,
        spanId: spanIdOf(p.queueWaits[k] as number),
        row: p.queueWaits[k] as number,
        attributes: [{ key: 'messaging.operation.type', value: 'receive' }],
      });
    }
  }
  const details: SpanDetails = {
    row,
    traceId: p.traceId,
    spanId: spanIdOf(row),
    parentSpanId: parentRow >= 0 ? spanIdOf(parentRow) : '',
    name: nm,
    service: svc,
    kind: p.kind[row] as number,
    startMs: p.startMs + (p.start[row] as number),
    durationMs: p.duration[row] as number,
    selfMs: p.selfMs[row] as number,
    criticalMs: p.criticalMs[row] as number,
    criticalShare: p.durationMs > 0 ? (p.criticalMs[row] as number) / p.durationMs : 0,
    status: error
      ? { code: 2, message: 'CUDA out of memory while scoring 64 passages' }
      : { code: 0, message: '' },
    attributes: [
      {
        key: 'model.name',
        value: nm === 'reranking' ? 'cross-encoder/ms-marco-MiniLM-L-6-v2' : 'all-MiniLM-L6-v2',
        group: 'model',
      },
      { key: 'model.device', value: 'cpu', group: 'model' },
      { key: 'gen_ai.request.model', value: 'tiny-llama', group: 'gen_ai' },
      { key: 'code.file.path', value: 'demo/pipeline/stages.py', group: 'code' },
      { key: 'code.line.number', value: String(40 + (p.name[row] as number) * 7), group: 'code' },
      { key: 'batch.size', value: '32', group: 'other' },
      {
        key: 'documents',
        value: '["doc-17","doc-4","<img src=x onerror=alert(1)>"]',
        group: 'other',
      },
    ],
    resource: [
      { key: 'service.name', value: svc },
      { key: 'service.instance.id', value: 'replica-a' },
      { key: 'host.name', value: 'gpu-box-1' },
    ],
    scope: { name: 'stagelight-demo', version: '0.1.0' },
    events: error
      ? [
          {
            name: 'exception',
            offsetMs: (p.duration[row] as number) * 0.8,
            attributes: [
              { key: 'exception.type', value: 'RuntimeError' },
              { key: 'exception.message', value: 'CUDA out of memory' },
              {
                key: 'exception.stacktrace',
                value:
                  'Traceback (most recent call last):\n  File "demo/pipeline/stages.py", line 88, in rerank\n    scores = model(batch)\nRuntimeError: CUDA out of memory',
              },
            ],
          },
        ]
      : [{ name: 'batch.ready', offsetMs: 0.1, attributes: [{ key: 'size', value: '32' }] }],
    links,
  };
  if (f & SpanFlag.HAS_SOURCE) details.source = { file: 'demo/pipeline/stages.py', line: 42 };
  return details;
}

function spanIdOf(row: number): string {
  return (row + 1).toString(16).padStart(16, '0');
}
