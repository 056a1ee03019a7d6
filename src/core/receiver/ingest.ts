/**
 * What a receiver hands accepted payloads to. Transport code (HTTP, gRPC) knows nothing of the
 * store; the engine knows nothing of sockets.
 */
export type Transport = 'grpc' | 'http';

/** The result of one export request, as OTLP partial success reports it. */
export interface IngestOutcome {
  accepted: number;
  /**
   * Items refused individually (ids, times, limits); reported as `rejected_spans`,
   * `rejected_log_records` or `rejected_data_points`.
   */
  rejected: number;
  /** Why spans were refused; '' when none were. */
  errorMessage: string;
}

/** The OTLP signals a receiver takes. */
export type Signal = 'traces' | 'logs' | 'metrics';

/** Where one signal's export requests go. */
export interface SignalSink {
  /**
   * Ingests a protobuf export request of the signal. Throws `ProtoDecodeError` when the request
   * itself is malformed (the transport answers 400 / INVALID_ARGUMENT); nothing is stored then.
   */
  ingestProtobuf(bytes: Uint8Array, transport: Transport): IngestOutcome;
  /** Ingests an OTLP/JSON request. Throws `OtlpJsonError` or `ProtoDecodeError` when malformed. */
  ingestJson(body: Uint8Array, transport: Transport): IngestOutcome;
}

/**
 * The traces sink, and those of the other signals where the receiver takes them (their
 * routes answer 404 / UNIMPLEMENTED otherwise).
 */
export interface IngestSink extends SignalSink {
  logs?: SignalSink;
  metrics?: SignalSink;
}
