/**
 * OTLP/gRPC receiver: `opentelemetry.proto.collector.trace.v1.TraceService/Export`, and the
 * logs' and metrics' `Export` where the sink takes them (UNIMPLEMENTED otherwise), on
 * `@grpc/grpc-js`. Messages pass through as raw bytes (identity serializers) to the project's
 * own decoder, so no schema is loaded. grpc-js handles gzip (`grpc-encoding`) and applies the
 * receive limit to the decompressed message, answering RESOURCE_EXHAUSTED.
 *
 * Access: where the policy requires the token for ingest, a call must carry the metadata
 * `authorization: Bearer <token>` (UNAUTHENTICATED otherwise). There is no Host check here:
 * DNS rebinding needs a browser to send the requests, and browsers cannot speak gRPC (HTTP/2
 * in cleartext with trailers; grpc-web would need a proxy that this server is not).
 */
import * as grpc from '@grpc/grpc-js';
import type * as http2 from 'node:http2';
import type { IngestSink, Signal, SignalSink } from './ingest.js';
import { GrpcCode } from '../otlp/rpc-status.js';
import { ProtoDecodeError } from '../otlp/proto-reader.js';
import { encodeExportResponse } from '../otlp/export.js';
import type { Logger } from '../logger.js';
import { listenWithFallback, probeListen } from './ports.js';
import { DEFAULT_MAX_BODY_BYTES } from './http-receiver.js';
import type { AccessPolicy } from './access.js';

export const EXPORT_METHOD_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
export const LOGS_EXPORT_METHOD_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
export const METRICS_EXPORT_METHOD_PATH =
  '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

const METHOD_PATHS: Readonly<Record<Signal, string>> = {
  traces: EXPORT_METHOD_PATH,
  logs: LOGS_EXPORT_METHOD_PATH,
  metrics: METRICS_EXPORT_METHOD_PATH,
};

export interface GrpcReceiverOptions {
  host: string;
  port: number;
  sink: IngestSink;
  /** Limit on the decompressed message (default 16 MiB). */
  maxMessageBytes?: number;
  /** Token rule for ingest (none by default). */
  access?: AccessPolicy;
  strictPort?: boolean;
  log?: Logger;
}

export interface RunningGrpcReceiver {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const identity = (b: Buffer): Buffer => b;

/** A signal's collector service: one unary `Export` whose messages pass through as bytes. */
function serviceDefinition(signal: Signal): grpc.ServiceDefinition {
  return {
    Export: {
      path: METHOD_PATHS[signal],
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
}

/** HTTP/2 receive windows: a whole 512-span export (~256 KiB) fits without a window update. */
const STREAM_WINDOW_BYTES = 8 * 1024 * 1024;
const CONNECTION_WINDOW_BYTES = 32 * 1024 * 1024;

/** The grpc-js internals touched by `widenFlowControl` (absent in other versions: no effect). */
interface GrpcServerInternals {
  commonServerOptions?: http2.ServerOptions;
  http2Servers?: Map<http2.Http2Server, unknown>;
}

/**
 * grpc-js leaves the HTTP/2 flow-control windows at Node's 64 KiB defaults and offers no server
 * option for them, so each large export stalls on several WINDOW_UPDATE round trips; measured
 * in `npm run bench:ingest`. This reaches into grpc-js internals (the version is pinned by the
 * lockfile): where they differ, it changes nothing and ingest works as before, only slower.
 */
function widenStreamWindow(server: grpc.Server): void {
  const internals = server as unknown as GrpcServerInternals;
  const options = internals.commonServerOptions;
  if (options !== undefined) {
    options.settings = { ...options.settings, initialWindowSize: STREAM_WINDOW_BYTES };
  }
}

function widenConnectionWindow(server: grpc.Server): void {
  const servers = (server as unknown as GrpcServerInternals).http2Servers;
  if (!(servers instanceof Map)) return;
  for (const h2 of servers.keys()) {
    h2.on('session', (session: http2.ServerHttp2Session) => {
      try {
        session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
      } catch {
        // A session closing as it opens: nothing to widen.
      }
    });
  }
}

export async function startGrpcReceiver(opts: GrpcReceiverOptions): Promise<RunningGrpcReceiver> {
  const maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_BODY_BYTES;
  const handlers = (signal: Signal, sink: SignalSink): grpc.UntypedServiceImplementation => ({
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const access = opts.access;
      if (access?.needsToken('ingest')) {
        const value = call.metadata.get('authorization')[0];
        const denial = access.checkToken(typeof value === 'string' ? value : undefined, 'ingest');
        if (denial !== undefined) {
          callback({ code: GrpcCode.UNAUTHENTICATED, details: denial.message });
          return;
        }
      }
      try {
        const outcome = sink.ingestProtobuf(call.request, 'grpc');
        const response = encodeExportResponse(
          outcome.rejected > 0
            ? { rejected: outcome.rejected, errorMessage: outcome.errorMessage }
            : undefined,
        );
        callback(null, Buffer.from(response.buffer, response.byteOffset, response.byteLength));
      } catch (e) {
        if (e instanceof ProtoDecodeError) {
          callback({
            code: GrpcCode.INVALID_ARGUMENT,
            details: `invalid OTLP protobuf: ${e.message}`,
          });
        } else {
          opts.log?.error(`gRPC ${signal} export failed: ${(e as Error).stack ?? e}`);
          callback({ code: GrpcCode.INTERNAL, details: `internal error: ${(e as Error).message}` });
        }
      }
    },
  });
  const services: [Signal, SignalSink | undefined][] = [
    ['traces', opts.sink],
    ['logs', opts.sink.logs],
    ['metrics', opts.sink.metrics],
  ];

  let server: grpc.Server | undefined;
  const port = await listenWithFallback(
    async (p) => {
      // grpc-js logs its own "No address added" line to stderr before it reports a failed bind
      // to us; a plain TCP probe first finds a taken port or an unusable address silently. (A
      // port taken between the probe and the bind still fails cleanly, only with that line.)
      await probeListen(opts.host, p);
      return new Promise<number>((resolve, reject) => {
        const s = new grpc.Server({
          'grpc.max_receive_message_length': maxMessageBytes,
          'grpc.max_send_message_length': 4 * 1024 * 1024,
        });
        for (const [signal, sink] of services) {
          if (sink !== undefined) s.addService(serviceDefinition(signal), handlers(signal, sink));
        }
        widenStreamWindow(s);
        s.bindAsync(`${opts.host}:${p}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
          if (err) {
            s.forceShutdown();
            reject(err);
          } else {
            server = s;
            widenConnectionWindow(s);
            resolve(bound);
          }
        });
      });
    },
    opts.port,
    'OTLP/gRPC',
    opts.strictPort ?? false,
    opts.log,
    opts.host,
  );

  return {
    host: opts.host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        if (server === undefined) return resolve();
        const s = server;
        // Give in-flight exports a moment, then cut the rest.
        const timer = setTimeout(() => s.forceShutdown(), 2000);
        s.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
