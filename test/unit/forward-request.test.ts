/**
 * One forwarding request against a real HTTP upstream: what its error answers say reaches
 * `lastError` and the log, read from a `google.rpc.Status` in protobuf (as Jaeger and the
 * Collector answer) or JSON, and nothing hostile (malformed, oversize, multi-line) gets through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { postBatch } from '../../src/core/receiver/forward-request.js';
import { decodeRpcStatus, encodeRpcStatus } from '../../src/core/otlp/rpc-status.js';
import { ProtoDecodeError } from '../../src/core/otlp/proto-reader.js';
import { cat, len, tagBytes, varint } from './helpers/protobuf-fields.js';

interface Answer {
  status: number;
  type: string;
  body: Uint8Array | string;
  headers?: Record<string, string>;
}

/** Posts one batch to an upstream that gives `answer`; the outcome. */
async function outcomeOf(answer: Answer) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(answer.status, { 'content-type': answer.type, ...answer.headers });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  try {
    return await postBatch(`http://127.0.0.1:${port}/v1/traces`, new Uint8Array([0x0a, 0x00]), {
      timeoutMs: 5000,
      signal: new AbortController().signal,
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const PROTOBUF = 'application/x-protobuf';

test('a protobuf google.rpc.Status answer is quoted: Jaeger refusing a bad trace id', async () => {
  const body = encodeRpcStatus({ code: 3, message: 'unmarshal: invalid TraceID length' });
  assert.deepEqual(await outcomeOf({ status: 400, type: PROTOBUF, body }), {
    kind: 'rejected',
    status: 400,
    error: 'upstream answered 400: unmarshal: invalid TraceID length',
  });
});

test('a retryable answer keeps its message and its Retry-After', async () => {
  const body = encodeRpcStatus({ code: 14, message: 'storage is busy' });
  assert.deepEqual(
    await outcomeOf({ status: 503, type: PROTOBUF, body, headers: { 'retry-after': '2' } }),
    { kind: 'retry', error: 'upstream answered 503: storage is busy', retryAfterMs: 2000 },
  );
});

test('a JSON or text answer is quoted as it is', async () => {
  const json = await outcomeOf({
    status: 400,
    type: 'application/json',
    body: '{"code":3,"message":"bad span"}',
  });
  assert.equal(
    json.kind === 'rejected' && json.error,
    'upstream answered 400: {"code":3,"message":"bad span"}',
  );
  const text = await outcomeOf({ status: 404, type: 'text/plain', body: '404 page not found\n' });
  assert.equal(text.kind === 'rejected' && text.error, 'upstream answered 404: 404 page not found');
});

test('malformed, truncated or empty protobuf answers: the status alone', async () => {
  const bodies = [
    Buffer.alloc(0),
    len(2, 'cut short').subarray(0, 5), // length past the end
    tagBytes(2, 3), // a group: no such wire type in a Status
    cat(len(1, 'code as bytes')), // code with the wrong wire type
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // a varint that never ends
  ];
  for (const body of bodies) {
    const o = await outcomeOf({ status: 400, type: PROTOBUF, body });
    assert.deepEqual(o, { kind: 'rejected', status: 400, error: 'upstream answered 400' });
  }
});

test('an oversize or multi-line message is cut to one line of 200 characters', async () => {
  const long = await outcomeOf({
    status: 400,
    type: PROTOBUF,
    body: encodeRpcStatus({ code: 3, message: 'x'.repeat(100_000) }),
  });
  assert.equal(long.kind === 'rejected' && long.error, `upstream answered 400: ${'x'.repeat(200)}`);
  const forged = await outcomeOf({
    status: 400,
    type: PROTOBUF,
    body: encodeRpcStatus({ code: 3, message: 'bad\nwarn: forged line\r\n\u001b[31mred' }),
  });
  assert.equal(
    forged.kind === 'rejected' && forged.error,
    'upstream answered 400: bad warn: forged line [31mred',
  );
});

test('decodeRpcStatus: round trip, details skipped, malformed input throws', () => {
  const s = { code: 3, message: 'unmarshal: invalid SpanID length' };
  assert.deepEqual(decodeRpcStatus(encodeRpcStatus(s)), s);
  // details (field 3, repeated Any) are skipped; fields in any order; last message wins.
  const withDetails = cat(
    len(2, 'first'),
    len(3, len(1, 'type.googleapis.com/x')),
    varint(1, 9),
    len(2, 'last'),
  );
  assert.deepEqual(decodeRpcStatus(withDetails), { code: 9, message: 'last' });
  assert.deepEqual(decodeRpcStatus(Buffer.alloc(0)), { code: 0, message: '' });
  for (const bad of [len(2, 'abc').subarray(0, 3), tagBytes(1, 2), Buffer.from([0x00])]) {
    assert.throws(() => decodeRpcStatus(bad), ProtoDecodeError);
  }
});
