/**
 * The comparison point for `npm run bench:ingest`: an OTLP trace receiver built the
 * straightforward way, as most hand-rolled receivers are. `@grpc/grpc-js` with a service whose
 * deserializer is the protobufjs type's `decode`, a `node:http` server for `POST /v1/traces`
 * doing the same decode, and a naive store that keeps the decoded request objects as they are
 * plus a `Map` from trace id to the span objects.
 *
 * The schema is loaded at run time by protobufjs reflection (`Root.fromJSON`), which is what
 * `protobuf.loadSync('trace_service.proto')` produces. `@opentelemetry/otlp-transformer` 0.223
 * no longer ships a protobufjs root (its serializer is hand-written), and no `.proto` file of
 * OTLP is installed, so the descriptor below is the OTLP trace schema (opentelemetry-proto
 * v1.x: `collector/trace/v1/trace_service.proto`, `trace/v1/trace.proto`,
 * `resource/v1/resource.proto`, `common/v1/common.proto`) written as protobufjs JSON. Fields
 * newer than the benchmark needs (entity refs, profiles) are left out; protobufjs skips unknown
 * fields, so that costs the baseline nothing. Field numbers and types are the specification's;
 * `bench/ingest.ts` checks the decode against the SDK-encoded batches before timing.
 */
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

const OTLP_TRACE_SCHEMA = {
  nested: {
    opentelemetry: {
      nested: {
        proto: {
          nested: {
            common: {
              nested: {
                v1: {
                  nested: {
                    AnyValue: {
                      oneofs: {
                        value: {
                          oneof: [
                            'stringValue',
                            'boolValue',
                            'intValue',
                            'doubleValue',
                            'arrayValue',
                            'kvlistValue',
                            'bytesValue',
                          ],
                        },
                      },
                      fields: {
                        stringValue: { type: 'string', id: 1 },
                        boolValue: { type: 'bool', id: 2 },
                        intValue: { type: 'int64', id: 3 },
                        doubleValue: { type: 'double', id: 4 },
                        arrayValue: { type: 'ArrayValue', id: 5 },
                        kvlistValue: { type: 'KeyValueList', id: 6 },
                        bytesValue: { type: 'bytes', id: 7 },
                      },
                    },
                    ArrayValue: {
                      fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } },
                    },
                    KeyValueList: {
                      fields: { values: { rule: 'repeated', type: 'KeyValue', id: 1 } },
                    },
                    KeyValue: {
                      fields: {
                        key: { type: 'string', id: 1 },
                        value: { type: 'AnyValue', id: 2 },
                      },
                    },
                    InstrumentationScope: {
                      fields: {
                        name: { type: 'string', id: 1 },
                        version: { type: 'string', id: 2 },
                        attributes: { rule: 'repeated', type: 'KeyValue', id: 3 },
                        droppedAttributesCount: { type: 'uint32', id: 4 },
                      },
                    },
                  },
                },
              },
            },
            resource: {
              nested: {
                v1: {
                  nested: {
                    Resource: {
                      fields: {
                        attributes: {
                          rule: 'repeated',
                          type: 'opentelemetry.proto.common.v1.KeyValue',
                          id: 1,
                        },
                        droppedAttributesCount: { type: 'uint32', id: 2 },
                      },
                    },
                  },
                },
              },
            },
            trace: {
              nested: {
                v1: {
                  nested: {
                    TracesData: {
                      fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } },
                    },
                    ResourceSpans: {
                      fields: {
                        resource: { type: 'opentelemetry.proto.resource.v1.Resource', id: 1 },
                        scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 },
                        schemaUrl: { type: 'string', id: 3 },
                      },
                    },
                    ScopeSpans: {
                      fields: {
                        scope: {
                          type: 'opentelemetry.proto.common.v1.InstrumentationScope',
                          id: 1,
                        },
                        spans: { rule: 'repeated', type: 'Span', id: 2 },
                        schemaUrl: { type: 'string', id: 3 },
                      },
                    },
                    Span: {
                      fields: {
                        traceId: { type: 'bytes', id: 1 },
                        spanId: { type: 'bytes', id: 2 },
                        traceState: { type: 'string', id: 3 },
                        parentSpanId: { type: 'bytes', id: 4 },
                        flags: { type: 'fixed32', id: 16 },
                        name: { type: 'string', id: 5 },
                        kind: { type: 'SpanKind', id: 6 },
                        startTimeUnixNano: { type: 'fixed64', id: 7 },
                        endTimeUnixNano: { type: 'fixed64', id: 8 },
                        attributes: {
                          rule: 'repeated',
                          type: 'opentelemetry.proto.common.v1.KeyValue',
                          id: 9,
                        },
                        droppedAttributesCount: { type: 'uint32', id: 10 },
                        events: { rule: 'repeated', type: 'Event', id: 11 },
                        droppedEventsCount: { type: 'uint32', id: 12 },
                        links: { rule: 'repeated', type: 'Link', id: 13 },
                        droppedLinksCount: { type: 'uint32', id: 14 },
                        status: { type: 'Status', id: 15 },
                      },
                      nested: {
                        SpanKind: {
                          values: {
                            SPAN_KIND_UNSPECIFIED: 0,
                            SPAN_KIND_INTERNAL: 1,
                            SPAN_KIND_SERVER: 2,
                            SPAN_KIND_CLIENT: 3,
                            SPAN_KIND_PRODUCER: 4,
                            SPAN_KIND_CONSUMER: 5,
                          },
                        },
                        Event: {
                          fields: {
                            timeUnixNano: { type: 'fixed64', id: 1 },
                            name: { type: 'string', id: 2 },
                            attributes: {
                              rule: 'repeated',
                              type: 'opentelemetry.proto.common.v1.KeyValue',
                              id: 3,
                            },
                            droppedAttributesCount: { type: 'uint32', id: 4 },
                          },
                        },
                        Link: {
                          fields: {
                            traceId: { type: 'bytes', id: 1 },
                            spanId: { type: 'bytes', id: 2 },
                            traceState: { type: 'string', id: 3 },
                            attributes: {
                              rule: 'repeated',
                              type: 'opentelemetry.proto.common.v1.KeyValue',
                              id: 4,
                            },
                            droppedAttributesCount: { type: 'uint32', id: 5 },
                            flags: { type: 'fixed32', id: 6 },
                          },
                        },
                      },
                    },
                    Status: {
                      fields: {
                        message: { type: 'string', id: 2 },
                        code: { type: 'StatusCode', id: 3 },
                      },
                      nested: {
                        StatusCode: {
                          values: { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 },
                        },
                      },
                    },
                  },
                },
              },
            },
            collector: {
              nested: {
                trace: {
                  nested: {
                    v1: {
                      nested: {
                        ExportTraceServiceRequest: {
                          fields: {
                            resourceSpans: {
                              rule: 'repeated',
                              type: 'opentelemetry.proto.trace.v1.ResourceSpans',
                              id: 1,
                            },
                          },
                        },
                        ExportTraceServiceResponse: {
                          fields: { partialSuccess: { type: 'ExportTracePartialSuccess', id: 1 } },
                        },
                        ExportTracePartialSuccess: {
                          fields: {
                            rejectedSpans: { type: 'int64', id: 1 },
                            errorMessage: { type: 'string', id: 2 },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

/**
 * The OTLP logs schema (opentelemetry-proto v1.x `logs/v1/logs.proto`,
 * `collector/logs/v1/logs_service.proto`) as protobufjs JSON, added beside the trace schema's
 * common and resource types.
 */
const OTLP_LOGS_NESTED = {
  logs: {
    nested: {
      v1: {
        nested: {
          ResourceLogs: {
            fields: {
              resource: { type: 'opentelemetry.proto.resource.v1.Resource', id: 1 },
              scopeLogs: { rule: 'repeated', type: 'ScopeLogs', id: 2 },
              schemaUrl: { type: 'string', id: 3 },
            },
          },
          ScopeLogs: {
            fields: {
              scope: { type: 'opentelemetry.proto.common.v1.InstrumentationScope', id: 1 },
              logRecords: { rule: 'repeated', type: 'LogRecord', id: 2 },
              schemaUrl: { type: 'string', id: 3 },
            },
          },
          LogRecord: {
            fields: {
              timeUnixNano: { type: 'fixed64', id: 1 },
              observedTimeUnixNano: { type: 'fixed64', id: 11 },
              severityNumber: { type: 'int32', id: 2 },
              severityText: { type: 'string', id: 3 },
              body: { type: 'opentelemetry.proto.common.v1.AnyValue', id: 5 },
              attributes: {
                rule: 'repeated',
                type: 'opentelemetry.proto.common.v1.KeyValue',
                id: 6,
              },
              droppedAttributesCount: { type: 'uint32', id: 7 },
              flags: { type: 'fixed32', id: 8 },
              traceId: { type: 'bytes', id: 9 },
              spanId: { type: 'bytes', id: 10 },
              eventName: { type: 'string', id: 12 },
            },
          },
        },
      },
    },
  },
};

const OTLP_LOGS_COLLECTOR_NESTED = {
  logs: {
    nested: {
      v1: {
        nested: {
          ExportLogsServiceRequest: {
            fields: {
              resourceLogs: {
                rule: 'repeated',
                type: 'opentelemetry.proto.logs.v1.ResourceLogs',
                id: 1,
              },
            },
          },
          ExportLogsServiceResponse: {
            fields: { partialSuccess: { type: 'ExportLogsPartialSuccess', id: 1 } },
          },
          ExportLogsPartialSuccess: {
            fields: {
              rejectedLogRecords: { type: 'int64', id: 1 },
              errorMessage: { type: 'string', id: 2 },
            },
          },
        },
      },
    },
  },
};

/** The shape of what protobufjs decodes, as far as the naive store looks into it. */
export interface DecodedSpan {
  traceId: Buffer;
  spanId: Buffer;
  name: string;
}

export interface DecodedRequest {
  resourceSpans: { scopeSpans: { spans: DecodedSpan[] }[] }[];
}

/** Loads the OTLP trace schema into protobufjs reflection types (done once per process). */
export function loadOtlpTraceTypes(): {
  request: protobuf.Type;
  response: protobuf.Type;
} {
  const root = protobuf.Root.fromJSON(OTLP_TRACE_SCHEMA);
  return {
    request: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    response: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  };
}

/** The OTLP logs request and response types, beside the trace schema (once per process). */
export function loadOtlpLogsTypes(): { request: protobuf.Type; response: protobuf.Type } {
  const root = protobuf.Root.fromJSON(OTLP_TRACE_SCHEMA);
  (root.lookup('opentelemetry.proto') as protobuf.Namespace).addJSON(OTLP_LOGS_NESTED);
  (root.lookup('opentelemetry.proto.collector') as protobuf.Namespace).addJSON(
    OTLP_LOGS_COLLECTOR_NESTED,
  );
  return {
    request: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
    response: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
  };
}

/** What protobufjs decodes of a logs request, as far as the naive store looks into it. */
export interface DecodedLogsRequest {
  resourceLogs: { scopeLogs: { logRecords: { traceId: Buffer }[] }[] }[];
}

export interface BaselineReceiverOptions {
  host?: string;
  grpcPort?: number;
  httpPort?: number;
}

export interface RunningBaselineReceiver {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** Spans held by the naive store. */
  readonly spanCount: number;
  readonly traceCount: number;
  clear(): void;
  close(): Promise<void>;
}

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const LOGS_EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

/** What one straightforward receiver does with a request, and how it answers. */
interface BaselineSignal {
  /** The gRPC method path and the HTTP route. */
  grpcPath: string;
  httpPath: string | undefined;
  /** Bytes to a message (protobufjs), or the bytes themselves (the transport-only receiver). */
  decode: (bytes: Buffer) => unknown;
  /** Keeps what `decode` made. */
  store: (decoded: unknown) => void;
  /** The encoded empty export response. */
  emptyResponse: Buffer;
  counts: () => { spanCount: number; traceCount: number };
  clear: () => void;
}

/**
 * The grpc-js and `node:http` servers every baseline shares: each request is decoded by
 * `signal.decode` on both transports (a decode error is a 400 over HTTP and an error over gRPC),
 * kept by `signal.store`, and answered with the empty response.
 */
async function serveBaseline(
  opts: BaselineReceiverOptions,
  signal: BaselineSignal,
): Promise<RunningBaselineReceiver> {
  const host = opts.host ?? '127.0.0.1';
  const identity = (b: Buffer): Buffer => b;
  const grpcServer = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  grpcServer.addService(
    {
      Export: {
        path: signal.grpcPath,
        requestStream: false,
        responseStream: false,
        // Decoded in the handler, so that the same function serves both transports.
        requestDeserialize: identity,
        requestSerialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    {
      Export: (
        call: grpc.ServerUnaryCall<Buffer, Buffer>,
        callback: grpc.sendUnaryData<Buffer>,
      ) => {
        try {
          signal.store(signal.decode(call.request));
        } catch (e) {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: (e as Error).message });
          return;
        }
        callback(null, signal.emptyResponse);
      },
    },
  );
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync(
      `${host}:${opts.grpcPort ?? 0}`,
      grpc.ServerCredentials.createInsecure(),
      (err, port) => (err ? reject(err) : resolve(port)),
    ),
  );
  const httpServer: Server = createServer((req, res) => {
    if (signal.httpPath !== undefined && (req.method !== 'POST' || req.url !== signal.httpPath)) {
      req.resume();
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // Joined as a real receiver would, so that the copy is part of every figure.
      const body = Buffer.concat(chunks);
      try {
        signal.store(signal.decode(body));
      } catch (e) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end((e as Error).message);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(signal.emptyResponse);
    });
  });
  const httpPort = await new Promise<number>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.httpPort ?? 0, host, () =>
      resolve((httpServer.address() as AddressInfo).port),
    );
  });
  return {
    grpcPort,
    httpPort,
    get spanCount() {
      return signal.counts().spanCount;
    },
    get traceCount() {
      return signal.counts().traceCount;
    },
    clear: signal.clear,
    close: async () => {
      await Promise.all([
        new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve())),
        new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        }),
      ]);
    },
  };
}

/** A naive store: the decoded requests as they are, and a `Map` from trace id to items. */
function naiveStore<Item>(
  items: (req: unknown) => Iterable<Item>,
  traceId: (i: Item) => Buffer | undefined,
) {
  let requests: unknown[] = [];
  let byTrace = new Map<string, Item[]>();
  let count = 0;
  return {
    store(req: unknown): void {
      requests.push(req);
      for (const item of items(req)) {
        const id = traceId(item);
        if (id !== undefined && id.length > 0) {
          const key = id.toString('hex');
          let list = byTrace.get(key);
          if (list === undefined) byTrace.set(key, (list = []));
          list.push(item);
        }
        count++;
      }
    },
    counts: () => ({ spanCount: count, traceCount: byTrace.size }),
    clear(): void {
      requests = [];
      byTrace = new Map();
      count = 0;
    },
  };
}

/**
 * The straightforward trace receiver: protobufjs decode on both transports, the decoded
 * `resourceSpans` kept as they are and an index by trace id.
 */
export async function startBaselineReceiver(
  opts: BaselineReceiverOptions = {},
): Promise<RunningBaselineReceiver> {
  const types = loadOtlpTraceTypes();
  const naive = naiveStore(
    function* (req: unknown) {
      for (const rs of (req as DecodedRequest).resourceSpans)
        for (const ss of rs.scopeSpans) yield* ss.spans;
    },
    (span: DecodedSpan) => span.traceId,
  );
  return serveBaseline(opts, {
    grpcPath: EXPORT_PATH,
    httpPath: '/v1/traces',
    decode: (b) => types.request.decode(b),
    emptyResponse: Buffer.from(types.response.encode(types.response.create({})).finish()),
    ...naive,
  });
}

/**
 * The transport alone: the same grpc-js and `node:http` servers, answering every export without
 * decoding or keeping anything. What it reaches is the most any receiver on these transports can
 * reach with this sender on this machine.
 */
export async function startTransportOnlyReceiver(
  opts: BaselineReceiverOptions = {},
): Promise<RunningBaselineReceiver> {
  const types = loadOtlpTraceTypes();
  return serveBaseline(opts, {
    grpcPath: EXPORT_PATH,
    httpPath: undefined,
    decode: (b) => b,
    store: () => {},
    emptyResponse: Buffer.from(types.response.encode(types.response.create({})).finish()),
    counts: () => ({ spanCount: 0, traceCount: 0 }),
    clear: () => {},
  });
}

/**
 * The logs receiver built the same straightforward way: protobufjs decode on both transports
 * (`LogsService/Export`, `POST /v1/logs`), the decoded requests kept as they are and a `Map` from
 * trace id to the record objects. `spanCount` counts the records held.
 */
export async function startBaselineLogsReceiver(
  opts: BaselineReceiverOptions = {},
): Promise<RunningBaselineReceiver> {
  const types = loadOtlpLogsTypes();
  const naive = naiveStore(
    function* (req: unknown) {
      for (const rl of (req as DecodedLogsRequest).resourceLogs)
        for (const sl of rl.scopeLogs) yield* sl.logRecords;
    },
    (r: { traceId: Buffer }) => r.traceId,
  );
  return serveBaseline(opts, {
    grpcPath: LOGS_EXPORT_PATH,
    httpPath: '/v1/logs',
    decode: (b) => types.request.decode(b),
    emptyResponse: Buffer.from(types.response.encode(types.response.create({})).finish()),
    ...naive,
  });
}
