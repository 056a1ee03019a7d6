/**
 * OTLP/HTTP receiver (`POST /v1/traces`, and `/v1/logs` and `/v1/metrics` where the sink takes
 * them; protobuf or JSON, gzip or not) on one HTTP server that also serves the read API. Responses follow the OTLP/HTTP specification: 200 with an
 * `ExportTraceServiceResponse` (partial success when spans were refused) in the request's
 * encoding; 400/413/415 with a `google.rpc.Status` body naming what was wrong.
 *
 * Every request passes the access policy first (access.ts: the Host check against DNS
 * rebinding, then the token where one is required): 403 or 401. CORS headers are sent on the
 * ingest route only, for the configured origins; the read API never sends any, so no other
 * origin can read it from a browser.
 *
 * Sockets are bounded (`HttpSocketLimits`): slow headers and slow bodies end in 408 and the
 * socket is destroyed, idle keep-alive connections close, and past `maxConnections` new
 * connections are refused, so slow or stuck clients cannot use up the process's descriptors.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { HttpError, readBody } from './body.js';
import type { IngestOutcome, IngestSink, Signal, SignalSink } from './ingest.js';
import { grpcCodeForHttp } from '../otlp/rpc-status.js';
import { mediaType, sendError, sendJson, type BodyKind } from '../http/responses.js';
import type { RouteHandler } from '../http/route-handler.js';
import { AccessPolicy, type AccessDenial } from './access.js';
import { ProtoDecodeError } from '../otlp/proto-reader.js';
import { OtlpJsonError } from '../otlp/otlp-json-request.js';
import { encodeExportResponse, exportResponseJson } from '../otlp/export.js';
import type { Logger } from '../logger.js';
import { listenWithFallback } from './ports.js';

export const TRACES_PATH = '/v1/traces';
export const LOGS_PATH = '/v1/logs';
export const METRICS_PATH = '/v1/metrics';

/** The ingest route of each signal. */
const SIGNAL_PATHS: Readonly<Record<string, Signal>> = {
  [TRACES_PATH]: 'traces',
  [LOGS_PATH]: 'logs',
  [METRICS_PATH]: 'metrics',
};
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Bounds on the HTTP port's sockets. */
export interface HttpSocketLimits {
  /** Connections open at once; beyond it new ones are closed at once. */
  maxConnections: number;
  /** Time from a connection (or the previous request's end) to the end of the headers: 408. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included: 408. At least `headersTimeoutMs`. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
}

export const DEFAULT_HTTP_SOCKET_LIMITS: HttpSocketLimits = {
  maxConnections: 512,
  headersTimeoutMs: 15_000,
  // A 16 MiB export over a slow link fits; a body that dribbles does not.
  requestTimeoutMs: 60_000,
  // Longer than the SDKs' 5 s export interval, so that an exporter's next request does not race
  // the server closing its idle connection (the client would see ECONNRESET).
  keepAliveTimeoutMs: 30_000,
};

export interface HttpReceiverOptions {
  host: string;
  port: number;
  sink: IngestSink;
  /** Limit on the decompressed body (default 16 MiB). */
  maxBodyBytes?: number;
  /** Origins allowed to export from a browser; '*' allows any. None by default. */
  corsOrigins?: readonly string[];
  routes?: RouteHandler;
  /** Host check and token (default: loopback names only, no token). */
  access?: AccessPolicy;
  limits?: Partial<HttpSocketLimits>;
  /** When the port is taken: try the next ports (default) or fail. */
  strictPort?: boolean;
  log?: Logger;
}

export interface RunningHttpReceiver {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

function bodyKind(type: string): BodyKind | undefined {
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

function corsOrigin(req: IncomingMessage, allowed: readonly string[]): string | undefined {
  const origin = req.headers.origin;
  if (origin === undefined || allowed.length === 0) return undefined;
  if (allowed.includes('*')) return '*';
  return allowed.includes(origin) ? origin : undefined;
}

/** Answers a refused request; the connection closes after it (its body is not wanted). */
function sendDenial(req: IncomingMessage, res: ServerResponse, denial: AccessDenial): void {
  req.resume();
  res.setHeader('connection', 'close');
  if (denial.status === 401) res.setHeader('www-authenticate', 'Bearer realm="stagelight"');
  const path = (req.url ?? '').split('?')[0] ?? '';
  const kind = SIGNAL_PATHS[path] !== undefined ? bodyKind(mediaType(req)) : undefined;
  sendError(res, denial.status, denial.message, kind);
}

/** How long a socket that failed gets to take its error response before it is destroyed. */
const CLIENT_ERROR_GRACE_MS = 500;

/** The raw response to a request that failed before a handler saw it (timeout, bad framing). */
function clientErrorResponse(err: NodeJS.ErrnoException, limits: HttpSocketLimits): string {
  let status = '400 Bad Request';
  let message = `malformed HTTP request (${err.code ?? err.message})`;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = '408 Request Timeout';
    message =
      `request too slow: headers must arrive within ${limits.headersTimeoutMs / 1000} s and ` +
      `the whole request within ${limits.requestTimeoutMs / 1000} s`;
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = '431 Request Header Fields Too Large';
    message = 'request headers too large';
  }
  const body = JSON.stringify({ code: grpcCodeForHttp(Number(status.slice(0, 3))), message });
  return (
    `HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

export async function startHttpReceiver(opts: HttpReceiverOptions): Promise<RunningHttpReceiver> {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const cors = opts.corsOrigins ?? [];
  const access = opts.access ?? new AccessPolicy({ bindHost: opts.host });
  const limits = { ...DEFAULT_HTTP_SOCKET_LIMITS, ...opts.limits };
  if (limits.requestTimeoutMs < limits.headersTimeoutMs) {
    throw new RangeError('requestTimeoutMs must be at least headersTimeoutMs');
  }

  const handleExport = async (
    req: IncomingMessage,
    res: ServerResponse,
    signal: Signal,
    sink: SignalSink,
  ) => {
    const kind = bodyKind(mediaType(req));
    if (kind === undefined) {
      req.resume();
      sendError(
        res,
        415,
        `unsupported Content-Type "${req.headers['content-type'] ?? ''}": ` +
          'use application/x-protobuf or application/json',
      );
      return;
    }
    let outcome: IngestOutcome;
    try {
      const body = await readBody(req, maxBodyBytes);
      outcome =
        kind === 'protobuf' ? sink.ingestProtobuf(body, 'http') : sink.ingestJson(body, 'http');
    } catch (e) {
      if (e instanceof HttpError) {
        if (e.status === 413) res.setHeader('connection', 'close');
        sendError(res, e.status, e.message, kind);
      } else if (e instanceof ProtoDecodeError || e instanceof OtlpJsonError) {
        const what = kind === 'protobuf' ? 'invalid OTLP protobuf' : 'invalid OTLP JSON';
        sendError(res, 400, `${what}: ${e.message}`, kind);
      } else {
        opts.log?.error(`${signal} export failed: ${(e as Error).stack ?? e}`);
        sendError(res, 500, `internal error: ${(e as Error).message}`, kind);
      }
      return;
    }
    const partial =
      outcome.rejected > 0
        ? { rejected: outcome.rejected, errorMessage: outcome.errorMessage }
        : undefined;
    if (kind === 'protobuf') {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(encodeExportResponse(partial));
    } else {
      sendJson(res, 200, exportResponseJson(partial, signal));
    }
  };

  const handleIngestRoute = (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    signal: Signal,
    sink: SignalSink,
  ) => {
    const allowOrigin = corsOrigin(req, cors);
    if (allowOrigin !== undefined) {
      res.setHeader('access-control-allow-origin', allowOrigin);
      res.setHeader('vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      // A preflight never carries credentials; the POST that follows is checked.
      if (allowOrigin === undefined) {
        res.writeHead(403, { 'content-type': 'text/plain' });
        res.end('CORS origin not allowed; start the receiver with --cors-origin <origin>');
        return;
      }
      res.writeHead(204, {
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers':
          req.headers['access-control-request-headers'] ?? 'content-type, content-encoding',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    const denial = access.checkToken(req.headers.authorization, 'ingest');
    if (denial !== undefined) {
      sendDenial(req, res, denial);
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('allow', 'POST, OPTIONS');
      sendError(res, 405, `method ${req.method} not allowed on ${path}; use POST`);
      return;
    }
    void handleExport(req, res, signal, sink);
  };

  // The response in progress on each socket, so that a client error (a timeout while the body
  // arrives) never writes a second status line into a response already started.
  const inFlight = new WeakMap<Socket, ServerResponse>();

  const server = createServer(
    {
      // How often Node checks the two request timeouts (its default, 30 s, would let a 1 s
      // timeout run for 31 s).
      connectionsCheckingInterval: Math.max(
        50,
        Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)),
      ),
    },
    (req, res) => {
      inFlight.set(req.socket, res);
      res.once('finish', () => {
        if (inFlight.get(req.socket) === res) inFlight.delete(req.socket);
      });
      // Before anything else, so that no route can answer a rebinding page.
      const hostDenial = access.checkHost(req.headers.host);
      if (hostDenial !== undefined) {
        sendDenial(req, res, hostDenial);
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const signal = SIGNAL_PATHS[url.pathname];
      const sink =
        signal === 'traces' ? opts.sink : signal === undefined ? undefined : opts.sink[signal];
      if (signal !== undefined && sink !== undefined) {
        handleIngestRoute(req, res, url.pathname, signal, sink);
        return;
      }
      // The read API and unknown routes: the token where one is required, and no CORS headers.
      const denial = access.checkToken(req.headers.authorization, 'read');
      if (denial !== undefined) {
        sendDenial(req, res, denial);
        return;
      }
      Promise.resolve(opts.routes ? opts.routes(req, res, url) : false)
        .then((handled) => {
          if (!handled) {
            req.resume();
            sendError(res, 404, `no route for ${req.method} ${url.pathname}`);
          }
        })
        .catch((e: unknown) => {
          opts.log?.error(`read API failed: ${(e as Error).stack ?? e}`);
          sendError(res, 500, `internal error: ${(e as Error).message}`);
        });
    },
  );
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  let lastDropWarning = 0;
  server.on('drop', () => {
    const now = Date.now();
    if (now - lastDropWarning < 10_000) return;
    lastDropWarning = now;
    opts.log?.warn(
      `OTLP/HTTP: ${limits.maxConnections} connections are open; refusing new ones until some close.`,
    );
  });
  // Invariant: a socket that errs is destroyed within CLIENT_ERROR_GRACE_MS, whether or not its
  // client reads the response or closes its side. (Ending it only half-closes: a slow client
  // that keeps its side open would hold the descriptor forever.)
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const res = inFlight.get(socket as Socket);
    if (err.code === 'ECONNRESET' || !socket.writable || (res !== undefined && res.headersSent)) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(err, limits), () => socket.destroy());
    setTimeout(() => socket.destroy(), CLIENT_ERROR_GRACE_MS).unref();
  });

  const port = await listenWithFallback(
    (p) =>
      new Promise<number>((resolve, reject) => {
        const onError = (e: Error) => {
          server.off('listening', onListening);
          reject(e);
        };
        const onListening = () => {
          server.off('error', onError);
          resolve((server.address() as AddressInfo).port);
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(p, opts.host);
      }),
    opts.port,
    'OTLP/HTTP',
    opts.strictPort ?? false,
    opts.log,
    opts.host,
  );

  return {
    server,
    host: opts.host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
