/**
 * Failures to listen (src/core/receiver/ports.ts) as a user meets them: an address this
 * machine does not have and a name that does not resolve become one-line `ListenError`s from
 * both real listeners (node:http and grpc-js), before anything is started or stored.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ListenError, PortInUseError, probeListen } from '../../src/core/receiver/ports.js';
import { startTestServer } from './helpers/server.js';

/** TEST-NET-1 (RFC 5737): documentation addresses, never assigned to this machine. */
const FOREIGN_ADDRESS = '192.0.2.1';

function oneLineListenError(pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ListenError, `expected a ListenError, got ${String(e)}`);
    assert.match(e.message, pattern);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  };
}

describe('listen failures', () => {
  test('an address of another machine: not an address of this machine', async () => {
    await assert.rejects(
      startTestServer({ host: FOREIGN_ADDRESS }),
      oneLineListenError(
        /^OTLP\/gRPC: cannot listen on 192\.0\.2\.1: it is not an address of this machine/,
      ),
    );
  });

  test('a name that does not resolve: said so', async () => {
    await assert.rejects(
      startTestServer({ host: 'no-such-host.invalid' }),
      oneLineListenError(/cannot listen on "no-such-host\.invalid": it is not an IP address/),
    );
  });

  test('probeListen finds a taken port without taking it', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      await assert.rejects(probeListen('127.0.0.1', port), { code: 'EADDRINUSE' });
      await assert.rejects(
        startTestServer({ grpcPort: port, httpPort: 0, strictPorts: true }),
        (e: unknown) => e instanceof PortInUseError && e instanceof ListenError,
      );
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
    // Free again, and the probe left it free.
    await probeListen('127.0.0.1', port);
    await probeListen('127.0.0.1', port);
  });
});
