/**
 * Starts the whole receiver: engine (store, persistence, analysis), OTLP/gRPC and OTLP/HTTP
 * listeners, the read API and optional forwarding. Used by `stagelight serve` and, later, by the
 * VS Code extension host.
 */
import { TraceEngine, type EngineOptions } from './engine.js';
import { startGrpcReceiver, type RunningGrpcReceiver } from './receiver/grpc-receiver.js';
import { startHttpReceiver, type RunningHttpReceiver } from './receiver/http-receiver.js';
import { forwardUrl, type Forwarder, type ForwardOptions } from './receiver/forwarder.js';
import { createReadApi } from './api/read-api.js';
import type { Logger } from './receiver/ports.js';

export const DEFAULT_GRPC_PORT = 4317;
export const DEFAULT_HTTP_PORT = 4318;
export const LOOPBACK = '127.0.0.1';

export interface ServerOptions extends Omit<EngineOptions, 'forward' | 'log'> {
  /** Bind address; loopback unless the user asks otherwise. */
  host?: string;
  grpcPort?: number;
  httpPort?: number;
  /** Fail instead of moving to the next free port when a port is taken. */
  strictPorts?: boolean;
  maxBodyBytes?: number;
  corsOrigins?: string[];
  /** Upstream OTLP/HTTP URL to forward every accepted batch to. */
  forwardUrl?: string;
  /** How to forward (budget, requests in flight, backoff); used with `forwardUrl`. */
  forward?: Omit<ForwardOptions, 'url' | 'log'>;
  version?: string;
  log?: Logger;
}

export interface Endpoints {
  grpc: string;
  http: string;
  httpTraces: string;
  api: string;
}

export interface RunningServer {
  readonly engine: TraceEngine;
  readonly grpc: RunningGrpcReceiver;
  readonly http: RunningHttpReceiver;
  readonly forwarder: Forwarder | undefined;
  readonly endpoints: Endpoints;
  close(): Promise<void>;
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return LOOPBACK;
  return host.includes(':') ? `[${host}]` : host;
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? LOOPBACK;
  // Checked before the engine opens its log, so a bad URL leaves nothing half open.
  if (opts.forwardUrl) forwardUrl(opts.forwardUrl);
  const engine = await TraceEngine.open({
    ...opts,
    forward: opts.forwardUrl ? { ...opts.forward, url: opts.forwardUrl } : undefined,
    log: opts.log,
  });
  const forwarder = engine.forwarder;
  const startedAt = Date.now();
  let endpoints: Endpoints | undefined;
  let grpc: RunningGrpcReceiver | undefined;
  try {
    grpc = await startGrpcReceiver({
      host,
      port: opts.grpcPort ?? DEFAULT_GRPC_PORT,
      sink: engine,
      maxMessageBytes: opts.maxBodyBytes,
      strictPort: opts.strictPorts,
      log: opts.log,
    });
    const http = await startHttpReceiver({
      host,
      port: opts.httpPort ?? DEFAULT_HTTP_PORT,
      sink: engine,
      maxBodyBytes: opts.maxBodyBytes,
      corsOrigins: opts.corsOrigins,
      strictPort: opts.strictPorts,
      log: opts.log,
      routes: createReadApi(engine, {
        version: opts.version ?? '0.0.0',
        startedAt,
        endpoints: () => ({ ...endpoints! }),
      }),
    });
    const h = hostForUrl(host);
    endpoints = {
      grpc: `http://${h}:${grpc.port}`,
      http: `http://${h}:${http.port}`,
      httpTraces: `http://${h}:${http.port}/v1/traces`,
      api: `http://${h}:${http.port}/api`,
    };
    const g = grpc;
    return {
      engine,
      grpc: g,
      http,
      forwarder,
      endpoints,
      close: async () => {
        await Promise.all([g.close(), http.close()]);
        await engine.close();
      },
    };
  } catch (e) {
    await grpc?.close();
    await engine.close();
    throw e;
  }
}
