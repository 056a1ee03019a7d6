/**
 * One large trace as OTLP protobuf, for the host side of the webview benchmark: the shape of the
 * harness's synthetic payload (webview/dev/synthetic-trace.ts: a `batch_inference` root over
 * sequential requests, each with its stages, a queue hop and parallel searches) but as real
 * spans in five services, with attributes, so that everything the host does for a waterfall
 * (decode, tree, critical path, waits, payload) runs on it as on a received trace.
 *
 * Encoded with the project's ProtoWriter (the SDK's serializer takes seconds for a million
 * spans); one resource per service, so the decoder interns them as it does for real batches.
 */
import { ProtoWriter } from '../../src/core/otlp/proto-writer.js';
import { WireType } from '../../src/core/otlp/proto-reader.js';
import { seededRandom } from '../../test/unit/helpers/random.js';

const SERVICES = ['rag-gateway', 'embedder', 'retriever', 'reranker', 'generator'];

interface Span {
  id: number;
  parent: number;
  name: string;
  service: number;
  kind: number;
  startMs: number;
  endMs: number;
  error: boolean;
  link?: number;
}

function hex(n: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUInt32BE(n >>> 0, bytes - 4);
  b.writeUInt32BE(0x5a17e000, 0);
  return b;
}

/** The spans of the trace, by service. */
function shape(spanCount: number, seed: number): Span[] {
  const rnd = seededRandom(seed);
  const spans: Span[] = [];
  const add = (s: Omit<Span, 'id'>): number => {
    if (spans.length >= spanCount) return -1;
    spans.push({ ...s, id: spans.length + 1 });
    return spans.length;
  };
  const t0 = 1_750_000_000_000;
  const root = add({
    parent: 0,
    name: 'batch_inference',
    service: 0,
    kind: 2,
    startMs: t0,
    endMs: t0,
    error: false,
  });
  let t = t0;
  let request = 0;
  while (spans.length < spanCount) {
    const req = add({
      parent: root,
      name: 'inference_request',
      service: 0,
      kind: 2,
      startMs: t,
      endMs: t,
      error: false,
    });
    if (req < 0) break;
    let c = t + 0.2;
    const stage = (
      name: string,
      service: number,
      kind: number,
      dur: number,
      parent = req,
    ): number => {
      const id = add({ parent, name, service, kind, startMs: c, endMs: c + dur, error: false });
      c += dur;
      return id;
    };
    stage('preprocessing', 0, 1, 1 + rnd() * 3);
    const emb = stage('embedding', 0, 3, 8 + rnd() * 10);
    if (emb > 0) {
      const e = spans[emb - 1]!;
      add({
        parent: emb,
        name: 'embed',
        service: 1,
        kind: 2,
        startMs: e.startMs + 0.3,
        endMs: e.endMs - 0.2,
        error: false,
      });
    }
    const enq = stage('enqueue rerank-requests', 0, 4, 0.3);
    c += 2 + rnd() * 20;
    if (enq > 0)
      add({
        parent: 0,
        name: 'rerank-worker',
        service: 3,
        kind: 5,
        startMs: c,
        endMs: c + 0.5,
        error: false,
        link: enq,
      });
    c += 0.5;
    const retrieve = stage('retrieve_documents', 0, 3, 0);
    if (retrieve > 0) {
      const r = spans[retrieve - 1]!;
      let longest = 0;
      for (let k = 0; k < 3; k++) {
        const dur = 3 + rnd() * 12;
        add({
          parent: retrieve,
          name: 'vector_search',
          service: 2,
          kind: 3,
          startMs: r.startMs + 0.1 + k * 0.05,
          endMs: r.startMs + 0.1 + k * 0.05 + dur,
          error: false,
        });
        longest = Math.max(longest, dur + k * 0.05);
      }
      r.endMs = r.startMs + longest + 0.3;
      c = r.endMs;
    }
    const rr = stage('reranking', 0, 3, 15 + rnd() * 40);
    if (rr > 0) {
      const s = spans[rr - 1]!;
      s.error = request % 8 === 3;
      add({
        parent: rr,
        name: 'rerank',
        service: 3,
        kind: 2,
        startMs: s.startMs + 0.4,
        endMs: s.endMs - 0.3,
        error: s.error,
      });
    }
    const gen = stage('generation', 0, 3, 40 + rnd() * 80);
    if (gen > 0) {
      const s = spans[gen - 1]!;
      add({
        parent: gen,
        name: 'text_completion',
        service: 4,
        kind: 2,
        startMs: s.startMs + 0.4,
        endMs: s.endMs - 0.3,
        error: false,
      });
    }
    stage('postprocessing', 0, 1, 0.5 + rnd());
    spans[req - 1]!.endMs = c + 0.2;
    t = c + 0.2 + rnd() * 2;
    request++;
  }
  spans[0]!.endMs = t;
  return spans;
}

const ns = (ms: number): bigint => BigInt(Math.round(ms * 1000)) * 1000n;

/** An `ExportTraceServiceRequest` holding one trace of exactly `spanCount` spans. */
export function largeTraceRequest(spanCount: number, seed = 7): { bytes: Buffer; traceId: string } {
  const spans = shape(spanCount, seed);
  const traceId = Buffer.from('4bf92f3577b34da6a3ce929d0e0e4736', 'hex');
  const w = new ProtoWriter(spanCount * 120);
  for (let service = 0; service < SERVICES.length; service++) {
    w.message(1, (rs) => {
      rs.message(1, (res) =>
        res.message(1, (kv) => {
          kv.stringField(1, 'service.name');
          kv.message(2, (v) => v.stringField(1, SERVICES[service]!));
        }),
      );
      rs.message(2, (ss) => {
        ss.message(1, (scope) => scope.stringField(1, 'stagelight-bench'));
        for (const s of spans) {
          if (s.service !== service) continue;
          ss.message(2, (sp) => {
            sp.bytesField(1, traceId);
            sp.bytesField(2, hex(s.id, 8));
            if (s.parent > 0) sp.bytesField(4, hex(s.parent, 8));
            sp.stringField(5, s.name);
            sp.tag(6, WireType.VARINT).uint32(s.kind);
            sp.tag(7, WireType.I64).fixed64(ns(s.startMs));
            sp.tag(8, WireType.I64).fixed64(ns(s.endMs));
            sp.message(9, (kv) => {
              kv.stringField(1, 'request.index');
              kv.message(2, (v) => v.tag(3, WireType.VARINT).int64(s.id));
            });
            if (s.link !== undefined) {
              const link = s.link;
              sp.message(13, (l) => {
                l.bytesField(1, traceId);
                l.bytesField(2, hex(link, 8));
              });
            }
            if (s.error) sp.message(15, (st) => st.tag(3, WireType.VARINT).uint32(2));
          });
        }
      });
    });
  }
  return { bytes: w.finish(), traceId: traceId.toString('hex') };
}
