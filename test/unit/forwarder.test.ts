/**
 * Upstream forwarding (`--forward <url>`, src/core/receiver/forwarder.ts), against real HTTP
 * upstreams: batches arrive intact; local ingest never waits; several requests are in flight;
 * 4xx is rejected, counted and logged once, 503 retried after its Retry-After, 413 splits a
 * merged request; outage and recovery are logged once each; without `--data` the memory queue is
 * bounded, drops the oldest and reports the drops in `/api/health`; shutdown flushes within its
 * deadline and abandons a hung upstream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  Forwarder,
  type ForwardOptions,
  type ForwarderStatus,
} from '../../src/core/receiver/forwarder.js';
import { MemoryForwardQueue } from '../../src/core/receiver/forward-memory-queue.js';
import type { Logger } from '../../src/core/logger.js';
import { otlpJsonToProtobuf } from '../../src/core/otlp/otlp-json-request.js';
import { getJson, postProtobuf, quietLog, startTestServer, waitFor } from './helpers/server.js';
import {
  badIdSpanRequest,
  batchFactory,
  freePort,
  recordingUpstream,
} from './helpers/forwarding.js';
import { decodeTraceRequest } from '../../src/core/otlp/trace-request-decoder.js';
import { decodeExportRequestJson } from '../../src/core/otlp/export.js';

/** A small trace with attributes, an event and an error status, as OTLP/HTTP protobuf. */
function traceBatch(traceId: string, tag: string): Uint8Array {
  const root = randomBytes(8).toString('hex');
  const child = randomBytes(8).toString('hex');
  return otlpJsonToProtobuf(
    JSON.stringify({
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'forward-test' } },
              { key: 'host.name', value: { stringValue: 'gpu-box' } },
            ],
          },
          scopeSpans: [
            {
              scope: { name: 'forwarder.test', version: '2' },
              spans: [
                {
                  traceId,
                  spanId: root,
                  name: 'inference_request',
                  kind: 2,
                  startTimeUnixNano: '1764000000000000000',
                  endTimeUnixNano: '1764000000250000000',
                  attributes: [{ key: 'tag', value: { stringValue: tag } }],
                  status: { code: 1 },
                },
                {
                  traceId,
                  spanId: child,
                  parentSpanId: root,
                  name: 'generate',
                  kind: 3,
                  startTimeUnixNano: '1764000000010000000',
                  endTimeUnixNano: '1764000000200000000',
                  attributes: [
                    { key: 'gen_ai.usage.output_tokens', value: { intValue: '128' } },
                    { key: 'gen_ai.request.temperature', value: { doubleValue: 0.7 } },
                  ],
                  events: [{ name: 'first_token', timeUnixNano: '1764000000050000000' }],
                  status: { code: 2, message: 'length limit' },
                },
              ],
            },
          ],
        },
      ],
    }),
  );
}

/** A logger that keeps every line. */
function recordingLog() {
  const lines: string[] = [];
  const log: Logger = {
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
  };
  return { log, lines, count: (re: RegExp) => lines.filter((l) => re.test(l)).length };
}

/** A memory-mode forwarder with fast backoff, closed after the test. */
function memoryForwarder(t: { after: (f: () => Promise<void>) => void }, opts: ForwardOptions) {
  const f = new Forwarder(new MemoryForwardQueue(), {
    minBackoffMs: 5,
    maxBackoffMs: 20,
    downAfterMs: 20,
    shutdownMs: 200,
    log: quietLog,
    ...opts,
  });
  t.after(() => f.close());
  return f;
}

async function idle(forwarder: Forwarder, timeoutMs = 10_000): Promise<ForwarderStatus> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      forwarder.whenIdle(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('forwarder did not drain')), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return forwarder.status();
}

/** A batch whose first 4 bytes carry its number (the upstream is not decoding these). */
function numbered(i: number, size: number): Uint8Array {
  const b = Buffer.alloc(size, 0x2a);
  b.writeUInt32BE(i, 0);
  return b;
}

/** A raw upstream that records bodies; `answer` may hold the response back. */
async function rawUpstream(answer: (n: number) => number | Promise<number> = () => 200) {
  const bodies: Buffer[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = bodies.length;
      bodies.push(Buffer.concat(chunks));
      void Promise.resolve(answer(n)).then((status) => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/x-protobuf' });
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

test('spans sent to a forwarding server arrive at the upstream intact', async () => {
  const upstream = await startTestServer();
  const local = await startTestServer({ forwardUrl: upstream.endpoints.http });
  assert.equal(local.forwarder?.url, `${upstream.endpoints.http}/v1/traces`);
  const ids = Array.from({ length: 5 }, () => randomBytes(16).toString('hex'));
  for (const [i, id] of ids.entries()) {
    assert.equal(await postProtobuf(local.endpoints.httpTraces, traceBatch(id, `t${i}`)), 200);
  }
  const s = await idle(local.forwarder!);
  assert.equal(s.mode, 'memory');
  assert.equal(s.state, 'idle');
  assert.equal(s.sentBatches, 5);
  assert.equal(s.pendingRecords + s.pendingBytes + s.droppedBatches + s.rejectedBatches, 0);
  assert.equal(s.failedAttempts, 0);
  assert.equal(s.lastError, '');
  for (const id of ids) {
    const here = await getJson(`${local.endpoints.api}/traces/${id}`);
    const there = await getJson(`${upstream.endpoints.api}/traces/${id}`);
    assert.equal(here.status, 200);
    assert.equal(there.status, 200);
    assert.deepEqual(there.body, here.body, `trace ${id} differs upstream`);
  }
});

test('a request with refused spans is forwarded as its accepted spans only', async (t) => {
  const upstream = await rawUpstream();
  t.after(() => upstream.close());
  const local = await startTestServer({ forwardUrl: upstream.url });
  const id = randomBytes(16).toString('hex');
  // Concatenated requests are one request: two good spans, then one refused.
  const body = Buffer.concat([traceBatch(id, 'mixed'), badIdSpanRequest()]);
  const res = await fetch(local.endpoints.httpTraces, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body,
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const s = await idle(local.forwarder!);
  assert.equal(s.sentBatches, 1);
  assert.equal(upstream.bodies.length, 1);
  const forwarded = decodeTraceRequest(upstream.bodies[0]!);
  assert.equal(forwarded.rejected, 0, 'the refused span is not forwarded');
  assert.deepEqual(
    forwarded.spans.map((sp) => `${sp.traceId}:${sp.name}`).sort(),
    [`${id}:generate`, `${id}:inference_request`].sort(),
  );
  // What went upstream reads back as what Stagelight holds.
  const here = await getJson(`${local.endpoints.api}/traces/${id}`);
  assert.deepEqual(decodeExportRequestJson(upstream.bodies[0]!), here.body);
});

test('down upstream: ingest answers at once, health says down, all arrive once it is up', async () => {
  const port = await freePort();
  const { log, count } = recordingLog();
  const local = await startTestServer({
    forwardUrl: `http://127.0.0.1:${port}`,
    forward: { minBackoffMs: 5, maxBackoffMs: 40, downAfterMs: 30 },
    log,
  });
  const next = batchFactory(10, 50);
  const sent: string[] = [];
  for (let i = 0; i < 20; i++) {
    const b = next();
    const t0 = performance.now();
    assert.equal(await postProtobuf(local.endpoints.httpTraces, b.bytes), 200);
    assert.ok(performance.now() - t0 < 1000, 'local ingest does not wait for the upstream');
    sent.push(...b.keys);
  }
  const down = await waitFor(
    async () => {
      const f = (
        (await getJson(`${local.endpoints.api}/health`)).body as {
          forwarder: ForwarderStatus;
        }
      ).forwarder;
      return f.state === 'down' ? f : undefined;
    },
    5000,
    'health to say down',
  );
  assert.equal(down.pendingRecords, 20);
  assert.equal(down.sentBatches, 0);
  assert.ok(down.failedAttempts >= 2);
  assert.match(down.lastError, /ECONNREFUSED|connect|fetch failed/i);
  assert.ok(down.downSince !== null);
  // Many retries, one line.
  await waitFor(() => (local.forwarder!.status().failedAttempts >= 5 ? true : undefined));
  assert.equal(count(/upstream unavailable/), 1);

  const upstream = await recordingUpstream(() => 200, port);
  try {
    const s = await idle(local.forwarder!);
    assert.equal(s.sentBatches, 20);
    assert.equal(s.state, 'idle');
    assert.deepEqual([...upstream.accepted.keys()].sort(), [...sent].sort());
    assert.equal(count(/upstream unavailable/), 1, 'the outage is logged once');
    assert.equal(count(/upstream back after [\d.]+ s/), 1, 'the recovery is logged once');
  } finally {
    await upstream.close();
  }
});

test('several requests are in flight at once, never more than the concurrency', async (t) => {
  let release!: () => void;
  const released = new Promise<number>((resolve) => (release = () => resolve(200)));
  const upstream = await recordingUpstream(() => released);
  t.after(() => upstream.close());
  const f = memoryForwarder(t, { url: upstream.url, concurrency: 4, maxRequestBytes: 1024 });
  const next = batchFactory(5, 200);
  const sent: string[] = [];
  for (let i = 0; i < 12; i++) {
    const b = next();
    f.offer(b.bytes, false);
    sent.push(...b.keys);
  }
  await waitFor(() => (upstream.inFlight === 4 ? true : undefined), 5000, '4 requests in flight');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(upstream.maxInFlight, 4);
  assert.equal(f.status().inFlightRequests, 4);
  assert.equal(f.status().state, 'sending');
  release();
  const s = await idle(f);
  assert.equal(s.sentBatches, 12);
  assert.equal(upstream.maxInFlight, 4);
  assert.deepEqual([...upstream.accepted.keys()].sort(), [...sent].sort());
});

test('small batches of one turn are merged into one request, and 413 splits it', async (t) => {
  const upstream = await recordingUpstream((_n, req) => (req.keys.length > 20 ? 413 : 200));
  t.after(() => upstream.close());
  const f = memoryForwarder(t, { url: upstream.url });
  const next = batchFactory(10, 20);
  const sent: string[] = [];
  for (let i = 0; i < 8; i++) {
    const b = next();
    f.offer(b.bytes, false);
    sent.push(...b.keys);
  }
  const s = await idle(f);
  assert.equal(upstream.requests[0]!.keys.length, 80, 'one request for the eight batches');
  assert.equal(s.sentBatches, 8);
  assert.equal(s.rejectedBatches, 0);
  assert.deepEqual([...upstream.accepted.keys()].sort(), [...sent].sort());
  for (const r of upstream.requests.slice(1)) assert.ok(r.keys.length <= 40);
});

test('a 400 for a merged request splits it: only the batch refused is lost, once', async (t) => {
  // Jaeger answers 400 to a whole request for one span id of the wrong length in it.
  const next = batchFactory(10, 20);
  const poison = next();
  const bad = new Set(poison.keys);
  const upstream = await recordingUpstream((_n, req) =>
    req.keys.some((k) => bad.has(k)) ? 400 : 200,
  );
  t.after(() => upstream.close());
  const { log, count } = recordingLog();
  const f = memoryForwarder(t, { url: upstream.url, log });
  const sent: string[] = [];
  for (let i = 0; i < 8; i++) {
    const b = i === 5 ? poison : next();
    f.offer(b.bytes, false);
    if (i !== 5) sent.push(...b.keys);
  }
  const s = await idle(f);
  assert.equal(upstream.requests[0]!.keys.length, 80, 'one request for the eight batches');
  assert.equal(s.sentBatches, 7);
  assert.equal(s.rejectedBatches, 1);
  assert.equal(s.failedAttempts, 0);
  assert.deepEqual([...upstream.accepted.keys()].sort(), [...sent].sort());
  for (const n of upstream.accepted.values()) assert.equal(n, 1, 'no batch delivered twice');
  // 8 -> 4 + 4 -> 2 + 2 -> 1 + 1: seven requests in all.
  assert.equal(upstream.requests.length, 7);
  assert.equal(count(/upstream answered 400; such batches are not retried/), 1);
});

test('a 401 for a merged request is not split: the refusal is about the upstream', async (t) => {
  const upstream = await recordingUpstream(() => 401);
  t.after(() => upstream.close());
  const f = memoryForwarder(t, { url: upstream.url });
  const next = batchFactory(10, 20);
  for (let i = 0; i < 8; i++) f.offer(next().bytes, false);
  const s = await idle(f);
  assert.equal(upstream.requests.length, 1);
  assert.equal(s.rejectedBatches, 8);
});

test('upstream answering 400: rejected and counted, logged once, never retried', async (t) => {
  const upstream = await rawUpstream(() => 400);
  t.after(() => upstream.close());
  const { log, count } = recordingLog();
  const f = memoryForwarder(t, { url: upstream.url, log });
  for (let i = 0; i < 3; i++) {
    f.offer(traceBatch(randomBytes(16).toString('hex'), `bad${i}`), false);
    await idle(f); // one request each
  }
  await new Promise((r) => setTimeout(r, 50)); // a retry would have happened by now
  const s = f.status();
  assert.equal(upstream.bodies.length, 3);
  assert.equal(s.rejectedBatches, 3);
  assert.equal(s.failedAttempts, 0);
  assert.equal(s.sentBatches, 0);
  assert.equal(s.droppedBatches, 0);
  assert.equal(s.state, 'idle');
  assert.equal(s.lastError, 'upstream answered 400');
  assert.equal(count(/upstream answered 400; such batches are not retried/), 1);
});

test('upstream answering 503 with Retry-After: the retry waits that long, then succeeds', async (t) => {
  const upstream = await recordingUpstream((n) =>
    n === 0 ? { status: 503, headers: { 'retry-after': '1' } } : 200,
  );
  t.after(() => upstream.close());
  const f = memoryForwarder(t, { url: upstream.url, minBackoffMs: 1, maxBackoffMs: 2 });
  const b = batchFactory(3, 10)();
  f.offer(b.bytes, false);
  await waitFor(() => (f.status().state === 'retrying' ? true : undefined), 2000, 'retrying');
  const s = await idle(f);
  assert.equal(upstream.requests.length, 2);
  const waited = upstream.requests[1]!.receivedAt - upstream.requests[0]!.receivedAt;
  assert.ok(waited >= 950, `retried after ${waited} ms, not after the 1 s asked for`);
  assert.equal(s.failedAttempts, 1);
  assert.equal(s.sentBatches, 1);
  assert.equal(s.lastError, 'upstream answered 503');
});

test('without --data the queue is bounded: the oldest are dropped, counted, logged once', async (t) => {
  let release!: () => void;
  const released = new Promise<number>((resolve) => (release = () => resolve(200)));
  // The upstream holds its answers, so the queue only fills.
  const upstream = await rawUpstream(() => released);
  t.after(async () => {
    release();
    await upstream.close();
  });
  const { log, count } = recordingLog();
  const maxPendingBytes = 64 * 1024;
  const size = 4096;
  const f = memoryForwarder(t, { url: upstream.url, maxPendingBytes, concurrency: 1, log });
  f.offer(numbered(0, size), false);
  await waitFor(() => (upstream.bodies.length === 1 ? true : undefined), 5000, 'in flight');
  for (let i = 1; i < 200; i++) {
    f.offer(numbered(i, size), false);
    assert.ok(f.status().pendingBytes <= maxPendingBytes + size, `after batch ${i}`);
  }
  const full = f.status();
  // Batch 0 is on the wire; of the rest, the newest fill what is left of the budget.
  assert.equal(full.pendingRecords, maxPendingBytes / size);
  assert.equal(full.droppedBatches, 200 - full.pendingRecords);
  assert.equal(full.droppedBytes, full.droppedBatches * size);
  assert.equal(count(/dropping the oldest pending batches/), 1);
  release();
  const s = await idle(f);
  assert.equal(s.sentBatches + s.droppedBatches, 200, 'each batch is sent or dropped, once');
  const got = upstream.bodies.flatMap((b) => {
    const out: number[] = [];
    for (let at = 0; at < b.length; at += size) out.push(b.readUInt32BE(at));
    return out;
  });
  assert.deepEqual(got, [0, ...Array.from({ length: 15 }, (_, k) => 185 + k)]);
});

test('health: forwarder null without --forward, its status with it', async () => {
  const plain = await startTestServer();
  assert.equal(
    ((await getJson(`${plain.endpoints.api}/health`)).body as { forwarder: unknown }).forwarder,
    null,
  );
  const port = await freePort();
  const fw = await startTestServer({ forwardUrl: `http://127.0.0.1:${port}` });
  const f = ((await getJson(`${fw.endpoints.api}/health`)).body as { forwarder: ForwarderStatus })
    .forwarder;
  assert.deepEqual(Object.keys(f).sort(), [
    'downSince',
    'droppedBatches',
    'droppedBytes',
    'failedAttempts',
    'inFlightRequests',
    'lastError',
    'lastSuccessAt',
    'maxPendingBytes',
    'mode',
    'pendingBytes',
    'pendingRecords',
    'rejectedBatches',
    'sentBatches',
    'sentRequests',
    'state',
    'url',
  ]);
  assert.equal(f.url, `http://127.0.0.1:${port}/v1/traces`);
  assert.equal(f.state, 'idle');
  assert.equal(f.maxPendingBytes, 64 * 1024 * 1024);
});

test('shutdown flushes the memory queue within its deadline', async (t) => {
  const upstream = await recordingUpstream(() => ({ status: 200, delayMs: 20 }));
  t.after(() => upstream.close());
  const f = new Forwarder(new MemoryForwardQueue(), {
    url: upstream.url,
    maxRequestBytes: 1,
    shutdownMs: 5000,
  });
  const next = batchFactory(2, 10);
  for (let i = 0; i < 12; i++) f.offer(next().bytes, false);
  await f.close();
  assert.equal(f.status().sentBatches, 12);
  assert.equal(upstream.accepted.size, 24);
});

test('shutdown with the upstream down: at once, and the undelivered are counted and logged', async () => {
  const port = await freePort();
  const { log, count } = recordingLog();
  const f = new Forwarder(new MemoryForwardQueue(), {
    url: `http://127.0.0.1:${port}`,
    minBackoffMs: 1000,
    shutdownMs: 5000,
    log,
  });
  for (let i = 0; i < 5; i++) f.offer(numbered(i, 100), false);
  await waitFor(() => (f.status().state === 'retrying' ? true : undefined), 5000, 'a failure');
  const t0 = performance.now();
  await f.close();
  assert.ok(performance.now() - t0 < 1000, 'no flush attempt against a failing upstream');
  assert.equal(f.status().droppedBatches, 5);
  assert.equal(count(/5 batches \(1 KiB\) not delivered at shutdown/), 1);
});

test('close() abandons a request stuck on a hung upstream after its deadline', async () => {
  let aborted = false;
  let received = false;
  const server = http.createServer((req) => {
    received = true;
    req.resume();
    // Never answers; notices when the client gives up.
    req.socket.on('close', () => (aborted = true));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  const { log, lines } = recordingLog();
  const forwarder = new Forwarder(new MemoryForwardQueue(), {
    url: `http://127.0.0.1:${port}`,
    timeoutMs: 3000,
    shutdownMs: 100,
    log,
  });
  try {
    forwarder.offer(numbered(0, 100), false);
    await waitFor(() => (received ? true : undefined), 5000, 'the request');
    await forwarder.close();
    await waitFor(() => (aborted ? true : undefined), 1000, 'the request to be aborted');
    assert.equal(forwarder.status().droppedBatches, 1);
    assert.deepEqual(
      lines.filter((l) => !/not delivered at shutdown/.test(l)),
      [],
      'no retry or outage line after close',
    );
  } finally {
    await forwarder.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
