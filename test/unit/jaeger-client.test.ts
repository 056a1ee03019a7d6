/**
 * The Jaeger query API v3 client against a real Jaeger v2 (seeded through the JS SDK): search by
 * service, operation, least duration and time range, one trace by id; then every way a backend
 * fails (down, 401/403, 5xx, slow, not JSON, too large, not Jaeger), each a BackendError of its
 * kind with a plain message.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import {
  BackendError,
  JaegerClient,
  type TraceQuery,
} from '../../src/core/backend/jaeger-client.js';
import { splitByTrace } from '../../src/core/backend/pull.js';
import { jaegerFixture } from './helpers/jaeger.js';

const fx = jaegerFixture();
const HOUR = 3_600_000;

function client(opts: Partial<ConstructorParameters<typeof JaegerClient>[0]> = {}): JaegerClient {
  return new JaegerClient({ url: fx.jaeger!.queryUrl, ...opts });
}

function lastHour(extra: Partial<TraceQuery> = {}): TraceQuery {
  return { service: 'rag-api', startMs: Date.now() - HOUR, endMs: Date.now() + 60_000, ...extra };
}

/** Trace ids found, sorted. */
async function found(q: TraceQuery): Promise<string[]> {
  const doc = await client().findTraces(q);
  return splitByTrace(doc, 'x')
    .map((t) => t.traceId)
    .sort();
}

test('finds traces by service within the time range', async (t) => {
  if (fx.skipReason !== undefined) return t.skip(fx.skipReason);
  const recent = fx.ids((s) => s.service === 'rag-api' && s.startMs > Date.now() - HOUR);
  assert.equal(recent.length, 3);
  assert.deepEqual(await found(lastHour()), recent);
  // Four hours back reaches the old one too.
  const all = fx.ids((s) => s.service === 'rag-api');
  assert.deepEqual(await found(lastHour({ startMs: Date.now() - 4 * HOUR })), all);
  // A service with no traces is an empty result, not an error.
  assert.deepEqual(await found(lastHour({ service: 'no-such-service' })), []);
});

test('finds traces by operation and least duration', async (t) => {
  if (fx.skipReason !== undefined) return t.skip(fx.skipReason);
  const withRerank = fx.ids((s) => 'rerank' in s.children && s.startMs > Date.now() - HOUR);
  assert.equal(withRerank.length, 2);
  assert.deepEqual(await found(lastHour({ operation: 'rerank' })), withRerank);
  const slow = fx.ids((s) => s.durationMs >= 2000 && s.startMs > Date.now() - HOUR);
  assert.equal(slow.length, 1);
  assert.deepEqual(await found(lastHour({ minDurationMs: 2000 })), slow);
  assert.deepEqual(await found(lastHour({ operation: 'rerank', minDurationMs: 2000 })), slow);
  assert.deepEqual(await found(lastHour({ minDurationMs: 60_000 })), []);
  // The limit bounds how many come back.
  assert.equal((await found(lastHour({ limit: 1 }))).length, 1);
});

test('fetches one trace by id, spans intact', async (t) => {
  if (fx.skipReason !== undefined) return t.skip(fx.skipReason);
  const seeded = fx.seeded.find((s) => s.error)!;
  const doc = await client().getTrace(seeded.traceId.toUpperCase());
  const [one, ...rest] = splitByTrace(doc, 'x');
  assert.equal(rest.length, 0);
  assert.equal(one!.traceId, seeded.traceId);
  assert.equal(one!.spanCount, 3);
  const text = Buffer.from(one!.body).toString();
  assert.match(text, /"reranker timed out"/);
  await assert.rejects(client().getTrace('0'.repeat(31) + '1'), (e: unknown) => {
    assert.ok(e instanceof BackendError);
    assert.equal(e.kind, 'not-found');
    assert.match(e.message, /trace 0{31}1 is not in http:\/\/127\.0\.0\.1:/);
    return true;
  });
  await assert.rejects(client().getTrace('nothex'), /32 hex digits/);
});

test('lists the services the backend has traces of', async (t) => {
  if (fx.skipReason !== undefined) return t.skip(fx.skipReason);
  assert.deepEqual(await client().services(), ['billing', 'rag-api']);
});

test('search queries that cannot be asked are refused before sending', async (t) => {
  if (fx.skipReason !== undefined) return t.skip(fx.skipReason);
  await assert.rejects(client().findTraces(lastHour({ service: ' ' })), /service name/);
  const now = Date.now();
  await assert.rejects(client().findTraces(lastHour({ startMs: now, endMs: now })), /empty/);
  assert.throws(() => new JaegerClient({ url: 'ftp://x' }), /http or https/);
  assert.throws(() => new JaegerClient({ url: 'not a url' }), /not a URL/);
  assert.throws(() => new JaegerClient({ url: 'http://x', token: 'a b' }), /printable ASCII/);
});

// ----- failures, from a small HTTP server that answers as told -----------------------------

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let handler: Handler = (_req, res) => res.end();
const seen: http.IncomingHttpHeaders[] = [];
const fake = http.createServer((req, res) => {
  seen.push(req.headers);
  handler(req, res);
});
const fakeUrl = new Promise<string>((resolve) =>
  fake.listen(0, '127.0.0.1', () =>
    resolve(`http://127.0.0.1:${(fake.address() as AddressInfo).port}`),
  ),
);
after(() => {
  fake.closeAllConnections();
  fake.close();
});

async function failure(
  answer: Handler,
  opts: { token?: string; timeoutMs?: number; maxBytes?: number } = {},
): Promise<BackendError> {
  handler = answer;
  const c = new JaegerClient({ url: await fakeUrl, ...opts });
  try {
    await c.findTraces(lastHour());
  } catch (e) {
    assert.ok(e instanceof BackendError, String(e));
    return e;
  }
  assert.fail('the search should have failed');
}

test('401 and 403 say the token is missing or refused, and the token went as a bearer', async () => {
  const refuse: Handler = (_req, res) => {
    res.writeHead(401);
    res.end('unauthorized');
  };
  let e = await failure(refuse);
  assert.equal(e.kind, 'unauthorized');
  assert.match(e.message, /refused the request \(401\): it needs a token/);
  e = await failure(refuse, { token: 's3cret' });
  assert.match(e.message, /check the token/);
  assert.equal(seen.at(-1)!.authorization, 'Bearer s3cret');
  e = await failure((_req, res) => {
    res.writeHead(403);
    res.end();
  });
  assert.equal(e.kind, 'unauthorized');
  assert.equal(e.status, 403);
});

test('5xx names the status and the backend message', async () => {
  const e = await failure((_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { httpCode: 503, message: 'storage is down' } }));
  });
  assert.equal(e.kind, 'server');
  assert.match(e.message, /answered 503: storage is down/);
  const html = await failure((_req, res) => {
    res.writeHead(502);
    res.end('<html>\n<body>Bad   gateway</body></html>');
  });
  assert.match(html.message, /answered 502: <html> <body>Bad gateway/);
});

test('a slow backend times out', async () => {
  const t0 = Date.now();
  const e = await failure(() => {}, { timeoutMs: 300 });
  assert.equal(e.kind, 'timeout');
  assert.match(e.message, /did not answer within 0.3 s/);
  assert.ok(Date.now() - t0 < 5000);
  // Headers at once, then a body that never ends: the same.
  const slowBody = await failure(
    (_req, res) => {
      res.writeHead(200);
      res.write('{"result":');
    },
    { timeoutMs: 300 },
  );
  assert.equal(slowBody.kind, 'timeout');
});

test('malformed answers are refused plainly', async () => {
  const answers: Array<[string, RegExp]> = [
    ['{"result": {"resourceSp', /did not answer JSON/],
    ['', /did not answer JSON/],
    ['[]', /no result.resourceSpans list/],
    ['{"result": null}', /no result.resourceSpans list/],
    ['{"result": {"resourceSpans": {}}}', /no result.resourceSpans list/],
  ];
  for (const [body, message] of answers) {
    const e = await failure((_req, res) => {
      res.writeHead(200);
      res.end(body);
    });
    assert.equal(e.kind, 'malformed', body);
    assert.match(e.message, message);
  }
  handler = (_req, res) => {
    res.writeHead(200);
    res.end('{"services": "rag-api"}');
  };
  await assert.rejects(new JaegerClient({ url: await fakeUrl }).services(), /no services list/);
  // A 404 that is not Jaeger's "No traces found": the URL is wrong.
  const e = await failure((_req, res) => {
    res.writeHead(404);
    res.end('404 page not found');
  });
  assert.equal(e.kind, 'not-found');
  assert.match(e.message, /no Jaeger query API v3 at \/api\/v3/);
});

test('an answer over the size limit is abandoned, declared or streamed', async () => {
  const big = Buffer.alloc(3 * 1024 * 1024, 0x20);
  const declared = await failure(
    (_req, res) => {
      res.writeHead(200, { 'content-length': String(big.length) });
      res.end(big);
    },
    { maxBytes: 1024 * 1024 },
  );
  assert.equal(declared.kind, 'too-large');
  assert.match(declared.message, /larger than 1 MiB; nothing was pulled/);
  const streamed = await failure(
    (_req, res) => {
      res.writeHead(200);
      // Chunked, no length: counted as it arrives.
      const timer = setInterval(() => {
        if (!res.write(Buffer.alloc(256 * 1024, 0x20))) return;
      }, 1);
      res.on('close', () => clearInterval(timer));
    },
    { maxBytes: 1024 * 1024 },
  );
  assert.equal(streamed.kind, 'too-large');
  // Compressed small, large once inflated: the limit counts what is read after decompression.
  const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20));
  assert.ok(bomb.length < 100_000);
  const inflated = await failure(
    (_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(bomb.length) });
      res.end(bomb);
    },
    { maxBytes: 1024 * 1024 },
  );
  assert.equal(inflated.kind, 'too-large');
});

test('a backend that is down: connection refused', async (t) => {
  if (fx.skipReason !== undefined) return t.skip(fx.skipReason);
  const url = fx.jaeger!.queryUrl;
  await fx.jaeger!.stop();
  const e = await new JaegerClient({ url }).findTraces(lastHour()).catch((err: unknown) => err);
  assert.ok(e instanceof BackendError);
  assert.equal(e.kind, 'unreachable');
  assert.match(
    e.message,
    /cannot reach http:\/\/127\.0\.0\.1:\d+: connection refused \(is it running\?\)/,
  );
});
