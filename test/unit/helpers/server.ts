/** Starts a real Stagelight receiver on free loopback ports for a test, and stops it after. */
import { after } from 'node:test';
import { startServer, type RunningServer, type ServerOptions } from '../../../src/core/server.js';
import type { Logger } from '../../../src/core/logger.js';

export const quietLog: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * Starts a server on free ports. With `autoClose` (default) it is closed after the calling test;
 * pass false from a `before` hook and close it in the suite's own `after`.
 */
export async function startTestServer(
  opts: ServerOptions = {},
  autoClose = true,
): Promise<RunningServer> {
  const server = await startServer({ grpcPort: 0, httpPort: 0, log: quietLog, ...opts });
  if (autoClose) after(() => server.close());
  return server;
}

/** Polls `check` until it returns a value (not undefined) or the timeout passes. */
export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

/** POSTs an OTLP/protobuf body; resolves with the status once the response is read. */
export async function postProtobuf(url: string, body: Uint8Array): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}
