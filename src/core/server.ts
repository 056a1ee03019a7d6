/**
 * Starts the whole receiver: engine (store, persistence, analysis), OTLP/gRPC and OTLP/HTTP
 * listeners, the read API and optional forwarding. Used by `stagelight serve` and by the VS Code
 * extension host (on 127.0.0.1, without a token).
 *
 * Access (access.ts): the HTTP port answers loopback Host names, the allowed hosts and the bound
 * address. Bound off loopback, the read API always needs a token: when none is given one is
 * generated (`RunningServer.access`) for the caller to show. Generating rather than refusing to
 * start keeps `--host 0.0.0.0` one step, as Jupyter does; the token is shown only to whoever
 * started the server, and a fixed one can be given instead.
 */
import { TraceEngine, type EngineOptions } from './engine.js';
import { startGrpcReceiver, type RunningGrpcReceiver } from './receiver/grpc-receiver.js';
import {
  startHttpReceiver,
  type HttpSocketLimits,
  type RunningHttpReceiver,
} from './receiver/http-receiver.js';
import { AccessPolicy, generateToken, isLoopbackBindAddress } from './receiver/access.js';
import { forwardUrl, type Forwarder, type ForwardOptions } from './receiver/forwarder.js';
import { createReadApi } from './api/read-api.js';
import { createSignalRoutes } from './api/signal-routes.js';
import type { RouteHandler } from './http/route-handler.js';
import type { Logger } from './logger.js';

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
  /** Origins allowed to post to /v1/traces from a browser (never applies to the read API). */
  corsOrigins?: string[];
  /** Names accepted in the HTTP `Host` header besides loopback ones and the bound address. */
  allowedHosts?: string[];
  /**
   * Bearer token that the read API requires (and ingest, with `tokenForIngest`). Generated when
   * the server is bound off loopback, or `tokenForIngest` is set, without one.
   */
  accessToken?: string;
  /** Require the token on OTLP ingest too (HTTP `Authorization`, gRPC `authorization`). */
  tokenForIngest?: boolean;
  /** Socket bounds of the HTTP port: connections, timeouts (defaults in http-receiver.ts). */
  httpLimits?: Partial<HttpSocketLimits>;
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

/** The token rule in force, for the caller to report. */
export interface ServerAccess {
  /** The token required, if any. */
  readonly token: string | undefined;
  /** The token was generated at start (no `accessToken` given): show it to the user. */
  readonly tokenGenerated: boolean;
  readonly tokenForIngest: boolean;
  /** Bound to an address other machines can reach. */
  readonly offLoopback: boolean;
}

export interface RunningServer {
  readonly engine: TraceEngine;
  readonly grpc: RunningGrpcReceiver;
  readonly http: RunningHttpReceiver;
  readonly forwarder: Forwarder | undefined;
  readonly endpoints: Endpoints;
  readonly access: ServerAccess;
  close(): Promise<void>;
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return LOOPBACK;
  return host.includes(':') ? `[${host}]` : host;
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? LOOPBACK;
  const offLoopback = !isLoopbackBindAddress(host);
  const tokenForIngest = opts.tokenForIngest ?? false;
  const tokenGenerated = opts.accessToken === undefined && (offLoopback || tokenForIngest);
  const token = tokenGenerated ? generateToken() : opts.accessToken;
  if (token === '') throw new Error('the access token must not be empty');
  // Built before anything is started: a bad allowed host throws here.
  const policy = new AccessPolicy({
    bindHost: host,
    allowedHosts: opts.allowedHosts,
    token,
    tokenForIngest,
  });
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
      access: policy,
      strictPort: opts.strictPorts,
      log: opts.log,
    });
    const http = await startHttpReceiver({
      host,
      port: opts.httpPort ?? DEFAULT_HTTP_PORT,
      sink: engine,
      maxBodyBytes: opts.maxBodyBytes,
      corsOrigins: opts.corsOrigins,
      access: policy,
      limits: opts.httpLimits,
      strictPort: opts.strictPorts,
      log: opts.log,
      routes: firstRoute(
        createSignalRoutes(engine.signals),
        createReadApi(engine, {
          version: opts.version ?? '0.0.0',
          startedAt,
          endpoints: () => ({ ...endpoints! }),
        }),
      ),
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
      access: { token, tokenGenerated, tokenForIngest, offLoopback },
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

/** Asks each handler in turn until one answers. */
function firstRoute(...handlers: RouteHandler[]): RouteHandler {
  return async (req, res, url) => {
    for (const h of handlers) if (await h(req, res, url)) return true;
    return false;
  };
}
