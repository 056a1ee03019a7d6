/**
 * Upstream forwarding (`--forward <url>`): batches reach an upstream intact; local ingest never
 * waits for a down upstream and the queue is delivered once it is back; 4xx drops, 503 retries;
 * the queue is bounded and drops the oldest batches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Forwarder } from '../../src/core/receiver/forwarder.js';
import { otlpJsonToProtobuf } from '../../src/core/otlp/otlp-json-request.js';
import { getJson, quietLog, startTestServer, waitFor } from './helpers/server.js';

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

async function post(url: string, body: Uint8Array): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

/** A port on loopback that nothing listens on (just now). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

interface FakeUpstream {
  url: string;
  bodies: Buffer[];
  close(): Promise<void>;
}

/**
 * A plain HTTP upstream that records every POST body and answers what `answer` returns for the
 * n-th request (0-based); `answer` may also return a promise to hold the response back.
 */
async function fakeUpstream(
  answer: (n: number) => number | Promise<number> = () => 200,
  port = 0,
): Promise<FakeUpstream> {
  const bodies: Buffer[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = bodies.length;
      bodies.push(Buffer.concat(chunks));
      void Promise.resolve(answer(n)).then((status) => {
        res.writeHead(status, { 'content-type': 'application/x-protobuf' });
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const bound = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function idle(forwarder: Forwarder, timeoutMs = 10_000): Promise<void> {
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
}

test('spans sent to a forwarding server arrive at the upstream intact', async () => {
  const upstream = await startTestServer();
  const local = await startTestServer({ forwardUrl: upstream.endpoints.http });
  assert.equal(local.forwarder?.url, `${upstream.endpoints.http}/v1/traces`);
  const ids = Array.from({ length: 5 }, () => randomBytes(16).toString('hex'));
  for (const [i, id] of ids.entries()) {
    assert.equal(await post(local.endpoints.httpTraces, traceBatch(id, `t${i}`)), 200);
  }
  await idle(local.forwarder!);
  assert.deepEqual(local.forwarder!.getStats(), {
    url: local.forwarder!.url,
    queuedBatches: 0,
    queuedBytes: 0,
    inFlightBatches: 0,
    sentBatches: 5,
    droppedBatches: 0,
    failedAttempts: 0,
    lastError: '',
  });
  for (const id of ids) {
    const here = await getJson(`${local.endpoints.api}/traces/${id}`);
    const there = await getJson(`${upstream.endpoints.api}/traces/${id}`);
    assert.equal(here.status, 200);
    assert.equal(there.status, 200);
    assert.deepEqual(there.body, here.body, `trace ${id} differs upstream`);
  }
});

test('down upstream: ingest answers at once, batches are retried and delivered later', async () => {
  const port = await freePort();
  const local = await startTestServer({ forwardUrl: `http://127.0.0.1:${port}` });
  const forwarder = local.forwarder!;
  const sent: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    const id = randomBytes(16).toString('hex');
    const batch = traceBatch(id, `down${i}`);
    const t0 = performance.now();
    assert.equal(await post(local.endpoints.httpTraces, batch), 200);
    assert.ok(performance.now() - t0 < 1000, 'local ingest does not wait for the upstream');
    assert.equal((await getJson(`${local.endpoints.api}/traces/${id}`)).status, 200);
    sent.push(batch);
  }
  const failing = await waitFor(
    () => {
      const s = forwarder.getStats();
      return s.failedAttempts >= 1 ? s : undefined;
    },
    5000,
    'a failed attempt',
  );
  assert.equal(failing.sentBatches, 0);
  assert.equal(failing.queuedBatches + failing.inFlightBatches, 3);
  assert.match(failing.lastError, /ECONNREFUSED|connect|fetch failed/i);

  const upstream = await fakeUpstream(() => 200, port);
  try {
    await idle(forwarder);
    const stats = forwarder.getStats();
    assert.equal(stats.sentBatches, 3);
    assert.equal(stats.queuedBatches, 0);
    assert.equal(stats.queuedBytes, 0);
    assert.equal(stats.droppedBatches, 0);
    assert.deepEqual(
      upstream.bodies,
      sent.map((b) => Buffer.from(b)),
      'bytes and order kept',
    );
  } finally {
    await upstream.close();
  }
});

test('upstream answering 400: the batch is dropped and counted, not retried', async () => {
  const upstream = await fakeUpstream(() => 400);
  const forwarder = new Forwarder({ url: upstream.url, minBackoffMs: 5, log: quietLog });
  try {
    forwarder.enqueue(traceBatch(randomBytes(16).toString('hex'), 'bad'));
    await idle(forwarder);
    await new Promise((r) => setTimeout(r, 50)); // a retry would have happened by now
    const stats = forwarder.getStats();
    assert.equal(upstream.bodies.length, 1);
    assert.equal(stats.droppedBatches, 1);
    assert.equal(stats.failedAttempts, 0);
    assert.equal(stats.sentBatches, 0);
    assert.equal(stats.queuedBatches, 0);
    assert.equal(stats.lastError, 'upstream answered 400');
  } finally {
    forwarder.close();
    await upstream.close();
  }
});

test('upstream answering 503: the batch is retried until it is accepted', async () => {
  const upstream = await fakeUpstream((n) => (n < 2 ? 503 : 200));
  const forwarder = new Forwarder({ url: upstream.url, minBackoffMs: 5, log: quietLog });
  try {
    const batch = traceBatch(randomBytes(16).toString('hex'), 'busy');
    forwarder.enqueue(batch);
    await idle(forwarder);
    const stats = forwarder.getStats();
    assert.equal(upstream.bodies.length, 3);
    for (const body of upstream.bodies) assert.deepEqual(body, Buffer.from(batch));
    assert.equal(stats.failedAttempts, 2);
    assert.equal(stats.sentBatches, 1);
    assert.equal(stats.droppedBatches, 0);
  } finally {
    forwarder.close();
    await upstream.close();
  }
});

/** A batch whose first 4 bytes carry its number, so the upstream can tell which arrived. */
function numbered(i: number, size: number): Uint8Array {
  const b = Buffer.alloc(size, 0x2a);
  b.writeUInt32BE(i, 0);
  return b;
}

test('a full queue drops the oldest batches, counts them, and stays within its bytes', async () => {
  let release!: () => void;
  const released = new Promise<number>((resolve) => (release = () => resolve(200)));
  // The upstream holds every response until released, so the queue only fills.
  const upstream = await fakeUpstream(() => released);
  const maxQueueBytes = 64 * 1024;
  const size = 4096;
  const total = 200;
  const forwarder = new Forwarder({ url: upstream.url, maxQueueBytes, log: quietLog });
  try {
    for (let i = 0; i < total; i++) {
      forwarder.enqueue(numbered(i, size));
      assert.ok(forwarder.getStats().queuedBytes <= maxQueueBytes, `after batch ${i}`);
    }
    const full = forwarder.getStats();
    assert.equal(full.queuedBatches, maxQueueBytes / size);
    assert.equal(full.queuedBytes, maxQueueBytes);
    // The first batch is on the wire (outside the queue), the newest fill the queue.
    assert.equal(full.droppedBatches, total - full.queuedBatches - 1);

    // Far more than the bound goes through without the queue growing.
    for (let i = 0; i < 2000; i++) forwarder.enqueue(new Uint8Array(64 * 1024));
    assert.ok(forwarder.getStats().queuedBytes <= maxQueueBytes);
    assert.equal(forwarder.getStats().queuedBatches, 1, 'one 64 KiB batch fills the queue');
  } finally {
    release();
    forwarder.close();
    await upstream.close();
  }
});

test('the newest batches are the ones delivered after a full queue', async () => {
  let release!: () => void;
  const released = new Promise<number>((resolve) => (release = () => resolve(200)));
  const upstream = await fakeUpstream((n) => (n === 0 ? released : 200));
  const forwarder = new Forwarder({ url: upstream.url, maxQueueBytes: 10 * 100, log: quietLog });
  try {
    forwarder.enqueue(numbered(0, 100));
    await waitFor(() => (upstream.bodies.length === 1 ? true : undefined), 5000, 'in flight');
    for (let i = 1; i < 50; i++) forwarder.enqueue(numbered(i, 100));
    release();
    await idle(forwarder);
    const got = upstream.bodies.map((b) => b.readUInt32BE(0));
    // Batch 0 was on the wire when the queue overflowed; of the rest, the last 10 survive.
    assert.deepEqual(got, [0, ...Array.from({ length: 10 }, (_, k) => 40 + k)]);
  } finally {
    release();
    forwarder.close();
    await upstream.close();
  }
});

test('a batch dropped from the queue while on the wire is not also counted as sent', async () => {
  let release!: () => void;
  const released = new Promise<number>((resolve) => (release = () => resolve(200)));
  const upstream = await fakeUpstream((n) => (n === 0 ? released : 200));
  const forwarder = new Forwarder({ url: upstream.url, maxQueueBytes: 10 * 100, log: quietLog });
  try {
    forwarder.enqueue(numbered(0, 100));
    await waitFor(() => (upstream.bodies.length === 1 ? true : undefined), 5000, 'in flight');
    for (let i = 1; i < 50; i++) forwarder.enqueue(numbered(i, 100));
    release();
    await idle(forwarder);
    const s = forwarder.getStats();
    assert.equal(s.sentBatches + s.droppedBatches, 50, 'each batch is sent or dropped, once');
    assert.equal(s.sentBatches, upstream.bodies.length);
  } finally {
    release();
    forwarder.close();
    await upstream.close();
  }
});

test('close() abandons a request stuck on a hung upstream', async () => {
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
  const warnings: string[] = [];
  const forwarder = new Forwarder({
    url: `http://127.0.0.1:${port}`,
    timeoutMs: 3000,
    log: { ...quietLog, warn: (m) => warnings.push(m) },
  });
  try {
    forwarder.enqueue(numbered(0, 100));
    await waitFor(() => (received ? true : undefined), 5000, 'the request');
    forwarder.close();
    await waitFor(() => (aborted ? true : undefined), 1000, 'the request to be aborted');
    assert.deepEqual(warnings, [], 'no "will retry" warning after close');
  } finally {
    forwarder.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
