/**
 * The access policy (src/core/receiver/access.ts) and its use by the real servers: the Host
 * check against DNS rebinding on the read API and the OTLP routes, no CORS headers on the read
 * API, and the bearer token on the read API, HTTP ingest and gRPC ingest.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import {
  AccessPolicy,
  canonicalHost,
  isLoopbackBindAddress,
  isLoopbackHost,
} from '../../src/core/receiver/access.js';
import { EXPORT_METHOD_PATH } from '../../src/core/receiver/grpc-receiver.js';
import type { RunningServer } from '../../src/core/server.js';
import { startTestServer } from './helpers/server.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request with exactly the headers given (fetch would not let a test set Host). */
function request(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: opts.headers,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A raw HTTP/1.0 request without a Host header; resolves with the status line. */
function requestWithoutHost(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.write(`GET ${path} HTTP/1.0\r\n\r\n`);
  });
}

const SPAN_JSON = (id: string) =>
  JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'access' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: id.repeat(16),
                spanId: id.repeat(8),
                name: 'x',
                startTimeUnixNano: '1764000000000000000',
                endTimeUnixNano: '1764000000100000000',
              },
            ],
          },
        ],
      },
    ],
  });

const JSON_TYPE = { 'content-type': 'application/json' };

function grpcExport(
  server: RunningServer,
  metadata: grpc.Metadata,
): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(
    server.endpoints.grpc.replace('http://', ''),
    grpc.credentials.createInsecure(),
  );
  return new Promise<grpc.ServiceError | null>((resolve) => {
    client.makeUnaryRequest(
      EXPORT_METHOD_PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      metadata,
      {},
      (err) => resolve(err),
    );
  }).finally(() => client.close());
}

describe('host names', () => {
  test('canonical form of Host values', () => {
    assert.equal(canonicalHost('LocalHost:4318'), 'localhost');
    assert.equal(canonicalHost('127.0.0.1'), '127.0.0.1');
    assert.equal(canonicalHost('[0:0:0:0:0:0:0:1]:4318'), '[::1]');
    assert.equal(canonicalHost('example.com.'), 'example.com');
    for (const bad of ['evil@127.0.0.1', '127.0.0.1/x', 'a b', '', '[::1', 'x:99999999']) {
      assert.equal(canonicalHost(bad), undefined, bad);
    }
  });

  test('loopback names and addresses', () => {
    for (const h of ['localhost', 'app.localhost', '127.0.0.1', '127.1.2.3', '[::1]']) {
      assert.ok(isLoopbackHost(canonicalHost(h)!), h);
    }
    for (const h of ['localhost.example.com', '128.0.0.1', '0.0.0.0', '[::]', '10.0.0.1']) {
      assert.ok(!isLoopbackHost(canonicalHost(h)!), h);
    }
    assert.ok(isLoopbackBindAddress('127.0.0.1'));
    assert.ok(isLoopbackBindAddress('::1'));
    assert.ok(isLoopbackBindAddress('localhost'));
    assert.ok(!isLoopbackBindAddress('0.0.0.0'));
    assert.ok(!isLoopbackBindAddress('::'));
    assert.ok(!isLoopbackBindAddress('192.168.1.5'));
  });

  test('the policy answers loopback, allowed and bound hosts with any port, and no others', () => {
    const loopback = new AccessPolicy({ bindHost: '127.0.0.1', allowedHosts: ['dev.box'] });
    for (const ok of ['localhost:4318', 'a.localhost', '127.0.0.1:1', '[::1]:4318', 'DEV.BOX:80']) {
      assert.equal(loopback.checkHost(ok), undefined, ok);
    }
    for (const no of ['evil.example:4318', '192.168.1.5:4318', 'dev.box.evil', undefined, '']) {
      const denial = loopback.checkHost(no);
      assert.equal(denial?.status, 403, String(no));
      assert.match(denial!.message, /request refused/);
    }
    const bound = new AccessPolicy({ bindHost: '192.168.1.5', token: 't' });
    assert.equal(bound.checkHost('192.168.1.5:4318'), undefined);
    assert.equal(bound.checkHost('192.168.1.6:4318')?.status, 403);
    // Bound to every interface: any IP literal (rebinding needs a name), still no other names.
    const wildcard = new AccessPolicy({ bindHost: '0.0.0.0', token: 't' });
    assert.equal(wildcard.checkHost('10.1.2.3:4318'), undefined);
    assert.equal(wildcard.checkHost('[fe80::1]:4318'), undefined);
    assert.equal(wildcard.checkHost('attacker.example:4318')?.status, 403);
  });

  test('the token: Bearer scheme, exact match, per scope', () => {
    const p = new AccessPolicy({ bindHost: '127.0.0.1', token: 's3cret-token' });
    assert.ok(p.needsToken('read'));
    assert.ok(!p.needsToken('ingest'));
    assert.equal(p.checkToken('Bearer s3cret-token', 'read'), undefined);
    assert.equal(p.checkToken('bearer s3cret-token', 'read'), undefined);
    for (const bad of [undefined, 's3cret-token', 'Bearer s3cret-toke', 'Bearer s3cret-token2']) {
      assert.equal(p.checkToken(bad, 'read')?.status, 401, String(bad));
    }
    assert.equal(p.checkToken(undefined, 'ingest'), undefined);
    const ingest = new AccessPolicy({ bindHost: '127.0.0.1', token: 'x', tokenForIngest: true });
    assert.equal(ingest.checkToken(undefined, 'ingest')?.status, 401);
    assert.throws(() => new AccessPolicy({ bindHost: '127.0.0.1', tokenForIngest: true }));
  });
});

describe('DNS rebinding on the real server', () => {
  test('a foreign Host is refused on the read API and the OTLP route; nothing is stored', async () => {
    const server = await startTestServer({ corsOrigins: ['*'] });
    const port = server.http.port;
    const id = 'a1';
    const ok = await request(port, {
      method: 'POST',
      path: '/v1/traces',
      headers: { ...JSON_TYPE, host: `localhost:${port}` },
      body: SPAN_JSON(id),
    });
    assert.equal(ok.status, 200);
    for (const path of ['/api/health', `/api/traces/${id.repeat(16)}`, '/api/traces', '/nope']) {
      const res = await request(port, { path, headers: { host: `rebound.example:${port}` } });
      assert.equal(res.status, 403, path);
      assert.match(JSON.parse(res.body).message, /Host "rebound\.example:\d+" is not allowed/);
      assert.doesNotMatch(res.body, /a1a1a1/, 'no trace data in the refusal');
    }
    const injected = await request(port, {
      method: 'POST',
      path: '/v1/traces',
      headers: { ...JSON_TYPE, host: `rebound.example:${port}`, origin: 'http://rebound.example' },
      body: SPAN_JSON('b2'),
    });
    assert.equal(injected.status, 403);
    assert.equal(server.engine.store.get('b2'.repeat(16)), undefined);
    assert.ok(server.engine.store.get(id.repeat(16)), 'what was stored before is still there');
    // HTTP/1.0 without Host: refused too.
    assert.match(await requestWithoutHost(port, '/api/health'), /^HTTP\/1\.1 403 /);
    // Loopback names with their ports are answered.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`]) {
      const res = await request(port, { path: '/api/health', headers: { host } });
      assert.equal(res.status, 200, host);
    }
  });

  test('--allow-host names are answered; the read API never sends CORS headers', async () => {
    const server = await startTestServer({
      allowedHosts: ['stagelight.dev.internal'],
      corsOrigins: ['*', 'http://localhost:5173'],
    });
    const port = server.http.port;
    const res = await request(port, {
      path: '/api/health',
      headers: { host: `stagelight.dev.internal:${port}`, origin: 'http://localhost:5173' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    const preflight = await request(port, {
      method: 'OPTIONS',
      path: '/api/traces',
      headers: {
        host: `127.0.0.1:${port}`,
        origin: 'http://localhost:5173',
        'access-control-request-method': 'GET',
      },
    });
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    assert.notEqual(preflight.status, 204);
    // The ingest route keeps its CORS.
    const ingest = await request(port, {
      method: 'OPTIONS',
      path: '/v1/traces',
      headers: {
        host: `127.0.0.1:${port}`,
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
      },
    });
    assert.equal(ingest.status, 204);
    assert.equal(ingest.headers['access-control-allow-origin'], '*');
  });

  test('the extension-host way of reading the API (fetch on 127.0.0.1) still works', async () => {
    const server = await startTestServer({ host: '127.0.0.1' });
    assert.equal(server.access.token, undefined);
    const res = await fetch(`${server.endpoints.api}/health`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });
});

describe('the access token on the real server', () => {
  test('given a token: the read API needs it, ingest does not unless asked', async () => {
    const server = await startTestServer({ accessToken: 'tok-123456' });
    const port = server.http.port;
    const host = `127.0.0.1:${port}`;
    const none = await request(port, { path: '/api/traces', headers: { host } });
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="stagelight"');
    assert.match(JSON.parse(none.body).message, /needs the access token/);
    const wrong = await request(port, {
      path: '/api/traces',
      headers: { host, authorization: 'Bearer tok-1234567' },
    });
    assert.equal(wrong.status, 401);
    assert.match(JSON.parse(wrong.body).message, /wrong access token/);
    const right = await request(port, {
      path: '/api/traces',
      headers: { host, authorization: 'Bearer tok-123456' },
    });
    assert.equal(right.status, 200);
    const ingest = await request(port, {
      method: 'POST',
      path: '/v1/traces',
      headers: { ...JSON_TYPE, host },
      body: SPAN_JSON('c3'),
    });
    assert.equal(ingest.status, 200);
    assert.equal(await grpcExport(server, new grpc.Metadata()), null);
  });

  test('tokenForIngest: HTTP and gRPC ingest need it; nothing is stored without it', async () => {
    const server = await startTestServer({ accessToken: 'ingest-token', tokenForIngest: true });
    const port = server.http.port;
    const host = `127.0.0.1:${port}`;
    const refused = await request(port, {
      method: 'POST',
      path: '/v1/traces',
      headers: { ...JSON_TYPE, host },
      body: SPAN_JSON('d4'),
    });
    assert.equal(refused.status, 401);
    assert.equal(server.engine.store.get('d4'.repeat(16)), undefined);
    const accepted = await request(port, {
      method: 'POST',
      path: '/v1/traces',
      headers: { ...JSON_TYPE, host, authorization: 'Bearer ingest-token' },
      body: SPAN_JSON('d4'),
    });
    assert.equal(accepted.status, 200);
    assert.ok(server.engine.store.get('d4'.repeat(16)));

    const noToken = await grpcExport(server, new grpc.Metadata());
    assert.equal(noToken?.code, grpc.status.UNAUTHENTICATED);
    assert.match(noToken!.details, /OTLP ingest needs the access token/);
    const wrong = new grpc.Metadata();
    wrong.set('authorization', 'Bearer nope');
    assert.equal((await grpcExport(server, wrong))?.code, grpc.status.UNAUTHENTICATED);
    const right = new grpc.Metadata();
    right.set('authorization', 'Bearer ingest-token');
    assert.equal(await grpcExport(server, right), null);
  });

  test('bound off loopback without a token: one is generated, and required', async () => {
    const server = await startTestServer({ host: '0.0.0.0' });
    assert.ok(server.access.offLoopback);
    assert.ok(server.access.tokenGenerated);
    const token = server.access.token!;
    assert.match(token, /^[A-Za-z0-9_-]{32}$/);
    const port = server.http.port;
    const host = `127.0.0.1:${port}`;
    assert.equal((await request(port, { path: '/api/health', headers: { host } })).status, 401);
    const ok = await request(port, {
      path: '/api/health',
      headers: { host, authorization: `Bearer ${token}` },
    });
    assert.equal(ok.status, 200);
    assert.doesNotMatch(ok.body, new RegExp(token), 'the token is not served');
    // Another start gets another token.
    const other = await startTestServer({ host: '0.0.0.0' });
    assert.notEqual(other.access.token, token);
  });
});
