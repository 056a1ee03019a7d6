/**
 * The gRPC receiver widens HTTP/2 flow-control windows by reaching into grpc-js internals; this
 * test notices when a grpc-js upgrade makes that silently stop working.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { startTestServer } from './helpers/server.js';

test('the OTLP/gRPC server advertises an 8 MiB stream window and a wide connection window', async () => {
  const server = await startTestServer();
  const session = http2.connect(server.endpoints.grpc);
  try {
    const settings = await new Promise<http2.Settings>((resolve, reject) => {
      session.once('remoteSettings', resolve);
      session.once('error', reject);
    });
    assert.equal(settings.initialWindowSize, 8 * 1024 * 1024);
    // The connection window is raised with a WINDOW_UPDATE right after the handshake.
    await new Promise((r) => setTimeout(r, 100));
    const state = session.state;
    assert.ok(
      (state.remoteWindowSize ?? 0) >= 32 * 1024 * 1024 - 65535,
      `remote window ${state.remoteWindowSize}`,
    );
  } finally {
    session.close();
  }
});
