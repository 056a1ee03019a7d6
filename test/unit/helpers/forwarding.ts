/**
 * Shared by the forwarding tests: a real HTTP upstream that records which spans reached it and
 * how many requests were in flight at once, cheap unique batches, and a free port.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { otlpJsonToProtobuf } from '../../../src/core/otlp/otlp-json-request.js';
import { DecodeCache, decodeTraceRequest } from '../../../src/core/otlp/trace-request-decoder.js';
import { cat, fixed64, len } from './protobuf-fields.js';

/** A port on loopback that nothing listens on (just now); the launcher's, shared. */
export { freePort } from '../../../scripts/lib/jaeger.js';

/** A batch and the `traceId:spanId` keys of its spans. */
export interface TestBatch {
  bytes: Buffer;
  keys: string[];
}

/**
 * Batches of `spans` root spans with `pad` bytes of attribute each, every copy with a fresh trace
 * id and fresh span ids, patched into a template (encoding 100 MB through JSON would take most
 * of a test's time).
 */
export function batchFactory(spans: number, pad: number): () => TestBatch {
  const traceId = randomBytes(16).toString('hex');
  const spanIds = Array.from({ length: spans }, () => randomBytes(8).toString('hex'));
  const template = Buffer.from(
    otlpJsonToProtobuf(
      JSON.stringify({
        resourceSpans: [
          {
            resource: {
              attributes: [{ key: 'service.name', value: { stringValue: 'forward-test' } }],
            },
            scopeSpans: [
              {
                scope: { name: 'forward.test' },
                spans: spanIds.map((spanId, i) => ({
                  traceId,
                  spanId,
                  name: `op_${i}`,
                  kind: 1,
                  startTimeUnixNano: '1764000000000000000',
                  endTimeUnixNano: '1764000000100000000',
                  attributes: [{ key: 'pad', value: { stringValue: 'x'.repeat(pad) } }],
                })),
              },
            ],
          },
        ],
      }),
    ),
  );
  const find = (hex: string) => {
    const needle = Buffer.from(hex, 'hex');
    const at: number[] = [];
    for (let i = template.indexOf(needle); i >= 0; i = template.indexOf(needle, i + 1)) at.push(i);
    return at;
  };
  const traceAt = find(traceId);
  const spanAt = spanIds.map((id) => find(id));
  assert.equal(traceAt.length, spans);
  for (const at of spanAt) assert.equal(at.length, 1);
  return () => {
    const bytes = Buffer.from(template);
    const trace = randomBytes(16);
    for (const at of traceAt) trace.copy(bytes, at);
    const keys: string[] = [];
    const t = trace.toString('hex');
    for (const [at] of spanAt) {
      const id = randomBytes(8);
      id.copy(bytes, at!);
      keys.push(`${t}:${id.toString('hex')}`);
    }
    return { bytes, keys };
  };
}

const T0 = 1764000000000000000n;

/** One span's fields: ids, a name, start and end (1 ms), and any more fields given. */
function spanFields(traceId: Buffer, spanId: Buffer, name: string, ...more: Buffer[]): Buffer {
  return cat(
    len(1, traceId),
    len(2, spanId),
    len(5, name),
    fixed64(7, T0),
    fixed64(8, T0 + 1_000_000n),
    ...more,
  );
}

/** A request of one span whose trace id is 8 bytes long: refused by Stagelight and by Jaeger. */
export function badIdSpanRequest(): Buffer {
  return len(1, len(2, len(2, spanFields(randomBytes(8), randomBytes(8), 'bad_id'))));
}

/**
 * A request of one valid span with a link whose trace id is 8 bytes long: Stagelight accepts the
 * span (the link is kept, not followed), Jaeger refuses the whole request.
 */
export function badLinkRequest(): TestBatch {
  const traceId = randomBytes(16);
  const spanId = randomBytes(8);
  const link = len(13, cat(len(1, randomBytes(8)), len(2, randomBytes(8))));
  return {
    bytes: len(1, len(2, len(2, spanFields(traceId, spanId, 'bad_link', link)))),
    keys: [`${traceId.toString('hex')}:${spanId.toString('hex')}`],
  };
}

/** `traceId:spanId` of every span in an OTLP protobuf request. */
export function spanKeys(body: Uint8Array, cache = new DecodeCache()): string[] {
  return decodeTraceRequest(body, cache).spans.map((s) => `${s.traceId}:${s.spanId}`);
}

/** One request the upstream got. */
export interface UpstreamRequest {
  keys: string[];
  bytes: number;
  receivedAt: number;
  /** When the answer was written; undefined while held. */
  answeredAt: number | undefined;
}

/** What `answer` tells the upstream to do with the n-th request (0-based). */
export type UpstreamAnswer =
  number | { status: number; headers?: Record<string, string>; delayMs?: number } | Promise<number>;

export interface RecordingUpstream {
  url: string;
  port: number;
  requests: UpstreamRequest[];
  /** How often each span arrived in a request that was answered 2xx. */
  accepted: Map<string, number>;
  inFlight: number;
  maxInFlight: number;
  close(): Promise<void>;
}

/**
 * A plain OTLP/HTTP upstream on loopback that decodes each request's spans. `answer` may hold a
 * response back (a promise or `delayMs`) to keep requests in flight.
 */
export async function recordingUpstream(
  answer: (n: number, req: UpstreamRequest) => UpstreamAnswer = () => 200,
  port = 0,
): Promise<RecordingUpstream> {
  const cache = new DecodeCache();
  const up: Omit<RecordingUpstream, 'url' | 'port' | 'close'> = {
    requests: [],
    accepted: new Map(),
    inFlight: 0,
    maxInFlight: 0,
  };
  const server = http.createServer((req, res) => {
    up.inFlight++;
    up.maxInFlight = Math.max(up.maxInFlight, up.inFlight);
    let settled = false;
    const settle = () => {
      if (!settled) up.inFlight--;
      settled = true;
    };
    // Answered, or the client went away (an aborted request is no longer in flight).
    res.on('close', settle);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const record: UpstreamRequest = {
        keys: spanKeys(body, cache),
        bytes: body.length,
        receivedAt: Date.now(),
        answeredAt: undefined,
      };
      const n = up.requests.length;
      up.requests.push(record);
      void Promise.resolve(answer(n, record)).then(async (a) => {
        const spec = typeof a === 'number' ? { status: a } : a;
        if (spec.delayMs) await new Promise((r) => setTimeout(r, spec.delayMs));
        if (res.destroyed) return;
        settle();
        record.answeredAt = Date.now();
        if (spec.status >= 200 && spec.status < 300) {
          for (const k of record.keys) up.accepted.set(k, (up.accepted.get(k) ?? 0) + 1);
        }
        res.writeHead(spec.status, { 'content-type': 'application/x-protobuf', ...spec.headers });
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const bound = (server.address() as net.AddressInfo).port;
  return Object.assign(up, {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
