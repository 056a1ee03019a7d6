/**
 * OTLP/gRPC receiver: `opentelemetry.proto.collector.trace.v1.TraceService/Export` on
 * `@grpc/grpc-js`. Messages pass through as raw bytes (identity serializers) to the project's
 * own decoder, so no schema is loaded. grpc-js handles gzip (`grpc-encoding`) and applies the
 * receive limit to the decompressed message, answering RESOURCE_EXHAUSTED.
 */
import * as grpc from '@grpc/grpc-js';
import type { IngestSink } from './ingest.js';
import { GrpcCode } from './rpc-status.js';
import { ProtoDecodeError } from '../otlp/proto-reader.js';
import { encodeExportResponse } from '../otlp/export.js';
import { listenWithFallback, type Logger } from './ports.js';
import { DEFAULT_MAX_BODY_BYTES } from './http-receiver.js';

export const EXPORT_METHOD_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

export interface GrpcReceiverOptions {
  host: string;
  port: number;
  sink: IngestSink;
  /** Limit on the decompressed message (default 16 MiB). */
  maxMessageBytes?: number;
  strictPort?: boolean;
  log?: Logger;
}

export interface RunningGrpcReceiver {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const identity = (b: Buffer): Buffer => b;

const traceServiceDefinition: grpc.ServiceDefinition = {
  Export: {
    path: EXPORT_METHOD_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export async function startGrpcReceiver(opts: GrpcReceiverOptions): Promise<RunningGrpcReceiver> {
  const maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_BODY_BYTES;
  const handlers: grpc.UntypedServiceImplementation = {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      try {
        const outcome = opts.sink.ingestProtobuf(call.request, 'grpc');
        const response = encodeExportResponse(
          outcome.rejected > 0
            ? { rejectedSpans: outcome.rejected, errorMessage: outcome.errorMessage }
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
          opts.log?.error(`gRPC export failed: ${(e as Error).stack ?? e}`);
          callback({ code: GrpcCode.INTERNAL, details: `internal error: ${(e as Error).message}` });
        }
      }
    },
  };

  let server: grpc.Server | undefined;
  const port = await listenWithFallback(
    (p) =>
      new Promise<number>((resolve, reject) => {
        const s = new grpc.Server({
          'grpc.max_receive_message_length': maxMessageBytes,
          'grpc.max_send_message_length': 4 * 1024 * 1024,
        });
        s.addService(traceServiceDefinition, handlers);
        s.bindAsync(`${opts.host}:${p}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
          if (err) {
            s.forceShutdown();
            reject(err);
          } else {
            server = s;
            resolve(bound);
          }
        });
      }),
    opts.port,
    'OTLP/gRPC',
    opts.strictPort ?? false,
    opts.log,
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
