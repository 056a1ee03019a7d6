/**
 * The HTTP port's sockets (src/core/receiver/http-receiver.ts) under slow and idle clients:
 * raw `net` sockets that dribble headers or bodies get 408 and are released after the
 * timeouts (the process's descriptor count returns to its baseline), idle keep-alive
 * connections close, and past the connection cap new connections are refused while the
 * receiver keeps serving once they go.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { startTestServer, waitFor } from './helpers/server.js';
import type { RunningServer } from '../../src/core/server.js';

const HAS_PROC_FD = existsSync('/proc/self/fd');

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * A client that sends `head`, then one byte of `drip` every `everyMs`. It ignores the server's
 * FIN and keeps its own side open, as a stuck or hostile client does, and once the server has
 * sent FIN it writes a byte every `everyMs` anyway: only a server that destroyed its socket
 * answers those with a reset, which is what ends the client.
 */
interface SlowClient {
  readonly socket: net.Socket;
  /** Everything the server sent. */
  received(): string;
  readonly closed: Promise<void>;
}

function slowClient(port: number, head: string, drip: string, everyMs = 100): SlowClient {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  let text = '';
  let i = 0;
  let serverEnded = false;
  const timer = setInterval(() => {
    if (!socket.writable) return;
    if (drip !== '') socket.write(drip[i++ % drip.length]!);
    else if (serverEnded) socket.write('\r\n');
  }, everyMs);
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (text += d));
  socket.on('end', () => (serverEnded = true));
  if (head !== '') socket.write(head);
  const closed = new Promise<void>((resolve) => {
    const done = () => {
      clearInterval(timer);
      socket.destroy();
      resolve();
    };
    socket.on('error', done);
    socket.on('close', done);
  });
  return { socket, received: () => text, closed };
}

function exportOnce(server: RunningServer): Promise<number> {
  const body = JSON.stringify({ resourceSpans: [] });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.http.port,
        method: 'POST',
        path: '/v1/traces',
        agent: false,
        headers: { 'content-type': 'application/json', connection: 'close' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const LIMITS = { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 800 };

describe('slow clients', () => {
  test(
    '100 slow-header and 100 slow-body sockets get 408 and are released after the timeouts',
    { skip: !HAS_PROC_FD && 'needs /proc/self/fd', timeout: 20_000 },
    async () => {
      const server = await startTestServer({ httpLimits: LIMITS });
      const port = server.http.port;
      assert.equal(await exportOnce(server), 200);
      const baseline = openDescriptors();

      const slowHeaders = Array.from({ length: 100 }, () =>
        slowClient(port, 'POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 'abc'),
      );
      const slowBodies = Array.from({ length: 100 }, () =>
        slowClient(
          port,
          'POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
            'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"resourceSpans":[',
          ' ',
        ),
      );
      // Two that stop sending altogether, one in its headers and one in its body.
      const stuckHeader = slowClient(port, 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n', '');
      const stuckBody = slowClient(
        port,
        'POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
          'Content-Type: application/json\r\nContent-Length: 10\r\n\r\n{',
        '',
      );
      const all = [...slowHeaders, ...slowBodies, stuckHeader, stuckBody];
      await waitFor(
        () => (openDescriptors() >= baseline + all.length ? true : undefined),
        3000,
        'the slow connections to be open',
      );
      // Meanwhile an exporter is still served.
      assert.equal(await exportOnce(server), 200);

      const started = Date.now();
      await Promise.all(all.map((c) => c.closed));
      const tookMs = Date.now() - started;
      assert.ok(tookMs < LIMITS.requestTimeoutMs + 3000, `closed after ${tookMs} ms`);
      assert.match(stuckHeader.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.match(stuckBody.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.match(
        stuckBody.received(),
        /"message":"request too slow: headers must arrive within 1 s/,
      );
      // The descriptors of both ends are gone: the server destroyed its sockets.
      await waitFor(
        () => (openDescriptors() <= baseline ? true : undefined),
        3000,
        `the descriptor count to return to ${baseline} (now ${openDescriptors()})`,
      );
      assert.equal(await exportOnce(server), 200);
    },
  );

  test(
    'an idle keep-alive connection is closed after keepAliveTimeoutMs',
    { timeout: 10_000 },
    async () => {
      const server = await startTestServer({ httpLimits: LIMITS });
      const client = slowClient(
        server.http.port,
        'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
        '',
      );
      const started = Date.now();
      await waitFor(() => (client.received().includes('"status":"ok"') ? true : undefined));
      await client.closed;
      const idleMs = Date.now() - started;
      assert.ok(idleMs >= LIMITS.keepAliveTimeoutMs - 100, `closed after ${idleMs} ms`);
      assert.ok(idleMs < LIMITS.keepAliveTimeoutMs + 2000, `closed after ${idleMs} ms`);
      assert.match(client.received(), /^HTTP\/1\.1 200 OK\r\n/);
    },
  );
});

describe('the connection cap', () => {
  test(
    'past maxConnections new connections are refused, and served again once some close',
    { timeout: 10_000 },
    async () => {
      const warnings: string[] = [];
      const server = await startTestServer({
        httpLimits: { maxConnections: 10 },
        log: { info: () => {}, warn: (m) => warnings.push(m), error: () => {} },
      });
      const port = server.http.port;
      const idle = Array.from({ length: 10 }, () => slowClient(port, '', ''));
      await waitFor(async () => {
        const n = await new Promise<number>((resolve) =>
          server.http.server.getConnections((_e, count) => resolve(count)),
        );
        return n === 10 ? true : undefined;
      });
      const extra = slowClient(port, 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', '');
      await extra.closed;
      assert.equal(extra.received(), '', 'the connection over the cap got no answer');
      assert.ok(
        warnings.some((w) => /10 connections are open; refusing new ones/.test(w)),
        warnings.join('\n'),
      );
      for (const c of idle) c.socket.destroy();
      await Promise.all(idle.map((c) => c.closed));
      await waitFor(async () => {
        try {
          return (await exportOnce(server)) === 200 ? true : undefined;
        } catch {
          return undefined; // the server may not have seen every close yet
        }
      });
    },
  );
});
