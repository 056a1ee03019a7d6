/**
 * What a receiver hands accepted payloads to. Transport code (HTTP, gRPC) knows nothing of the
 * store; the engine knows nothing of sockets.
 */
export type Transport = 'grpc' | 'http';

/** The result of one export request, as OTLP partial success reports it. */
export interface IngestOutcome {
  accepted: number;
  /** Spans refused individually (ids, times, limits); reported as `rejected_spans`. */
  rejected: number;
  /** Why spans were refused; '' when none were. */
  errorMessage: string;
}

export interface IngestSink {
  /**
   * Ingests a protobuf `ExportTraceServiceRequest`. Throws `ProtoDecodeError` when the request
   * itself is malformed (the transport answers 400 / INVALID_ARGUMENT); nothing is stored then.
   */
  ingestProtobuf(bytes: Uint8Array, transport: Transport): IngestOutcome;
  /** Ingests an OTLP/JSON request. Throws `OtlpJsonError` or `ProtoDecodeError` when malformed. */
  ingestJson(body: Uint8Array, transport: Transport): IngestOutcome;
}
